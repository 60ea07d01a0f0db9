import type { MujocoSim } from '../../../sim/mujoco/sim.js';
import type { KinematicModel } from '../planners/lqr/ik.js';

// Jogging a position-controlled arm: a velocity per joint, or a velocity of the end effector,
// integrated into a joint position target that stays inside the joint limits. The end-effector
// velocity is turned into joint velocities through the site's position Jacobian J (3 × joints) by
// damped least squares, q̇ = Jᵀ (J Jᵀ + λ² I)⁻¹ ẋ, which stays bounded near singular poses (the
// same solve as the IK of src/control/planners/lqr/ik.ts, one step of it per tick). The target is
// what the teleop stage sends on; the stage hands back what it really sent (after the relative
// target clip and the safety layer), so the target never winds up ahead of the robot.

export interface JogJoint {
  readonly name: string;
  readonly qposAdr: number;
  readonly dofAdr: number;
  /** the joint's limits (rad or m); absent: unlimited */
  readonly range?: readonly [number, number];
}

export class JointJog {
  readonly joints: readonly JogJoint[];
  readonly #target: Float64Array;
  #hasTarget = false;

  constructor(joints: readonly JogJoint[]) {
    if (joints.length === 0) throw new Error('jog: no joints to jog');
    this.joints = joints;
    this.#target = new Float64Array(joints.length);
  }

  get hasTarget(): boolean {
    return this.#hasTarget;
  }

  /** The current target (a view: valid until the next call). */
  get target(): Float64Array {
    return this.#target;
  }

  /** Start from this position (the first measurement, or what was really sent), clamped into the limits. */
  reset(position: ArrayLike<number>): void {
    this.#check(position, 'position');
    for (let i = 0; i < this.joints.length; i++) {
      const p = position[i]!;
      if (!Number.isFinite(p)) continue;
      this.#target[i] = this.#clamp(i, p);
    }
    this.#hasTarget = true;
  }

  /**
   * Integrate joint velocities (rad/s or m/s, one per joint) over dt seconds into the target,
   * clamped into the limits; a non-finite velocity moves its joint nowhere.
   */
  step(velocity: ArrayLike<number>, dtS: number): Float64Array {
    this.#check(velocity, 'velocity');
    if (!this.#hasTarget) throw new Error('jog: step before the first reset (no position to jog from)');
    if (!(dtS >= 0 && Number.isFinite(dtS))) return this.#target;
    for (let i = 0; i < this.joints.length; i++) {
      const v = velocity[i]!;
      if (!Number.isFinite(v) || v === 0) continue;
      this.#target[i] = this.#clamp(i, this.#target[i]! + v * dtS);
    }
    return this.#target;
  }

  #clamp(i: number, q: number): number {
    const range = this.joints[i]!.range;
    return range ? Math.min(range[1], Math.max(range[0], q)) : q;
  }

  #check(values: ArrayLike<number>, what: string): void {
    if (values.length !== this.joints.length)
      throw new RangeError(`jog: ${what} has ${values.length} values, expected ${this.joints.length}`);
  }
}

/**
 * Joint velocities that move `site` at `velocity` (3 values, m/s, world frame) at joint positions
 * `q` (one per jog joint), by damped least squares on the site's position Jacobian. `qposBase` is
 * the model's full configuration the jog joints are written into (the other joints stay there).
 * `out` has one value per jog joint.
 */
export class EndEffectorJog {
  readonly #model: KinematicModel;
  readonly #site: string;
  readonly #joints: readonly JogJoint[];
  readonly #qpos: Float64Array;
  readonly #damping: number;

