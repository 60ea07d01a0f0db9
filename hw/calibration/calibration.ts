import type { ProtocolName } from '../protocol/types.js';
import type { Register, ServoModel } from '../servos/control_table.js';

// Calibration of a serial-servo arm, in the meaning LeRobot gives it (so a user's SO-100/SO-101 or
// Koch poses carry over; LeRobot's src/lerobot/motors/motors_bus.py, set_half_turn_homings,
// record_ranges_of_motion and write_calibration, and _get_half_turn_homings in motors/feetech/feetech.py
// and motors/dynamixel/dynamixel.py):
//  - a homing offset per servo, written to the servo, so that the pose the user holds as "the
//    middle of the range" reads the model's centre position;
//  - the range each joint travelled while the user moved it (in the servo's Present_Position
//    units, i.e. after the homing offset), written to the servo's position limits;
//  - a direction (drive_mode): Feetech servos apply it in software, Dynamixel servos in their
//    Drive_Mode register (as LeRobot's apply_drive_mode does).
// The stack's joint angle is measured from the calibration pose: angle = ±(present − centre)·2π/resolution.

/** Reverse the joint's direction (1) or not (0). */
export type DriveMode = 0 | 1;

/** One joint's calibration: LeRobot's MotorCalibration plus the joint's name and servo model. */
export interface JointCalibration {
  readonly name: string;
  readonly id: number;
  /** servo model name, e.g. 'STS3215' */
  readonly model: string;
  readonly drive_mode: DriveMode;
  /** the servo's Homing_Offset register value */
  readonly homing_offset: number;
  /** smallest and largest Present_Position seen while the user moved the joint */
  readonly range_min: number;
  readonly range_max: number;
}

/** A joint calibration as read from a file, before calibrationProblems has checked its drive_mode. */
export type UncheckedJointCalibration = Omit<JointCalibration, 'drive_mode'> & { readonly drive_mode: number };

export interface RobotCalibration {
  /** robot name, e.g. 'so101_follower' */
  readonly robot: string;
  readonly protocol: ProtocolName;
  readonly joints: readonly JointCalibration[];
}

/** LeRobot's normalisation modes (motors_bus.py MotorNormMode). */
export type LerobotNormMode = 'range_m100_100' | 'range_0_100' | 'degrees';

function register(model: ServoModel, name: 'homing_offset'): Register {
  const r = model.registers[name];
  if (!r)
    throw new Error(`servo model ${model.name} has no ${name} register: it cannot be calibrated by homing offset`);
  return r;
}

