import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import type { FeedbackPolicy } from '../../policy.js';
import { asymmetry, fromMatrix, maxAbs, smallestEigenvalue, spectralRadius, symmetrised, toMatrix } from './linalg.js';

// Discrete-time LQR by the Riccati recursion of the model-based RL lectures (the LQR backward
// pass that iLQR repeats about each new trajectory). The problem is
//
//   min Σ_t  ½ x_tᵀ Q_t x_t + ½ u_tᵀ R_t u_t + u_tᵀ N_t x_t + q_tᵀ x_t + r_tᵀ u_t   (t = 0 … T−1)
//        + ½ x_Tᵀ Q_f x_T + q_fᵀ x_T
//   s.t. x_{t+1} = A_t x_t + B_t u_t
//
// In the lecture's block form the cost is ½[x;u]ᵀC_t[x;u] + [x;u]ᵀc_t with C_t = [[Q, Nᵀ], [N, R]],
// c_t = [q; r], and the dynamics are F_t = [A B]. Going backwards from V_T = Q_f, v_T = q_f:
//
//   Q-function blocks  Q_xx = Q + Aᵀ V_{t+1} A      Q_x = q + Aᵀ v_{t+1}
//                      Q_uu = R + Bᵀ V_{t+1} B      Q_u = r + Bᵀ v_{t+1}
//                      Q_ux = N + Bᵀ V_{t+1} A      (Q_xu = Q_uxᵀ)
//   policy             u_t = K_t x_t + k_t,  K_t = −Q_uu⁻¹ Q_ux,  k_t = −Q_uu⁻¹ Q_u
//   value              V_t = Q_xx + Q_xu K_t + K_tᵀ Q_ux + K_tᵀ Q_uu K_t
//                      v_t = Q_x + Q_xu k_t + K_tᵀ Q_u + K_tᵀ Q_uu k_t
//
// Matrices come in and go out as row-major Float64Arrays with explicit sizes (A: nx×nx,
// B: nx×nu, Q: nx×nx, R: nu×nu, N: nu×nx, K: nu×nx); ml-matrix does the arithmetic inside.

/** One matrix for every step, or one per step (time-varying, e.g. linearised about a trajectory). */
export type PerStep = Float64Array | readonly Float64Array[];

export interface FiniteHorizonProblem {
  readonly nx: number;
  readonly nu: number;
  /** T: the number of control steps; gains are returned for t = 0 … T−1 */
  readonly horizon: number;
  readonly A: PerStep;
  readonly B: PerStep;
  readonly Q: PerStep;
  readonly R: PerStep;
  /** cross term uᵀ N x (nu×nx); default 0 */
  readonly N?: PerStep;
  /** linear state cost qᵀx (nx); default 0 */
  readonly q?: PerStep;
  /** linear input cost rᵀu (nu); default 0 */
  readonly r?: PerStep;
  /** terminal cost ½ xᵀ Q_f x (nx×nx) */
  readonly Qf: Float64Array;
  /** terminal linear cost q_fᵀ x (nx); default 0 */
  readonly qf?: Float64Array;
}

export interface FiniteHorizonSolution {
  /** K_t, t = 0 … T−1, each nu×nx row-major: the lecture's K (u = K x + k) */
  readonly K: Float64Array[];
  /** k_t, t = 0 … T−1, each nu */
  readonly k: Float64Array[];
  /** V_t, t = 0 … T (V_T = Q_f), each nx×nx row-major */
  readonly V: Float64Array[];
  /** v_t, t = 0 … T (v_T = q_f), each nx */
  readonly v: Float64Array[];
}

export interface InfiniteHorizonProblem {
  readonly nx: number;
  readonly nu: number;
  readonly A: Float64Array;
  readonly B: Float64Array;
  readonly Q: Float64Array;
  readonly R: Float64Array;
  readonly N?: Float64Array;
  /** stop when max|V_{i+1} − V_i| ≤ tolerance · max|V_{i+1}|; default 1e-10 */
  readonly tolerance?: number;
  /** default 10 000 */
  readonly maxIterations?: number;
  /** throw if the converged gain does not stabilise A + BK (default true) */
  readonly requireStable?: boolean;
}

export interface InfiniteHorizonSolution {
  /** the stationary gain, nu×nx row-major (u = K x) */
  readonly K: Float64Array;
  /** the stationary value matrix P, nx×nx row-major */
  readonly V: Float64Array;
  readonly iterations: number;
  /** the last relative change of V */
  readonly residual: number;
  /** ρ(A + BK): below 1 when the closed loop is stable */
  readonly spectralRadius: number;
}

