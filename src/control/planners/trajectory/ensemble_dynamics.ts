import type { ProbabilisticEnsemble } from '../../../dynamics/ensemble.js';
import type { StateEncoding } from '../../../dynamics/state_encoding.js';
import type { TrajectoryDynamics } from './dynamics.js';

// The learned ensemble as trajectory dynamics: f(x, u) is the mean over the elites of each member's
// mean next-state prediction (the "expectation" propagation of PETS with its noise left out, which
// is what a gradient method can differentiate), with Jacobians analytic through the MLPs
// (ProbabilisticEnsemble.meanJacobians: both engines, normalisation inside). The controller's state
// x = [q (nv), q̇ (nv)] in the MJCF model's joint order is mapped to the model's own state — the
// encoded [q, q̇] of the joints it learned (an unlimited hinge as sin q, cos q) — and back:
//   x ─gather→ s ─encode→ e ─ensemble→ e' ─decode→ s' ─scatter→ x'
// with the chain rule through each map: encoding a hinge angle q has Jacobian (cos q, −sin q), and
// decoding (sin, cos) to q' = q + wrap(atan2(sin, cos) − q) (the turn kept continuous with q) has
// (cos, −sin)/(sin² + cos²). Joints the model does not predict keep their state (identity rows).

export class EnsembleDynamics implements TrajectoryDynamics {
  readonly nx: number;
  readonly nu: number;
  readonly description: string;
  readonly #ensemble: ProbabilisticEnsemble;
  readonly #encoding: StateEncoding;
  readonly #members: readonly number[];
  /** per model joint: its dof in the controller's state */
  readonly #dof: Int32Array;
  /** per model joint: where its position sits in the encoding (raw index, or sin/cos indices) */
  readonly #pos: { raw: number; sin: number; cos: number }[];
  readonly #vel: Int32Array;
  #e = new Float64Array(0);
  #next = { next: new Float64Array(0), dState: new Float64Array(0), dAction: new Float64Array(0) };
  #nextOnly = new Float64Array(0);