/** The homing offsets a register can hold: its documented range, else what its encoding allows. */
export function homingOffsetLimits(model: ServoModel): readonly [number, number] {
  const r = register(model, 'homing_offset');
  if (r.range) return r.range;
  const bits = 8 * r.size;
  switch (r.encoding.kind) {
    case 'sign_magnitude': {
      const magnitude = 2 ** r.encoding.signBit - 1;
      return [-magnitude, magnitude];
    }
    case 'twos_complement':
      return [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
    case 'unsigned':
      return [0, 2 ** bits - 1];
  }
}

/** Whether the direction is applied here (Feetech) or by the servo's Drive_Mode register (Dynamixel). */
export function driveModeInSoftware(model: ServoModel): boolean {
  return model.vendor === 'feetech';
}

/** Largest raw position of a single turn (4095 for a 12-bit encoder). */
export function maxPosition(model: ServoModel): number {
  return model.resolution - 1;
}

/**
 * The homing offset that makes a servo now reading `present` (with a zero offset) read the model's
 * centre position.
 *  - Feetech: Present = Actual − Homing_Offset (mod one turn), so offset = present − centre. The
 *    register is sign-magnitude with an 11-bit magnitude, which cannot hold the 2048 a servo parked
 *    exactly on the 0/4095 wrap gives (lerobot PR #3370): the offset is taken as the shortest way
 *    round the circle and then clamped into the register, leaving that pose a tick off centre.
 *  - Dynamixel: Present = Actual + Homing_Offset, so offset = centre − present.
 */
export function homingOffsetFor(model: ServoModel, present: number): number {
  if (!Number.isInteger(present) || present < 0 || present > maxPosition(model)) {
    throw new Error(
      `${model.name}: present position ${present} is outside one turn (0…${maxPosition(model)}); is the servo in multi-turn mode?`,
    );
  }
  const [lo, hi] = homingOffsetLimits(model);
  if (model.vendor === 'feetech') {
    const res = model.resolution;
    const half = res / 2;
    const shortest = ((((present - model.centerPosition + half) % res) + res) % res) - half;
    return Math.min(hi, Math.max(lo, shortest));
  }
  const offset = model.centerPosition - present;
  if (offset < lo || offset > hi)
    throw new Error(`${model.name}: homing offset ${offset} is outside the register's range [${lo}, ${hi}]`);
  return offset;
}

/** What a servo reports for an encoder reading `actual` under a homing offset (the firmware's relation). */
export function presentFromActual(model: ServoModel, actual: number, offset: number): number {
  if (model.vendor === 'feetech') {
    const res = model.resolution;
    return (((actual - offset) % res) + res) % res;
  }
  return actual + offset;
}

/**
 * The smallest and largest position of each joint over a stream of samples (the user moving the
 * arm). Full-turn joints (a wrist roll) get the whole turn. A joint whose reading jumps by more
 * than half a turn between two samples crossed the encoder's wrap point: its range cannot be one
 * interval (lerobot issue #3587), and `problems()` says so.
 */
export class RangeRecorder {
  readonly #min: number[];
  readonly #max: number[];
  readonly #last: (number | undefined)[];
  readonly #wrapped: boolean[];
  #samples = 0;

  constructor(
    readonly joints: readonly { readonly name: string; readonly model: ServoModel; readonly fullTurn: boolean }[],
  ) {
    this.#min = joints.map(() => Number.POSITIVE_INFINITY);
    this.#max = joints.map(() => Number.NEGATIVE_INFINITY);
    this.#last = joints.map(() => undefined);
    this.#wrapped = joints.map(() => false);
  }

  get samples(): number {
    return this.#samples;
  }

  /** One reading of every joint, in joint order. */
  add(positions: ArrayLike<number>): void {
    if (positions.length !== this.joints.length)
      throw new Error(`range sample: expected ${this.joints.length} positions, got ${positions.length}`);
    for (let i = 0; i < this.joints.length; i++) {
      const p = positions[i]!;
      if (!Number.isFinite(p)) throw new Error(`range sample: joint '${this.joints[i]!.name}' read ${p}`);
      const last = this.#last[i];
      if (last !== undefined && Math.abs(p - last) > this.joints[i]!.model.resolution / 2) this.#wrapped[i] = true;
      this.#last[i] = p;
      if (p < this.#min[i]!) this.#min[i] = p;
      if (p > this.#max[i]!) this.#max[i] = p;
    }
    this.#samples++;
  }

  /** [min, max] of joint i so far (full turn for a full-turn joint). */
  range(i: number): readonly [number, number] {
    const j = this.joints[i]!;
    if (j.fullTurn) return [0, maxPosition(j.model)];
    return [this.#min[i]!, this.#max[i]!];
  }

  /** The observed extremes of joint i, also for a full-turn joint (for the live table). */
  observed(i: number): readonly [number, number] {
    return [this.#min[i]!, this.#max[i]!];
  }

  /** Why the ranges cannot be used yet; empty when they can. */
  problems(): string[] {
    const out: string[] = [];
    if (this.#samples === 0) return ['no position was read'];
    this.joints.forEach((j, i) => {
      if (j.fullTurn) return;
      if (this.#wrapped[i]) {
        out.push(
          `joint '${j.name}' crossed the encoder's wrap point (0/${maxPosition(j.model)}): calibrate again holding it nearer the middle of its travel in the first step, or mark it full-turn`,
        );
      } else if (this.#min[i] === this.#max[i]) {
        out.push(`joint '${j.name}' did not move (it stayed at ${this.#min[i]})`);
      }
    });
    return out;
  }
}

/** Joint angle direction: −1 where the calibration reverses the joint and the software applies it. */
function sign(cal: JointCalibration, model: ServoModel): 1 | -1 {
  return cal.drive_mode === 1 && driveModeInSoftware(model) ? -1 : 1;
}

/** Present_Position (raw) → joint angle in rad, zero at the calibration pose. */
export function rawToAngle(cal: JointCalibration, model: ServoModel, present: number): number {
  return (sign(cal, model) * (present - model.centerPosition) * 2 * Math.PI) / model.resolution;
}

/** Joint angle in rad → the nearest Goal_Position (raw), without limits. */
export function angleToRaw(cal: JointCalibration, model: ServoModel, angle: number): number {
  return Math.round(model.centerPosition + (sign(cal, model) * angle * model.resolution) / (2 * Math.PI));
}

/** The joint's limits in rad, lower first, from the recorded range. */
export function angleLimits(cal: JointCalibration, model: ServoModel): readonly [number, number] {
  const a = rawToAngle(cal, model, cal.range_min);
  const b = rawToAngle(cal, model, cal.range_max);
  return a <= b ? [a, b] : [b, a];
}

/** LeRobot's normalised value of a Present_Position (motors_bus.py `_normalize`), to compare numbers with LeRobot. */
export function toLerobot(cal: JointCalibration, model: ServoModel, present: number, mode: LerobotNormMode): number {
  const { range_min: min, range_max: max } = cal;
  if (max === min) throw new Error(`joint '${cal.name}': range_min equals range_max (${min})`);
  const inverted = cal.drive_mode === 1 && driveModeInSoftware(model);
  const bounded = Math.min(max, Math.max(min, present));
  switch (mode) {
    case 'range_m100_100': {
      const norm = ((bounded - min) / (max - min)) * 200 - 100;
      return inverted ? -norm : norm;
    }
    case 'range_0_100': {
      const norm = ((bounded - min) / (max - min)) * 100;
      return inverted ? 100 - norm : norm;
    }
    case 'degrees':
      // LeRobot's degrees: unclamped, about the middle of the range, and without the direction
      return ((present - (min + max) / 2) * 360) / maxPosition(model);
  }
}

/** The inverse (LeRobot `_unnormalize`): a normalised value to the Goal_Position LeRobot would send. */
export function fromLerobot(cal: JointCalibration, model: ServoModel, value: number, mode: LerobotNormMode): number {
  const { range_min: min, range_max: max } = cal;
  if (max === min) throw new Error(`joint '${cal.name}': range_min equals range_max (${min})`);
  const inverted = cal.drive_mode === 1 && driveModeInSoftware(model);
  switch (mode) {
    case 'range_m100_100': {
      const v = Math.min(100, Math.max(-100, inverted ? -value : value));
      return Math.trunc(((v + 100) / 200) * (max - min) + min);
    }
    case 'range_0_100': {
      const v = Math.min(100, Math.max(0, inverted ? 100 - value : value));
      return Math.trunc((v / 100) * (max - min) + min);
    }
    case 'degrees':
      return Math.trunc((value * maxPosition(model)) / 360 + (min + max) / 2);
  }
}

/** Checks a joint calibration against its servo model; returns what is wrong, or an empty list. */
export function calibrationProblems(cal: UncheckedJointCalibration, model: ServoModel): string[] {
  const out: string[] = [];
  const where = `joint '${cal.name}'`;
  const top = maxPosition(model);
  for (const key of ['id', 'homing_offset', 'range_min', 'range_max'] as const) {
    if (!Number.isInteger(cal[key])) out.push(`${where}: ${key} must be an integer, got ${cal[key]}`);
  }
  if (cal.drive_mode !== 0 && cal.drive_mode !== 1)
    out.push(`${where}: drive_mode must be 0 or 1, got ${String(cal.drive_mode)}`);
  if (cal.id < 0 || cal.id > 252) out.push(`${where}: id ${cal.id} is outside 0…252`);
  if (cal.range_min < 0 || cal.range_max > top)
    out.push(`${where}: range [${cal.range_min}, ${cal.range_max}] is outside one turn of ${model.name} (0…${top})`);
  if (!(cal.range_min < cal.range_max))
    out.push(`${where}: range_min ${cal.range_min} must be below range_max ${cal.range_max}`);
  if (model.registers.homing_offset) {
    const [lo, hi] = homingOffsetLimits(model);
    if (cal.homing_offset < lo || cal.homing_offset > hi)
      out.push(`${where}: homing_offset ${cal.homing_offset} does not fit ${model.name}'s register [${lo}, ${hi}]`);
  }
  return out;
}
