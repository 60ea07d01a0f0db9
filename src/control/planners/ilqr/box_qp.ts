import { cholesky, choleskySolve } from '../trajectory/dense.js';

// The box-constrained QP of control-limited DDP (Tassa, Mansard & Todorov, "Control-Limited
// Differential Dynamic Programming", ICRA 2014, Algorithm 1; MuJoCo MPC's mju_boxQP follows it):
//   min ½ xᵀ H x + gᵀ x   s.t.  lower ≤ x ≤ upper
// by projected Newton: at each iteration the clamped set is the bounds that are active with the
// gradient pushing outward; a Newton step on the free subspace (the Hessian's free block factored
// by Cholesky) is projected onto the box with an Armijo backtracking line search. The result keeps
// the free block's factor, because iLQR's feedback gain is −H_ff⁻¹ Q_ux on the free rows and zero
// on the clamped ones (the paper's equation 9).

export interface BoxQpResult {
  /** 'converged' (gradient small or all clamped), 'no_descent', 'line_search' (step too small), 'iterations', 'not_pd' */
  readonly status: 'converged' | 'no_descent' | 'line_search' | 'iterations' | 'not_pd';
  readonly iterations: number;
}

const MAX_ITERATIONS = 100;
const MIN_GRADIENT = 1e-8;
const MIN_RELATIVE_IMPROVEMENT = 1e-8;
const STEP_DECREASE = 0.6;
const MIN_STEP = 1e-22;
const ARMIJO = 0.1;

export class BoxQp {
  readonly n: number;
  /** after solve(): 1 where the entry is clamped at a bound */
  readonly clamped: Uint8Array;
  /** after solve(): the free entries' indices (the first `freeCount`) */
  readonly free: Int32Array;
  freeCount = 0;
  /** after solve(): the Cholesky factor of H's free block (freeCount × freeCount, row-major) */
  readonly factor: Float64Array;
  readonly #grad: Float64Array;
  readonly #search: Float64Array;
  readonly #candidate: Float64Array;
  readonly #Hff: Float64Array;
  readonly #rhs: Float64Array;
  readonly #oldClamped: Uint8Array;

  constructor(n: number) {
    this.n = n;
    this.clamped = new Uint8Array(n);
    this.free = new Int32Array(n);
    this.factor = new Float64Array(n * n);
    this.#grad = new Float64Array(n);
    this.#search = new Float64Array(n);
    this.#candidate = new Float64Array(n);
    this.#Hff = new Float64Array(n * n);
    this.#rhs = new Float64Array(n);
    this.#oldClamped = new Uint8Array(n);
  }

