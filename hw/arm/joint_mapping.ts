import type { JointCalibration } from '../calibration/calibration.js';
import { angleLimits, driveModeInSoftware, rawToAngle } from '../calibration/calibration.js';
import type { JointInfo } from '../bus/servo_bus_api.js';
import type { ServoModel } from '../servos/control_table.js';
import { writableRange } from '../servos/registers.js';

// Between the servos' units and the stack's joints: ServoBus speaks rad about the model's centre
// in the servo's own direction; the stack speaks joint angles about the calibration pose in the
// joint's direction (Feetech drive_mode applied here, Dynamixel's by its register), with joint
// limits from the recorded range. Commands are checked before they reach a servo: a wrong length
// or a non-finite value rejects the whole command (as ros2_control's forward controllers do), and
// each value is clamped into what the joint and its goal register accept.

export type CommandInterface = 'position' | 'effort' | 'current';

export interface MappedJoint {
  readonly name: string;
  readonly model: ServoModel;
  readonly calibration: JointCalibration;
  /** −1 where the joint's direction is reversed in software */
  readonly sign: 1 | -1;
  /** joint angle limits, rad */
  readonly lower: number;
  readonly upper: number;
  /** |goal current| the register takes, A (current and effort interfaces) */
  readonly maxCurrent: number;
}

export interface CheckedCommand {
  /** SI goals for ServoBus.writeGoals (rad about the centre, or A), servo direction */
  readonly goals: Float64Array;
  /** values clamped into a limit */
  readonly clamped: number;
}

export class JointMapping {
  readonly joints: readonly MappedJoint[];
  readonly names: readonly string[];

  constructor(
    infos: readonly JointInfo[],
    calibration: readonly JointCalibration[],
    readonly commandInterface: CommandInterface,
    /** N·m per A per joint, for the effort interface */
    readonly torqueConstants: readonly number[] = [],
  ) {
    if (calibration.length !== infos.length)
      throw new Error(`calibration has ${calibration.length} joints, the bus ${infos.length}`);
    if (commandInterface === 'effort' && torqueConstants.length !== infos.length) {
      throw new Error(
        `command interface 'effort' needs a torque constant (N·m/A, from the servo's datasheet: stall torque / stall current) for each of the ${infos.length} joints, got ${torqueConstants.length}`,
      );
    }
    this.joints = infos.map((info, i) => {
      const cal = calibration[i]!;
      if (cal.name !== info.name || cal.id !== info.id)
        throw new Error(
          `calibration joint ${i} is '${cal.name}' (id ${cal.id}), the bus has '${info.name}' (id ${info.id})`,
        );
      if (cal.model !== info.model.name)
        throw new Error(`joint '${info.name}': calibrated as ${cal.model}, the servo is ${info.model.name}`);
      const [lower, upper] = angleLimits(cal, info.model);
      let maxCurrent = 0;
      if (commandInterface !== 'position') {
        const register = info.model.registers.goal_current;
        if (!register || info.model.operatingModes.current === undefined) {
          throw new Error(
            `joint '${info.name}': ${info.model.name} has no current control, so command interface '${commandInterface}' cannot drive it (use 'position')`,
          );
        }
        const [lo, hi] = writableRange(register);
        maxCurrent = Math.min(Math.abs(lo), Math.abs(hi)) * register.unit.scale;
        if (commandInterface === 'effort' && !(torqueConstants[i]! > 0))
          throw new Error(`joint '${info.name}': torque constant ${torqueConstants[i]} must be > 0 N·m/A`);
      }
      return {
        name: info.name,
        model: info.model,
        calibration: cal,
        sign: cal.drive_mode === 1 && driveModeInSoftware(info.model) ? -1 : 1,
        lower,
        upper,
        maxCurrent,
      } as const;
    });
    this.names = this.joints.map((j) => j.name);
  }

  get length(): number {
    return this.joints.length;
  }

  /** Joint angle (rad) from a raw Present_Position. */
  position(i: number, raw: number): number {
    const j = this.joints[i]!;
    return rawToAngle(j.calibration, j.model, raw);
  }

  /** A servo-direction quantity (velocity, current, load) in the joint's direction. */
  directed(i: number, value: number): number {
    return this.joints[i]!.sign * value;
  }

  /** Why a command cannot be used, or undefined: wrong length or a non-finite value. */
  problem(command: ArrayLike<number>): string | undefined {
    if (command.length !== this.joints.length)
      return `expected ${this.joints.length} values (${this.names.join(', ')}), got ${command.length}`;
    for (let i = 0; i < command.length; i++) {
      if (!Number.isFinite(command[i]!)) return `value ${i} (${this.names[i]}) is ${command[i]}`;
    }
    return undefined;
  }

  /** The goals for a command that has no problem: clamped, in the servos' direction and units. */
  goals(command: ArrayLike<number>, out: Float64Array = new Float64Array(this.joints.length)): CheckedCommand {
    let clamped = 0;
    const clamp = (x: number, lo: number, hi: number): number => {
      if (x < lo) {
        clamped++;
        return lo;
      }
      if (x > hi) {
        clamped++;
        return hi;
      }
      return x;
    };
    this.joints.forEach((j, i) => {
      const v = command[i]!;
      switch (this.commandInterface) {
        case 'position':
          // the joint angle about the calibration pose is the servo's angle about its centre, up to direction
          out[i] = j.sign * clamp(v, j.lower, j.upper);
          break;
        case 'current':
          out[i] = j.sign * clamp(v, -j.maxCurrent, j.maxCurrent);
          break;
        case 'effort':
          out[i] = j.sign * clamp(v / this.torqueConstants[i]!, -j.maxCurrent, j.maxCurrent);
          break;
      }
    });
    return { goals: out, clamped };
  }
}
