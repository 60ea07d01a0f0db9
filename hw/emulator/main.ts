import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger, setLogLevelSpec } from '../../src/util/log.js';
import { loadRobotConfig } from '../robot_config.js';
import { Emulator } from './emulator.js';
import type { FaultSpec, ScheduleOptions } from './faults.js';

// `dynastack emulate --config robot.yaml [--link /tmp/dynastack-tty]`: the servo bus of robot.yaml,
// emulated behind a pty, until Ctrl-C. Also the entry point of a forked emulator process (the bus
// bench, tests): with an IPC channel it reports { type: 'ready', devicePath } and takes
// { type: 'fault', spec, schedule? } and { type: 'stop' } messages.

export const EMULATE_USAGE = 'dynastack emulate --config <robot.yaml> [--link PATH] [--duration S] [--log-level SPEC]';

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
      'log-level': { type: 'string' },
    },
  });
  if (!values.config) throw new Error(`emulate needs --config <robot.yaml>\nusage: ${EMULATE_USAGE}`);
  if (values['log-level']) setLogLevelSpec(values['log-level']);
  let durationS: number | undefined;
  if (values.duration !== undefined) {
    durationS = Number(values.duration);
    if (!(durationS > 0)) throw new Error(`--duration '${values.duration}' is not a positive number of seconds`);
  }
  const log = createLogger('emulator');
  const config = loadRobotConfig(resolve(values.config));
  const emulator = await Emulator.start({
    config,
    ...(values.link ? { link: resolve(values.link) } : {}),
    logger: log,
  });
  const servos = config.servos.map((s) => `${s.id} ${s.name} (${s.model})`).join(', ');
  process.stdout.write(
    `emulating ${config.robot}: ${config.servos.length} servos on ${config.protocol} at ${config.baudRate} baud — ${servos}\n` +
      `device: ${emulator.devicePath}\n` +
      `point the bridge at it (robot.yaml port: ${emulator.devicePath}); Ctrl-C stops\n`,
  );
  const send = (reply: EmulatorReply) => process.send?.(reply);
  send({ type: 'ready', devicePath: emulator.devicePath });

  const why = await new Promise<string>((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
    if (durationS !== undefined) setTimeout(() => done(`--duration ${durationS} s`), durationS * 1000);
    process.on('message', (message: EmulatorRequest) => {
      if (message?.type === 'stop') {
        done('stop requested');
        return;
      }
      if (message?.type === 'fault') {
        try {
          send({ type: 'fault', handle: emulator.inject(message.spec, message.schedule) });
        } catch (err) {
          send({ type: 'error', message: (err as Error).message });
        }
      }
    });
    process.once('disconnect', () => done('parent went away'));
  });
  log.info(`stopping (${why})`);
  await emulator.stop();
  return 0;
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
  emulateMain(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // the IPC channel of a forked emulator would keep the process alive
      process.disconnect?.();
    },
    (err: unknown) => {
      process.stderr.write(`emulate: ${(err as Error)?.message ?? String(err)}\n`);
      process.send?.({ type: 'error', message: (err as Error)?.message ?? String(err) } satisfies EmulatorReply);
      process.exitCode = 1;
      process.disconnect?.();
    },
  );
}