interface Stage {
  readonly A: Matrix;
  readonly B: Matrix;
  readonly Q: Matrix;
  readonly R: Matrix;
  readonly N: Matrix;
  readonly q: Matrix;
  readonly r: Matrix;
}

interface Backup {
  readonly K: Matrix;
  readonly k: Matrix;
  readonly V: Matrix;
  readonly v: Matrix;
}

// Asymmetry above this (relative) is a mistake in the caller's matrix, not round-off.
const SYMMETRY_TOLERANCE = 1e-9;
// A value matrix this large means the recursion is diverging; stopping here keeps it from
// overflowing into Inf/NaN and failing with a less helpful message.
const DIVERGED = 1e150;

function checkSizes(nx: number, nu: number): void {
  if (!Number.isInteger(nx) || nx < 1) throw new Error(`LQR: nx must be a positive integer, got ${nx}`);
  if (!Number.isInteger(nu) || nu < 1) throw new Error(`LQR: nu must be a positive integer, got ${nu}`);
}

function checkFinite(m: Matrix, name: string): void {
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.columns; j++) {
      if (!Number.isFinite(m.get(i, j))) throw new Error(`LQR: ${name} has a non-finite entry at (${i}, ${j})`);
    }
  }
}

function matrixOf(data: ArrayLike<number>, rows: number, cols: number, name: string): Matrix {
  const m = toMatrix(data, rows, cols, `LQR: ${name}`);
  checkFinite(m, name);
  return m;
}

/** Symmetric weights: round-off asymmetry is averaged away, anything larger is refused. */
function symmetricOf(data: ArrayLike<number>, n: number, name: string): Matrix {
  const m = matrixOf(data, n, n, name);
  const a = asymmetry(m);
  if (a > SYMMETRY_TOLERANCE)
    throw new Error(
      `LQR: ${name} must be symmetric (its largest |${name}_ij − ${name}_ji| is ${a.toExponential(2)} of its largest entry)`,
    );
  return symmetrised(m);
}

/** A per-step input as one Matrix per step (the same object repeated when it is shared). */
function steps(
  value: PerStep,
  horizon: number,
  make: (data: Float64Array, name: string) => Matrix,
  name: string,
): Matrix[] {
  if (value instanceof Float64Array) {
    const m = make(value, name);
    return new Array<Matrix>(horizon).fill(m);
  }
  if (value.length !== horizon)
    throw new Error(
      `LQR: ${name} has ${value.length} steps, expected one per step of the horizon (${horizon}) or a single matrix`,
    );
  return value.map((data, t) => make(data, `${name}[${t}]`));
}

/**
 * The stage cost must be convex: R positive definite (so Q_uu is invertible; Cholesky decides) and
 * the joint block C = [[Q, Nᵀ], [N, R]] positive semi-definite.
 */
function checkCost(Q: Matrix, R: Matrix, N: Matrix, where: string): void {
  if (!new CholeskyDecomposition(R).isPositiveDefinite())
    throw new Error(`LQR: R${where} must be positive definite (its Cholesky factorisation failed)`);
  const nx = Q.rows;
  const nu = R.rows;
  const C = new Matrix(nx + nu, nx + nu);
  C.setSubMatrix(Q, 0, 0);
  C.setSubMatrix(N.transpose(), 0, nx);
  C.setSubMatrix(N, nx, 0);
  C.setSubMatrix(R, nx, nx);
  const scale = Math.max(1, maxAbs(C));
  const lambda = smallestEigenvalue(C);
  if (lambda < -1e-12 * scale)
    throw new Error(
      `LQR: the cost${where} [[Q, Nᵀ], [N, R]] must be positive semi-definite (its smallest eigenvalue is ${lambda.toExponential(3)})`,
    );
}

function stages(p: FiniteHorizonProblem): Stage[] {
  const { nx, nu, horizon: T } = p;
  const A = steps(p.A, T, (d, n) => matrixOf(d, nx, nx, n), 'A');
  const B = steps(p.B, T, (d, n) => matrixOf(d, nx, nu, n), 'B');
  const Q = steps(p.Q, T, (d, n) => symmetricOf(d, nx, n), 'Q');
  const R = steps(p.R, T, (d, n) => symmetricOf(d, nu, n), 'R');
  const N = steps(p.N ?? new Float64Array(nu * nx), T, (d, n) => matrixOf(d, nu, nx, n), 'N');
  const q = steps(p.q ?? new Float64Array(nx), T, (d, n) => matrixOf(d, nx, 1, n), 'q');
  const r = steps(p.r ?? new Float64Array(nu), T, (d, n) => matrixOf(d, nu, 1, n), 'r');
  // shared weights are one object repeated: check the cost once, else once per step
  const shared = [p.Q, p.R, p.N ?? p.Q].every((m) => m instanceof Float64Array);
  for (let t = 0; t < (shared ? 1 : T); t++) checkCost(Q[t]!, R[t]!, N[t]!, shared ? '' : ` at step ${t}`);
  return Array.from({ length: T }, (_, t) => ({
    A: A[t]!,
    B: B[t]!,
    Q: Q[t]!,
    R: R[t]!,
    N: N[t]!,
    q: q[t]!,
    r: r[t]!,
  }));
}

