import type { TrajectoryDynamics } from '../trajectory/dynamics.js';
import { matTVec } from '../trajectory/dense.js';
import { stageDerivatives, type ResidualCost, type StageDerivatives } from '../trajectory/residual_cost.js';

// Single shooting with gradients: the open-loop actions u_0…u_{T−1} are the only unknowns, the
// states follow from them (x_{t+1} = f(x_t, u_t) from the current x_0), and the total cost
// J(u) = Σ_t l(x_t, u_t) + φ(x_T) is lowered by first-order steps on u. The gradient is the adjoint
// method (backpropagation through time, the lectures' "shooting method with gradients"):
//   λ_T = ∇φ(x_T);  for t = T−1 … 0:  ∂J/∂u_t = l_u + B_tᵀ λ_{t+1},  λ_t = l_x + A_tᵀ λ_{t+1},
// with A_t, B_t the dynamics' Jacobians along the rollout (one batched linearize over all T knots)
// and l_x, l_u the residual cost's gradients (exact: Gauss–Newton only drops curvature, which this
// method does not use). The step is Adam's (Kingma & Ba 2015, "Adam: A Method for Stochastic
// Optimization", Algorithm 1: bias-corrected first and second moment estimates), projected onto the
// control box by clamping.
//
// It is here as the baseline iLQR improves on. ∂J/∂u_t holds the product A_{T−1}⋯A_{t+1}: on a long
// horizon of an unstable (or a strongly damped) system the early actions' gradients are orders of
// magnitude larger (or smaller) than the late ones', and the Hessian in u is as ill-conditioned, so a
// first-order method either diverges on the early actions or barely moves the late ones. iLQR's
// backward pass propagates second-order information (the value function's Hessian) instead and
// solves the linear-quadratic problem in one step. The report gives ‖∂J/∂u_0‖ and ‖∂J/∂u_{T−1}‖ so
// the effect can be seen.

export type GradientOptimizerKind = 'adam';

export interface GradientShootingSettings {
  /** knots of the plan (its steps of one control period) */
  readonly horizon: number;
  /** the box the actions are projected onto (absent: unconstrained) */
  readonly controlLimits?: { readonly low: Float64Array; readonly high: Float64Array };
  /**
   * Adam's step size α, as a share of each actuator's half-range (with no control limits: in action
   * units). Adam moves each coordinate by about α per step whatever the gradient's scale.
   */
  readonly learningRate: number;
  readonly optimizer?: GradientOptimizerKind;
  /** Adam's β₁; default 0.9 (Kingma & Ba 2015) */
  readonly beta1?: number;
  /** Adam's β₂; default 0.999 */
  readonly beta2?: number;
  /** Adam's ε; default 1e-8 */
  readonly epsilon?: number;
}

export type GradientStopReason = 'iterations' | 'non_finite';

export interface GradientReport {
  readonly iterations: number;
  /** the cost of the first rollout from the state, and of the returned nominal (the lowest seen) */
  readonly initialCost: number;
  readonly cost: number;
  readonly stop: GradientStopReason;
  /** ‖∂J/∂u‖ over all knots, at the last linearisation (NaN when there was none) */
  readonly gradientNorm: number;
  /** ‖∂J/∂u_0‖ and ‖∂J/∂u_{T−1}‖ at the last linearisation */
  readonly firstGradientNorm: number;
  readonly lastGradientNorm: number;
  /** ‖∂J/∂u_t‖ per knot (T values) at the last linearisation; a copy */
  readonly gradientNorms: Float64Array;
  /** action entries on a control limit in the returned nominal */
  readonly clampedActions: number;
  /** milliseconds in each part */
  readonly rolloutMs: number;
  readonly linearizeMs: number;
  readonly adjointMs: number;
  readonly totalMs: number;
}

export class GradientShooting {
  readonly nx: number;
  readonly nu: number;
  readonly horizon: number;
  #dynamics: TrajectoryDynamics;
  #cost: ResidualCost;
  readonly #limits: GradientShootingSettings['controlLimits'];
  readonly #beta1: number;
  readonly #beta2: number;
  readonly #epsilon: number;
  /** per actuator: the step α in action units */
  readonly #stepScale: Float64Array;
  /** nominal (T+1) × nx states and T × nu actions; the lowest-cost iterate of the last iterate() */
  readonly #states: Float64Array;
  readonly #actions: Float64Array;
  readonly #bestStates: Float64Array;
  readonly #bestActions: Float64Array;
  /** Adam's moments per action entry, and its step count */
  readonly #m: Float64Array;
  readonly #v: Float64Array;
  #steps = 0;
  readonly #gradient: Float64Array;
  readonly #norms: Float64Array;
  readonly #A: Float64Array;
  readonly #B: Float64Array;
  readonly #next: Float64Array;
  readonly #lambda: Float64Array;
  readonly #lambdaNext: Float64Array;
  readonly #d: StageDerivatives;
  // scratch for gradient(): a rollout that leaves the nominal alone
  readonly #scratchStates: Float64Array;