  #value(H: Float64Array, g: Float64Array, x: Float64Array): number {
    const n = this.n;
    let v = 0;
    for (let i = 0; i < n; i++) {
      let hx = 0;
      for (let j = 0; j < n; j++) hx += H[i * n + j]! * x[j]!;
      v += x[i]! * (0.5 * hx + g[i]!);
    }
    return v;
  }

  /**
   * Solve in place: x holds the warm start on entry (clamped into the box) and the solution on
   * return. H must be symmetric; its free block must be positive definite ('not_pd' otherwise).
   */
  solve(H: Float64Array, g: Float64Array, lower: Float64Array, upper: Float64Array, x: Float64Array): BoxQpResult {
    const n = this.n;
    for (let i = 0; i < n; i++) {
      if (!(lower[i]! <= upper[i]!))
        throw new Error(`box QP: bound ${i} has lower ${lower[i]} above upper ${upper[i]}`);
      x[i] = Math.min(upper[i]!, Math.max(lower[i]!, x[i]!));
    }
    let value = this.#value(H, g, x);
    let factored = false;
    this.#oldClamped.fill(0);
    let status: BoxQpResult['status'] = 'iterations';
    let iteration = 0;
    for (; iteration < MAX_ITERATIONS; iteration++) {
      const grad = this.#grad;
      for (let i = 0; i < n; i++) {
        let s = g[i]!;
        for (let j = 0; j < n; j++) s += H[i * n + j]! * x[j]!;
        grad[i] = s;
      }
      // the clamped set: at a bound, with the gradient pushing out of the box
      let clampedCount = 0;
      let changed = !factored;
      this.freeCount = 0;
      for (let i = 0; i < n; i++) {
        const c = (x[i] === lower[i] && grad[i]! > 0) || (x[i] === upper[i] && grad[i]! < 0) ? 1 : 0;
        this.clamped[i] = c;
        if (c !== this.#oldClamped[i]) changed = true;
        this.#oldClamped[i] = c;
        if (c) clampedCount++;
        else this.free[this.freeCount++] = i;
      }
      if (clampedCount === n) {
        status = 'converged';
        break;
      }
      const nf = this.freeCount;
      if (changed) {
        for (let a = 0; a < nf; a++)
          for (let b = 0; b < nf; b++) this.#Hff[a * nf + b] = H[this.free[a]! * n + this.free[b]!]!;
        if (!cholesky(this.#Hff.subarray(0, nf * nf), nf, this.factor)) {
          status = 'not_pd';
          break;
        }
        factored = true;
      }
      let gnorm = 0;
      for (let a = 0; a < nf; a++) gnorm += grad[this.free[a]!]! ** 2;
      if (Math.sqrt(gnorm) < MIN_GRADIENT) {
        status = 'converged';
        break;
      }
      // Newton step on the free entries with the clamped ones fixed: Δ_f = −H_ff⁻¹ (g_f + H_fc x_c) − x_f
      const rhs = this.#rhs;
      for (let a = 0; a < nf; a++) {
        const i = this.free[a]!;
        let s = g[i]!;
        for (let j = 0; j < n; j++) if (this.clamped[j]) s += H[i * n + j]! * x[j]!;
        rhs[a] = s;
      }
      choleskySolve(this.factor, nf, rhs, 1);
      const search = this.#search;
      search.fill(0);
      let sdotg = 0;
      for (let a = 0; a < nf; a++) {
        const i = this.free[a]!;
        search[i] = -rhs[a]! - x[i]!;
        sdotg += search[i] * grad[i]!;
      }
      if (sdotg >= 0) {
        status = 'no_descent';
        break;
      }
      // projected Armijo backtracking
      let step = 1;
      const candidate = this.#candidate;
      let candidateValue: number;
      for (;;) {
        for (let i = 0; i < n; i++) candidate[i] = Math.min(upper[i]!, Math.max(lower[i]!, x[i]! + step * search[i]!));
        candidateValue = this.#value(H, g, candidate);
        if ((candidateValue - value) / (step * sdotg) > ARMIJO) break;
        step *= STEP_DECREASE;
        if (step < MIN_STEP) break;
      }
      if (step < MIN_STEP) {
        status = 'line_search';
        break;
      }
      const improvement = value - candidateValue;
      x.set(candidate);
      value = candidateValue;
      if (improvement < MIN_RELATIVE_IMPROVEMENT * Math.abs(value)) {
        status = 'converged';
        iteration++;
        // the clamped set and factor must describe the solution: one more pass refreshes them
        this.#refresh(H, g, lower, upper, x);
        break;
      }
    }
    if (status === 'iterations' || status === 'no_descent' || status === 'line_search')
      this.#refresh(H, g, lower, upper, x);
    return { status, iterations: iteration };
  }

  /** Recompute the clamped set and the free block's factor at x. */
  #refresh(H: Float64Array, g: Float64Array, lower: Float64Array, upper: Float64Array, x: Float64Array): void {
    const n = this.n;
    this.freeCount = 0;
    for (let i = 0; i < n; i++) {
      let s = g[i]!;
      for (let j = 0; j < n; j++) s += H[i * n + j]! * x[j]!;
      const c = (x[i] === lower[i] && s > 0) || (x[i] === upper[i] && s < 0) ? 1 : 0;
      this.clamped[i] = c;
      if (!c) this.free[this.freeCount++] = i;
    }
    const nf = this.freeCount;
    for (let a = 0; a < nf; a++)
      for (let b = 0; b < nf; b++) this.#Hff[a * nf + b] = H[this.free[a]! * n + this.free[b]!]!;
    cholesky(this.#Hff.subarray(0, nf * nf), nf, this.factor);
  }
}
