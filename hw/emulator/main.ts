import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger, setLogLevelSpec } from '../../src/util/log.js';
import { loadRobotConfig } from '../robot_config.js';
import { calibrationTarget, readCalibrationFile } from '../calibration/file.js';
import { DEFAULT_QUIET_MS, Emulator } from './emulator.js';
import type { FaultSpec, ScheduleOptions } from './faults.js';
import { attachLeaderMotion, leaderScriptFor } from './leader_motion.js';

// `dynastack emulate --config robot.yaml [--link /tmp/dynastack-tty]`: the servo bus of robot.yaml,
// emulated behind a pty, until Ctrl-C — then it answers until the host has closed the device (at
// most --stop-wait seconds), so a bridge stopped by the same Ctrl-C gets its torque off answered. Also the entry point of a forked emulator process (the bus
// bench, tests): with an IPC channel it reports { type: 'ready', devicePath } and takes
// { type: 'fault', spec, schedule? } and { type: 'stop' } messages, and it exits when that channel
// closes (the parent exited or was killed), so a forked emulator never outlives its parent. It
// starts no process of its own: killed outright, it leaves at most a dangling link, which the next
// emulator on that path removes. With --leader-motion the chain is a leader arm for teleoperation:
// its shafts replay a scripted motion instead of following goals (leader_motion.ts).

/** --stop-wait's default: as the servo_emulator node's host_close_timeout_s */
const DEFAULT_STOP_WAIT_S = 3;

export const EMULATE_USAGE =
  'dynastack emulate --config <robot.yaml> [--link PATH] [--duration S] [--stop-wait S] [--leader-motion SPEC [--leader-calibration FILE]] [--log-level SPEC]';

const HELP = `usage: ${EMULATE_USAGE}
  Emulate the servo bus of robot.yaml behind a pseudo-terminal, until Ctrl-C: point the bridge
  (or calibrate, or servo setup) at the device path it prints.

  --config FILE      the robot: protocol, baud rate, servos, emulator settings (config/robots/*.yaml)
  --link PATH        where to make the device (a symlink to the pty; default: the config's port)
  --duration S       stop after S seconds
  --stop-wait S      on stop, answer until the host closes the device (or sends nothing for
                     ${DEFAULT_QUIET_MS / 1000} s), at most S seconds (default ${DEFAULT_STOP_WAIT_S}; 0: close at once)
  --leader-motion SPEC  a leader arm for teleoperation: the servos replay a motion instead of
                     following goals — sweep[:AMPLITUDE_RAD[:FREQUENCY_HZ]] (every joint), or a
                     recorded .csv/.json of joint angles over time (hw/emulator/leader_motion.ts)
  --leader-calibration FILE  the leader's calibration: the motion's angles are read through it
  --log-level SPEC   e.g. debug, or emulator=debug`;

/** Messages a parent process exchanges with a forked emulator. */
export type EmulatorRequest =
  { readonly type: 'fault'; readonly spec: FaultSpec; readonly schedule?: ScheduleOptions } | { readonly type: 'stop' };
export type EmulatorReply =
  | { readonly type: 'ready'; readonly devicePath: string }
  | { readonly type: 'fault'; readonly handle: number }
  | { readonly type: 'error'; readonly message: string };