  constructor(dynamics: TrajectoryDynamics, cost: ResidualCost, settings: GradientShootingSettings) {
    const { nx, nu } = dynamics;
    if (cost.nx !== nx || cost.nu !== nu)
      throw new Error(
        `gradient shooting: the cost is for nx=${cost.nx}, nu=${cost.nu}, the dynamics are nx=${nx}, nu=${nu}`,
      );
    const T = settings.horizon;
    if (!Number.isInteger(T) || T < 1)
      throw new Error(`gradient shooting: the horizon must be a positive integer, got ${T}`);
    if (!(settings.learningRate > 0) || !Number.isFinite(settings.learningRate))
      throw new Error(`gradient shooting: the learning rate must be positive, got ${settings.learningRate}`);
    const optimizer: string = settings.optimizer ?? 'adam';
    if (optimizer !== 'adam') throw new Error(`gradient shooting: unknown optimizer '${optimizer}'`);
    const limits = settings.controlLimits;
    if (limits) {
      if (limits.low.length !== nu || limits.high.length !== nu)
        throw new Error(`gradient shooting: control limits need ${nu} values each`);
      for (let i = 0; i < nu; i++)
        if (!(limits.low[i]! <= limits.high[i]!))
          throw new Error(`gradient shooting: control limit ${i} is empty [${limits.low[i]}, ${limits.high[i]}]`);
    }
    this.nx = nx;
    this.nu = nu;
    this.horizon = T;
    this.#dynamics = dynamics;
    this.#cost = cost;
    this.#limits = limits;
    this.#beta1 = settings.beta1 ?? 0.9;
    this.#beta2 = settings.beta2 ?? 0.999;
    this.#epsilon = settings.epsilon ?? 1e-8;
    this.#stepScale = new Float64Array(nu);
    for (let i = 0; i < nu; i++)
      this.#stepScale[i] = settings.learningRate * (limits ? 0.5 * (limits.high[i]! - limits.low[i]!) : 1);
    this.#states = new Float64Array((T + 1) * nx);
    this.#actions = new Float64Array(T * nu);
    this.#bestStates = new Float64Array((T + 1) * nx);
    this.#bestActions = new Float64Array(T * nu);
    this.#m = new Float64Array(T * nu);
    this.#v = new Float64Array(T * nu);
    this.#gradient = new Float64Array(T * nu);
    this.#norms = new Float64Array(T).fill(Number.NaN);
    this.#A = new Float64Array(T * nx * nx);
    this.#B = new Float64Array(T * nx * nu);
    this.#next = new Float64Array(T * nx);
    this.#lambda = new Float64Array(nx);
    this.#lambdaNext = new Float64Array(nx);
    this.#d = stageDerivatives(nx, nu);
    this.#scratchStates = new Float64Array((T + 1) * nx);
    this.reset();
  }

  /** (T+1) × nx nominal states of the last plan */
  get states(): Float64Array {
    return this.#states;
  }

  /** T × nu nominal actions of the last plan */
  get actions(): Float64Array {
    return this.#actions;
  }

  /** ∂J/∂u (T × nu) at the last linearisation */
  get lastGradient(): Float64Array {
    return this.#gradient;
  }

  get dynamics(): TrajectoryDynamics {
    return this.#dynamics;
  }

  /** Plan with other dynamics from now on; the warm start is kept. */
  set dynamics(d: TrajectoryDynamics) {
    if (d.nx !== this.nx || d.nu !== this.nu)
      throw new Error(
        `gradient shooting: new dynamics are nx=${d.nx}, nu=${d.nu}, the plan's nx=${this.nx}, nu=${this.nu}`,
      );
    this.#dynamics = d;
  }

  get cost(): ResidualCost {
    return this.#cost;
  }

  /** Minimise another cost from now on (a new goal); the warm start is kept. */
  set cost(c: ResidualCost) {
    if (c.nx !== this.nx || c.nu !== this.nu)
      throw new Error(
        `gradient shooting: the cost is for nx=${c.nx}, nu=${c.nu}, the plan's nx=${this.nx}, nu=${this.nu}`,
      );
    this.#cost = c;
  }

