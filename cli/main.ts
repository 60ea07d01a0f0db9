#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { registry } from '../nodes/index.js';
import { loadLaunchFile } from '../framework/launch/parse.js';
import { Launcher } from '../framework/runtime/launcher.js';
import { summaryText } from '../framework/runtime/summary.js';
import { LocalNode } from '../framework/runtime/managed_node.js';
import { loadDefinition } from '../framework/runtime/registry.js';
import { EmbeddedTransport } from '../framework/transport/embedded/transport.js';
import { nodeIdentity } from '../framework/transport/node_base.js';
import type { NodeOptions, Transport } from '../framework/transport/types.js';
import type { ParamSchema } from '../src/util/param_schema.js';
import { createLogger, setLogLevelSpec } from '../src/util/log.js';
import { writeFileAtomic } from '../src/util/atomic_file.js';
import { findPackageShare } from './find_package.js';
import { paramsTable, paramsYaml } from './params_doc.js';
import { nonRosArgs, parseRosArgs, remapsForNode, rosParamSources } from '../framework/transport/ros_args.js';

// The dynastack command: launch a graph from a launch file, run one node as `ros2 run` would,
// print a node's parameters, list the executables, emulate a servo bus, calibrate an arm, set up
// new servos. Each subcommand parses its arguments here and hands the work to the framework, the
// nodes or hw/.

const USAGE = `usage:
  dynastack launch <file.launch.yaml> [name:=value …] [--duration S] [--report FILE] [--log-level SPEC] [--check-messages]
  dynastack run <exec> [--transport embedded|ros2] [--duration S] [--ros-args -p name:=value --params-file FILE -r from:=to …]
  dynastack params <exec> [--yaml]
  dynastack nodes
  dynastack emulate --config <robot.yaml> [--link PATH] [--duration S] [--log-level SPEC]
  dynastack calibrate --config <robot.yaml> [--port PATH] [--out FILE] [--import-lerobot FILE] [--full-turn NAME,…] [--reverse NAME,…]
  dynastack servo setup --config <robot.yaml> [--port PATH] [--only NAME,…]
every command takes --help`;

/** `--help` or `-h` among a command's own arguments (not inside --ros-args, nor after --). */
function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--ros-args' || a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/** The usage line of one command. */
function usageOf(command: string): string {
  const line = USAGE.split('\n').find(
    (l) => l.trim() === `dynastack ${command}` || l.trim().startsWith(`dynastack ${command} `),
  );
  return `usage: ${line?.trim() ?? USAGE}\n`;
}

const log = createLogger('dynastack');

/**
 * Resolve when SIGINT or SIGTERM arrives (ros2 launch sends SIGINT, then SIGTERM), after `seconds`,
 * when the work is `finished`, or when something `failed` (resolving with the reason).
 */
function untilStopped(
  seconds: number | undefined,
  finished?: Promise<string>,
  failed?: Promise<string>,
): Promise<string> {
  return new Promise((done) => {
    const stop = (why: string) => () => {
      process.removeAllListeners('SIGINT');
      process.removeAllListeners('SIGTERM');
      // a second signal while shutting down ends the process at once
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      done(why);
    };
    process.once('SIGINT', stop('SIGINT'));
    process.once('SIGTERM', stop('SIGTERM'));
    if (seconds !== undefined) setTimeout(stop(`--duration ${seconds} s`), seconds * 1000).unref();
    finished?.then(
      (reason) => stop(`finished: ${reason}`)(),
      (err: unknown) =>
        stop(`finished with an error: ${(err as Partial<Error> | null | undefined)?.message ?? String(err)}`)(),
    );
    void failed?.then((why) => stop(why)());
  });
}

/**
 * `--duration -1` as `--duration=-1`: parseArgs takes a value starting with '-' for an option and
 * refuses it, so the option's own check (and message) would never be reached.
 */
function dashValuesAttached(argv: readonly string[], options: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (options.includes(argv[i]!) && next !== undefined && /^-[\d.]/.test(next)) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]!);
  }
  return out;
}

function parseDuration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const s = Number(text);
  if (!(s > 0) || !Number.isFinite(s)) throw new Error(`--duration '${text}' is not a positive number of seconds`);
  return s;
}

