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
  dynastack emulate --config <robot.yaml> [--link PATH] [--duration S] [--stop-wait S] [--log-level SPEC]
  dynastack calibrate --config <robot.yaml> [--port PATH] [--out FILE] [--import-lerobot FILE] [--full-turn NAME,…] [--reverse NAME,…]
  dynastack servo setup --config <robot.yaml> [--port PATH] [--only NAME,…]
  dynastack record [--bag DIR] [topic:package/msg/Type …] [--ros-args -p name:=value …]
  dynastack bag info|play|reindex <bag> […]
  dynastack dataset export <bag> [<bag> …] --format lerobot --out <dir> […]
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

// ─── signals and shutdown ────────────────────────────────────────────────────────────────────────
// Ctrl-C in a terminal sends SIGINT to every process of the foreground group: under ros2 launch a
// node's process gets it from the terminal and again from ros2 launch a few milliseconds later,
// then SIGTERM after sigterm_timeout and SIGKILL after sigkill_timeout (5 s each by default:
// launch/actions/execute_local.py, _shutdown_process). The first SIGINT or SIGTERM starts the
// shutdown; a later one must not cut short its stop actions (a controller's stop command,
// hw_bridge's torque-off): it gets one line saying the shutdown is under way, nothing more. A
// signal during start-up is kept and ends the run as soon as the nodes are up. The shutdown is
// bounded: if it has not ended SHUTDOWN_LIMIT_S after it began, the process exits saying so.

/** How long the shutdown may take before the process gives up on it. */
const SHUTDOWN_LIMIT_S = 30;

let firstSignal: NodeJS.Signals | undefined;
let onFirstSignal: (signal: NodeJS.Signals) => void = () => {};
const signalled = new Promise<NodeJS.Signals>((resolve) => (onFirstSignal = resolve));
let toldShutdownUnderWay = false;
let shutdownWatchdog: NodeJS.Timeout | undefined;

function onSignal(signal: NodeJS.Signals): void {
  if (firstSignal === undefined) {
    firstSignal = signal;
    onFirstSignal(signal);
    return;
  }
  if (toldShutdownUnderWay) return;
  toldShutdownUnderWay = true;
  log.warn(
    `${signal} again: the shutdown (${firstSignal}) is under way and runs its stop actions to the end (at most ${SHUTDOWN_LIMIT_S} s; SIGKILL ends the process at once, without them)`,
  );
}

/** From now on SIGINT and SIGTERM stop the run (launch and run only: the other commands handle their own). */
function watchSignals(): void {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Start the bound on the shutdown (once): past it, the process exits with status 1, saying so. */
function boundShutdown(): void {
  if (shutdownWatchdog) return;
  shutdownWatchdog = setTimeout(() => {
    log.error(`the shutdown has not ended within ${SHUTDOWN_LIMIT_S} s: exiting without waiting for it`);
    process.exit(1);
  }, SHUTDOWN_LIMIT_S * 1000);
  shutdownWatchdog.unref();
}

/**
 * Resolve when SIGINT or SIGTERM arrives (or has arrived already), after `seconds`, when the work
 * is `finished`, or when something `failed` (resolving with the reason). The shutdown's bound
 * starts then.
 */
function untilStopped(
  seconds: number | undefined,
  finished?: Promise<string>,
  failed?: Promise<string>,
): Promise<string> {
  return new Promise<string>((done) => {
    void signalled.then((signal) => done(signal));
    if (seconds !== undefined) setTimeout(() => done(`--duration ${seconds} s`), seconds * 1000).unref();
    finished?.then(
      (reason) => done(`finished: ${reason}`),
      (err: unknown) =>
        done(`finished with an error: ${(err as Partial<Error> | null | undefined)?.message ?? String(err)}`),
    );
    void failed?.then((why) => done(why));
  }).then((why) => {
    boundShutdown();
    return why;
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
  watchSignals();
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
  // a node that fails for good ends the launch, with a non-zero status; a node with on_exit: shutdown
  // that has finished ends it, as every node with an end having finished does
  const why = await untilStopped(duration, launcher.ended(), launcher.anyFailed());
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
  watchSignals();
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
  const fqn = nodeIdentity({ ...options, remaps: remapsForNode(ros, definition.name) }).fullyQualifiedName; // __ns/__node remaps on both transports
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
    // the node's line of `dynastack launch`'s summary, so that a run under ros2 launch says what
    // each process achieved as the embedded launcher's summary does
    const { summary } = await node.report();
    if (summary) log.info(`${fqn}: summary: ${summary}`);
    await transport.shutdown();
  }
  return failure === undefined ? 0 : 1;
}

/**
 * `dynastack record [--bag DIR] [topic:type …] [run's options]` as `dynastack run recorder` with
 * those parameters: on ROS 2 (sourced) it records the ROS graph, as `ros2 bag record` does.
 */
function recordArgs(argv: readonly string[]): string[] {
  const own: string[] = [];
  const rest: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--ros-args' || a === '--') break;
    if (a === '--bag' || a === '-o') own.push('-p', `bag:=${argv[++i] ?? ''}`);
    else if (a.startsWith('--bag=')) own.push('-p', `bag:=${a.slice(6)}`);
    else if (!a.startsWith('-') && a.includes(':') && !a.includes(':=')) rest.push(a);
    else own.push(a);
  }
  const passThrough = own.filter((a, k) => !(a === '-p' || own[k - 1] === '-p'));
  const params = own.filter((a, k) => a === '-p' || own[k - 1] === '-p');
  const topics = rest.length ? ['-p', `topics:=[${rest.map((t) => `'${t}'`).join(',')}]`] : [];
  const rosArgs = argv.slice(i);
  const extra = params.length || topics.length ? [...(rosArgs.length ? [] : ['--ros-args']), ...params, ...topics] : [];
  return ['recorder', ...passThrough, ...rosArgs, ...extra];
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
    case 'record':
      return run(recordArgs(rest));
    case 'bag':
      return (await import('./bag.js')).bagMain(rest);
    case 'dataset':
      return (await import('./dataset.js')).datasetMain(rest);
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
