import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LeaderArm, type LeaderTrigger } from '../../hw/arm/leader_arm.js';
import type { RobotCalibration } from '../../hw/calibration/calibration.js';
import { Emulator } from '../../hw/emulator/emulator.js';
import {
  attachLeaderMotion,
  parseMotionCsv,
  parseMotionJson,
  scriptAngles,
  type LeaderScript,
} from '../../hw/emulator/leader_motion.js';
import { jointsOf, parseRobotConfig, type RobotConfig } from '../../hw/robot_config.js';
import { encodeRegister, registerOf } from '../../hw/servos/registers.js';
import type { Logger } from '../../src/util/log.js';
import { armYaml, quietLogger, tempDir, until, watchForCrashes, type ArmKind } from './bus_harness.js';

// The leader arm over a real pty, the emulator standing in for the leader chain with a scripted
// motion (hw/emulator/leader_motion.ts) on a clock the test sets: what it reads is the script's
// pose through the leader's calibration (offsets, one joint reversed) within the encoder's
// quantisation; torque is off on every servo after open, read back from the servos themselves; a
// corrupt or short reply gives no reading and is counted; a device that vanishes is said in one
// error line, and reading resumes once it is back.

const NAMES = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];
const TICK = (2 * Math.PI) / 4096;

function leaderCalibration(config: RobotConfig): RobotCalibration {
  const offsets = [120, -340, 75, 0, -800, 260];
  return {
    robot: `${config.robot}_leader`,
    protocol: config.protocol,
    joints: config.servos.map((s, i) => ({
      name: s.name,
      id: s.id,
      model: s.model,
      // one joint reversed: Feetech applies it in software, Dynamixel in its Drive_Mode register
      drive_mode: s.name === 'elbow_flex' ? 1 : 0,
      homing_offset: offsets[i]!,
      range_min: 300,
      range_max: 3800,
    })),
  };
}

interface Lines {
  readonly lines: { level: string; text: string }[];
  readonly logger: Logger;
}

function recording(): Lines {
  const lines: { level: string; text: string }[] = [];
  const at =
    (level: string) =>
    (text: string): void =>
      void lines.push({ level, text });
  return {
    lines,
    logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), level: 'debug' },
  };
}

async function leaderRig(
  t: TestContext,
  kind: ArmKind,
  logger: Logger = quietLogger,
  trigger?: LeaderTrigger,
): Promise<{
  emulator: Emulator;
  config: RobotConfig;
  calibration: RobotCalibration;
  leader: LeaderArm;
  port: string;
}> {
  const dir = tempDir(t);
  const port = join(dir, 'leader-tty');
  const config = parseRobotConfig(armYaml(kind, port), `${kind} leader`);
  const emulator = await Emulator.start({ config, logger: quietLogger });
  t.after(() => emulator.stop());
  // torque on everywhere before open: the leader must turn it off
  for (const s of config.servos) {
    const servo = emulator.servo(s.id);
    const r = registerOf(servo.model, 'torque_enable');
    servo.write(r.address, encodeRegister(servo.model, 'torque_enable', 1));
    assert.equal(servo.torqueEnabled, true);
  }
  const calibration = leaderCalibration(config);
  const leader = await LeaderArm.open({
    port,
    baudRate: config.baudRate,
    protocol: config.protocol,
    joints: jointsOf(config),
    calibration,
    // generous slack: the suite runs beside CPU burners, the emulator in this process
    timing: { marginMs: 100, returnDelayUs: 0, adapterLatencyMs: 1 },
    reopen: { initialDelayMs: 20, maxDelayMs: 100 },
    logger,
    ...(trigger ? { trigger } : {}),
  });
  t.after(() => leader.close());
  return { emulator, config, calibration, leader, port };
}

const script: LeaderScript = {
  kind: 'sine',
  joints: Object.fromEntries(
    NAMES.map((name, i) => [
      name,
      { amplitude: 0.4 + 0.1 * i, frequencyHz: 0.5 + 0.2 * i, phase: i, offset: 0.1 * (i - 2) },
    ]),
  ),
};