  /**
   * `controllerJoints`: the joint of each controller dof (x = [q of these, q̇ of these]); every joint
   * the model learned must be among them. The ensemble is not owned (the caller disposes it).
   */
  constructor(
    ensemble: ProbabilisticEnsemble,
    encoding: StateEncoding,
    controllerJoints: readonly string[],
    members: readonly number[] = ensemble.elites,
  ) {
    const { stateSize, actionSize } = ensemble.config;
    if (stateSize !== encoding.size)
      throw new Error(
        `ensemble dynamics: the ensemble predicts ${stateSize} values, the encoding has ${encoding.size}`,
      );
    this.#ensemble = ensemble;
    this.#encoding = encoding;
    this.#members = [...members];
    this.nx = 2 * controllerJoints.length;
    this.nu = actionSize;
    this.#dof = Int32Array.from(
      encoding.joints.map((j) => {
        const d = controllerJoints.indexOf(j);
        if (d < 0)
          throw new Error(`ensemble dynamics: the model's joint '${j}' is not among [${controllerJoints.join(', ')}]`);
        return d;
      }),
    );
    this.#pos = encoding.joints.map((j) => {
      const p = encoding.position(j);
      return p.kind === 'raw' ? { raw: p.index, sin: -1, cos: -1 } : { raw: -1, sin: p.sin, cos: p.cos };
    });
    this.#vel = Int32Array.from(encoding.joints.map((j) => encoding.velocity(j)));
    this.description = `the learned ensemble v${ensemble.version} (mean of ${members.length} elites, analytic Jacobians, ${ensemble.engineDescription})`;
  }

  #encode(xs: Float64Array, n: number): Float64Array {
    const ne = this.#encoding.size;
    if (this.#e.length < n * ne) this.#e = new Float64Array(n * ne);
    const nv = this.nx / 2;
    const e = this.#e;
    for (let r = 0; r < n; r++) {
      const x = r * this.nx;
      const o = r * ne;
      this.#pos.forEach((p, k) => {
        const q = xs[x + this.#dof[k]!]!;
        if (p.raw >= 0) e[o + p.raw] = q;
        else {
          e[o + p.sin] = Math.sin(q);
          e[o + p.cos] = Math.cos(q);
        }
        e[o + this.#vel[k]!] = xs[x + nv + this.#dof[k]!]!;
      });
    }
    return e.subarray(0, n * ne);
  }

  /** x' from the predicted encoded state e' (rows), unmodelled joints carried over. */
  #decode(xs: Float64Array, en: Float64Array, n: number, next: Float64Array): void {
    const ne = this.#encoding.size;
    const nv = this.nx / 2;
    next.set(xs.subarray(0, n * this.nx));
    for (let r = 0; r < n; r++) {
      const x = r * this.nx;
      const o = r * ne;
      this.#pos.forEach((p, k) => {
        const d = this.#dof[k]!;
        if (p.raw >= 0) next[x + d] = en[o + p.raw]!;
        else {
          const q = xs[x + d]!;
          next[x + d] = q + wrap(Math.atan2(en[o + p.sin]!, en[o + p.cos]!) - q);
        }
        next[x + nv + d] = en[o + this.#vel[k]!]!;
      });
    }
  }

  step(xs: Float64Array, us: Float64Array, n: number, next: Float64Array): void {
    const e = this.#encode(xs, n);
    const ne = this.#encoding.size;
    if (this.#nextOnly.length < n * ne) this.#nextOnly = new Float64Array(n * ne);
    const en = this.#ensemble.meanNext(
      e,
      us.subarray(0, n * this.nu),
      n,
      this.#members,
      this.#nextOnly.subarray(0, n * ne),
    );
    this.#decode(xs, en, n, next);
  }

  linearize(xs: Float64Array, us: Float64Array, n: number, next: Float64Array, A: Float64Array, B: Float64Array): void {
    const { nx, nu } = this;
    const ne = this.#encoding.size;
    const nv = nx / 2;
    const e = this.#encode(xs, n);
    if (this.#next.next.length < n * ne)
      this.#next = {
        next: new Float64Array(n * ne),
        dState: new Float64Array(n * ne * ne),
        dAction: new Float64Array(n * ne * nu),
      };
    const j = this.#ensemble.meanJacobians(e, us.subarray(0, n * nu), n, this.#members, this.#next);
    this.#decode(xs, j.next, n, next);
    // encode Jacobian E (ne × nx) and decode Jacobian D (nx × ne) per row; A = I on unmodelled rows
    A.fill(0, 0, n * nx * nx);
    B.fill(0, 0, n * nx * nu);
    const modelled = new Uint8Array(nv);
    for (const d of this.#dof) modelled[d] = 1;
    for (let r = 0; r < n; r++) {
      const Ar = r * nx * nx;
      const Br = r * nx * nu;
      for (let d = 0; d < nv; d++)
        if (!modelled[d]) {
          A[Ar + d * nx + d] = 1;
          A[Ar + (nv + d) * nx + nv + d] = 1;
        }
      const eo = r * ne;
      const xo = r * nx;
      // the encoded entries each controller entry feeds (with the derivative) and each output entry reads
      for (let k = 0; k < this.#pos.length; k++) {
        const p = this.#pos[k]!;
        const dOut = this.#dof[k]!;
        // output rows of this joint: position (decoded) and velocity
        const outRows: { row: number; weights: [number, number][] }[] = [];
        if (p.raw >= 0) outRows.push({ row: dOut, weights: [[p.raw, 1]] });
        else {
          const s = j.next[eo + p.sin]!;
          const c = j.next[eo + p.cos]!;
          const r2 = s * s + c * c;
          outRows.push({
            row: dOut,
            weights: [
              [p.sin, c / r2],
              [p.cos, -s / r2],
            ],
          });
        }
        outRows.push({ row: nv + dOut, weights: [[this.#vel[k]!, 1]] });
        for (const { row, weights } of outRows) {
          // input columns: every modelled joint's position and velocity
          for (let k2 = 0; k2 < this.#pos.length; k2++) {
            const p2 = this.#pos[k2]!;
            const dIn = this.#dof[k2]!;
            const q = xs[xo + dIn]!;
            const inCols: [number, number][] =
              p2.raw >= 0
                ? [[p2.raw, 1]]
                : [
                    [p2.sin, Math.cos(q)],
                    [p2.cos, -Math.sin(q)],
                  ];
            let dq = 0;
            let dqd = 0;
            for (const [ei, wo] of weights) {
              const rowBase = (r * ne + ei) * ne;
              for (const [ej, wi] of inCols) dq += wo * j.dState[rowBase + ej]! * wi;
              dqd += wo * j.dState[rowBase + this.#vel[k2]!]!;
            }
            A[Ar + row * nx + dIn] = dq;
            A[Ar + row * nx + nv + dIn] = dqd;
          }
          for (let a = 0; a < nu; a++) {
            let v = 0;
            for (const [ei, wo] of weights) v += wo * j.dAction[(r * ne + ei) * nu + a]!;
            B[Br + row * nu + a] = v;
          }
        }
      }
    }
  }

  dispose(): void {
    // the ensemble belongs to the caller
  }
}

function wrap(a: number): number {
  return a - 2 * Math.PI * Math.round(a / (2 * Math.PI));
}
