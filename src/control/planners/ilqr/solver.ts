import type { TrajectoryDynamics } from '../trajectory/dynamics.js';
import { stageDerivatives, type ResidualCost, type StageDerivatives } from '../trajectory/residual_cost.js';
import { BackwardPass } from './backward_pass.js';

// Iterative LQR (Li & Todorov 2004; Tassa, Erez & Todorov 2012; the model-based RL lectures'
// "linearise about the current trajectory, LQR backward pass, forward pass, repeat"), as MuJoCo
// MPC's iLQG planner runs it: each iteration
//  1. linearises the dynamics along the nominal trajectory (A_t, B_t) and takes the cost's
//     Gauss–Newton derivatives (../trajectory/residual_cost.ts);
//  2. runs the regularised, control-limited backward pass (./backward_pass.ts); a failure (Q_uu
//     not positive definite) raises μ and tries again;
//  3. line-searches the forward pass u = û + α k + K (x − x̂) (clamped to the control limits) from
//     the current state over α = 1, ½, ¼, …, accepting the first α whose actual cost decrease is at
//     least `acceptRatio` of the expected one (α ΔV₁ + α² ΔV₂); a step that does not decrease the
//     cost is never accepted. Acceptance lowers μ, rejection of every α raises it (the Levenberg–
//     Marquardt schedule of Tassa 2012: Δ ← max(Δ₀, Δ·Δ₀), μ ← max(μ_min, μ·Δ) on failure;
//     Δ ← min(1/Δ₀, Δ/Δ₀), μ ← μ·Δ (0 below μ_min) on success);
//  4. stops early when the relative cost decrease or the feedforward's size falls below tolerance.
// Between plans, warmStart() moves the solution on by the time that passed, so the next plan starts
// from the previous one (MuJoCo MPC's "nominal policy" shifted to the new time); the first rollout
// of a plan follows the shifted feedback policy from the new state.

export interface IlqrSettings {
  /** knots of the plan (its steps of one control period) */
  readonly horizon: number;
  /** the control limits the box QP keeps k within (absent: unconstrained) */
  readonly controlLimits?: { readonly low: Float64Array; readonly high: Float64Array };
  /** μ after a reset; default 0 */
  readonly initialRegularization?: number;
  /** default 1e-6 */
  readonly minRegularization?: number;
  /** default 1e10: above it an iteration gives up */
  readonly maxRegularization?: number;
  /** Δ₀; default 1.6 (Tassa 2012) */
  readonly regularizationFactor?: number;
  /** backtracking factor of the line search; default 0.5 */
  readonly lineSearchFactor?: number;
  /** line search steps; default 10 (α down to 0.5⁹ ≈ 0.002) */
  readonly lineSearchSteps?: number;
  /** accept a step whose actual decrease is this share of the expected; default 1e-4 */
  readonly acceptRatio?: number;
  /** converged when the cost falls by less than this share in an iteration; default 1e-6 */
  readonly costTolerance?: number;
  /** converged when mean_t max_i |k_ti| / (|û_ti| + 1) falls below this; default 1e-5 */
  readonly gradientTolerance?: number;
}

export type StopReason = 'iterations' | 'converged_cost' | 'converged_gradient' | 'regularization' | 'no_descent';

export interface IterationReport {
  readonly iterations: number;
  /** the cost of the first rollout from the state, and of the final nominal */
  readonly initialCost: number;
  readonly cost: number;
  readonly stop: StopReason;
  readonly regularization: number;
  /** the last accepted step size (0: none accepted) */
  readonly alpha: number;
  /** milliseconds in each part */
  readonly linearizeMs: number;
  readonly backwardMs: number;
  readonly forwardMs: number;
  /** steps where a control limit clamped k, in the last backward pass */
  readonly clampedSteps: number;
  /** iterations whose step was rejected (every α), and backward passes that failed */
  readonly rejectedSteps: number;
  readonly failedBackwardPasses: number;
}

export class IlqrSolver {
  readonly nx: number;
  readonly nu: number;
  readonly horizon: number;
  #dynamics: TrajectoryDynamics;
  #cost: ResidualCost;
  readonly #s: Required<Omit<IlqrSettings, 'controlLimits'>> & Pick<IlqrSettings, 'controlLimits'>;
  /** nominal (T+1) × nx states and T × nu actions, and the candidate a line search builds */
  #states: Float64Array;
  #actions: Float64Array;
  #candidateStates: Float64Array;
  #candidateActions: Float64Array;
  /** the gains of the last backward pass, used by the warm-started first rollout */
  readonly #gains: Float64Array;
  #hasGains = false;
  readonly #pass: BackwardPass;
  readonly #A: Float64Array;
  readonly #B: Float64Array;
  readonly #next: Float64Array;
  readonly #derivatives: StageDerivatives[];
  #mu: number;
  #delta = 1;

