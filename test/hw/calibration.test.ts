import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { servoModel } from '../../hw/servos/index.js';
import { decodeRegister, encodeRegister } from '../../hw/servos/registers.js';
import type { ServoModel } from '../../hw/servos/control_table.js';
import {
  angleLimits,
  angleToRaw,
  fromLerobot,
  homingOffsetFor,
  presentFromActual,
  RangeRecorder,
  rawToAngle,
  toLerobot,
  type JointCalibration,
} from '../../hw/calibration/calibration.js';
import {
  calibrationYaml,
  defaultCalibrationPath,
  importLerobotCalibration,
  lerobotCalibrationJson,
  parseCalibration,
  readCalibrationFile,
  writeCalibrationFile,
  type CalibrationTarget,
} from '../../hw/calibration/file.js';
import { runCalibration, type CalibrationBus, type CalibrationUi } from '../../hw/calibration/procedure.js';

// Calibration maths for both vendors: raw ↔ radians over the whole turn, homing offsets, range
// recording, and LeRobot calibration files in and out.

const sts = servoModel('STS3215');
const xl430 = servoModel('XL430-W250');
const SO_JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];
const so101: CalibrationTarget = {
  robot: 'so101_follower',
  protocol: 'feetech_sts',
  joints: SO_JOINTS.map((name, i) => ({ name, id: i + 1, model: sts })),
};

const joint = (
  model: ServoModel,
  drive_mode: 0 | 1,
  range_min = 0,
  range_max = model.resolution - 1,
): JointCalibration => ({
  name: 'j',
  id: 1,
  model: model.name,
  drive_mode,
  homing_offset: 0,
  range_min,
  range_max,
});

for (const model of [sts, xl430]) {
  test(`${model.name}: raw → rad → raw is exact over the whole turn, in both directions`, () => {
    for (const dm of [0, 1] as const) {
      const cal = joint(model, dm);
      for (let raw = 0; raw < model.resolution; raw++) {
        const angle = rawToAngle(cal, model, raw);
        assert.equal(angleToRaw(cal, model, angle), raw, `drive_mode ${dm}, raw ${raw}`);
        assert.ok(Math.abs(angle) <= Math.PI + 1e-12, `raw ${raw} is ${angle} rad`);
      }
      // rad → raw → rad is within half a tick
      const tick = (2 * Math.PI) / model.resolution;
      for (let a = -3; a <= 3; a += 0.0137)
        assert.ok(Math.abs(rawToAngle(cal, model, angleToRaw(cal, model, a)) - a) <= tick / 2 + 1e-12);
    }
  });
}

test('the calibration pose is angle 0, a quarter turn is π/2, and the direction is applied where the vendor wants it', () => {
  for (const model of [sts, xl430]) {
    const cal = joint(model, 0);
    assert.equal(rawToAngle(cal, model, model.centerPosition), 0);
    assert.ok(Math.abs(rawToAngle(cal, model, model.centerPosition + model.resolution / 4) - Math.PI / 2) < 1e-12);
  }
  // Feetech: drive_mode reverses in software; Dynamixel: its Drive_Mode register does, so the reading is already reversed
  const q = sts.centerPosition + 512;
  assert.ok(rawToAngle(joint(sts, 1), sts, q) < 0);
  assert.equal(rawToAngle(joint(sts, 1), sts, q), -rawToAngle(joint(sts, 0), sts, q));
  assert.equal(rawToAngle(joint(xl430, 1), xl430, q), rawToAngle(joint(xl430, 0), xl430, q));
  // limits come out ordered either way
  const [lo, hi] = angleLimits({ ...joint(sts, 1), range_min: 1000, range_max: 3000 }, sts);
  assert.ok(lo < hi);
  assert.ok(Math.abs(lo - rawToAngle(joint(sts, 1), sts, 3000)) < 1e-12);
});

