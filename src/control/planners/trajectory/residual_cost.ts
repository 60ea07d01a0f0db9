import { normDerivatives, normValue, type Norm } from './norms.js';

// A trajectory cost made of residual terms, as MuJoCo MPC writes its tasks: each term is a residual
// vector r(x, u) with its Jacobians, a norm and a weight, at the stages and (with its own weight)
// at the terminal state. The stage cost is l(x, u) = Σ wₖ nₖ(rₖ) and its derivatives are the
// Gauss–Newton ones: l_x = Σ wₖ J_xᵀ gₖ, l_u = Σ wₖ J_uᵀ gₖ, l_xx = Σ wₖ J_xᵀ Hₖ J_x,
// l_uu = Σ wₖ J_uᵀ Hₖ J_u, l_ux = Σ wₖ J_uᵀ Hₖ J_x (second derivatives of the residuals dropped, so
// the Hessians are PSD by construction). Terms that read the action are not evaluated at the
// terminal state. Everything is row-major and allocation-free after construction.

export interface ResidualTerm {
  readonly name: string;
  readonly size: number;
  readonly norm: Norm;
  /** weight at every stage (0: not counted there) */
  readonly weight: number;
  /** weight at the terminal state (0: not counted there; terms that read u must have 0) */
  readonly terminalWeight: number;
  /** whether r reads u */
  readonly usesAction: boolean;
  /**
   * r (size) at (x, u); when Jx (size × nx) and Ju (size × nu) are given, their Jacobians too
   * (zero entries need not be written: they arrive zeroed). u is empty at the terminal state.
   */
  evaluate(x: Float64Array, u: Float64Array, r: Float64Array, Jx?: Float64Array, Ju?: Float64Array): void;
}

/** A stage's cost and its derivatives (written by stageDerivatives). */
export interface StageDerivatives {
  readonly lx: Float64Array;
  readonly lu: Float64Array;
  readonly lxx: Float64Array;
  readonly luu: Float64Array;
  readonly lux: Float64Array;
}

export function stageDerivatives(nx: number, nu: number): StageDerivatives {
  return {
    lx: new Float64Array(nx),
    lu: new Float64Array(nu),
    lxx: new Float64Array(nx * nx),
    luu: new Float64Array(nu * nu),
    lux: new Float64Array(nu * nx),
  };
}

export class ResidualCost {
  readonly nx: number;
  readonly nu: number;
  readonly terms: readonly ResidualTerm[];
  readonly #r: Float64Array;
  readonly #g: Float64Array;
  readonly #H: Float64Array;
  readonly #Jx: Float64Array;
  readonly #Ju: Float64Array;
  readonly #HJx: Float64Array;
  readonly #HJu: Float64Array;
  readonly #noAction: Float64Array;
  readonly #values: Float64Array;

  constructor(nx: number, nu: number, terms: readonly ResidualTerm[]) {
    if (!terms.length) throw new Error('residual cost: no terms');
    for (const t of terms) {
      if (!(t.size > 0)) throw new Error(`residual cost: term '${t.name}' has no entries`);
      if (!(t.weight >= 0) || !(t.terminalWeight >= 0))
        throw new Error(`residual cost: term '${t.name}' has a negative or non-finite weight`);
      if (t.usesAction && t.terminalWeight > 0)
        throw new Error(`residual cost: term '${t.name}' reads the action and cannot be a terminal cost`);
    }
    this.nx = nx;
    this.nu = nu;
    this.terms = terms;
    const m = Math.max(...terms.map((t) => t.size));
    this.#r = new Float64Array(m);
    this.#g = new Float64Array(m);
    this.#H = new Float64Array(m * m);
    this.#Jx = new Float64Array(m * nx);
    this.#Ju = new Float64Array(m * nu);
    this.#HJx = new Float64Array(m * nx);
    this.#HJu = new Float64Array(m * nu);
    this.#noAction = new Float64Array(0);
    this.#values = new Float64Array(terms.length);
  }

  /** l(x, u); at the terminal state (u undefined) the terminal terms. */
  value(x: Float64Array, u: Float64Array | undefined): number {
    let total = 0;
    for (const t of this.terms) {
      const w = u ? t.weight : t.terminalWeight;
      if (w === 0) continue;
      t.evaluate(x, u ?? this.#noAction, this.#r);
      total += w * normValue(t.norm, this.#r, t.size);
    }
    return total;
  }

  /** The last derivatives() call's cost per term (its weighted norm), for status and plots. */
  get termValues(): Float64Array {
    return this.#values;
  }

  /**
   * l(x, u) and its Gauss–Newton derivatives into d (at the terminal state, u undefined: l_x and
   * l_xx only; l_u, l_uu, l_ux are left zero).
   */
  derivatives(x: Float64Array, u: Float64Array | undefined, d: StageDerivatives): number {
    const { nx, nu } = this;
    d.lx.fill(0);
    d.lu.fill(0);
    d.lxx.fill(0);
    d.luu.fill(0);
    d.lux.fill(0);
    let total = 0;
    this.terms.forEach((t, k) => {
      const w = u ? t.weight : t.terminalWeight;
      this.#values[k] = 0;
      if (w === 0) return;
      const m = t.size;
      const Jx = this.#Jx.subarray(0, m * nx);
      const Ju = this.#Ju.subarray(0, m * nu);
      Jx.fill(0);
      Ju.fill(0);
      t.evaluate(x, u ?? this.#noAction, this.#r, Jx, u ? Ju : undefined);
      const v = w * normDerivatives(t.norm, this.#r, m, this.#g, this.#H);
      this.#values[k] = v;
      total += v;
      const g = this.#g;
      const H = this.#H;
      // H·Jx and H·Ju (m × nx, m × nu)
      const HJx = this.#HJx;
      const HJu = this.#HJu;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < nx; j++) {
          let s = 0;
          for (let k2 = 0; k2 < m; k2++) s += H[i * m + k2]! * Jx[k2 * nx + j]!;
          HJx[i * nx + j] = s;
        }
        if (u)
          for (let j = 0; j < nu; j++) {
            let s = 0;
            for (let k2 = 0; k2 < m; k2++) s += H[i * m + k2]! * Ju[k2 * nu + j]!;
            HJu[i * nu + j] = s;
          }
      }
      for (let i = 0; i < m; i++) {
        const wg = w * g[i]!;
        for (let j = 0; j < nx; j++) d.lx[j]! += wg * Jx[i * nx + j]!;
        if (u) for (let j = 0; j < nu; j++) d.lu[j]! += wg * Ju[i * nu + j]!;
      }
      // Jxᵀ (H Jx), Juᵀ (H Ju), Juᵀ (H Jx)
      for (let i = 0; i < m; i++) {
        for (let a = 0; a < nx; a++) {
          const jxa = w * Jx[i * nx + a]!;
          if (jxa === 0) continue;
          for (let b = 0; b < nx; b++) d.lxx[a * nx + b]! += jxa * HJx[i * nx + b]!;
        }
        if (!u) continue;
        for (let a = 0; a < nu; a++) {
          const jua = w * Ju[i * nu + a]!;
          if (jua === 0) continue;
          for (let b = 0; b < nu; b++) d.luu[a * nu + b]! += jua * HJu[i * nu + b]!;
          for (let b = 0; b < nx; b++) d.lux[a * nx + b]! += jua * HJx[i * nx + b]!;
        }
      }
    });
    return total;
  }
}