  constructor(dynamics: TrajectoryDynamics, cost: ResidualCost, settings: IlqrSettings) {
    const { nx, nu } = dynamics;
    if (cost.nx !== nx || cost.nu !== nu)
      throw new Error(`iLQR: the cost is for nx=${cost.nx}, nu=${cost.nu}, the dynamics are nx=${nx}, nu=${nu}`);
    const T = settings.horizon;
    if (!Number.isInteger(T) || T < 1) throw new Error(`iLQR: the horizon must be a positive integer, got ${T}`);
    const limits = settings.controlLimits;
    if (limits && (limits.low.length !== nu || limits.high.length !== nu))
      throw new Error(`iLQR: control limits need ${nu} values each`);
    this.nx = nx;
    this.nu = nu;
    this.horizon = T;
    this.#dynamics = dynamics;
    this.#cost = cost;
    this.#s = {
      horizon: T,
      controlLimits: limits,
      initialRegularization: settings.initialRegularization ?? 0,
      minRegularization: settings.minRegularization ?? 1e-6,
      maxRegularization: settings.maxRegularization ?? 1e10,
      regularizationFactor: settings.regularizationFactor ?? 1.6,
      lineSearchFactor: settings.lineSearchFactor ?? 0.5,
      lineSearchSteps: settings.lineSearchSteps ?? 10,
      acceptRatio: settings.acceptRatio ?? 1e-4,
      costTolerance: settings.costTolerance ?? 1e-6,
      gradientTolerance: settings.gradientTolerance ?? 1e-5,
    };
    this.#states = new Float64Array((T + 1) * nx);
    this.#actions = new Float64Array(T * nu);
    this.#candidateStates = new Float64Array((T + 1) * nx);
    this.#candidateActions = new Float64Array(T * nu);
    this.#gains = new Float64Array(T * nu * nx);
    this.#pass = new BackwardPass(nx, nu, T);
    this.#A = new Float64Array(T * nx * nx);
    this.#B = new Float64Array(T * nx * nu);
    this.#next = new Float64Array(T * nx);
    this.#derivatives = Array.from({ length: T + 1 }, () => stageDerivatives(nx, nu));
    this.#mu = this.#s.initialRegularization;
    if (limits) for (let t = 0; t < T; t++) this.#actions.set(clampInto(new Float64Array(nu), limits), t * nu);
  }

  /** (T+1) × nx nominal states of the last plan */
  get states(): Float64Array {
    return this.#states;
  }

  /** T × nu nominal actions of the last plan */
  get actions(): Float64Array {
    return this.#actions;
  }

  /** T × (nu × nx) feedback gains of the last accepted backward pass */
  get gains(): Float64Array {
    return this.#gains;
  }

  /** Plan with other dynamics from now on (a new learned model); the warm start is kept. */
  set dynamics(d: TrajectoryDynamics) {
    if (d.nx !== this.nx || d.nu !== this.nu)
      throw new Error(`iLQR: new dynamics are nx=${d.nx}, nu=${d.nu}, the plan's nx=${this.nx}, nu=${this.nu}`);
    this.#dynamics = d;
  }

  get dynamics(): TrajectoryDynamics {
    return this.#dynamics;
  }

  /** Minimise another cost from now on (a new goal); the warm start is kept. */
  set cost(c: ResidualCost) {
    if (c.nx !== this.nx || c.nu !== this.nu)
      throw new Error(`iLQR: the cost is for nx=${c.nx}, nu=${c.nu}, the plan's nx=${this.nx}, nu=${this.nu}`);
    this.#cost = c;
  }

  get cost(): ResidualCost {
    return this.#cost;
  }

  get regularization(): number {
    return this.#mu;
  }

  /** Forget the warm start: nominal actions `actions` (T × nu, default the middle of the limits or 0). */
  reset(actions?: Float64Array): void {
    const { nu, horizon: T } = this;
    if (actions) {
      if (actions.length !== T * nu) throw new Error(`iLQR: ${T * nu} nominal actions expected, got ${actions.length}`);
      this.#actions.set(actions);
    } else {
      this.#actions.fill(0);
      const limits = this.#s.controlLimits;
      if (limits) for (let t = 0; t < T; t++) clampInto(this.#actions.subarray(t * nu, (t + 1) * nu), limits);
    }
    this.#hasGains = false;
    this.#gains.fill(0);
    this.#mu = this.#s.initialRegularization;
    this.#delta = 1;
  }

  /**
   * Move the solution on by `steps` control periods (a warm start for a plan that starts that much
   * later): knot t takes knot t + steps, the last knots repeat the final one.
   */
  warmStart(steps: number): void {
    if (steps <= 0) return;
    const { nx, nu, horizon: T } = this;
    const s = Math.min(steps, T);
    const shift = (a: Float64Array, width: number, knots: number): void => {
      a.copyWithin(0, s * width, knots * width);
      for (let t = knots - s; t < knots; t++) a.copyWithin(t * width, (knots - s - 1) * width, (knots - s) * width);
    };
    if (s < T) {
      shift(this.#actions, nu, T);
      shift(this.#gains, nu * nx, T);
      shift(this.#states, nx, T + 1);
    }
  }

  /** The cost of the nominal trajectory. */
  trajectoryCost(states: Float64Array, actions: Float64Array): number {
    const { nx, nu, horizon: T } = this;
    let total = 0;
    for (let t = 0; t < T; t++) {
      total += this.#cost.value(states.subarray(t * nx, (t + 1) * nx), actions.subarray(t * nu, (t + 1) * nu));
    }
    return total + this.#cost.value(states.subarray(T * nx, (T + 1) * nx), undefined);
  }

  /**
   * Roll out from x0 with u_t = clamp(û_t + α k_t + K_t (x_t − x̂_t)) into the candidate arrays
   * (feedback only when `feedback`), returning its cost.
   */
  #rollout(x0: Float64Array, alpha: number, useK: boolean, feedforward: Float64Array | undefined): number {
    const { nx, nu, horizon: T } = this;
    const xs = this.#candidateStates;
    const us = this.#candidateActions;
    xs.set(x0, 0);
    const limits = this.#s.controlLimits;
    const gains = useK ? (feedforward ? this.#pass.K : this.#gains) : undefined;
    for (let t = 0; t < T; t++) {
      const x = xs.subarray(t * nx, (t + 1) * nx);
      const u = us.subarray(t * nu, (t + 1) * nu);
      for (let i = 0; i < nu; i++) {
        let v = this.#actions[t * nu + i]! + (feedforward ? alpha * feedforward[t * nu + i]! : 0);
        if (gains) {
          const row = (t * nu + i) * nx;
          for (let j = 0; j < nx; j++) v += gains[row + j]! * (x[j]! - this.#states[t * nx + j]!);
        }
        u[i] = v;
      }
      if (limits) clampInto(u, limits);
      this.#dynamics.step(x, u, 1, xs.subarray((t + 1) * nx, (t + 2) * nx));
    }
    let cost = this.trajectoryCost(xs, us);
    if (!Number.isFinite(cost) || !xs.every(Number.isFinite)) cost = Infinity;
    return cost;
  }

  #accept(): void {
    [this.#states, this.#candidateStates] = [this.#candidateStates, this.#states];
    [this.#actions, this.#candidateActions] = [this.#candidateActions, this.#actions];
  }

  #raise(): boolean {
    const { regularizationFactor: f, minRegularization: min, maxRegularization: max } = this.#s;
    this.#delta = Math.max(f, this.#delta * f);
    this.#mu = Math.max(min, this.#mu * this.#delta);
    return this.#mu <= max;
  }

  #lower(): void {
    const { regularizationFactor: f, minRegularization: min } = this.#s;
    this.#delta = Math.min(1 / f, this.#delta / f);
    this.#mu = this.#mu * this.#delta > min ? this.#mu * this.#delta : 0;
  }

  /**
   * Plan from x0: a first rollout of the warm-started policy, then up to `iterations` iLQR
   * iterations. The nominal trajectory, actions and gains describe the result.
   */
  iterate(x0: Float64Array, iterations: number): IterationReport {
    const { nx, nu, horizon: T } = this;
    if (x0.length !== nx) throw new Error(`iLQR: the state has ${x0.length} values, expected ${nx}`);
    let forwardMs = 0;
    let linearizeMs = 0;
    let backwardMs = 0;
    let t0 = performance.now();
    let cost = this.#rollout(x0, 0, this.#hasGains, undefined);
    if (!Number.isFinite(cost) && this.#hasGains) cost = this.#rollout(x0, 0, false, undefined);
    this.#accept();
    forwardMs += performance.now() - t0;
    const initialCost = cost;
    let stop: StopReason = 'iterations';
    let alphaAccepted = 0;
    let clampedSteps = 0;
    let rejectedSteps = 0;
    let failedBackwardPasses = 0;
    let done = 0;
    for (; done < iterations; done++) {
      // 1. derivatives along the nominal
      t0 = performance.now();
      this.#dynamics.linearize(this.#states.subarray(0, T * nx), this.#actions, T, this.#next, this.#A, this.#B);
      for (let t = 0; t < T; t++)
        this.#cost.derivatives(
          this.#states.subarray(t * nx, (t + 1) * nx),
          this.#actions.subarray(t * nu, (t + 1) * nu),
          this.#derivatives[t]!,
        );
      this.#cost.derivatives(this.#states.subarray(T * nx, (T + 1) * nx), undefined, this.#derivatives[T]!);
      linearizeMs += performance.now() - t0;
      // 2. backward pass, raising μ until it succeeds
      t0 = performance.now();
      const derivatives = { A: this.#A, B: this.#B, cost: this.#derivatives };
      let pass = this.#pass.run(derivatives, this.#mu, this.#actions, this.#s.controlLimits);
      while (!pass.ok) {
        failedBackwardPasses++;
        if (!this.#raise()) break;
        pass = this.#pass.run(derivatives, this.#mu, this.#actions, this.#s.controlLimits);
      }
      backwardMs += performance.now() - t0;
      if (!pass.ok) {
        stop = 'regularization';
        done++;
        break;
      }
      clampedSteps = pass.clampedSteps;
      // converged by the size of the step
      let gradient = 0;
      for (let t = 0; t < T; t++) {
        let m = 0;
        for (let i = 0; i < nu; i++)
          m = Math.max(m, Math.abs(this.#pass.k[t * nu + i]!) / (Math.abs(this.#actions[t * nu + i]!) + 1));
        gradient += m;
      }
      if (gradient / T < this.#s.gradientTolerance) {
        this.#gains.set(this.#pass.K);
        this.#hasGains = true;
        this.#lower();
        stop = 'converged_gradient';
        done++;
        break;
      }
      // 3. line search
      t0 = performance.now();
      let alpha = 1;
      let accepted = false;
      let newCost = cost;
      for (let s = 0; s < this.#s.lineSearchSteps; s++, alpha *= this.#s.lineSearchFactor) {
        newCost = this.#rollout(x0, alpha, true, this.#pass.k);
        const expected = -(alpha * pass.dV1 + alpha * alpha * pass.dV2);
        const actual = cost - newCost;
        const ratio = expected > 0 ? actual / expected : Math.sign(actual);
        if (actual > 0 && ratio > this.#s.acceptRatio) {
          accepted = true;
          break;
        }
      }
      forwardMs += performance.now() - t0;
      if (!accepted) {
        rejectedSteps++;
        if (!this.#raise()) {
          stop = 'regularization';
          done++;
          break;
        }
        continue;
      }
      this.#accept();
      this.#gains.set(this.#pass.K);
      this.#hasGains = true;
      alphaAccepted = alpha;
      this.#lower();
      const decrease = cost - newCost;
      cost = newCost;
      if (decrease < this.#s.costTolerance * Math.abs(cost)) {
        stop = 'converged_cost';
        done++;
        break;
      }
    }
    if (done === iterations && rejectedSteps === iterations && iterations > 0) stop = 'no_descent';
    return {
      iterations: done,
      initialCost,
      cost,
      stop,
      regularization: this.#mu,
      alpha: alphaAccepted,
      linearizeMs,
      backwardMs,
      forwardMs,
      clampedSteps,
      rejectedSteps,
      failedBackwardPasses,
    };
  }
}

/** Clamp u into the limits in place, returning it. */
export function clampInto(
  u: Float64Array,
  limits: { readonly low: Float64Array; readonly high: Float64Array },
): Float64Array {
  for (let i = 0; i < u.length; i++) u[i] = Math.min(limits.high[i]!, Math.max(limits.low[i]!, u[i]!));
  return u;
}
