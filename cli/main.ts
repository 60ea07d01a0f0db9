#!/usr/bin/env node
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { registry } from '../nodes/index.js';
import { loadLaunchFile } from '../framework/launch/parse.js';
import { Launcher } from '../framework/runtime/launcher.js';
import { LocalNode } from '../framework/runtime/managed_node.js';
import { loadDefinition } from '../framework/runtime/registry.js';
import { EmbeddedTransport } from '../framework/transport/embedded/transport.js';
import { nodeIdentity } from '../framework/transport/node_base.js';
import type { NodeOptions, Transport } from '../framework/transport/types.js';
import type { ParamSchema } from '../src/util/param_schema.js';
import { createLogger, setLogLevelSpec } from '../src/util/log.js';
import { findPackageShare } from './find_package.js';
import { paramsTable, paramsYaml } from './params_doc.js';
import { nonRosArgs, parseRosArgs, remapsForNode, rosParamSources } from '../framework/transport/ros_args.js';

// The dynastack command: launch a graph from a launch file, run one node as `ros2 run` would,
// print a node's parameters, list the executables, emulate a servo bus, calibrate an arm. Each
// subcommand parses its arguments here and hands the work to the framework, the nodes or hw/.

const USAGE = `usage:
  dynastack launch <file.launch.yaml> [name:=value …] [--duration S] [--report FILE] [--log-level SPEC] [--check-messages]
  dynastack run <exec> [--transport embedded|ros2] [--duration S] [--ros-args -p name:=value --params-file FILE -r from:=to …]
  dynastack params <exec> [--yaml]
  dynastack nodes
  dynastack emulate --config <robot.yaml> [--link PATH] [--duration S] [--log-level SPEC]
  dynastack calibrate --config <robot.yaml> [--port PATH] [--out FILE] [--import-lerobot FILE] [--full-turn NAME,…] [--reverse NAME,…]`;

const log = createLogger('dynastack');

/** Resolve when SIGINT or SIGTERM arrives (ros2 launch sends SIGINT, then SIGTERM), or after `seconds`. */
function untilStopped(seconds: number | undefined, finished?: Promise<string>): Promise<string> {
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
  });
}

function parseDuration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const s = Number(text);
  if (!(s > 0) || !Number.isFinite(s)) throw new Error(`--duration '${text}' is not a positive number of seconds`);
  return s;
}

async function launch(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
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
  const why = await untilStopped(duration, launcher.allFinished());
  log.info(`stopping (${why})`);
  await launcher.shutdown();
  const report = await launcher.report();
  const summaries = report.nodes.filter((n) => n.summary);
  if (summaries.length) {
    process.stdout.write(`\nsummary (${report.wall_time_s.toFixed(1)} s of wall time)\n`);
    for (const n of summaries) process.stdout.write(`  ${n.node.padEnd(28)} ${n.summary}\n`);
    process.stdout.write('\n');
  }
  if (values.report) {
    mkdirSync(dirname(resolve(values.report)), { recursive: true });
    writeFileSync(values.report, JSON.stringify(report, null, 2) + '\n');
    log.info(`report written to ${values.report}`);
  }
  await transport.shutdown();
  return 0;
}

async function run(argv: string[]): Promise<number> {
  const ros = parseRosArgs(argv, true);
  const { values, positionals } = parseArgs({
    args: nonRosArgs(argv),
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
  try {
    await node.configure();
    await node.activate();
    const why = await untilStopped(parseDuration(values.duration), node.finished());
    log.info(`${fqn}: stopping (${why})`);
  } finally {
    await node.cleanup();
    await transport.shutdown();
  }
  return 0;
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
