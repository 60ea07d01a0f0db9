import type { TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseRobotConfig, jointsOf, type RobotConfig } from '../../hw/robot_config.js';
import { Emulator } from '../../hw/emulator/emulator.js';
import { ServoBus } from '../../hw/bus/servo_bus.js';
import type { ServoBusOptions } from '../../hw/bus/servo_bus_api.js';
import type { Logger } from '../../src/util/log.js';

// Shared by the serial-hardware tests (serial_link, emulator, bus_faults…): a temp dir per test, an
// emulated bus behind its own pseudo-terminal, a ServoBus on it, waiting for a condition with a
// deadline, and "nothing crashed" as a checkable fact. The pty support not built makes
// Emulator.start fail with how to build it — never a skip.

/** Drops everything: the tests check behaviour, not log lines (a test that wants them passes its own). */
export const quietLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  level: 'error',
};

export interface CrashWatch {
  readonly seen: readonly string[];
  /** throws listing what escaped from event handlers */
  assertNone(): void;
}

/** Records every uncaught exception and unhandled rejection while the test runs. */
export function watchForCrashes(t: TestContext): CrashWatch {
  const seen: string[] = [];
  const describe = (err: unknown): string => (err instanceof Error ? (err.stack ?? err.message) : String(err));
  const onException = (err: unknown) => void seen.push(`uncaught exception: ${describe(err)}`);
  const onRejection = (err: unknown) => void seen.push(`unhandled rejection: ${describe(err)}`);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  t.after(() => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  });
  return {
    seen,
    assertNone() {
      if (seen.length) throw new Error(`escaped from event handlers:\n${seen.join('\n')}`);
    },
  };
}

export function tempDir(t: TestContext, prefix = 'dynastack-hw-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Wait for a condition, polling every 5 ms. The deadline is generous on purpose: it only matters
 * when the condition never comes, and a machine busy with other tests can be slow to bring it.
 */
export async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export type ArmKind = 'so101' | 'koch';

/** The two example arms (config/robots/*_emulated.yaml), on a port of our own. */
export function armYaml(kind: ArmKind, port: string, extra = ''): string {
  const names = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];
  const model = (i: number) => (kind === 'so101' ? 'STS3215' : i < 2 ? 'XL430-W250' : 'XL330-M288');
  const servos = names
    .map(
      (name, i) =>
        `  - { id: ${i + 1}, name: ${name}, model: ${model(i)}, position: ${2047 + 100 * (i - 2)}, registers: { return_delay_time: 0 } }`,
    )
    .join('\n');
  return `robot: ${kind}\nport: ${port}\nprotocol: ${kind === 'so101' ? 'feetech_sts' : 'dynamixel2'}\nbaud_rate: 1000000\nservos:\n${servos}\nemulator:\n  boot_ms: 50\n${extra}`;
}

export interface EmulatedArm {
  readonly dir: string;
  readonly config: RobotConfig;
  readonly emulator: Emulator;
  readonly bus: ServoBus;
}

/** An emulated arm and a ServoBus on it, both stopped after the test. */
export async function emulatedArm(
  t: TestContext,
  kind: ArmKind,
  busOptions: Partial<ServoBusOptions> = {},
  extraYaml = '',
): Promise<EmulatedArm> {
  const dir = tempDir(t);
  const port = join(dir, 'tty');
  const config = parseRobotConfig(armYaml(kind, port, extraYaml), `${kind} test arm`);
  const emulator = await Emulator.start({ config, logger: quietLogger });
  t.after(() => emulator.stop());
  const bus = await ServoBus.open({
    port,
    baudRate: config.baudRate,
    protocol: config.protocol,
    joints: jointsOf(config),
    // generous slack: the suite runs two test files at once on two cores, the emulator in this process
    timing: { marginMs: 100, returnDelayUs: 0, adapterLatencyMs: 1 },
    reopen: { initialDelayMs: 20, maxDelayMs: 100 },
    logger: quietLogger,
    ...busOptions,
  });
  t.after(() => bus.close());
  return { dir, config, emulator, bus };
}
