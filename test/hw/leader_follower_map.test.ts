import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderFollowerMap } from '../../hw/arm/leader_follower_map.js';
import { JointMapping } from '../../hw/arm/joint_mapping.js';
import {
  homingOffsetFor,
  rawToAngle,
  type JointCalibration,
  type RobotCalibration,
} from '../../hw/calibration/calibration.js';
import { EmulatedServo } from '../../hw/emulator/emulated_servo.js';
import type { ProtocolName } from '../../hw/protocol/types.js';
import { servoModel, type ServoModel } from '../../hw/servos/index.js';
import { encodeRegister, registerOf } from '../../hw/servos/registers.js';
import type { RegisterName } from '../../hw/servos/control_table.js';

// Leader angles onto follower targets, checked against the emulated servos' own physics (their
// homing-offset and direction conventions, hw/emulator/emulated_servo.ts): two arms mounted
// differently (each joint's encoder count at the calibration pose, and its direction), each with
// its own calibration made as `dynastack calibrate` makes it. A physical pose of the leader is
// read through the leader's servos and calibration, mapped, sent through the follower's
// calibration as a goal, and the follower's servo driven there: it must stand at the same physical
// angle (within the encoders' quantisation), or at the edge of its range where the pose is beyond it.

const NAMES = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'] as const;

/** How a joint's servo sits in an arm: the encoder count at the calibration pose, and its direction. */
interface Mount {
  readonly a0: number;
  readonly reversed: boolean;
  readonly range: readonly [number, number];
}

interface Arm {
  readonly protocol: ProtocolName;
  readonly models: readonly ServoModel[];
  readonly mounts: readonly Mount[];
  readonly calibration: RobotCalibration;
}

/** The calibration the procedure gives for a mounting: direction as drive mode, half-turn homing, the range. */
function arm(robot: string, protocol: ProtocolName, modelNames: readonly string[], mounts: readonly Mount[]): Arm {
  const models = modelNames.map((m) => servoModel(m));
  const joints: JointCalibration[] = mounts.map((m, i) => {
    const model = models[i]!;
    const n = model.resolution;
    // what the servo reads at the pose with a zero offset (Dynamixel mirrors in firmware first)
    const present0 = model.vendor === 'robotis' && m.reversed ? n - m.a0 : m.a0;
    return {
      name: NAMES[i]!,
      id: i + 1,
      model: model.name,
      drive_mode: m.reversed ? 1 : 0,
      homing_offset: homingOffsetFor(model, present0),
      range_min: m.range[0],
      range_max: m.range[1],
    };
  });
  return { protocol, models, mounts, calibration: { robot, protocol, joints } };
}

function writeReg(servo: EmulatedServo, name: RegisterName, value: number): void {
  const r = registerOf(servo.model, name);
  const result = servo.write(r.address, encodeRegister(servo.model, name, value));
  assert.equal(result.error, 0, `writing ${name} = ${value}`);
}

/** The calibration's registers on an emulated servo (torque off, as the arm's setup writes them). */
function calibrated(model: ServoModel, cal: JointCalibration, present = model.centerPosition): EmulatedServo {
  const registers: Partial<Record<RegisterName, number>> = {
    homing_offset: cal.homing_offset,
    min_position_limit: cal.range_min,
    max_position_limit: cal.range_max,
  };
  if (model.vendor === 'robotis') registers.drive_mode = cal.drive_mode;
  return new EmulatedServo({ id: cal.id, model, registers, position: present });
}

/** Present_Position the leader's servo gives with the joint at physical angle `phi` (rad from the pose). */
function leaderReading(a: Arm, i: number, phi: number): number {
  const model = a.models[i]!;
  const m = a.mounts[i]!;
  const ticks = model.resolution / (2 * Math.PI);
  // a servo without offset and direction reads its shaft; then the calibration's registers go on
  const servo = new EmulatedServo({ id: i + 1, model });
  servo.moveTo(m.a0 + (m.reversed ? -1 : 1) * phi * ticks);
  const cal = a.calibration.joints[i]!;
  writeReg(servo, 'homing_offset', cal.homing_offset);
  if (model.vendor === 'robotis') writeReg(servo, 'drive_mode', cal.drive_mode);
  return servo.register('present_position');
}

