import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import definition from '../../nodes/hw_bridge.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { packageRoot } from '../../src/util/paths.js';
import { LOG_LEVELS, type LogLevel } from '../../src/util/log.js';
import { Emulator } from '../../hw/emulator/emulator.js';
import { loadRobotConfig } from '../../hw/robot_config.js';
import { ServoArm } from '../../hw/arm/servo_arm.js';
import { calibrationTarget, readCalibrationFile } from '../../hw/calibration/file.js';
import { armYaml, emulatedArm, quietLogger, tempDir } from './bus_harness.js';

// What hw_bridge says about torque off, the last thing it does to a real arm: after deactivate
// (the runtime's shutdown, Ctrl-C, `ros2 lifecycle set … deactivate`) one info line when every
// servo read torque off back, and when one could not be confirmed, the error line naming it (and
// no info line); cleanup turns torque off again only when deactivate did not confirm it (or never
// ran), saying so the same way. A closed bus is never taken for a confirmed torque off. On the
// embedded transport against the emulated SO-101 behind a pty, with the node's log lines captured.

const JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];
const CONFIRMED = /^torque off on every servo \(all 6 confirmed by read-back\) at (deactivate|cleanup)$/;

interface Line {
  readonly level: LogLevel;
  readonly message: string;
}

interface Bridge {
  readonly emulator: Emulator;
  readonly lines: Line[];
  readonly lifecycle: Awaited<ReturnType<typeof definition.configure>>;
  /** the messages of a level about torque off */
  torque(level: LogLevel): string[];
}

/** hw_bridge configured on an emulated SO-101 with servos at distinct positions; stopped when the test ends. */
async function bridge(t: TestContext): Promise<Bridge> {
  const dir = tempDir(t, 'dynastack-torque-log-');
  const link = join(dir, 'tty');
  const robotPath = join(dir, 'robot.yaml');
  writeFileSync(robotPath, armYaml('so101', link));
  const emulator = await Emulator.start({ config: loadRobotConfig(robotPath), logger: quietLogger });
  const transport = new EmbeddedTransport({ checkMessages: true });
  // a test that failed half-way leaves the bridge as it was: stop it as the runtime would, first
  let state: 'inactive' | 'active' | 'released' = 'inactive';
  const configured: { hooks?: Bridge['lifecycle'] } = {};
  t.after(async () => {
    if (state === 'active') await configured.hooks?.deactivate?.();
    if (state !== 'released') await configured.hooks?.cleanup?.();
    await transport.shutdown();
    await emulator.stop();
  });
  const handle = await transport.createNode({
    name: 'hw_bridge',
    parameters: definition.parameters,
    parameterSources: [
      {
        origin: 'test',
        values: {
          robot_config: robotPath,
          calibration_file: join(packageRoot(), 'config/calibration/so101_emulated.yaml'),
          rate_hz: 100,
          command_timeout_s: 5,
          // the emulator answers from this process's event loop, which other tests may keep busy
          timeout_margin_ms: 150,
        },
        strict: true,
      },
    ],
  });
  const lines: Line[] = [];
  for (const level of LOG_LEVELS) handle.logger[level] = (message: string) => void lines.push({ level, message });
  const hooks = await definition.configure(handle, handle.params);
  configured.hooks = hooks;
  const lifecycle: Bridge['lifecycle'] = {
    ...hooks,
    activate: async () => {
      await hooks.activate?.();
      state = 'active';
    },
    deactivate: async () => {
      state = 'inactive';
      await hooks.deactivate?.();
    },
    cleanup: async () => {
      state = 'released';
      await hooks.cleanup?.();
    },
  };
  return {
    emulator,
    lines,
    lifecycle,
    torque: (level) => lines.filter((l) => l.level === level && /^torque off\b/.test(l.message)).map((l) => l.message),
  };
}

const torqueOn = (b: Bridge): boolean[] => JOINTS.map((j) => b.emulator.servo(j).torqueEnabled);

test('hw_bridge: after deactivate, one info line says torque is off on every servo, confirmed by read-back; cleanup adds nothing', async (t) => {
  const b = await bridge(t);
  await b.lifecycle.activate?.();
  assert.deepEqual(
    torqueOn(b),
    JOINTS.map(() => true),
  );
  await b.lifecycle.deactivate?.();
  assert.deepEqual(
    torqueOn(b),
    JOINTS.map(() => false),
  );
  assert.deepEqual(b.torque('info'), ['torque off on every servo (all 6 confirmed by read-back) at deactivate']);
  assert.deepEqual(b.torque('error'), []);
  await b.lifecycle.cleanup?.();
  assert.deepEqual(b.torque('info').length, 1, `after cleanup: ${JSON.stringify(b.torque('info'))}`);
  assert.deepEqual(b.torque('error'), []);
});

test('hw_bridge: activated again, the next deactivate says it again', async (t) => {
  const b = await bridge(t);
  await b.lifecycle.activate?.();
  await b.lifecycle.deactivate?.();
  await b.lifecycle.activate?.();
  assert.deepEqual(
    torqueOn(b),
    JOINTS.map(() => true),
  );
  await b.lifecycle.deactivate?.();
  assert.equal(b.torque('info').filter((l) => CONFIRMED.test(l)).length, 2);
  await b.lifecycle.cleanup?.();
  assert.equal(b.torque('info').filter((l) => CONFIRMED.test(l)).length, 2, 'cleanup adds nothing');
});

test('hw_bridge: a servo that does not confirm torque off at deactivate is named in the error line, with no info line; cleanup tries again and says so', async (t) => {
  const b = await bridge(t);
  await b.lifecycle.activate?.();
  const fault = b.emulator.inject({ kind: 'no_reply', id: 1 });
  await b.lifecycle.deactivate?.();
  assert.deepEqual(b.torque('info'), []);
  const errors = b.torque('error');
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.match(errors[0]!, /^torque off at deactivate failed: torque off not confirmed on 'shoulder_pan' \(id 1\)/);
  assert.match(errors[0]!, /confirmed on the other 5$/);
  // answering again: cleanup's torque off is confirmed on all, and said
  b.emulator.faults.clear(fault);
  await b.lifecycle.cleanup?.();
  assert.deepEqual(b.torque('info'), ['torque off on every servo (all 6 confirmed by read-back) at cleanup']);
  assert.equal(b.torque('error').length, 1);
});

test('hw_bridge: configured and never activated, cleanup turns torque off and says it was confirmed', async (t) => {
  const b = await bridge(t);
  await b.lifecycle.cleanup?.();
  assert.deepEqual(b.torque('info'), ['torque off on every servo (all 6 confirmed by read-back) at cleanup']);
  assert.deepEqual(
    torqueOn(b),
    JOINTS.map(() => false),
  );
});

test('servo arm: disable on a closed bus rejects — nothing was sent, so nothing is confirmed', async (t) => {
  const { config, bus } = await emulatedArm(t, 'so101');
  const calibration = readCalibrationFile(
    join(packageRoot(), 'config/calibration/so101_emulated.yaml'),
    calibrationTarget(config),
  );
  const arm = new ServoArm(bus, calibration, {
    commandInterface: 'position',
    commandTimeoutMs: 5000,
    writeCalibration: true,
    logger: quietLogger,
  });
  await arm.setup();
  await arm.enable();
  await arm.disable();
  await bus.close();
  await assert.rejects(arm.disable(), /torque off not sent: the bus is closed/);
});
