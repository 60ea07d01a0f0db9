// A bus whose port is not there yet at open: under `ros2 launch` the servo emulator (or a udev rule
// making /dev/serial/by-id/…) may come up after hw_bridge, in no fixed order. ServoBus.open waits for
// the port up to waitForPortMs, saying once that it waits, and then opens it; a port that never
// appears fails naming the port and the wait; with no wait asked for, it fails at once as before.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseRobotConfig, jointsOf } from '../../hw/robot_config.js';
import { Emulator } from '../../hw/emulator/emulator.js';
import { ServoBus } from '../../hw/bus/servo_bus.js';
import type { Logger } from '../../src/util/log.js';
import { armYaml, quietLogger, tempDir } from './bus_harness.js';

function recordingLogger(lines: string[]): Logger {
  return { ...quietLogger, info: (m: string) => void lines.push(m), level: 'info' };
}

test('ServoBus.open waits for a port that appears later, then opens it and reads every servo', async (t) => {
  const port = join(tempDir(t), 'tty');
  const config = parseRobotConfig(armYaml('so101', port), 'so101 test arm');
  const lines: string[] = [];
  const opening = ServoBus.open({
    port,
    baudRate: config.baudRate,
    protocol: config.protocol,
    joints: jointsOf(config),
    timing: { marginMs: 100, returnDelayUs: 0, adapterLatencyMs: 1 },
    waitForPortMs: 60_000,
    logger: recordingLogger(lines),
  });
  // the emulator (its pty link) comes up only after the bus has started waiting for it
  await sleep(300);
  const emulator = await Emulator.start({ config, logger: quietLogger });
  t.after(() => emulator.stop());
  const bus = await opening;
  t.after(() => bus.close());
  assert.ok(
    lines.some((l) => l === `waiting up to 60 s for ${port} to appear`),
    `said that it waits: ${lines.join(' | ')}`,
  );
  const positions = await bus.readPositions();
  assert.equal(positions.length, 6);
  assert.ok(positions.every(Number.isFinite));
});

test('a port that never appears fails naming it and the wait; without a wait it fails at once', async (t) => {
  const port = join(tempDir(t), 'never');
  const config = parseRobotConfig(armYaml('so101', port), 'so101 test arm');
  const options = {
    port,
    baudRate: config.baudRate,
    protocol: config.protocol,
    joints: jointsOf(config),
    logger: quietLogger,
  };
  await assert.rejects(ServoBus.open({ ...options, waitForPortMs: 200 }), (e: Error) => {
    assert.equal(
      e.message,
      `cannot open ${port}: no such device after waiting 0.2 s (unplugged, or a different name such as /dev/ttyACM0; prefer /dev/serial/by-id/…)`,
    );
    return true;
  });
  await assert.rejects(ServoBus.open(options), /^Error: cannot open .*never: no such device \(unplugged/);
});
