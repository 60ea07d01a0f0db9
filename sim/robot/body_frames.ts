import type { FramePoses } from '../mujoco/frames.js';

// The model's bodies as a tree of coordinate frames, one per body, named after the body (prefixed,
// as robot_state_publisher's frame_prefix prefixes every frame), the world body's frame being the
// root ('world': MuJoCo names body 0 so). Each body's transform is its pose in its parent body's
// frame, taken from the world poses mj_kinematics computes: p = R_parentᵀ (x_child − x_parent),
// q = q̄_parent ⊗ q_child (quaternions w, x, y, z, as MuJoCo stores them). Composing the transforms
// from the root down gives back each body's world pose, as a tf listener composes them (REP 105:
// frames form a tree, each with one parent). A body fixed to its parent (no joints, not mocap) has
// the same transform whatever the joints do: robot_state_publisher sends those once on /tf_static,
// as ROS's robot_state_publisher does for a URDF's fixed joints, and the moving ones on /tf.

export interface FrameTransform {
  /** the parent body's frame */
  readonly parent: string;
  /** the body's frame */
  readonly child: string;
  /** the body frame's origin in the parent's frame */
  readonly translation: readonly [number, number, number];
  /** its orientation in the parent's frame: unit quaternion w, x, y, z */
  readonly rotation: readonly [number, number, number, number];
}

/** Each body's frame name: the prefix and the body's name (`body<id>` for an unnamed body). */
export function bodyFrameNames(bodies: readonly string[], prefix = ''): string[] {
  const names = bodies.map((name, id) => prefix + (name || `body${id}`));
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new Error(`body frames: two bodies would share the frame name '${n}'`);
    seen.add(n);
  }
  return names;
}

/** which bodies' transforms: all, those that move with the joints, or those fixed to their parents */
export type FrameSelection = 'all' | 'moving' | 'fixed';

export class BodyFrames {
  /** frame name by body id; names[0] is the world's */
  readonly names: readonly string[];
  readonly #parents: readonly number[];
  readonly #fixed: readonly boolean[];

  /**
   * `parents`: each body's parent body id (MujocoSim.bodyParents()); body 0 is the world. `fixed`:
   * whether each body is fixed to its parent (MujocoSim.bodyFixed()); default none is.
   */
  constructor(bodies: readonly string[], parents: readonly number[], prefix = '', fixed?: readonly boolean[]) {
    if (parents.length !== bodies.length)
      throw new Error(`body frames: ${bodies.length} body names but ${parents.length} parents`);
    if (fixed && fixed.length !== bodies.length)
      throw new Error(`body frames: ${bodies.length} body names but ${fixed.length} fixed flags`);
    this.names = bodyFrameNames(bodies, prefix);
    this.#parents = parents;
    this.#fixed = fixed ?? bodies.map(() => false);
  }

  /** How many bodies but the world are fixed to their parents. */
  get fixedCount(): number {
    return this.#fixed.filter((f, b) => f && b > 0).length;
  }

  /** The root frame: the world body's. */
  get root(): string {
    return this.names[0]!;
  }

  /** The parent frame of each body but the world, in body id order. */
  parentOf(body: number): string {
    return this.names[this.#parents[body]!]!;
  }

  /** One transform per selected body but the world (body id order: parents before children). */
  transforms(poses: FramePoses, select: FrameSelection = 'all'): FrameTransform[] {
    const { bodyPos: x, bodyQuat: q } = poses;
    const out: FrameTransform[] = [];
    for (let b = 1; b < this.names.length; b++) {
      if (select !== 'all' && this.#fixed[b] !== (select === 'fixed')) continue;
      const p = this.#parents[b]!;
      const [pw, px, py, pz] = [q[4 * p]!, q[4 * p + 1]!, q[4 * p + 2]!, q[4 * p + 3]!];
      const [cw, cx, cy, cz] = [q[4 * b]!, q[4 * b + 1]!, q[4 * b + 2]!, q[4 * b + 3]!];
      const d = [x[3 * b]! - x[3 * p]!, x[3 * b + 1]! - x[3 * p + 1]!, x[3 * b + 2]! - x[3 * p + 2]!] as const;
      // R_parentᵀ d, with R the rotation of the (unit) parent quaternion
      const r00 = 1 - 2 * (py * py + pz * pz);
      const r01 = 2 * (px * py - pw * pz);
      const r02 = 2 * (px * pz + pw * py);
      const r10 = 2 * (px * py + pw * pz);
      const r11 = 1 - 2 * (px * px + pz * pz);
      const r12 = 2 * (py * pz - pw * px);
      const r20 = 2 * (px * pz - pw * py);
      const r21 = 2 * (py * pz + pw * px);
      const r22 = 1 - 2 * (px * px + py * py);
      const translation = [
        r00 * d[0] + r10 * d[1] + r20 * d[2],
        r01 * d[0] + r11 * d[1] + r21 * d[2],
        r02 * d[0] + r12 * d[1] + r22 * d[2],
      ] as const;
      // conj(parent) ⊗ child
      const w = pw * cw + px * cx + py * cy + pz * cz;
      const rx = pw * cx - px * cw - py * cz + pz * cy;
      const ry = pw * cy + px * cz - py * cw - pz * cx;
      const rz = pw * cz - px * cy + py * cx - pz * cw;
      const n = Math.hypot(w, rx, ry, rz);
      out.push({
        parent: this.names[p]!,
        child: this.names[b]!,
        translation,
        rotation: [w / n, rx / n, ry / n, rz / n],
      });
    }
    return out;
  }
}
