// The state a dynamics model learns and plans in, made from a joint state s = [q, q̇] of named
// joints: each position as it is, or, for an unlimited hinge, as (sin q, cos q), so that the model
// sees one pole whatever the number of turns (PETS's cart-pole preprocesses its angle the same
// way); velocities stay as they are. The encoded layout is the positions in joint order (an angle
// taking two entries, sin then cos), then the velocities in joint order: for a cart-pole with its
// hinge encoded, [x, sin θ, cos θ, ẋ, θ̇]. The ensemble predicts deltas of the encoded state and
// planners' costs read encoded states. The layout travels with a model as `joints` and
// `angle_joints`, so whoever plans with it reads the layout from the model, not from its own settings.

/** What the PETS harness needs of an encoding: the size and a state-by-state map. */
export interface StateEncoder {
  readonly size: number;
  encode(x: Float32Array): Float32Array;
}

/** Where a joint's position sits in the encoded state. */
export type EncodedPosition =
  | { readonly kind: 'raw'; readonly index: number }
  | { readonly kind: 'angle'; readonly sin: number; readonly cos: number };

export class StateEncoding implements StateEncoder {
  readonly joints: readonly string[];
  /** joints whose position is encoded as (sin, cos), in joint order */
  readonly angleJoints: readonly string[];
  /** size of the joint state [q, q̇] */
  readonly rawSize: number;
  readonly size: number;
  /** a name per encoded entry: q.<joint>, sin.<joint>, cos.<joint>, qd.<joint> */
  readonly names: readonly string[];
  readonly #positions: EncodedPosition[];
  readonly #velocityStart: number;

  constructor(joints: readonly string[], angleJoints: readonly string[] = []) {
    if (!joints.length) throw new Error('state encoding: no joints');
    const repeated = joints.find((j, i) => joints.indexOf(j) !== i);
    if (repeated) throw new Error(`state encoding: joint '${repeated}' is listed twice in [${joints.join(', ')}]`);
    const stray = angleJoints.filter((j) => !joints.includes(j));
    if (stray.length)
      throw new Error(
        `state encoding: angle joints [${stray.join(', ')}] are not among the joints [${joints.join(', ')}]`,
      );
    const repeatedAngle = angleJoints.find((j, i) => angleJoints.indexOf(j) !== i);
    if (repeatedAngle) throw new Error(`state encoding: angle joint '${repeatedAngle}' is listed twice`);
    this.joints = [...joints];
    this.angleJoints = joints.filter((j) => angleJoints.includes(j));
    const names: string[] = [];
    this.#positions = joints.map((j) => {
      if (!angleJoints.includes(j)) {
        names.push(`q.${j}`);
        return { kind: 'raw', index: names.length - 1 };
      }
      names.push(`sin.${j}`, `cos.${j}`);
      return { kind: 'angle', sin: names.length - 2, cos: names.length - 1 };
    });
    this.#velocityStart = names.length;
    names.push(...joints.map((j) => `qd.${j}`));
    this.names = names;
    this.rawSize = 2 * joints.length;
    this.size = names.length;
  }

  /** true when the encoded state is the joint state itself */
  get identity(): boolean {
    return this.angleJoints.length === 0;
  }

  /** where the position of `joint` is; throws naming the joint if it is not encoded here */
  position(joint: string): EncodedPosition {
    const i = this.joints.indexOf(joint);
    if (i < 0) throw new Error(`state encoding: no joint '${joint}' among [${this.joints.join(', ')}]`);
    return this.#positions[i]!;
  }

  /** the index of the velocity of `joint` */
  velocity(joint: string): number {
    const i = this.joints.indexOf(joint);
    if (i < 0) throw new Error(`state encoding: no joint '${joint}' among [${this.joints.join(', ')}]`);
    return this.#velocityStart + i;
  }

  /** Encode the joint state [q, q̇] (rawSize values) into out[offset …]. */
  encodeInto(raw: ArrayLike<number>, out: Float32Array | Float64Array, offset = 0): void {
    const n = this.joints.length;
    this.#positions.forEach((p, i) => {
      const q = raw[i]!;
      if (p.kind === 'raw') out[offset + p.index] = q;
      else {
        out[offset + p.sin] = Math.sin(q);
        out[offset + p.cos] = Math.cos(q);
      }
    });
    for (let i = 0; i < n; i++) out[offset + this.#velocityStart + i] = raw[n + i]!;
  }

  encode(x: Float32Array): Float32Array {
    if (x.length !== this.rawSize)
      throw new Error(
        `state encoding: a joint state of [${this.joints.join(', ')}] has ${this.rawSize} values, got ${x.length}`,
      );
    const out = new Float32Array(this.size);
    this.encodeInto(x, out);
    return out;
  }

  /** the fields a model's or a buffer's metadata carries */
  toMetadata(): { joints: string[]; angle_joints: string[]; state: string[] } {
    return { joints: [...this.joints], angle_joints: [...this.angleJoints], state: [...this.names] };
  }

  /**
   * The encoding a model's or buffer's metadata describes (`joints`, and `angle_joints` when any;
   * older models without it learned the joint state itself). Throws naming what is missing.
   */
  static fromMetadata(meta: Readonly<Record<string, unknown>> | undefined, what: string): StateEncoding {
    const joints = meta?.['joints'];
    if (!Array.isArray(joints) || !joints.every((j): j is string => typeof j === 'string'))
      throw new Error(`${what}: its metadata names no joints (the state layout)`);
    const angles = meta?.['angle_joints'] ?? [];
    if (!Array.isArray(angles) || !angles.every((j): j is string => typeof j === 'string'))
      throw new Error(`${what}: its metadata's angle_joints is not a list of joint names`);
    try {
      return new StateEncoding(joints, angles);
    } catch (err) {
      throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
    }
  }

  describe(): string {
    return `[${this.names.join(', ')}]`;
  }
}