for (const kind of ['so101', 'koch'] as const) {
  test(`leader arm (${kind}): torque off on every servo after open, read back from the servos; calibration on them`, async (t) => {
    const crashes = watchForCrashes(t);
    const { emulator, config, calibration, leader } = await leaderRig(t, kind);
    for (const s of config.servos) {
      const servo = emulator.servo(s.id);
      assert.equal(servo.register('torque_enable'), 0, `${s.name}: Torque_Enable reads 0`);
      const cal = calibration.joints.find((j) => j.name === s.name)!;
      assert.equal(servo.register('homing_offset'), cal.homing_offset, `${s.name}: homing offset`);
      if (kind === 'koch') assert.equal(servo.register('drive_mode') & 1, cal.drive_mode, `${s.name}: drive mode`);
    }
    assert.deepEqual(
      leader.diagnostics().servos.map((s) => s.torque),
      NAMES.map(() => 'off'),
    );
    assert.deepEqual(leader.jointNames, NAMES);
    crashes.assertNone();
  });

  test(`leader arm (${kind}): a read over the emulator gives the replayed motion, through the leader's calibration`, async (t) => {
    const crashes = watchForCrashes(t);
    const { emulator, calibration, leader } = await leaderRig(t, kind);
    let nowMs = 0;
    const detach = attachLeaderMotion(emulator, script, { calibration, clock: () => nowMs });
    t.after(detach);
    const seen = new Set<string>();
    for (const at of [0, 130, 470, 910, 1333, 2750]) {
      nowMs = at;
      const angles = await leader.read();
      assert.ok(angles, `a reading at t = ${at} ms (${leader.lastProblem})`);
      const want = scriptAngles(script, at / 1000);
      NAMES.forEach((name, i) => {
        // Present_Position is the nearest tick: half a tick off at most
        assert.ok(
          Math.abs(angles[i]! - want[i]!) <= 0.5 * TICK + 1e-9,
          `${name} at ${at} ms: read ${angles[i]}, script ${want[i]}`,
        );
      });
      seen.add(Array.from(angles, (a) => a.toFixed(3)).join(','));
    }
    assert.equal(seen.size, 6, 'every pose differs');
    assert.deepEqual(leader.counters(), {
      reads: 6,
      accepted: 6,
      incomplete: 0,
      implausible: 0,
      failed: 0,
      lost: 0,
      busy: 0,
    });
    crashes.assertNone();
  });

  test(`leader arm (${kind}): a corrupt reply gives no reading and is counted; the next read is fine`, async (t) => {
    const crashes = watchForCrashes(t);
    const { emulator, leader } = await leaderRig(t, kind);
    assert.ok(await leader.read());
    emulator.inject({ kind: 'corrupt_byte', id: 3, count: 1 });
    assert.equal(await leader.read(), undefined, 'no reading with elbow_flex corrupt');
    assert.match(leader.lastProblem ?? '', /no usable reply from 'elbow_flex' \(id 3\)/);
    assert.equal(leader.counters().incomplete, 1);
    assert.ok(await leader.read(), 'the next read is whole');
    assert.equal(leader.lastProblem, undefined);
    assert.equal(leader.counters().accepted, 2);
    crashes.assertNone();
  });
}

test('leader arm (so101): a short reply (its length byte cut) gives no reading and is counted', async (t) => {
  const crashes = watchForCrashes(t);
  const { emulator, leader } = await leaderRig(t, 'so101');
  // Feetech status: FF FF id LEN err p0 p1 sum; LEN 4 → 0 flips bit 2 of the 5th byte from the end
  emulator.inject({ kind: 'corrupt_byte', id: 2, count: 1, byteFromEnd: 5, bit: 2 });
  assert.equal(await leader.read(), undefined);
  assert.match(leader.lastProblem ?? '', /'shoulder_lift' \(id 2\)/);
  const c = leader.counters();
  assert.equal(c.incomplete + c.failed, 1, JSON.stringify(c));
  assert.equal(c.accepted, 0);
  assert.ok(await leader.read(), 'the next read is whole');
  crashes.assertNone();
});

test('leader arm: a vanished device is one clear error line; reads give nothing until it is back', async (t) => {
  const crashes = watchForCrashes(t);
  const log = recording();
  const { emulator, leader, port } = await leaderRig(t, 'so101', log.logger);
  assert.ok(await leader.read());
  const handle = emulator.inject({ kind: 'disconnect' });
  // the loss shows by itself, or at the latest on the next read (EIO: the pty the host holds is hung up)
  const deadline = performance.now() + 15_000;
  while (leader.connected) {
    assert.ok(performance.now() < deadline, 'the leader noticed the device is gone within 15 s');
    await leader.read();
    await sleep(5);
  }
  for (let i = 0; i < 5; i++) assert.equal(await leader.read(), undefined);
  const errors = log.lines.filter((l) => l.level === 'error');
  assert.equal(errors.length, 1, errors.map((e) => e.text).join('\n'));
  assert.match(
    errors[0]!.text,
    new RegExp(
      `^leader arm: ${port.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} vanished \\(.+\\): no leader readings until it is back; reopening$`,
    ),
  );
  assert.ok(leader.counters().lost >= 5);
  emulator.faults.clear(handle);
  await until('readings again', () => leader.connected);
  // the servos may still be waking: a few reads at most
  let angles: Float64Array | undefined;
  for (let i = 0; i < 50 && !angles; i++) angles = await leader.read();
  assert.ok(angles, `reading again after the device came back (${leader.lastProblem})`);
  assert.equal(log.lines.filter((l) => l.level === 'error').length, 1, 'still one error line');
  crashes.assertNone();
});

test('leader arm: a device that is not there is one clear error at open', async (t) => {
  const dir = tempDir(t);
  const config = parseRobotConfig(armYaml('so101', join(dir, 'nothing')), 'so101 leader');
  await assert.rejects(
    LeaderArm.open({
      port: config.port,
      baudRate: config.baudRate,
      protocol: config.protocol,
      joints: jointsOf(config),
      calibration: leaderCalibration(config),
      logger: quietLogger,
    }),
    (err: Error) => {
      assert.match(err.message, /^leader arm: .*nothing/);
      assert.ok(!err.message.includes('\n'), err.message);
      return true;
    },
  );
});