async function launch(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: dashValuesAttached(argv, ['--duration']),
    allowPositionals: true,
    options: {
      duration: { type: 'string' },
      report: { type: 'string' },
      'log-level': { type: 'string' },
      'check-messages': { type: 'boolean', default: false },
    },
  });
  const [file, ...rest] = positionals;
  if (!file) throw new Error('launch needs a launch file\n' + USAGE);
  const args: Record<string, string> = {};
  for (const a of rest) {
    const at = a.indexOf(':=');
    if (at <= 0) throw new Error(`launch argument '${a}' is not of the form name:=value`);
    args[a.slice(0, at)] = a.slice(at + 2);
  }
  const logLevelSpec = values['log-level'] ?? process.env.DYNASTACK_LOG_LEVEL ?? 'info';
  setLogLevelSpec(logLevelSpec);
  const duration = parseDuration(values.duration);
  const description = loadLaunchFile(resolve(file), args, { findPackageShare });
  for (const w of description.warnings) log.warn(w);
  for (const m of description.logs ?? []) log.info(m);
  const transport = new EmbeddedTransport({ checkMessages: values['check-messages'] });
  const launcher = new Launcher(description, {
    transport,
    registry,
    logLevelSpec,
    checkMessages: values['check-messages'],
  });
  await launcher.configure();
  await launcher.activate();
  // a node that fails for good ends the launch, with a non-zero status
  const why = await untilStopped(duration, launcher.allFinished(), launcher.anyFailed());
  log.info(`stopping (${why})`);
  await launcher.shutdown();
  const report = await launcher.report();
  process.stdout.write(summaryText(report));
  if (values.report) {
    writeFileAtomic(resolve(values.report), JSON.stringify(report, null, 2) + '\n');
    log.info(`report written to ${values.report}`);
  }
  await transport.shutdown();
  return report.failed ? 1 : 0;
}

async function run(argv: string[]): Promise<number> {
  const ros = parseRosArgs(argv, true);
  const { values, positionals } = parseArgs({
    args: dashValuesAttached(nonRosArgs(argv), ['--duration']),
    allowPositionals: true,
    options: { transport: { type: 'string' }, duration: { type: 'string' } },
  });
  const exec = positionals[0];
  if (!exec) throw new Error('run needs an executable name\n' + USAGE);
  const kind = values.transport ?? (process.env.ROS_DISTRO ? 'ros2' : 'embedded');
  if (kind !== 'embedded' && kind !== 'ros2') throw new Error(`--transport '${kind}' is not one of embedded, ros2`);
  const levels = ros.flatMap((a) => (a.kind === 'log_level' ? [a.spec] : []));
  if (levels.length) setLogLevelSpec(levels.join(','));
  const { definition } = await loadDefinition(registry, exec);
  let transport: Transport;
  let options: NodeOptions<ParamSchema> = { name: definition.name, parameters: definition.parameters };
  if (kind === 'ros2') {
    // rcl and the ROS 2 transport read --ros-args from the process's own argv
    const { Ros2Transport } = await import('../framework/transport/ros2/transport.js');
    transport = await Ros2Transport.create({ argv: process.argv });
  } else {
    transport = new EmbeddedTransport();
    options = { ...options, remaps: remapsForNode(ros, definition.name) };
    options = { ...options, parameterSources: rosParamSources(ros, nodeIdentity(options).fullyQualifiedName) };
  }
  const fqn = nodeIdentity(options).fullyQualifiedName;
  const node = new LocalNode(transport, definition, options, fqn);
  let failure: string | undefined;
  try {
    await node.configure();
    await node.activate();
    // a node that fails for good ends the run, with a non-zero status
    const failed = node.failed()?.then((reason) => (failure = `${fqn} failed: ${reason}`));
    const why = await untilStopped(parseDuration(values.duration), node.finished(), failed);
    if (failure) log.error(`${fqn}: stopping (${why})`);
    else log.info(`${fqn}: stopping (${why})`);
  } finally {
    await node.cleanup();
    await transport.shutdown();
  }
  return failure === undefined ? 0 : 1;
}

async function params(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { yaml: { type: 'boolean', default: false } },
  });
  const execs = positionals.length ? positionals : Object.keys(registry.modules).sort();
  for (const exec of execs) {
    const { definition } = await loadDefinition(registry, exec);
    process.stdout.write(
      (values.yaml
        ? paramsYaml(definition.name, definition.parameters)
        : paramsTable(exec, definition.description, definition.parameters)) + '\n\n',
    );
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // emulate, calibrate and servo print their own, longer help
  if ((command === 'launch' || command === 'run' || command === 'params' || command === 'nodes') && wantsHelp(rest)) {
    process.stdout.write(usageOf(command));
    return 0;
  }
  switch (command) {
    case 'launch':
      return launch(rest);
    case 'run':
      return run(rest);
    case 'params':
      return params(rest);
    case 'emulate':
      return (await import('./emulate.js')).emulate(rest);
    case 'calibrate':
      return (await import('./calibrate.js')).calibrateMain(rest);
    case 'servo':
      return (await import('./servo_setup.js')).servoMain(rest);
    case 'nodes':
      for (const exec of Object.keys(registry.modules).sort()) {
        const { definition } = await loadDefinition(registry, exec);
        process.stdout.write(`${exec.padEnd(20)} ${definition.description}\n`);
      }
      return 0;
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(USAGE + '\n');
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command '${command}'\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    log.error((err as Partial<Error> | null | undefined)?.message ?? String(err));
    process.exitCode = 1;
  },
);