test('Feetech homing: every pose of the turn reads the centre after its offset, and every offset fits the 11-bit sign-magnitude register (wrap guard)', () => {
  let offByOne = 0;
  for (let actual = 0; actual < sts.resolution; actual++) {
    const offset = homingOffsetFor(sts, actual);
    // the register must hold it: this is what overflowed at the 0/4095 wrap (lerobot PR #3370)
    const bytes = encodeRegister(sts, 'homing_offset', offset);
    assert.equal(decodeRegister(sts, 'homing_offset', bytes), offset, `offset ${offset} for position ${actual}`);
    const present = presentFromActual(sts, actual, offset);
    assert.ok(Math.abs(present - sts.centerPosition) <= 1, `position ${actual}: offset ${offset} reads ${present}`);
    if (present !== sts.centerPosition) offByOne++;
  }
  // only the pose on the wrap itself cannot be centred exactly
  assert.equal(offByOne, 1);
  assert.equal(homingOffsetFor(sts, sts.centerPosition), 0);
  assert.equal(homingOffsetFor(sts, 1000), 1000 - sts.centerPosition);
});

test('Dynamixel homing: Present = Actual + Homing_Offset, so the offset is centre − position, exactly', () => {
  for (let actual = 0; actual < xl430.resolution; actual += 7) {
    const offset = homingOffsetFor(xl430, actual);
    assert.equal(offset, xl430.centerPosition - actual);
    assert.equal(presentFromActual(xl430, actual, offset), xl430.centerPosition);
    assert.equal(decodeRegister(xl430, 'homing_offset', encodeRegister(xl430, 'homing_offset', offset)), offset);
  }
  assert.throws(() => homingOffsetFor(xl430, 5000), /outside one turn/);
});