  /** Forget the warm start and Adam's moments: nominal actions `actions` (T × nu; default 0 clamped into the limits). */
  reset(actions?: Float64Array): void {
    const { nu, horizon: T } = this;
    if (actions) {
      if (actions.length !== T * nu)
        throw new Error(`gradient shooting: ${T * nu} nominal actions expected, got ${actions.length}`);
      this.#actions.set(actions);
    } else this.#actions.fill(0);
    for (let t = 0; t < T; t++) this.#project(this.#actions.subarray(t * nu, (t + 1) * nu));
    this.#m.fill(0);
    this.#v.fill(0);
    this.#steps = 0;
  }

  /**
   * Move the solution on by `steps` control periods (as IlqrSolver.warmStart): knot t takes knot
   * t + steps, the last knots repeat the final one; Adam's moments move with their actions.
   */
  warmStart(steps: number): void {
    if (steps <= 0) return;
    const { nx, nu, horizon: T } = this;
    const s = Math.min(steps, T);
    if (s >= T) return;
    const shift = (a: Float64Array, width: number, knots: number): void => {
      a.copyWithin(0, s * width, knots * width);
      for (let t = knots - s; t < knots; t++) a.copyWithin(t * width, (knots - s - 1) * width, (knots - s) * width);
    };
    shift(this.#actions, nu, T);
    shift(this.#m, nu, T);
    shift(this.#v, nu, T);
    shift(this.#states, nx, T + 1);
  }

  /** The total cost J of states (T+1) × nx and actions T × nu. */
  trajectoryCost(states: Float64Array, actions: Float64Array): number {
    const { nx, nu, horizon: T } = this;
    let total = 0;
    for (let t = 0; t < T; t++)
      total += this.#cost.value(states.subarray(t * nx, (t + 1) * nx), actions.subarray(t * nu, (t + 1) * nu));
    return total + this.#cost.value(states.subarray(T * nx, (T + 1) * nx), undefined);
  }

  /** Roll out `actions` from x0 into `states`, one knot at a time; the cost (Infinity when not finite). */
  rollout(x0: Float64Array, actions: Float64Array, states: Float64Array): number {
    const { nx, nu, horizon: T } = this;
    states.set(x0, 0);
    for (let t = 0; t < T; t++)
      this.#dynamics.step(
        states.subarray(t * nx, (t + 1) * nx),
        actions.subarray(t * nu, (t + 1) * nu),
        1,
        states.subarray((t + 1) * nx, (t + 2) * nx),
      );
    const cost = this.trajectoryCost(states, actions);
    return Number.isFinite(cost) && states.every(Number.isFinite) ? cost : Infinity;
  }

  /**
   * ∂J/∂u into `out` (T × nu) by the adjoint recursion along `states` (a rollout of `actions`):
   * one batched linearize over the T knots, then the backward sweep. Returns [linearize ms, adjoint ms].
   */
  #adjoint(states: Float64Array, actions: Float64Array, out: Float64Array): [number, number] {
    const { nx, nu, horizon: T } = this;
    let t0 = performance.now();
    this.#dynamics.linearize(states.subarray(0, T * nx), actions, T, this.#next, this.#A, this.#B);
    const linearizeMs = performance.now() - t0;
    t0 = performance.now();
    const d = this.#d;
    const lambda = this.#lambda;
    const next = this.#lambdaNext;
    this.#cost.derivatives(states.subarray(T * nx, (T + 1) * nx), undefined, d);
    next.set(d.lx);
    for (let t = T - 1; t >= 0; t--) {
      this.#cost.derivatives(states.subarray(t * nx, (t + 1) * nx), actions.subarray(t * nu, (t + 1) * nu), d);
      const g = out.subarray(t * nu, (t + 1) * nu);
      // ∂J/∂u_t = l_u + B_tᵀ λ_{t+1}
      g.set(d.lu);
      matTVec(this.#B.subarray(t * nx * nu, (t + 1) * nx * nu), next, nx, nu, g, true);
      // λ_t = l_x + A_tᵀ λ_{t+1}
      lambda.set(d.lx);
      matTVec(this.#A.subarray(t * nx * nx, (t + 1) * nx * nx), next, nx, nx, lambda, true);
      next.set(lambda);
    }
    return [linearizeMs, performance.now() - t0];
  }

  /**
   * The total cost of `actions` (default: the nominal) from x0 and its gradient ∂J/∂u into `out`
   * (T × nu), without changing the plan.
   */
  gradient(x0: Float64Array, out: Float64Array, actions: Float64Array = this.#actions): number {
    const { nu, horizon: T } = this;
    this.#checkState(x0);
    if (out.length !== T * nu) throw new Error(`gradient shooting: the gradient has ${T * nu} entries`);
    const cost = this.rollout(x0, actions, this.#scratchStates);
    this.#adjoint(this.#scratchStates, actions, out);
    return cost;
  }

  #checkState(x0: Float64Array): void {
    if (x0.length !== this.nx)
      throw new Error(`gradient shooting: the state has ${x0.length} values, expected ${this.nx}`);
  }

  #project(u: Float64Array): void {
    const limits = this.#limits;
    if (!limits) return;
    for (let i = 0; i < u.length; i++) u[i] = Math.min(limits.high[i]!, Math.max(limits.low[i]!, u[i]!));
  }

  /** One projected Adam step on the nominal actions along this.#gradient (Kingma & Ba 2015, Algorithm 1). */
  #adamStep(): void {
    const { nu, horizon: T } = this;
    const b1 = this.#beta1;
    const b2 = this.#beta2;
    this.#steps++;
    const c1 = 1 - b1 ** this.#steps;
    const c2 = 1 - b2 ** this.#steps;
    const g = this.#gradient;
    const m = this.#m;
    const v = this.#v;
    const u = this.#actions;
    for (let k = 0; k < T * nu; k++) {
      const gk = g[k]!;
      m[k] = b1 * m[k]! + (1 - b1) * gk;
      v[k] = b2 * v[k]! + (1 - b2) * gk * gk;
      const mHat = m[k]! / c1;
      const vHat = v[k]! / c2;
      u[k] = u[k]! - (this.#stepScale[k % nu]! * mHat) / (Math.sqrt(vHat) + this.#epsilon);
    }
    for (let t = 0; t < T; t++) this.#project(u.subarray(t * nu, (t + 1) * nu));
  }

  /**
   * Plan from x0: roll out the (warm-started) nominal, then up to `iterations` times linearise,
   * take the adjoint gradient and a projected Adam step, and roll out again. The nominal is then the
   * lowest-cost iterate seen (Adam's steps do not always lower the cost); an iterate whose rollout
   * is not finite ends the plan, and Adam's moments are forgotten.
   */
  iterate(x0: Float64Array, iterations: number): GradientReport {
    this.#checkState(x0);
    const { nu, horizon: T } = this;
    const start = performance.now();
    let rolloutMs = 0;
    let linearizeMs = 0;
    let adjointMs = 0;
    let t0 = performance.now();
    let cost = this.rollout(x0, this.#actions, this.#states);
    rolloutMs += performance.now() - t0;
    const initialCost = cost;
    let best = cost;
    this.#bestActions.set(this.#actions);
    this.#bestStates.set(this.#states);
    let stop: GradientStopReason = 'iterations';
    let done = 0;
    let linearised = false;
    if (!Number.isFinite(cost)) stop = 'non_finite';
    else
      for (; done < iterations; done++) {
        const [lin, adj] = this.#adjoint(this.#states, this.#actions, this.#gradient);
        linearizeMs += lin;
        adjointMs += adj;
        linearised = true;
        this.#adamStep();
        t0 = performance.now();
        cost = this.rollout(x0, this.#actions, this.#states);
        rolloutMs += performance.now() - t0;
        if (!Number.isFinite(cost)) {
          stop = 'non_finite';
          this.#m.fill(0);
          this.#v.fill(0);
          this.#steps = 0;
          done++;
          break;
        }
        if (cost < best) {
          best = cost;
          this.#bestActions.set(this.#actions);
          this.#bestStates.set(this.#states);
        }
      }
    if (!(cost <= best)) {
      this.#actions.set(this.#bestActions);
      this.#states.set(this.#bestStates);
      cost = best;
    }
    let total = 0;
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let i = 0; i < nu; i++) s += this.#gradient[t * nu + i]! ** 2;
      this.#norms[t] = linearised ? Math.sqrt(s) : Number.NaN;
      total += s;
    }
    let clamped = 0;
    const limits = this.#limits;
    if (limits)
      for (let k = 0; k < T * nu; k++) {
        const u = this.#actions[k]!;
        if (u <= limits.low[k % nu]! || u >= limits.high[k % nu]!) clamped++;
      }
    return {
      iterations: done,
      initialCost,
      cost,
      stop,
      gradientNorm: linearised ? Math.sqrt(total) : Number.NaN,
      firstGradientNorm: this.#norms[0]!,
      lastGradientNorm: this.#norms[T - 1]!,
      gradientNorms: this.#norms.slice(),
      clampedActions: clamped,
      rolloutMs,
      linearizeMs,
      adjointMs,
      totalMs: performance.now() - start,
    };
  }
}
