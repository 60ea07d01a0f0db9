import { cholesky, choleskySolve, matTMul, matTVec, symmetrise } from '../trajectory/dense.js';
import type { StageDerivatives } from '../trajectory/residual_cost.js';
import { BoxQp } from './box_qp.js';

// iLQR's backward pass (the lectures' LQR backward pass about the current trajectory, with the
// cost's Gauss–Newton derivatives; Tassa, Erez & Todorov, "Synthesis and stabilization of complex
// behaviors through online trajectory optimization", IROS 2012, for the regularisation, and Tassa,
// Mansard & Todorov 2014 for the control limits). From V_x = l_x(T), V_xx = l_xx(T), for t = T−1 … 0:
//   Q_x = l_x + Aᵀ V_x          Q_u = l_u + Bᵀ V_x
//   Q_xx = l_xx + Aᵀ V_xx A     Q_uu = l_uu + Bᵀ V_xx B     Q_ux = l_ux + Bᵀ V_xx A
//   Q̃_uu = Q_uu + μ I  (Levenberg–Marquardt on the controls, as MuJoCo MPC's iLQG)
//   unconstrained: k = −Q̃_uu⁻¹ Q_u,  K = −Q̃_uu⁻¹ Q_ux
//   control-limited: k = argmin ½ kᵀ Q̃_uu k + kᵀ Q_u  s.t. u_min − û ≤ k ≤ u_max − û (box QP),
//                    K = −Q̃_ff⁻¹ Q_ux on the free rows, 0 on the clamped rows
//   V_x = Q_x + Kᵀ Q_uu k + Kᵀ Q_u + Q_uxᵀ k
//   V_xx = Q_xx + Kᵀ Q_uu K + Kᵀ Q_ux + Q_uxᵀ K  (symmetrised)
// and the expected cost change of a step α·k is α ΔV₁ + α² ΔV₂ with ΔV₁ = Σ kᵀ Q_u, ΔV₂ = Σ ½ kᵀ Q_uu k.
// iLQG's second-order dynamics terms (f_xx, f_uu, f_ux contracted with V_x) are dropped: MuJoCo's
// finite differences give none and the ensemble's would cost nx times the Jacobians, and with
// Gauss–Newton costs dropping them keeps Q_xx and Q_uu PSD, which is what makes iLQR robust.

export interface Derivatives {
  /** T × (nx × nx) */
  readonly A: Float64Array;
  /** T × (nx × nu) */
  readonly B: Float64Array;
  /** T stages, then the terminal (its u parts unused) */
  readonly cost: readonly StageDerivatives[];
}

export type BackwardOutcome =
  | { readonly ok: true; readonly dV1: number; readonly dV2: number; readonly clampedSteps: number }
  | { readonly ok: false; readonly step: number; readonly reason: string };

export class BackwardPass {
  readonly nx: number;
  readonly nu: number;
  readonly horizon: number;
  /** T × nu feedforward k */
  readonly k: Float64Array;
  /** T × (nu × nx) gains K */
  readonly K: Float64Array;
  readonly #Vx: Float64Array;
  readonly #Vxx: Float64Array;
  readonly #Qx: Float64Array;
  readonly #Qu: Float64Array;
  readonly #Qxx: Float64Array;
  readonly #Quu: Float64Array;
  readonly #QuuReg: Float64Array;
  readonly #Qux: Float64Array;
  readonly #VA: Float64Array;
  readonly #VB: Float64Array;
  readonly #L: Float64Array;
  readonly #tmp: Float64Array;
  readonly #lower: Float64Array;
  readonly #upper: Float64Array;
  readonly #qp: BoxQp;