test('range recording keeps min and max, gives full-turn joints the whole turn, and refuses a joint that did not move or crossed the wrap', () => {
  const rec = new RangeRecorder([
    { name: 'a', model: sts, fullTurn: false },
    { name: 'roll', model: sts, fullTurn: true },
    { name: 'still', model: sts, fullTurn: false },
  ]);
  for (const [a, r] of [
    [2047, 2047],
    [1500, 2100],
    [2900, 100],
    [2300, 4000],
  ])
    rec.add([a!, r!, 2000]);
  assert.deepEqual(rec.range(0), [1500, 2900]);
  assert.deepEqual(rec.range(1), [0, 4095]);
  assert.match(rec.problems().join('\n'), /'still' did not move/);
  rec.add([2300, 50, 2001]);
  assert.deepEqual(rec.problems(), []);
  // a jump across the wrap (4090 → 10) is not a range
  const wrap = new RangeRecorder([{ name: 'w', model: sts, fullTurn: false }]);
  for (const p of [3800, 4000, 4090, 10, 300]) wrap.add([p]);
  assert.match(wrap.problems().join(), /'w' crossed the encoder's wrap point/);
  assert.throws(() => rec.add([1, 2]), /expected 3 positions/);
});

test("LeRobot's normalised modes: the values LeRobot computes, and back to the same Goal_Position", () => {
  const cal: JointCalibration = { ...joint(sts, 0), range_min: 1000, range_max: 3000 };
  assert.equal(toLerobot(cal, sts, 2000, 'range_m100_100'), 0);
  assert.equal(toLerobot(cal, sts, 1500, 'range_m100_100'), -50);
  assert.equal(toLerobot(cal, sts, 500, 'range_m100_100'), -100); // clamped
  assert.equal(toLerobot({ ...cal, drive_mode: 1 }, sts, 1500, 'range_m100_100'), 50);
  assert.equal(toLerobot(cal, sts, 2500, 'range_0_100'), 75);
  assert.equal(toLerobot({ ...cal, drive_mode: 1 }, sts, 2500, 'range_0_100'), 25);
  assert.ok(Math.abs(toLerobot(cal, sts, 3000, 'degrees') - (1000 * 360) / 4095) < 1e-12);
  for (const mode of ['range_m100_100', 'range_0_100', 'degrees'] as const) {
    for (const dm of [0, 1] as const) {
      for (let raw = 1000; raw <= 3000; raw += 37) {
        const back = fromLerobot(
          { ...cal, drive_mode: dm },
          sts,
          toLerobot({ ...cal, drive_mode: dm }, sts, raw, mode),
          mode,
        );
        assert.ok(Math.abs(back - raw) <= 1, `${mode} drive_mode ${dm}: ${raw} → ${back}`);
      }
    }
  }
});

const lerobotJson = {
  shoulder_pan: { id: 1, drive_mode: 0, homing_offset: -1470, range_min: 758, range_max: 3292 },
  shoulder_lift: { id: 2, drive_mode: 0, homing_offset: 153, range_min: 816, range_max: 3333 },
  elbow_flex: { id: 3, drive_mode: 0, homing_offset: 1898, range_min: 873, range_max: 3077 },
  wrist_flex: { id: 4, drive_mode: 0, homing_offset: -1050, range_min: 852, range_max: 3291 },
  wrist_roll: { id: 5, drive_mode: 0, homing_offset: 187, range_min: 0, range_max: 4095 },
  gripper: { id: 6, drive_mode: 0, homing_offset: 1202, range_min: 2039, range_max: 3536 },
};

test('a LeRobot calibration JSON imports to the same numbers, converts like LeRobot, and exports back unchanged', () => {
  const cal = importLerobotCalibration(JSON.stringify(lerobotJson), 'so101.json', so101);
  assert.deepEqual(
    cal.joints.map((j) => j.name),
    SO_JOINTS,
  );
  for (const j of cal.joints) {
    const l = lerobotJson[j.name as keyof typeof lerobotJson];
    assert.deepEqual(
      {
        id: j.id,
        drive_mode: j.drive_mode,
        homing_offset: j.homing_offset,
        range_min: j.range_min,
        range_max: j.range_max,
      },
      l,
    );
    assert.equal(j.model, 'STS3215');
    // a position the arm reports means the same to both: LeRobot's -100…100 from our numbers
    const mid = (l.range_min + l.range_max) / 2;
    assert.ok(Math.abs(toLerobot(j, sts, Math.round(mid), 'range_m100_100')) < 0.1);
  }
  assert.deepEqual(JSON.parse(lerobotCalibrationJson(cal)), lerobotJson);
  // motor order in the JSON does not matter; unknown motors, wrong ids and bad values are named
  const reordered = Object.fromEntries(Object.entries(lerobotJson).reverse());
  assert.deepEqual(importLerobotCalibration(JSON.stringify(reordered), 'r.json', so101), cal);
  assert.throws(
    () => importLerobotCalibration(JSON.stringify({ ...lerobotJson, elbow: lerobotJson.elbow_flex }), 'x.json', so101),
    /motor 'elbow' is not a joint of so101_follower/,
  );
  assert.throws(
    () =>
      importLerobotCalibration(
        JSON.stringify({ ...lerobotJson, gripper: { ...lerobotJson.gripper, id: 9 } }),
        'x.json',
        so101,
      ),
    /joint 'gripper': id 9, the robot has 6/,
  );
  assert.throws(
    () =>
      importLerobotCalibration(
        JSON.stringify({ ...lerobotJson, gripper: { ...lerobotJson.gripper, homing_offset: 2048 } }),
        'x.json',
        so101,
      ),
    /homing_offset 2048 does not fit STS3215's register \[-2047, 2047\]/,
  );
  const noGripper = Object.fromEntries(Object.entries(lerobotJson).filter(([name]) => name !== 'gripper'));
  assert.throws(() => importLerobotCalibration(JSON.stringify(noGripper), 'x.json', so101), /missing gripper/);
  assert.throws(() => importLerobotCalibration('{"a":', 'x.json', so101), /x\.json: not valid JSON/);
});

test('calibration files: written atomically, read back equal, and every malformed field named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-cal-'));
  const path = join(dir, 'nested', 'so101_follower.yaml');
  const cal = importLerobotCalibration(JSON.stringify(lerobotJson), 'so101.json', so101);
  writeCalibrationFile(path, cal, 'test calibration');
  assert.deepEqual(readCalibrationFile(path, so101), cal);
  assert.deepEqual(readdirSync(join(dir, 'nested')), ['so101_follower.yaml']); // no temporary left
  assert.match(
    readFileSync(path, 'utf8'),
    /^# test calibration\nrobot: "so101_follower"\nprotocol: feetech_sts\njoints:\n {2}"shoulder_pan": \{id: 1, model: "STS3215", drive_mode: 0, homing_offset: -1470, range_min: 758, range_max: 3292\}/,
  );
  // overwriting replaces the whole file
  const moved = { ...cal, joints: cal.joints.map((j) => ({ ...j, range_min: j.range_min + 1 })) };
  writeCalibrationFile(path, moved);
  assert.deepEqual(readCalibrationFile(path, so101), moved);

  const text = calibrationYaml(cal);
  const bad = (from: string, to: string): string => text.replace(from, to);
  assert.throws(
    () => parseCalibration(bad('range_min: 758', 'range_min: 75.8'), 'f.yaml'),
    /f\.yaml: joint 'shoulder_pan': range_min must be an integer, got 75\.8/,
  );
  assert.throws(
    () => parseCalibration(bad('drive_mode: 0, homing_offset: -1470', 'homing_offset: -1470'), 'f.yaml'),
    /joint 'shoulder_pan': missing drive_mode/,
  );
  assert.throws(
    () => parseCalibration(bad('protocol: feetech_sts', 'protocol: can'), 'f.yaml'),
    /'protocol' must be one of dynamixel2, feetech_sts, feetech_scs, got "can"/,
  );
  assert.throws(
    () => parseCalibration(bad('range_max: 3292', 'range_max: 5000'), 'f.yaml', so101),
    /range \[758, 5000\] is outside one turn of STS3215/,
  );
  assert.throws(
    () => parseCalibration(bad('"gripper": {id: 6', '"gripper": {id: 5'), 'f.yaml'),
    /id 5 is used by more than one joint/,
  );
  assert.throws(
    () => parseCalibration(bad('"gripper": {id: 6', '"gripper": {id: 7'), 'f.yaml', so101),
    /joint 'gripper': id 7, the robot has 6/,
  );
  assert.throws(() => parseCalibration('robot: [', 'f.yaml'), /f\.yaml: not valid YAML/);
  assert.throws(() => readCalibrationFile(join(dir, 'none.yaml')), /does not exist: run `dynastack calibrate/);
  // a Dynamixel robot cannot take a Feetech calibration
  const koch: CalibrationTarget = {
    ...so101,
    protocol: 'dynamixel2',
    joints: so101.joints.map((j) => ({ ...j, model: xl430 })),
  };
  assert.throws(
    () => parseCalibration(text, 'f.yaml', koch),
    /it is for protocol feetech_sts, the robot uses dynamixel2/,
  );
  assert.equal(
    defaultCalibrationPath('so101_follower', { XDG_CONFIG_HOME: '/x' }),
    '/x/dynastack/calibration/so101_follower.yaml',
  );
  assert.throws(() => defaultCalibrationPath('../etc'), /cannot name a calibration file/);
  assert.ok(!existsSync(join(dir, 'so101_follower.yaml')));
});

/** Wait for a condition; the deadline only matters when it never comes. */
async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** A fake arm: servos with an encoder position the test sets, the vendor's offset relation, and a register log. */
class FakeArm implements CalibrationBus {
  readonly writes: string[] = [];
  readonly registers: Map<string, number>[];
  actual: number[];
  reads = 0;
  constructor(
    readonly model: ServoModel,
    start: number[],
  ) {
    this.actual = [...start];
    this.registers = start.map(() => new Map<string, number>());
  }
  readPositions(): Promise<number[]> {
    this.reads++;
    return Promise.resolve(
      this.actual.map((a, i) => presentFromActual(this.model, a, this.registers[i]!.get('homing_offset') ?? 0)),
    );
  }
  writeRegister(joint: number, register: string, value: number): Promise<void> {
    this.writes.push(`${joint}:${register}=${value}`);
    this.registers[joint]!.set(register, value);
    return Promise.resolve();
  }
}

test('the procedure: torque off and EEPROM unlocked first, offsets centring the middle pose, ranges from the sweep, EEPROM locked at the end', async () => {
  const middle = [1200, 2600, 4095, 2047, 300, 3000];
  const arm = new FakeArm(sts, [100, 100, 100, 100, 100, 100]);
  const said: string[] = [];
  let enters = 0;
  let tables = 0;
  const ui: CalibrationUi = {
    say: (t) => said.push(t),
    live: () => tables++,
    waitForEnter: async (prompt) => {
      enters++;
      if (enters === 1) {
        assert.match(prompt, /middle of its range/);
        arm.actual = [...middle];
        return;
      }
      assert.match(prompt, /whole range/);
      // the user sweeps each joint ±400 ticks about the middle while the procedure samples
      for (let step = -400; step <= 400; step += 50) {
        arm.actual = middle.map((m) => (m + step + 4096) % 4096);
        if (Math.abs(step) === 400) {
          // the extremes are held until the procedure has read them several times
          const seen = arm.reads;
          await until(`three samples at ${step}`, () => arm.reads >= seen + 3, 15_000);
        } else await new Promise((r) => setTimeout(r, 3));
      }
      arm.actual = [...middle];
    },
  };
  let saved: unknown;
  const cal = await runCalibration(arm, ui, {
    robot: 'so101_follower',
    protocol: 'feetech_sts',
    joints: SO_JOINTS.map((name, i) => ({
      name,
      id: i + 1,
      model: sts,
      driveMode: 0,
      fullTurn: name === 'wrist_roll',
    })),
    samplePeriodMs: 1,
    save: (c) => void (saved = c),
  });
  assert.equal(saved, cal);
  assert.ok(tables > 5, `live table shown ${tables} times`);
  // order per joint: torque off, unlock, position mode, reset, offset, limits, lock
  const j0 = arm.writes.filter((w) => w.startsWith('0:'));
  assert.deepEqual(j0, [
    '0:torque_enable=0',
    '0:lock=0',
    '0:operating_mode=0',
    '0:homing_offset=0',
    '0:min_position_limit=0',
    '0:max_position_limit=4095',
    `0:homing_offset=${1200 - sts.centerPosition}`,
    `0:min_position_limit=${cal.joints[0]!.range_min}`,
    `0:max_position_limit=${cal.joints[0]!.range_max}`,
    '0:lock=1',
  ]);
  cal.joints.forEach((j, i) => {
    // the middle pose reads the centre (the wrap pose a tick off), the sweep is ±400 about it
    const reads = presentFromActual(sts, middle[i]!, j.homing_offset);
    assert.ok(Math.abs(reads - sts.centerPosition) <= 1, `${j.name} reads ${reads}`);
    if (j.name === 'wrist_roll') assert.deepEqual([j.range_min, j.range_max], [0, 4095]);
    else {
      assert.ok(j.range_min === reads - 400 && j.range_max === reads + 400, `${j.name}: ${j.range_min}…${j.range_max}`);
    }
    assert.equal(arm.registers[i]!.get('min_position_limit'), j.range_min);
    assert.equal(arm.registers[i]!.get('lock'), 1);
  });
});

test('the procedure stops, saving nothing, when a joint did not move or input ends', async () => {
  const arm = new FakeArm(sts, [2000, 2100]);
  const joints = [
    { name: 'a', id: 1, model: sts, driveMode: 0 as const, fullTurn: false },
    { name: 'b', id: 2, model: sts, driveMode: 0 as const, fullTurn: false },
  ];
  let saved = false;
  let n = 0;
  const ui: CalibrationUi = {
    say: () => {},
    live: () => {},
    waitForEnter: async () => {
      if (++n === 2) {
        for (let k = 0; k < 5; k++) {
          arm.actual[0]! += 100;
          await new Promise((r) => setTimeout(r, 3));
        }
      }
    },
  };
  await assert.rejects(
    runCalibration(arm, ui, {
      robot: 'r',
      protocol: 'feetech_sts',
      joints,
      samplePeriodMs: 1,
      save: () => void (saved = true),
    }),
    /joint 'b' did not move/,
  );
  const closed: CalibrationUi = {
    say: () => {},
    live: () => {},
    waitForEnter: async () => Promise.reject(new Error('input ended')),
  };
  await assert.rejects(
    runCalibration(arm, closed, { robot: 'r', protocol: 'feetech_sts', joints, save: () => void (saved = true) }),
    /input ended/,
  );
  assert.equal(saved, false);
});

// a calibration that cannot be saved must say where it tried
test('writeCalibrationFile refuses an unwritable place with the path in the message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-cal-'));
  const blocker = join(dir, 'file');
  writeFileSync(blocker, 'x');
  const cal = importLerobotCalibration(JSON.stringify(lerobotJson), 'so101.json', so101);
  assert.throws(
    () => writeCalibrationFile(join(blocker, 'x.yaml'), cal),
    /cannot write calibration file .*file\/x\.yaml: (EEXIST|ENOTDIR)/,
  );
});
