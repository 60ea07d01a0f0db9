import type { ModelInfo } from '../mujoco/info.js';

// A robot's configuration (qpos) assembled from joint positions given by joint name, as ROS's
// robot_state_publisher assembles it from sensor_msgs/JointState: a joint that no message has
// named yet stays at the model's qpos0; a name the model has no hinge or slide joint of, or a
// position that is not a finite number, is reported and changes nothing. Free and ball joints
// (which a JointState cannot carry) stay at qpos0.

export interface JointUpdate {
  /** names in this update that the model has no hinge or slide joint of */
  readonly unknown: readonly string[];
  /** joints whose position in this update is NaN or infinite (each kept at its last value) */
  readonly nonFinite: readonly string[];
  /** why the whole update was refused (names and positions of different lengths), if it was */
  readonly refused?: string;
}

export class JointConfiguration {
  /** the configuration, nq values; changed only by apply() */
  readonly qpos: Float64Array;
  readonly #address = new Map<string, number>();
  readonly #given = new Set<string>();

  /** Starts at qpos0 (the model's reference configuration, MujocoSim.reset() then getQpos()). */
  constructor(info: ModelInfo, qpos0: ArrayLike<number>) {
    if (qpos0.length !== info.nq)
      throw new Error(`JointConfiguration: qpos0 has ${qpos0.length} values, nq is ${info.nq}`);
    this.qpos = Float64Array.from(qpos0);
    for (const j of info.joints) if (j.type === 'hinge' || j.type === 'slide') this.#address.set(j.name, j.qposAdr);
  }

  /** The hinge and slide joints, in model order. */
  get joints(): string[] {
    return [...this.#address.keys()];
  }

  /** The qpos index of a hinge or slide joint, or undefined. */
  addressOf(joint: string): number | undefined {
    return this.#address.get(joint);
  }

  /** Hinge and slide joints that no update has given a finite position yet (held at qpos0). */
  missing(): string[] {
    return this.joints.filter((j) => !this.#given.has(j));
  }

  /** Take the finite positions of the joints the model has; report the rest. */
  apply(names: readonly string[], positions: ArrayLike<number>): JointUpdate {
    if (names.length !== positions.length)
      return {
        unknown: [],
        nonFinite: [],
        refused: `${names.length} joint names but ${positions.length} positions`,
      };
    const unknown: string[] = [];
    const nonFinite: string[] = [];
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const adr = this.#address.get(name);
      if (adr === undefined) {
        unknown.push(name);
        continue;
      }
      const q = positions[i]!;
      if (!Number.isFinite(q)) {
        nonFinite.push(name);
        continue;
      }
      this.qpos[adr] = q;
      this.#given.add(name);
    }
    return { unknown, nonFinite };
  }
}
