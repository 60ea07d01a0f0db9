import { angleLimits, type JointCalibration, type RobotCalibration } from '../calibration/calibration.js';
import { servoModel } from '../servos/index.js';

// From the leader's joint angles to the follower's joint targets, joint by joint by name. Each arm
// has its own calibration file, and the stack's joint angle is already the physical angle from
// that arm's calibration pose in the joint's direction (hw/calibration/calibration.ts: homing
// offsets are applied by the servos, Feetech directions here and Dynamixel directions by the
// Drive_Mode register). So two arms calibrated at the same pose — LeRobot has the user hold both
// at the middle of their ranges — need no conversion beyond the name: the follower target is the
// leader's angle, plus a per-joint offset where the two calibration poses differ physically, then
// clamped into the follower's calibrated range (its recorded range_min…range_max, as angles).
// Joints listed in `byRange` are mapped as LeRobot's normalisation maps every joint (motors_bus.py
// `_normalize` on the leader, `_unnormalize` on the follower, range_m100_100 / range_0_100): the
// leader's range onto the follower's, end to end — for a gripper whose leader (a Koch trigger) and
// follower open by different amounts. Not here: rate limiting. A leader moved far between two
// ticks gives a far target; the teleop safety layer clips it against the follower's present
// position (LeRobot: `max_relative_target` in `ensure_safe_goal_position`, robots/so_follower/so_follower.py).

export interface LeaderFollowerMapOptions {
  /** the order of `map`'s input (LeaderArm.jointNames); default the leader calibration's order */
  readonly leaderJointNames?: readonly string[];
  /** the order of `map`'s output (ServoArm.names); default the follower calibration's order */
  readonly followerJointNames?: readonly string[];
  /** joints mapped range onto range instead of angle for angle (e.g. ['gripper']) */
  readonly byRange?: readonly string[];
  /** rad added to a joint's target: the follower's calibration pose minus the leader's, physically */
  readonly offsets?: Readonly<Record<string, number>>;
}

interface MappedPair {
  readonly name: string;
  /** index into the leader angles */
  readonly from: number;
  readonly byRange: boolean;
  readonly offset: number;
  readonly leaderLower: number;
  readonly leaderUpper: number;
  readonly lower: number;
  readonly upper: number;
}

export class LeaderFollowerMap {
  readonly leaderJointNames: readonly string[];
  readonly followerJointNames: readonly string[];
  readonly #pairs: readonly MappedPair[];
  /** joints clamped into the follower's range by the last `map` */
  lastClamped = 0;

  constructor(leader: RobotCalibration, follower: RobotCalibration, options: LeaderFollowerMapOptions = {}) {
    const byName = (cal: RobotCalibration) => new Map(cal.joints.map((j) => [j.name, j]));
    const leaderJoints = byName(leader);
    const followerJoints = byName(follower);
    this.leaderJointNames = options.leaderJointNames ?? leader.joints.map((j) => j.name);
    this.followerJointNames = options.followerJointNames ?? follower.joints.map((j) => j.name);
    const missing: string[] = [];
    const unknown = (
      names: readonly string[],
      known: Map<string, JointCalibration>,
      cal: RobotCalibration,
      what: string,
    ) => names.filter((n) => !known.has(n)).map((n) => `${what} joint '${n}' is not in ${cal.robot}'s calibration`);
    missing.push(
      ...unknown(this.leaderJointNames, leaderJoints, leader, 'leader'),
      ...unknown(this.followerJointNames, followerJoints, follower, 'follower'),
    );
    for (const n of this.followerJointNames)
      if (followerJoints.has(n) && !this.leaderJointNames.includes(n))
        missing.push(`follower joint '${n}' has no leader joint (leader: ${this.leaderJointNames.join(', ')})`);
    for (const n of this.leaderJointNames)
      if (leaderJoints.has(n) && !this.followerJointNames.includes(n))
        missing.push(`leader joint '${n}' has no follower joint (follower: ${this.followerJointNames.join(', ')})`);
    for (const n of [...(options.byRange ?? []), ...Object.keys(options.offsets ?? {})])
      if (!this.followerJointNames.includes(n)) missing.push(`option names joint '${n}', which the follower has not`);
    for (const [n, v] of Object.entries(options.offsets ?? {}))
      if (!Number.isFinite(v)) missing.push(`offset for '${n}' is ${v}`);
    if (new Set(this.leaderJointNames).size !== this.leaderJointNames.length)
      missing.push(`leader joint names repeat (${this.leaderJointNames.join(', ')})`);
    if (new Set(this.followerJointNames).size !== this.followerJointNames.length)
      missing.push(`follower joint names repeat (${this.followerJointNames.join(', ')})`);
    if (missing.length)
      throw new Error(`leader ${leader.robot} → follower ${follower.robot}: ${[...new Set(missing)].join('; ')}`);
    const limits = (cal: JointCalibration) => {
      try {
        return angleLimits(cal, servoModel(cal.model));
      } catch (err) {
        throw new Error(`joint '${cal.name}': ${(err as Error).message}`, { cause: err });
      }
    };
    this.#pairs = this.followerJointNames.map((name) => {
      const l = limits(leaderJoints.get(name)!);
      const f = limits(followerJoints.get(name)!);
      return {
        name,
        from: this.leaderJointNames.indexOf(name),
        byRange: options.byRange?.includes(name) ?? false,
        offset: options.offsets?.[name] ?? 0,
        leaderLower: l[0],
        leaderUpper: l[1],
        lower: f[0],
        upper: f[1],
      };
    });
  }

  /** The follower's joint limits (rad), in `followerJointNames` order. */
  limits(): readonly (readonly [number, number])[] {
    return this.#pairs.map((p) => [p.lower, p.upper] as const);
  }

  /**
   * Follower targets (rad, follower calibration, `followerJointNames` order) for leader angles
   * (rad, leader calibration, `leaderJointNames` order). Throws on a wrong count or a non-finite angle.
   */
  map(leaderAngles: ArrayLike<number>, out: Float64Array = new Float64Array(this.#pairs.length)): Float64Array {
    if (leaderAngles.length !== this.leaderJointNames.length)
      throw new RangeError(
        `leader → follower map: expected ${this.leaderJointNames.length} leader angles (${this.leaderJointNames.join(', ')}), got ${leaderAngles.length}`,
      );
    if (out.length !== this.#pairs.length)
      throw new RangeError(
        `leader → follower map: output holds ${out.length} values, the follower has ${this.#pairs.length}`,
      );
    let clamped = 0;
    for (let i = 0; i < this.#pairs.length; i++) {
      const p = this.#pairs[i]!;
      const a = leaderAngles[p.from]!;
      if (!Number.isFinite(a)) throw new RangeError(`leader → follower map: leader angle of '${p.name}' is ${a}`);
      let target: number;
      if (p.byRange) {
        const fraction = Math.min(1, Math.max(0, (a - p.leaderLower) / (p.leaderUpper - p.leaderLower)));
        target = p.lower + fraction * (p.upper - p.lower) + p.offset;
      } else target = a + p.offset;
      if (target < p.lower) {
        target = p.lower;
        clamped++;
      } else if (target > p.upper) {
        target = p.upper;
        clamped++;
      }
      out[i] = target;
    }
    this.lastClamped = clamped;
    return out;
  }
}
