import type { TrajectoryDynamics } from '../../../../src/control/planners/trajectory/dynamics.js';
import { ResidualCost, type ResidualTerm } from '../../../../src/control/planners/trajectory/residual_cost.js';
import { norm } from '../../../../src/control/planners/trajectory/norms.js';

// A linear-quadratic problem for the gradient-shooting tests: x_{t+1} = A x_t + B u_t with fixed
// A, B (a TrajectoryDynamics whose Jacobians are exact), and a cost ½ Σ (xᵀQx + uᵀRu) + ½ x_Tᵀ Q_f x_T
// with diagonal weights, as residual terms. On it iLQR's first iteration is the exact optimum.

export class LinearDynamics implements TrajectoryDynamics {
  readonly description = 'linear (fixed A, B)';
  constructor(
    readonly nx: number,
    readonly nu: number,
    readonly A: Float64Array,
    readonly B: Float64Array,
  ) {}

  step(xs: Float64Array, us: Float64Array, n: number, next: Float64Array): void {
    const { nx, nu, A, B } = this;
    for (let r = 0; r < n; r++)
      for (let i = 0; i < nx; i++) {
        let s = 0;
        for (let j = 0; j < nx; j++) s += A[i * nx + j]! * xs[r * nx + j]!;
        for (let j = 0; j < nu; j++) s += B[i * nu + j]! * us[r * nu + j]!;
        next[r * nx + i] = s;
      }
  }

  linearize(xs: Float64Array, us: Float64Array, n: number, next: Float64Array, A: Float64Array, B: Float64Array): void {
    this.step(xs, us, n, next);
    for (let r = 0; r < n; r++) {
      A.set(this.A, r * this.nx * this.nx);
      B.set(this.B, r * this.nx * this.nu);
    }
  }

  dispose(): void {}
}

/**
 * The discretised unstable pendulum about upright, θ̈ = (g/ℓ) θ + u, at step dt (semi-implicit
 * Euler): its open-loop growth e^{√(g/ℓ) t} is what makes early actions' gradients explode.
 */
export function unstablePendulum(dt: number, gOverL: number): LinearDynamics {
  const A = Float64Array.of(1 + gOverL * dt * dt, dt, gOverL * dt, 1);
  const B = Float64Array.of(dt * dt, dt);
  return new LinearDynamics(2, 1, A, B);
}

/** ½ Σ_t (Σ q_i x_i² + Σ r_j u_j²) + ½ terminalScale Σ q_i x_T,i² as residual terms. */
export function quadraticCost(q: readonly number[], r: readonly number[], terminalScale: number): ResidualCost {
  const nx = q.length;
  const nu = r.length;
  const sq = q.map(Math.sqrt);
  const sr = r.map(Math.sqrt);
  const state: ResidualTerm = {
    name: 'state',
    size: nx,
    norm: norm('quadratic'),
    weight: 1,
    terminalWeight: terminalScale,
    usesAction: false,
    evaluate(x, _u, res, Jx) {
      for (let i = 0; i < nx; i++) {
        res[i] = sq[i]! * x[i]!;
        if (Jx) Jx[i * nx + i] = sq[i]!;
      }
    },
  };
  const action: ResidualTerm = {
    name: 'action',
    size: nu,
    norm: norm('quadratic'),
    weight: 1,
    terminalWeight: 0,
    usesAction: true,
    evaluate(_x, u, res, _Jx, Ju) {
      for (let i = 0; i < nu; i++) {
        res[i] = sr[i]! * u[i]!;
        if (Ju) Ju[i * nu + i] = sr[i]!;
      }
    },
  };
  return new ResidualCost(nx, nu, [state, action]);
}