test('leader arm: a recorded motion (CSV) is replayed, interpolated between samples and looped', async (t) => {
  const crashes = watchForCrashes(t);
  const { emulator, calibration, leader } = await leaderRig(t, 'so101');
  const csv = [
    '# t in s, angles in rad',
    't,shoulder_pan,shoulder_lift,elbow_flex,wrist_flex,wrist_roll,gripper',
    '0,0,0,0,0,0,0',
    '1,0.4,-0.2,0.6,-0.8,1.0,0.3',
    '2,-0.4,0.2,-0.6,0.8,-1.0,0.1',
  ].join('\n');
  const recorded = parseMotionCsv(csv, 'recorded.csv');
  // the same motion as JSON is the same script
  assert.deepEqual(
    parseMotionJson(
      JSON.stringify({
        joints: NAMES,
        samples: [
          [0, 0, 0, 0, 0, 0, 0],
          [1, 0.4, -0.2, 0.6, -0.8, 1.0, 0.3],
          [2, -0.4, 0.2, -0.6, 0.8, -1.0, 0.1],
        ],
      }),
      'recorded.json',
    ),
    recorded,
  );
  let nowMs = 0;
  t.after(attachLeaderMotion(emulator, recorded, { calibration, clock: () => nowMs }));
  // half way between the first two samples; three quarters into the second span; looped round
  const expected: [number, number[]][] = [
    [500, [0.2, -0.1, 0.3, -0.4, 0.5, 0.15]],
    [1750, [-0.2, 0.1, -0.3, 0.4, -0.5, 0.15]],
    [2500, [0.2, -0.1, 0.3, -0.4, 0.5, 0.15]],
  ];
  for (const [at, want] of expected) {
    nowMs = at;
    const angles = await leader.read();
    assert.ok(angles, `a reading at ${at} ms (${leader.lastProblem})`);
    want.forEach((w, i) =>
      assert.ok(Math.abs(angles[i]! - w) <= 0.5 * TICK + 1e-9, `${NAMES[i]} at ${at} ms: ${angles[i]} vs ${w}`),
    );
  }
  crashes.assertNone();
});

test('leader motion: a malformed recording or a motion beyond one turn is one clear error', async (t) => {
  assert.throws(
    () => parseMotionCsv('time,a\n0,1', 'x.csv'),
    /^Error: leader motion: x\.csv: the first line must be 't,<joint>,…'/,
  );
  assert.throws(
    () => parseMotionCsv('t,a\n0,1\n0,2', 'x.csv'),
    /sample 1: time 0 is not a number above the one before/,
  );
  assert.throws(() => parseMotionCsv('t,a,b\n0,1', 'x.csv'), /data row 1 has 2 values, the header 3/);
  assert.throws(
    () => parseMotionJson('{"joints":["a"],"samples":[[0]]}', 'x.json'),
    /sample 0 must be \[t, 1 angles\]/,
  );
  const { emulator } = await leaderRig(t, 'so101');
  assert.throws(
    () => attachLeaderMotion(emulator, { kind: 'sine', joints: { elbow_flex: { amplitude: 3.5, frequencyHz: 1 } } }),
    /leader motion: joint 'elbow_flex' would read -?\d+…\d+, outside one turn of STS3215 \(0…4095\)/,
  );
  assert.throws(
    () => attachLeaderMotion(emulator, { kind: 'sine', joints: { thumb: { amplitude: 0.1, frequencyHz: 1 } } }),
    /leader motion: joint 'thumb' is not a servo of so101/,
  );
});

test('leader arm (koch): the gripper as a trigger — current-based position, held at its goal, the only torque on', async (t) => {
  const crashes = watchForCrashes(t);
  const { emulator, config, leader } = await leaderRig(t, 'koch', quietLogger, { joint: 'gripper', goal: 0.2 });
  for (const s of config.servos) {
    const servo = emulator.servo(s.id);
    assert.equal(servo.register('torque_enable'), s.name === 'gripper' ? 1 : 0, `${s.name}: torque`);
  }
  const gripper = emulator.servo('gripper');
  assert.equal(gripper.register('operating_mode'), gripper.model.operatingModes.current_based_position);
  assert.equal(gripper.register('goal_position'), gripper.model.centerPosition + Math.round(0.2 / TICK));
  assert.ok(await leader.read());
  await leader.close();
  assert.equal(gripper.register('torque_enable'), 0, 'trigger torque off at close');
  crashes.assertNone();
});

test('leader arm (so101): a trigger on a servo without current-based position mode is refused at open', async (t) => {
  await assert.rejects(
    leaderRig(t, 'so101', quietLogger, { joint: 'gripper', goal: 0 }),
    /^Error: leader arm: trigger joint 'gripper' is a STS3215, which has no current-based position mode$/,
  );
});