export async function emulateMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      link: { type: 'string' },
      duration: { type: 'string' },
      'stop-wait': { type: 'string' },
      'log-level': { type: 'string' },
      'leader-motion': { type: 'string' },
      'leader-calibration': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (!values.config) throw new Error(`emulate needs --config <robot.yaml>\nusage: ${EMULATE_USAGE}`);
  if (values['log-level']) setLogLevelSpec(values['log-level']);
  let durationS: number | undefined;
  if (values.duration !== undefined) {
    durationS = Number(values.duration);
    if (!(durationS > 0)) throw new Error(`--duration '${values.duration}' is not a positive number of seconds`);
  }
  const stopWaitS = values['stop-wait'] === undefined ? DEFAULT_STOP_WAIT_S : Number(values['stop-wait']);
  if (!(stopWaitS >= 0 && stopWaitS <= 3600))
    throw new Error(`--stop-wait '${values['stop-wait']}' is not a number of seconds from 0 to 3600`);
  const log = createLogger('emulator');
  // listen before anything slow: a parent that goes away (or a Ctrl-C) during the start still stops us
  let requestStop: (why: string) => void = () => undefined;
  const stopped = new Promise<string>((done) => (requestStop = done));
  const onSigint = () => requestStop('SIGINT');
  const onSigterm = () => requestStop('SIGTERM');
  const onDisconnect = () => requestStop('parent went away');
  const send = (reply: EmulatorReply) => {
    if (process.connected) process.send?.(reply);
  };
  let emulator: Emulator | undefined;
  const onMessage = (message: EmulatorRequest | undefined) => {
    if (message?.type === 'stop') requestStop('stop requested');
    if (message?.type !== 'fault') return;
    try {
      if (!emulator) throw new Error('the emulator is not running yet');
      send({ type: 'fault', handle: emulator.inject(message.spec, message.schedule) });
    } catch (err) {
      send({ type: 'error', message: (err as Error).message });
    }
  };
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigterm);
  if (process.send) {
    process.once('disconnect', onDisconnect);
    process.on('message', onMessage);
    if (!process.connected) requestStop('parent went away');
  }
  let durationTimer: NodeJS.Timeout | undefined;
  try {
    const config = loadRobotConfig(resolve(values.config));
    if (values['leader-calibration'] && !values['leader-motion'])
      throw new Error('--leader-calibration needs --leader-motion');
    const leaderCalibration = values['leader-calibration']
      ? readCalibrationFile(resolve(values['leader-calibration']), calibrationTarget(config))
      : undefined;
    const script = values['leader-motion']
      ? leaderScriptFor(
          values['leader-motion'],
          config.servos.map((s) => s.name),
        )
      : undefined;
    emulator = await Emulator.start({
      config,
      ...(values.link ? { link: resolve(values.link) } : {}),
      logger: log,
    });
    if (script) attachLeaderMotion(emulator, script, leaderCalibration ? { calibration: leaderCalibration } : {});
    const servos = config.servos.map((s) => `${s.id} ${s.name} (${s.model})`).join(', ');
    process.stdout.write(
      `emulating ${config.robot}: ${config.servos.length} servos on ${config.protocol} at ${config.baudRate} baud — ${servos}\n` +
        `device: ${emulator.devicePath}\n` +
        `point the bridge at it (robot.yaml port: ${emulator.devicePath}); Ctrl-C stops\n`,
    );
    send({ type: 'ready', devicePath: emulator.devicePath });
    if (durationS !== undefined) {
      const seconds = durationS;
      durationTimer = setTimeout(() => requestStop(`--duration ${seconds} s`), seconds * 1000);
    }
    const why = await stopped;
    log.info(`stopping (${why})`);
    await emulator.stop({ waitForHostMs: stopWaitS * 1000 });
    return 0;
  } finally {
    // whatever ended the run, the pty and its link go (stop is idempotent)
    await emulator?.stop();
    clearTimeout(durationTimer);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    process.off('disconnect', onDisconnect);
    process.off('message', onMessage);
  }
}

/** True when this module is the process's entry point (node dist/hw/emulator/main.js, or forked). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // the IPC channel of a forked emulator would keep the process alive; once the parent is gone it is
  // closed already (and disconnecting it again would throw)
  const letGo = () => {
    if (process.connected) process.disconnect();
  };
  emulateMain(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      letGo();
    },
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`emulate: ${message}\n`);
      if (process.connected) process.send?.({ type: 'error', message } satisfies EmulatorReply);
      process.exitCode = 1;
      letGo();
    },
  );
}
