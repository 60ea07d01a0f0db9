import { Matrix, pseudoInverse } from 'ml-matrix';
import type { MujocoSim } from '../../../../sim/mujoco/sim.js';

// The control that holds a model still at a configuration: with x₁ the state one step after
// (q, q̇ = 0) under a base control u₀, and B the discrete input matrix there, û = u₀ + Δu with
// B_v Δu = −(q̇₁) in least squares (dynamics are affine in the control for motor and position
// actuators). The base is 0 for motors and the joint's own angle for position servos: a servo
// asked to go elsewhere saturates its force range, where B is zero and tells nothing. For the
// upright cart-pole û = 0; for a torque arm it is the gravity-compensating torque; for a servo arm
// it is the goal angle plus the small lead that holds against gravity.

/** u₀: 0 for motors, the joint angle (inside the control range) for position actuators */
function baseControl(sim: MujocoSim, qpos: ArrayLike<number>): Float64Array {
  const u0 = new Float64Array(sim.info.nu);
  sim.info.actuators.forEach((act, a) => {
    if (act.kind !== 'position' || act.joint === undefined) return;
    const joint = sim.info.joints.find((j) => j.name === act.joint);
    if (!joint || (joint.type !== 'hinge' && joint.type !== 'slide')) return;
    const q = qpos[joint.qposAdr]!;
    u0[a] = act.ctrlRange ? Math.min(act.ctrlRange[1], Math.max(act.ctrlRange[0], q)) : q;
  });
  return u0;
}

export function equilibriumControl(sim: MujocoSim, qpos: ArrayLike<number>): Float64Array {
  const { nv, nu } = sim.info;
  const u0 = baseControl(sim, qpos);
  sim.setQpos(qpos);
  sim.setQvel(new Float64Array(nv));
  sim.setCtrl(u0);
  sim.forward();
  const { B } = sim.linearize();
  const saved = sim.getState();
  sim.step();
  const qvel1 = sim.getQvel();
  sim.setState(saved);
  // the velocity rows of B (rows nv … 2nv−1): how one step of u changes q̇
  const Bv = new Matrix(nv, nu);
  for (let r = 0; r < nv; r++) for (let c = 0; c < nu; c++) Bv.set(r, c, B[(nv + r) * nu + c]!);
  const drift = Matrix.columnVector(Array.from(qvel1, (v) => -v));
  const du = pseudoInverse(Bv).mmul(drift).to1DArray();
  return Float64Array.from(u0, (u, a) => u + du[a]!);
}
