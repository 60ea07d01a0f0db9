import type { MujocoSim } from '../../../../sim/mujoco/sim.js';
import { wrapAngle } from '../../../tasks/cartpole.js';
import type { Norm } from './norms.js';
import type { ResidualTerm } from './residual_cost.js';

// The residual terms trajectory costs are built from, over the controller's x = [q (nv), q̇ (nv)]:
// joint positions toward a goal (unlimited hinges compared on the circle), joint velocities, the
// actions about a reference, an end-effector site's position toward a target (its Jacobian from
// MuJoCo's mj_jacSite), and the cart-pole's pole tip. Each scales its entries by √weight per entry
// where entries are weighted differently, and carries its own Jacobians.

export interface TermWeights {
  readonly weight: number;
  readonly terminalWeight: number;
}

/** q − q* per chosen dof, each scaled by √s; unlimited hinges wrapped to (−π, π]. */
export function positionTerm(
  name: string,
  nv: number,
  dofs: readonly number[],
  scales: readonly number[],
  wrap: readonly boolean[],
  goal: Float64Array,
  norm: Norm,
  w: TermWeights,
): ResidualTerm {
  const roots = scales.map(Math.sqrt);
  return {
    name,
    size: dofs.length,
    norm,
    ...w,
    usesAction: false,
    evaluate(x, _u, r, Jx) {
      dofs.forEach((d, i) => {
        const e = x[d]! - goal[i]!;
        r[i] = roots[i]! * (wrap[i] ? wrapAngle(e) : e);
        if (Jx) Jx[i * 2 * nv + d] = roots[i]!;
      });
    },
  };
}

/** q̇ per chosen dof, scaled by √s. */
export function velocityTerm(
  name: string,
  nv: number,
  dofs: readonly number[],
  scales: readonly number[],
  norm: Norm,
  w: TermWeights,
): ResidualTerm {
  const roots = scales.map(Math.sqrt);
  return {
    name,
    size: dofs.length,
    norm,
    ...w,
    usesAction: false,
    evaluate(x, _u, r, Jx) {
      dofs.forEach((d, i) => {
        r[i] = roots[i]! * x[nv + d]!;
        if (Jx) Jx[i * 2 * nv + nv + d] = roots[i]!;
      });
    },
  };
}

/**
 * What the actions are compared with: a constant (the hold control at a goal, or 0), or per actuator
 * the position of the joint a position servo drives (so a servo is charged for its lead, not for
 * where it points).
 */
export interface ActionReference {
  readonly constant: Float64Array;
  /** per actuator: the qpos index its reference follows (with a Jacobian of 1), or −1 */
  readonly followsJoint: Int32Array;
}

/** A reference of constants (followsJoint all −1). */
export function constantReference(u: ArrayLike<number>): ActionReference {
  return { constant: Float64Array.from(u), followsJoint: new Int32Array(u.length).fill(-1) };
}

/** Position servos follow their joint's position; every other actuator is compared with 0. */
export function servoReference(sim: MujocoSim): ActionReference {
  const { nu, actuators, joints } = sim.info;
  const follows = new Int32Array(nu).fill(-1);
  actuators.forEach((a, i) => {
    if (a.kind !== 'position' || a.joint === undefined) return;
    const j = joints.find((jj) => jj.name === a.joint);
    if (j && (j.type === 'hinge' || j.type === 'slide')) follows[i] = j.dofAdr;
  });
  return { constant: new Float64Array(nu), followsJoint: follows };
}

/** (u − u_ref(x)) scaled by √s per actuator. */
export function actionTerm(
  name: string,
  nv: number,
  scales: readonly number[],
  reference: ActionReference,
  norm: Norm,
  weight: number,
): ResidualTerm {
  const nu = scales.length;
  const roots = scales.map(Math.sqrt);
  return {
    name,
    size: nu,
    norm,
    weight,
    terminalWeight: 0,
    usesAction: true,
    evaluate(x, u, r, Jx, Ju) {
      for (let i = 0; i < nu; i++) {
        const d = reference.followsJoint[i]!;
        const ref = d >= 0 ? x[d]! : reference.constant[i]!;
        r[i] = roots[i]! * (u[i]! - ref);
        if (Ju) Ju[i * nu + i] = roots[i]!;
        if (Jx && d >= 0) Jx[i * 2 * nv + d] = -roots[i]!;
      }
    },
  };
}

/**
 * An end-effector site's position minus a target (3 entries, m): kinematics on `sim` (a copy the
 * term owns: its state is set to each x), the Jacobian from MuJoCo's site Jacobian (mj_jacSite).
 */
export function sitePositionTerm(
  name: string,
  sim: MujocoSim,
  site: string,
  target: Float64Array,
  norm: Norm,
  w: TermWeights,
): ResidualTerm {
  const nv = sim.info.nv;
  if (!sim.info.sites.includes(site))
    throw new Error(`site '${site}' is not in the model (its sites: ${sim.info.sites.join(', ') || 'none'})`);
  const q = new Float64Array(nv);
  const p = new Float64Array(3);
  const jac = { position: new Float64Array(3 * nv), rotation: new Float64Array(3 * nv) };
  return {
    name,
    size: 3,
    norm,
    ...w,
    usesAction: false,
    evaluate(x, _u, r, Jx) {
      for (let i = 0; i < nv; i++) q[i] = x[i]!;
      sim.setQpos(q);
      sim.sitePosition(site, p);
      for (let i = 0; i < 3; i++) r[i] = p[i]! - target[i]!;
      if (Jx) {
        sim.siteJacobian(site, jac);
        for (let i = 0; i < 3; i++) for (let j = 0; j < nv; j++) Jx[i * 2 * nv + j] = jac.position[i * nv + j]!;
      }
    },
  };
}

/**
 * The cart-pole's pole tip relative to its upright point over the rail's centre, in pole lengths:
 * ((x + ℓ sin θ) − x*, ℓ cos θ − ℓ)/ℓ — the distance the swing-up reward's kernel exp(−d²/ℓ²) measures.
 */
export function poleTipTerm(
  name: string,
  nv: number,
  cartDof: number,
  hingeDof: number,
  length: number,
  target: Float64Array,
  norm: Norm,
  w: TermWeights,
): ResidualTerm {
  return {
    name,
    size: 2,
    norm,
    ...w,
    usesAction: false,
    evaluate(x, _u, r, Jx) {
      const th = x[hingeDof]!;
      const s = Math.sin(th);
      const c = Math.cos(th);
      r[0] = (x[cartDof]! - (target[0] ?? 0)) / length + s;
      r[1] = c - 1;
      if (Jx) {
        Jx[cartDof] = 1 / length;
        Jx[hingeDof] = c;
        Jx[2 * nv + hingeDof] = -s;
      }
    },
  };
}
