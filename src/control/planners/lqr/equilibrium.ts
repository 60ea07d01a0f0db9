import { Matrix, pseudoInverse } from 'ml-matrix';
import type { MujocoSim } from '../../../../sim/mujoco/sim.js';

// The control that holds a model still at a configuration: with x₁ the state one step after
// (q, q̇ = 0) under u = 0, and B the discrete input matrix there, û solves B_v û = −(q̇₁) in least
// squares (dynamics are affine in the control for motor and position actuators). For the
// upright cart-pole û = 0; for an arm it is the gravity-compensating torque.

export function equilibriumControl(sim: MujocoSim, qpos: ArrayLike<number>): Float64Array {
  const { nv, nu } = sim.info;
  const zero = new Float64Array(nu);
  sim.setQpos(qpos);
  sim.setQvel(new Float64Array(nv));
  sim.setCtrl(zero);
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
  return Float64Array.from(pseudoInverse(Bv).mmul(drift).to1DArray());
}
