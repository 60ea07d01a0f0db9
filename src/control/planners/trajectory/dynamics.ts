// The dynamics a trajectory optimiser (iLQR, gradient shooting) plans through: a discrete-time map
// x_{t+1} = f(x_t, u_t) over one control period, evaluated for a batch of rows, and its Jacobians
// A = ∂f/∂x, B = ∂f/∂u. Two implementations: MuJoCo (./mujoco_dynamics.ts: the MJCF model stepped
// over the period, A and B from mjd_transitionFD) and the learned ensemble (./ensemble_dynamics.ts:
// the mean of its elites, Jacobians analytic through the MLPs). The state is always the
// controller's x = [q (nv), q̇ (nv)] in model order, whatever the dynamics work in inside, so a plan's
// nominal states and gains mean the same to the command loop whichever dynamics made them.

export interface TrajectoryDynamics {
  /** state size: 2·nv of the controller's model */
  readonly nx: number;
  /** action size: the controller's actuators */
  readonly nu: number;
  /** for logs and status, e.g. "MuJoCo (mjd_transitionFD, forward differences)" */
  readonly description: string;
  /** next states of n rows: xs n×nx, us n×nu → next n×nx (row-major) */
  step(xs: Float64Array, us: Float64Array, n: number, next: Float64Array): void;
  /**
   * Next states and Jacobians at n rows: next n×nx, A n×(nx×nx), B n×(nx×nu), each row's matrices
   * row-major (A[r·nx·nx + i·nx + j] = ∂x'_i/∂x_j of row r).
   */
  linearize(xs: Float64Array, us: Float64Array, n: number, next: Float64Array, A: Float64Array, B: Float64Array): void;
  dispose(): void;
}