  constructor(
    model: KinematicModel,
    site: string,
    joints: readonly JogJoint[],
    qposBase: ArrayLike<number>,
    damping = 0.05,
  ) {
    if (!(damping > 0)) throw new Error(`end-effector jog: damping ${damping} must be > 0`);
    this.#model = model;
    this.#site = site;
    this.#joints = joints;
    this.#qpos = Float64Array.from(qposBase);
    this.#damping = damping;
    for (const j of joints)
      if (j.qposAdr >= this.#qpos.length || j.dofAdr >= model.nv)
        throw new Error(`end-effector jog: joint '${j.name}' is outside the model's configuration`);
    // a bad site name fails here, once, with the model's message
    model.setConfiguration(this.#qpos);
    model.sitePosition(site);
  }

  /** The site's position at joint positions q (m, world frame). */
  sitePosition(q: ArrayLike<number>): Float64Array {
    this.#configure(q);
    return this.#model.sitePosition(this.#site);
  }

  jointVelocities(q: ArrayLike<number>, velocity: readonly [number, number, number], out: Float64Array): Float64Array {
    const n = this.#joints.length;
    if (out.length !== n) throw new RangeError(`end-effector jog: out has ${out.length} values, expected ${n}`);
    out.fill(0);
    if (!velocity.every(Number.isFinite) || velocity.every((v) => v === 0)) return out;
    this.#configure(q);
    const full = this.#model.sitePositionJacobian(this.#site);
    const nv = this.#model.nv;
    const J = (r: number, c: number): number => full[r * nv + this.#joints[c]!.dofAdr]!;
    // A = J Jᵀ + λ² I (3 × 3, symmetric), then y = A⁻¹ ẋ by the adjugate, then q̇ = Jᵀ y
    const a = new Float64Array(9);
    for (let r = 0; r < 3; r++)
      for (let s = r; s < 3; s++) {
        let sum = r === s ? this.#damping * this.#damping : 0;
        for (let c = 0; c < n; c++) sum += J(r, c) * J(s, c);
        a[r * 3 + s] = sum;
        a[s * 3 + r] = sum;
      }
    const y = solve3(a, velocity);
    for (let c = 0; c < n; c++) out[c] = J(0, c) * y[0] + J(1, c) * y[1] + J(2, c) * y[2];
    return out;
  }

  #configure(q: ArrayLike<number>): void {
    if (q.length !== this.#joints.length)
      throw new RangeError(`end-effector jog: q has ${q.length} values, expected ${this.#joints.length}`);
    this.#joints.forEach((j, i) => (this.#qpos[j.qposAdr] = q[i]!));
    this.#model.setConfiguration(this.#qpos);
  }
}

type Mat3 = readonly [number, number, number, number, number, number, number, number, number];

/** A MuJoCo model as the kinematics the end-effector jog needs (its configuration is overwritten). */
export function simKinematics(sim: MujocoSim): KinematicModel {
  return {
    nv: sim.info.nv,
    setConfiguration: (qpos) => {
      sim.setQpos(qpos);
      sim.forward();
    },
    sitePosition: (site) => sim.sitePosition(site),
    sitePositionJacobian: (site) => sim.siteJacobian(site).position,
  };
}

/** x = A⁻¹ b for a 3 × 3 A (row-major) that is positive definite (J Jᵀ + λ² I is). */
function solve3(a: Float64Array, b: readonly [number, number, number]): [number, number, number] {
  const [a00, a01, a02, a10, a11, a12, a20, a21, a22] = a as unknown as Mat3;
  const c00 = a11 * a22 - a12 * a21;
  const c01 = a12 * a20 - a10 * a22;
  const c02 = a10 * a21 - a11 * a20;
  const det = a00 * c00 + a01 * c01 + a02 * c02;
  const inv = 1 / det;
  const i00 = c00 * inv;
  const i01 = (a02 * a21 - a01 * a22) * inv;
  const i02 = (a01 * a12 - a02 * a11) * inv;
  const i10 = c01 * inv;
  const i11 = (a00 * a22 - a02 * a20) * inv;
  const i12 = (a02 * a10 - a00 * a12) * inv;
  const i20 = c02 * inv;
  const i21 = (a01 * a20 - a00 * a21) * inv;
  const i22 = (a00 * a11 - a01 * a10) * inv;
  return [
    i00 * b[0] + i01 * b[1] + i02 * b[2],
    i10 * b[0] + i11 * b[1] + i12 * b[2],
    i20 * b[0] + i21 * b[1] + i22 * b[2],
  ];
}