/** One step of the backward pass: from V_{t+1}, v_{t+1} to K_t, k_t, V_t, v_t. */
function riccatiStep(s: Stage, Vnext: Matrix, vnext: Matrix, t: number): Backup {
  const At = s.A.transpose();
  const Bt = s.B.transpose();
  const AtV = At.mmul(Vnext);
  const BtV = Bt.mmul(Vnext);
  const Qxx = AtV.mmul(s.A).add(s.Q);
  const Quu = symmetrised(BtV.mmul(s.B).add(s.R));
  const Qux = BtV.mmul(s.A).add(s.N);
  const Qxu = Qux.transpose();
  const Qx = At.mmul(vnext).add(s.q);
  const Qu = Bt.mmul(vnext).add(s.r);
  const chol = new CholeskyDecomposition(Quu);
  if (!chol.isPositiveDefinite())
    throw new Error(`LQR: Q_uu at step ${t} is not positive definite (the value function or the cost is not convex)`);
  const K = chol.solve(Qux).neg();
  const k = chol.solve(Qu).neg();
  const Kt = K.transpose();
  // the lecture's full form rather than the shortcut Q_xx + Q_xu K: it stays symmetric PSD
  // better in floating point, and reads as the substitution u = Kx + k into the Q-function
  const V = symmetrised(Qxx.add(Qxu.mmul(K)).add(Kt.mmul(Qux)).add(Kt.mmul(Quu).mmul(K)));
  const v = Qx.add(Qxu.mmul(k)).add(Kt.mmul(Qu)).add(Kt.mmul(Quu).mmul(k));
  return { K, k, V, v };
}

/** Finite-horizon, possibly time-varying LQR: the backward pass from V_T = Q_f. */
export function finiteHorizonLqr(p: FiniteHorizonProblem): FiniteHorizonSolution {
  checkSizes(p.nx, p.nu);
  if (!Number.isInteger(p.horizon) || p.horizon < 1)
    throw new Error(`LQR: horizon must be a positive integer, got ${p.horizon}`);
  const stage = stages(p);
  let V = symmetricOf(p.Qf, p.nx, 'Qf');
  if (smallestEigenvalue(V) < -1e-12 * Math.max(1, maxAbs(V)))
    throw new Error('LQR: Qf must be positive semi-definite');
  let v = matrixOf(p.qf ?? new Float64Array(p.nx), p.nx, 1, 'qf');
  const T = p.horizon;
  const K = new Array<Float64Array>(T);
  const k = new Array<Float64Array>(T);
  const Vs = new Array<Float64Array>(T + 1);
  const vs = new Array<Float64Array>(T + 1);
  Vs[T] = fromMatrix(V);
  vs[T] = fromMatrix(v);
  for (let t = T - 1; t >= 0; t--) {
    const b = riccatiStep(stage[t]!, V, v, t);
    K[t] = fromMatrix(b.K);
    k[t] = fromMatrix(b.k);
    Vs[t] = fromMatrix(b.V);
    vs[t] = fromMatrix(b.v);
    V = b.V;
    v = b.v;
  }
  return { K, k, V: Vs, v: vs };
}

/**
 * Stationary LQR: the same recursion iterated from V = Q until V stops changing (value iteration
 * on the discrete algebraic Riccati equation). Throws if it diverges or does not settle, which is
 * what an unstabilisable (A, B) does, and (unless requireStable is false) if the converged gain
 * leaves A + BK unstable, which is what an unstable mode that Q does not see does.
 */