/** Physical angle (rad from the pose) the follower's servo reaches for a joint-angle target, driven by its motor. */
function followerReaches(a: Arm, targets: Float64Array): number[] {
  const mapping = new JointMapping(
    a.models.map((model, index) => ({ index, id: index + 1, name: NAMES[index]!, model })),
    a.calibration.joints,
    'position',
  );
  const { goals } = mapping.goals(targets);
  return a.models.map((model, i) => {
    const servo = calibrated(model, a.calibration.joints[i]!);
    const ticks = model.resolution / (2 * Math.PI);
    const start = servo.physical.position * ticks;
    assert.ok(Math.abs(start - a.mounts[i]!.a0) < 1e-6 || model.vendor === 'robotis', 'the pose reads the centre');
    writeReg(servo, 'torque_enable', 1);
    writeReg(servo, 'goal_position', model.centerPosition + Math.round(goals[i]! * ticks));
    for (let k = 0; k < 400; k++) servo.step(0.01);
    const m = a.mounts[i]!;
    return ((m.reversed ? -1 : 1) * (servo.physical.position * ticks - m.a0)) / ticks;
  });
}

const STS = Array<string>(6).fill('STS3215');
const KOCH = ['XL430-W250', 'XL430-W250', 'XL330-M288', 'XL330-M288', 'XL330-M288', 'XL330-M288'];

// the leader: offsets all over the encoder, elbow reversed, wide ranges
const leaderSo = arm('so101_leader', 'feetech_sts', STS, [
  { a0: 1500, reversed: false, range: [600, 3500] },
  { a0: 2900, reversed: false, range: [700, 3400] },
  { a0: 900, reversed: true, range: [500, 3600] },
  { a0: 3300, reversed: false, range: [400, 3700] },
  { a0: 2047, reversed: false, range: [0, 4095] },
  { a0: 2600, reversed: false, range: [1500, 3000] },
]);
// the follower: other offsets, wrist_flex reversed instead, shoulder_lift's range narrower
const followerSo = arm('so101_follower', 'feetech_sts', STS, [
  { a0: 2200, reversed: false, range: [600, 3500] },
  { a0: 1200, reversed: false, range: [1700, 2400] },
  { a0: 3000, reversed: false, range: [500, 3600] },
  { a0: 1000, reversed: true, range: [400, 3700] },
  { a0: 700, reversed: false, range: [0, 4095] },
  { a0: 2100, reversed: false, range: [1500, 3000] },
]);
// a Koch leader (Dynamixel: direction in the servo's Drive_Mode register)
const leaderKoch = arm('koch_leader', 'dynamixel2', KOCH, [
  { a0: 1000, reversed: true, range: [600, 3500] },
  { a0: 3000, reversed: false, range: [700, 3400] },
  { a0: 1800, reversed: true, range: [500, 3600] },
  { a0: 2500, reversed: false, range: [400, 3700] },
  { a0: 2047, reversed: false, range: [0, 4095] },
  { a0: 2300, reversed: false, range: [1500, 3000] },
]);

const TICK = (2 * Math.PI) / 4096;

function teleop(leader: Arm, follower: Arm, pose: readonly number[]): { reached: number[]; map: LeaderFollowerMap } {
  const raw = pose.map((phi, i) => leaderReading(leader, i, phi));
  const angles = raw.map((r, i) => rawToAngle(leader.calibration.joints[i]!, leader.models[i]!, r));
  const map = new LeaderFollowerMap(leader.calibration, follower.calibration);
  return { reached: followerReaches(follower, map.map(angles)), map };
}

for (const leader of [leaderSo, leaderKoch]) {
  test(`leader → follower map (${leader.calibration.robot} → so101_follower): a leader pose puts the follower at the same physical angles`, () => {
    const poses = [
      [0, 0, 0, 0, 0, 0],
      [0.5, -0.3, 0.8, -0.6, 1.2, 0.2],
      [-0.9, 0.45, -1.1, 0.9, -2.5, -0.4],
    ];
    for (const pose of poses) {
      const { reached, map } = teleop(leader, followerSo, pose);
      assert.equal(map.lastClamped, 0, `nothing clamped for ${pose.join(', ')}`);
      pose.forEach((phi, i) => {
        // the leader's reading and the follower's goal are each quantised to a tick
        assert.ok(
          Math.abs(reached[i]! - phi) <= 2.5 * TICK,
          `${NAMES[i]}: leader at ${phi.toFixed(4)} rad, follower at ${reached[i]!.toFixed(4)} rad`,
        );
      });
    }
  });
}

test('leader → follower map: a pose beyond the follower range stops at its edge, the other joints follow', () => {
  // shoulder_lift's follower range [1700, 2400] about its pose (centre 2047): −347 … +353 ticks
  const pose = [0.3, 0.9, 0.2, -0.2, 0.1, 0.1];
  const { reached, map } = teleop(leaderSo, followerSo, pose);
  assert.equal(map.lastClamped, 1);
  const upper = (2400 - 2047) * TICK;
  assert.ok(Math.abs(reached[1]! - upper) <= 1.5 * TICK, `shoulder_lift stops at ${upper.toFixed(4)}: ${reached[1]}`);
  for (const i of [0, 2, 3, 4, 5]) assert.ok(Math.abs(reached[i]! - pose[i]!) <= 2.5 * TICK, NAMES[i]);
  const [lo, hi] = map.limits()[1]!;
  assert.ok(Math.abs(hi - upper) < 1e-12 && Math.abs(lo - (1700 - 2047) * TICK) < 1e-12);
  const below = map.map([0, -2, 0, 0, 0, 0]);
  assert.equal(below[1], lo);
});

