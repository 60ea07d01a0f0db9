import { Matrix, solve } from 'ml-matrix';

// Inverse kinematics for a position target: damped least squares on the site Jacobian,
// Δq = Jᵀ (J Jᵀ + λ² I)⁻¹ e, over a chosen subset of joints, clamped to their limits. Used to
// turn an end-effector target into the joint configuration an LQR controller regulates to.

export interface KinematicModel {
  /** set the configuration (full qpos) and recompute kinematics */
  setConfiguration(qpos: ArrayLike<number>): void;
  sitePosition(site: string): Float64Array;
  /** 3 × nv, row-major */
  sitePositionJacobian(site: string): Float64Array;
  readonly nv: number;
}

export interface IkJoint {
  readonly qposAdr: number;
  readonly dofAdr: number;
  readonly range?: readonly [number, number];
}

export interface IkOptions {
  readonly damping?: number;
  readonly tolerance?: number;
  readonly maxIterations?: number;
  /** largest joint change per iteration (rad or m) */
  readonly maxStep?: number;
}

export interface IkResult {
  readonly qpos: Float64Array;
  readonly error: number;
  readonly iterations: number;
  readonly converged: boolean;
}

export function solvePositionIk(
  model: KinematicModel,
  site: string,
  target: readonly [number, number, number],
  joints: readonly IkJoint[],
  initialQpos: ArrayLike<number>,
  options: IkOptions = {},
): IkResult {
  const { damping = 0.05, tolerance = 1e-5, maxIterations = 200, maxStep = 0.2 } = options;
  const qpos = Float64Array.from(initialQpos);
  const n = joints.length;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    model.setConfiguration(qpos);
    const p = model.sitePosition(site);
    const e = [target[0] - p[0]!, target[1] - p[1]!, target[2] - p[2]!];
    const error = Math.hypot(e[0]!, e[1]!, e[2]!);
    if (error < tolerance) return { qpos, error, iterations: iteration, converged: true };
    const full = model.sitePositionJacobian(site);
    const J = new Matrix(3, n);
    for (let r = 0; r < 3; r++) for (let c = 0; c < n; c++) J.set(r, c, full[r * model.nv + joints[c]!.dofAdr]!);
    const JJt = J.mmul(J.transpose()).add(Matrix.eye(3).mul(damping * damping));
    const y = solve(JJt, Matrix.columnVector(e));
    const dq = J.transpose().mmul(y).to1DArray();
    const biggest = Math.max(...dq.map(Math.abs));
    const scale = biggest > maxStep ? maxStep / biggest : 1;
    joints.forEach((j, c) => {
      let q = qpos[j.qposAdr]! + scale * dq[c]!;
      if (j.range) q = Math.min(j.range[1], Math.max(j.range[0], q));
      qpos[j.qposAdr] = q;
    });
  }
  model.setConfiguration(qpos);
  const p = model.sitePosition(site);
  const error = Math.hypot(target[0] - p[0]!, target[1] - p[1]!, target[2] - p[2]!);
  return { qpos, error, iterations: maxIterations, converged: error < tolerance };
}