  constructor(nx: number, nu: number, horizon: number) {
    this.nx = nx;
    this.nu = nu;
    this.horizon = horizon;
    this.k = new Float64Array(horizon * nu);
    this.K = new Float64Array(horizon * nu * nx);
    this.#Vx = new Float64Array(nx);
    this.#Vxx = new Float64Array(nx * nx);
    this.#Qx = new Float64Array(nx);
    this.#Qu = new Float64Array(nu);
    this.#Qxx = new Float64Array(nx * nx);
    this.#Quu = new Float64Array(nu * nu);
    this.#QuuReg = new Float64Array(nu * nu);
    this.#Qux = new Float64Array(nu * nx);
    this.#VA = new Float64Array(nx * nx);
    this.#VB = new Float64Array(nx * nu);
    this.#L = new Float64Array(nu * nu);
    this.#tmp = new Float64Array(nu * nx);
    this.#lower = new Float64Array(nu);
    this.#upper = new Float64Array(nu);
    this.#qp = new BoxQp(nu);
  }

  /**
   * Run the pass with regularisation μ about the nominal actions (T × nu); with bounds, the
   * control-limited form. k holds the previous solution on entry (the box QP's warm start).
   */
  run(
    d: Derivatives,
    mu: number,
    actions: Float64Array,
    bounds: { readonly low: Float64Array; readonly high: Float64Array } | undefined,
  ): BackwardOutcome {
    const { nx, nu, horizon: T } = this;
    const Vx = this.#Vx;
    const Vxx = this.#Vxx;
    const terminal = d.cost[T]!;
    Vx.set(terminal.lx);
    Vxx.set(terminal.lxx);
    let dV1 = 0;
    let dV2 = 0;
    let clampedSteps = 0;
    const { Qx, Qu, Qxx, Quu, Qux } = { Qx: this.#Qx, Qu: this.#Qu, Qxx: this.#Qxx, Quu: this.#Quu, Qux: this.#Qux };
    for (let t = T - 1; t >= 0; t--) {
      const A = d.A.subarray(t * nx * nx, (t + 1) * nx * nx);
      const B = d.B.subarray(t * nx * nu, (t + 1) * nx * nu);
      const c = d.cost[t]!;
      // Q_x = l_x + Aᵀ V_x, Q_u = l_u + Bᵀ V_x
      matTVec(A, Vx, nx, nx, Qx);
      matTVec(B, Vx, nx, nu, Qu);
      for (let i = 0; i < nx; i++) Qx[i]! += c.lx[i]!;
      for (let i = 0; i < nu; i++) Qu[i]! += c.lu[i]!;
      // V_xx A (nx × nx) and V_xx B (nx × nu)
      const VA = this.#VA;
      const VB = this.#VB;
      for (let i = 0; i < nx; i++) {
        for (let j = 0; j < nx; j++) {
          let s = 0;
          for (let p = 0; p < nx; p++) s += Vxx[i * nx + p]! * A[p * nx + j]!;
          VA[i * nx + j] = s;
        }
        for (let j = 0; j < nu; j++) {
          let s = 0;
          for (let p = 0; p < nx; p++) s += Vxx[i * nx + p]! * B[p * nu + j]!;
          VB[i * nu + j] = s;
        }
      }
      matTMul(A, VA, nx, nx, nx, Qxx);
      matTMul(B, VB, nx, nu, nu, Quu);
      matTMul(B, VA, nx, nu, nx, Qux);
      for (let i = 0; i < nx * nx; i++) Qxx[i]! += c.lxx[i]!;
      for (let i = 0; i < nu * nu; i++) Quu[i]! += c.luu[i]!;
      for (let i = 0; i < nu * nx; i++) Qux[i]! += c.lux[i]!;
      symmetrise(Quu, nu);
      const QuuReg = this.#QuuReg;
      QuuReg.set(Quu);
      for (let i = 0; i < nu; i++) QuuReg[i * nu + i]! += mu;
      const k = this.k.subarray(t * nu, (t + 1) * nu);
      const K = this.K.subarray(t * nu * nx, (t + 1) * nu * nx);
      if (bounds) {
        for (let i = 0; i < nu; i++) {
          this.#lower[i] = bounds.low[i]! - actions[t * nu + i]!;
          this.#upper[i] = bounds.high[i]! - actions[t * nu + i]!;
        }
        const qp = this.#qp;
        const result = qp.solve(QuuReg, Qu, this.#lower, this.#upper, k);
        if (result.status === 'not_pd') return { ok: false, step: t, reason: 'Q_uu is not positive definite' };
        // K: −H_ff⁻¹ Q_ux on the free rows, zero on the clamped rows
        K.fill(0);
        const nf = qp.freeCount;
        if (nf < nu) clampedSteps++;
        if (nf > 0) {
          const rhs = this.#tmp.subarray(0, nf * nx);
          for (let a = 0; a < nf; a++) for (let j = 0; j < nx; j++) rhs[a * nx + j] = Qux[qp.free[a]! * nx + j]!;
          choleskySolve(qp.factor, nf, rhs, nx);
          for (let a = 0; a < nf; a++) for (let j = 0; j < nx; j++) K[qp.free[a]! * nx + j] = -rhs[a * nx + j]!;
        }
      } else {
        if (!cholesky(QuuReg, nu, this.#L)) return { ok: false, step: t, reason: 'Q_uu is not positive definite' };
        for (let i = 0; i < nu; i++) k[i] = -Qu[i]!;
        choleskySolve(this.#L, nu, k, 1);
        for (let i = 0; i < nu * nx; i++) K[i] = -Qux[i]!;
        choleskySolve(this.#L, nu, K, nx);
      }
      if (!k.every(Number.isFinite) || !K.every(Number.isFinite))
        return { ok: false, step: t, reason: 'the gains are not finite' };
      // expected change, and the value function at t
      let kQu = 0;
      let kQuuk = 0;
      for (let i = 0; i < nu; i++) {
        kQu += k[i]! * Qu[i]!;
        for (let j = 0; j < nu; j++) kQuuk += k[i]! * Quu[i * nu + j]! * k[j]!;
      }
      dV1 += kQu;
      dV2 += 0.5 * kQuuk;
      // V_x = Q_x + Kᵀ Q_uu k + Kᵀ Q_u + Q_uxᵀ k
      for (let j = 0; j < nx; j++) {
        let s = Qx[j]!;
        for (let i = 0; i < nu; i++) {
          let quuk = 0;
          for (let p = 0; p < nu; p++) quuk += Quu[i * nu + p]! * k[p]!;
          s += K[i * nx + j]! * (quuk + Qu[i]!) + Qux[i * nx + j]! * k[i]!;
        }
        Vx[j] = s;
      }
      // V_xx = Q_xx + Kᵀ Q_uu K + Kᵀ Q_ux + Q_uxᵀ K
      const QuuK = this.#tmp;
      for (let i = 0; i < nu; i++)
        for (let j = 0; j < nx; j++) {
          let s = 0;
          for (let p = 0; p < nu; p++) s += Quu[i * nu + p]! * K[p * nx + j]!;
          QuuK[i * nx + j] = s;
        }
      for (let a = 0; a < nx; a++)
        for (let b = 0; b < nx; b++) {
          let s = Qxx[a * nx + b]!;
          for (let i = 0; i < nu; i++)
            s +=
              K[i * nx + a]! * QuuK[i * nx + b]! +
              K[i * nx + a]! * Qux[i * nx + b]! +
              Qux[i * nx + a]! * K[i * nx + b]!;
          Vxx[a * nx + b] = s;
        }
      symmetrise(Vxx, nx);
      if (!Vxx.every(Number.isFinite)) return { ok: false, step: t, reason: 'the value function is not finite' };
    }
    return { ok: true, dV1, dV2, clampedSteps };
  }

  /** The value function's gradient and Hessian at step 0 after run() (for tests). */
  get value(): { readonly Vx: Float64Array; readonly Vxx: Float64Array } {
    return { Vx: this.#Vx, Vxx: this.#Vxx };
  }
}