test('leader → follower map: joints go by name, whatever order each side lists them in', () => {
  const leaderOrder = [...NAMES].reverse();
  const followerOrder = ['gripper', 'shoulder_pan', 'elbow_flex', 'shoulder_lift', 'wrist_roll', 'wrist_flex'];
  const map = new LeaderFollowerMap(leaderSo.calibration, followerSo.calibration, {
    leaderJointNames: leaderOrder,
    followerJointNames: followerOrder,
  });
  const byName: Record<string, number> = {
    shoulder_pan: 0.1,
    shoulder_lift: 0.2,
    elbow_flex: 0.3,
    wrist_flex: 0.4,
    wrist_roll: 0.5,
    gripper: 0.05,
  };
  const out = map.map(leaderOrder.map((n) => byName[n]!));
  assert.deepEqual(map.followerJointNames, followerOrder);
  followerOrder.forEach((n, i) => assert.equal(out[i], byName[n], n));
});

test('leader → follower map: a joint mapped by range goes end to end, the leader range onto the follower range', () => {
  const leaderCal = structuredClone(leaderSo.calibration) as { joints: JointCalibration[] } & RobotCalibration;
  const followerCal = structuredClone(followerSo.calibration) as { joints: JointCalibration[] } & RobotCalibration;
  leaderCal.joints[5] = { ...leaderCal.joints[5]!, range_min: 2047, range_max: 3047 };
  followerCal.joints[5] = { ...followerCal.joints[5]!, range_min: 1900, range_max: 2300 };
  const map = new LeaderFollowerMap(leaderCal, followerCal, { byRange: ['gripper'] });
  const at = (gripper: number) => map.map([0, 0, 0, 0, 0, gripper])[5]!;
  const [lo, hi] = map.limits()[5]!;
  assert.ok(Math.abs(at(0) - lo) < 1e-12, 'closed on the leader: closed on the follower');
  assert.ok(Math.abs(at(1000 * TICK) - hi) < 1e-12, 'fully open: fully open');
  assert.ok(Math.abs(at(500 * TICK) - (lo + hi) / 2) < 1e-12, 'half way: half way');
  assert.equal(at(3), hi, 'beyond the leader range: the follower edge');
  // by angle (the default) the same gripper angle would be clamped
  const byAngle = new LeaderFollowerMap(leaderCal, followerCal);
  assert.equal(byAngle.map([0, 0, 0, 0, 0, 1000 * TICK])[5], hi);
  assert.equal(byAngle.lastClamped, 1);
});

test('leader → follower map: a joint missing on either side is one clear error at construction', () => {
  const without = (cal: RobotCalibration, name: string): RobotCalibration => ({
    ...cal,
    joints: cal.joints.filter((j) => j.name !== name),
  });
  const check = (fn: () => unknown, pattern: RegExp) =>
    assert.throws(fn, (err: Error) => {
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes('\n'), 'one line');
      return true;
    });
  check(
    () => new LeaderFollowerMap(without(leaderSo.calibration, 'wrist_roll'), followerSo.calibration),
    /^leader so101_leader → follower so101_follower: follower joint 'wrist_roll' has no leader joint/,
  );
  check(
    () => new LeaderFollowerMap(leaderSo.calibration, without(followerSo.calibration, 'gripper')),
    /leader joint 'gripper' has no follower joint/,
  );
  check(
    () =>
      new LeaderFollowerMap(leaderSo.calibration, followerSo.calibration, {
        leaderJointNames: ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'grip'],
      }),
    /leader joint 'grip' is not in so101_leader's calibration/,
  );
  check(
    () => new LeaderFollowerMap(leaderSo.calibration, followerSo.calibration, { byRange: ['thumb'] }),
    /option names joint 'thumb'/,
  );
});

test('leader → follower map: a wrong count or a non-finite angle is refused, naming it', () => {
  const map = new LeaderFollowerMap(leaderSo.calibration, followerSo.calibration);
  assert.throws(() => map.map([0, 0, 0]), /expected 6 leader angles \(shoulder_pan, .*\), got 3/);
  assert.throws(() => map.map([0, 0, Number.NaN, 0, 0, 0]), /leader angle of 'elbow_flex' is NaN/);
});