export function infiniteHorizonLqr(p: InfiniteHorizonProblem): InfiniteHorizonSolution {
  checkSizes(p.nx, p.nu);
  const tolerance = p.tolerance ?? 1e-10;
  const maxIterations = p.maxIterations ?? 10_000;
  if (!(tolerance > 0)) throw new Error(`LQR: tolerance must be positive, got ${tolerance}`);
  if (!Number.isInteger(maxIterations) || maxIterations < 1)
    throw new Error(`LQR: maxIterations must be a positive integer, got ${maxIterations}`);
  const [s] = stages({ ...p, horizon: 1, Qf: p.Q });
  const stage = s!;
  const zero = new Matrix(p.nx, 1);
  let V = stage.Q;
  let residual = Infinity;
  for (let i = 1; i <= maxIterations; i++) {
    const b = riccatiStep(stage, V, zero, 0);
    const size = maxAbs(b.V);
    if (!(size < DIVERGED)) {
      throw new Error(
        `LQR: the Riccati recursion diverged (the value matrix exceeded ${DIVERGED} after ${i} iterations): (A, B) is not stabilisable`,
      );
    }
    residual = maxAbs(Matrix.sub(b.V, V)) / (size > 0 ? size : 1);
    V = b.V;
    if (residual <= tolerance) {
      const closed = stage.A.clone().add(stage.B.mmul(b.K));
      const rho = spectralRadius(closed);
      if ((p.requireStable ?? true) && !(rho < 1)) {
        throw new Error(
          `LQR: the converged gain does not stabilise the system (spectral radius of A + BK is ${rho.toPrecision(6)}): an unstable mode is not penalised by Q, is (A, Q) detectable?`,
        );
      }
      return { K: fromMatrix(b.K), V: fromMatrix(V), iterations: i, residual, spectralRadius: rho };
    }
  }
  throw new Error(
    `LQR: the Riccati recursion did not converge in ${maxIterations} iterations (relative change ${residual.toExponential(3)} > tolerance ${tolerance}): is (A, B) stabilisable?`,
  );
}

export interface LqrPolicyOptions {
  /** the equilibrium state x̂ (nx) */
  readonly xEq: ArrayLike<number>;
  /** the equilibrium input û (nu) */
  readonly uEq: ArrayLike<number>;
  /** the lecture's K (nu×nx): one stationary gain, or one per step of a finite horizon */
  readonly K: PerStep;
  /** feedforward k (nu), one or per step; default 0 (LQR about a fixed point) */
  readonly k?: PerStep;
  readonly startNs: bigint;
  /** the step of the discretisation A, B were computed for */
  readonly stepNs: bigint;
}

/**
 * The feedback policy u = û + k + K(x − x̂) about an equilibrium. The policy adds K(x − x̂), which is
 * the lecture's convention (K = −Q_uu⁻¹ Q_ux already carries the minus sign), so gains are stored
 * as computed. A single gain gives a one-step policy, held for all time.
 */
export function lqrPolicyAbout(o: LqrPolicyOptions): FeedbackPolicy {
  const nx = o.xEq.length;
  const nu = o.uEq.length;
  if (nx < 1 || nu < 1) throw new Error(`LQR policy: xEq and uEq must not be empty (got ${nx} and ${nu} values)`);
  for (let i = 0; i < nx; i++) if (!Number.isFinite(o.xEq[i])) throw new Error(`LQR policy: xEq[${i}] is not finite`);
  for (let i = 0; i < nu; i++) if (!Number.isFinite(o.uEq[i])) throw new Error(`LQR policy: uEq[${i}] is not finite`);
  if (o.stepNs <= 0n) throw new Error(`LQR policy: stepNs must be positive, got ${o.stepNs}`);
  const gains = o.K instanceof Float64Array ? [o.K] : o.K;
  const T = gains.length;
  if (T < 1) throw new Error('LQR policy: K must hold at least one gain');
  const ks = o.k === undefined ? undefined : o.k instanceof Float64Array ? new Array<Float64Array>(T).fill(o.k) : o.k;
  if (ks && ks.length !== T) throw new Error(`LQR policy: k has ${ks.length} steps, K has ${T}`);

  const states = new Float64Array(T * nx);
  const actions = new Float64Array(T * nu);
  const feedforward = new Float64Array(T * nu);
  const K = new Float64Array(T * nu * nx);
  for (let t = 0; t < T; t++) {
    const g = gains[t]!;
    if (g.length !== nu * nx)
      throw new Error(`LQR policy: K[${t}] must be ${nu}×${nx} (${nu * nx} values), got ${g.length}`);
    if (!g.every(Number.isFinite)) throw new Error(`LQR policy: K[${t}] has a non-finite entry`);
    K.set(g, t * nu * nx);
    for (let j = 0; j < nx; j++) states[t * nx + j] = o.xEq[j]!;
    for (let i = 0; i < nu; i++) actions[t * nu + i] = o.uEq[i]!;
    if (ks) {
      const f = ks[t]!;
      if (f.length !== nu) throw new Error(`LQR policy: k[${t}] must have ${nu} values, got ${f.length}`);
      if (!f.every(Number.isFinite)) throw new Error(`LQR policy: k[${t}] has a non-finite entry`);
      feedforward.set(f, t * nu);
    }
  }
  return { kind: 'feedback', nx, nu, startNs: o.startNs, stepNs: o.stepNs, states, actions, feedforward, gains: K };
}
