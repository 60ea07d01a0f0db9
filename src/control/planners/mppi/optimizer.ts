import { Rng } from '../../../util/random.js';
import type { TrajectoryEvaluator } from '../sampling/evaluator.js';
import type { ActionOptimizer, OptimizeBudget, OptimizeResult } from '../sampling/optimizer.js';
import { IterationBudget } from '../sampling/budget.js';
import { clipToBounds } from '../sampling/bounds.js';
import { Incumbent } from '../sampling/incumbent.js';
import { PolicyProposals, checkPolicyShare } from '../sampling/policy_proposals.js';
import { problemShape } from '../sampling/shape.js';
import { initialStd, inRange, positiveInteger } from '../sampling/settings.js';

// Model predictive path integral control (Williams et al.; the PDDM / mbrl-lib form): perturb
// the nominal sequence with Gaussian noise, weight each sample by exp(−(c − c_min)/λ), and move
// the nominal by the weighted mean of the noise (then clip it). Noise is drawn per step and smoothed along time,
// n_t = β ε_t + (1 − β) n_{t−1} (β = 1: independent per step), so samples are less jittery; the
// new nominal can also be smoothed with a moving average. The nominal itself is sample 0, and
// the final nominal is evaluated once more, so the plan returned is the best sequence evaluated.
// λ is in cost units: it must match the scale of the evaluator's costs.
// With a policy share, the last ⌈share · (N − 1)⌉ samples (never the nominal, sample 0) are the
// evaluator's policy sequences (../sampling/policy_proposals.ts), made once per call, as TD-MPC and
// TD-MPC2 mix their policy's trajectories into MPPI's; their noise is their offset from the
// nominal, so the weighted update moves toward a cheap proposal as toward a cheap sample.

export interface MppiSettings {
  readonly samples: number;
  readonly iterations: number;
  /** λ: small → the best sample dominates; large → a plain average */
  readonly temperature: number;
  /** σ per action dimension (one value for all); default (high − low) / 4 */
  readonly noiseStd?: number | readonly number[];
  /** β of the noise filter along time, in (0, 1] */
  readonly noiseSmoothing: number;
  /** width (steps, odd) of a centred moving average over the updated nominal; 1: none */
  readonly filterWindow: number;
  /** share of each iteration's samples replaced by the evaluator's policy sequences (0: none) */
  readonly policyShare: number;
  readonly seed: number;
}

/** PDDM / mbrl-lib: γ = 1/λ = 10, β = 0.9; population and iterations as CEM's. */
export const MPPI_DEFAULTS: MppiSettings = {
  samples: 400,
  iterations: 5,
  temperature: 0.1,
  noiseSmoothing: 0.9,
  filterWindow: 1,
  policyShare: 0,
  seed: 1,
};

export class MppiOptimizer implements ActionOptimizer {
  readonly name = 'mppi';
  readonly settings: MppiSettings;
  readonly #rng: Rng;
  #population = new Float32Array(0);
  #noise = new Float32Array(0);

  constructor(settings: Partial<MppiSettings> = {}) {
    const s = { ...MPPI_DEFAULTS, ...settings };
    positiveInteger('MPPI', 'samples', s.samples);
    positiveInteger('MPPI', 'iterations', s.iterations);
    inRange('MPPI', 'temperature', s.temperature, 0, Infinity, { low: false, high: false });
    inRange('MPPI', 'noise_smoothing', s.noiseSmoothing, 0, 1, { low: false, high: true });
    if (positiveInteger('MPPI', 'filter_window', s.filterWindow) % 2 === 0)
      throw new Error(`MPPI: filter_window must be odd (a centred average), got ${s.filterWindow}`);
    checkPolicyShare('MPPI', s.policyShare);
    this.settings = s;
    this.#rng = new Rng(s.seed);
  }

  optimize(evaluator: TrajectoryEvaluator, warmStart: Float32Array, budget?: OptimizeBudget): OptimizeResult {
    const { horizon, nu, size, low, high } = problemShape(evaluator, warmStart, 'MPPI');
    const { samples: n, temperature, noiseSmoothing: beta } = this.settings;
    const sigma = initialStd(this.settings.noiseStd, low, high, 1, 'MPPI');
    const nominal = clipToBounds(Float32Array.from(warmStart), low, high);
    if (this.#population.length !== n * size) {
      this.#population = new Float32Array(n * size);
      this.#noise = new Float32Array(n * size);
    }
    const population = this.#population;
    const noise = this.#noise;
    const step = new Float64Array(size);
    const incumbent = new Incumbent(size);
    incumbent.reset(nominal);
    const iterations = new IterationBudget(budget, this.settings.iterations);
    // sample 0 stays the nominal
    const proposals = PolicyProposals.from(evaluator, this.settings.policyShare, n - 1);
    let i = 0;
    for (; iterations.allows(i); i++) {
      noise.fill(0, 0, size); // sample 0 is the nominal itself
      for (let s = 1; s < n; s++) {
        for (let j = 0; j < nu; j++) {
          let filtered = 0;
          for (let t = 0; t < horizon; t++) {
            const e = sigma[j]! * this.#rng.normal();
            filtered = t === 0 ? e : beta * e + (1 - beta) * filtered;
            noise[s * size + t * nu + j] = filtered;
          }
        }
      }
      for (let e = 0; e < n * size; e++) population[e] = nominal[e % size]! + noise[e]!;
      clipToBounds(population, low, high);
      if (proposals) {
        proposals.placeLast(population, n, proposals.count);
        for (let e = (n - proposals.count) * size; e < n * size; e++) noise[e] = population[e]! - nominal[e % size]!;
      }
      const costs = incumbent.evaluate(evaluator, population, n);
      let cMin = Infinity;
      for (let s = 0; s < n; s++) cMin = Math.min(cMin, costs[s]!);
      if (!Number.isFinite(cMin)) continue; // every rollout diverged: keep the nominal
      // average the noise, not the clipped samples: on a bound, clipped samples can only pull
      // inward, the noise pushes outward as long as outward is no worse; clip the nominal after
      step.fill(0);
      let total = 0;
      for (let s = 0; s < n; s++) {
        const w = Math.exp(-(costs[s]! - cMin) / temperature);
        if (w === 0) continue;
        total += w;
        for (let d = 0; d < size; d++) step[d]! += w * noise[s * size + d]!;
      }
      for (let d = 0; d < size; d++) nominal[d] = nominal[d]! + step[d]! / total;
      if (this.settings.filterWindow > 1) movingAverage(nominal, nu, this.settings.filterWindow);
      clipToBounds(nominal, low, high);
    }
    incumbent.evaluate(evaluator, nominal, 1);
    return {
      best: Float32Array.from(incumbent.best),
      bestCost: incumbent.cost,
      iterations: i,
      evaluations: incumbent.evaluations,
    };
  }
}

/** Centred moving average along time, per action dimension, the window shrunk at the ends. */
function movingAverage(sequence: Float32Array, nu: number, window: number): void {
  const horizon = sequence.length / nu;
  const half = (window - 1) / 2;
  const source = Float32Array.from(sequence);
  for (let t = 0; t < horizon; t++) {
    const from = Math.max(0, t - half);
    const to = Math.min(horizon - 1, t + half);
    for (let j = 0; j < nu; j++) {
      let sum = 0;
      for (let u = from; u <= to; u++) sum += source[u * nu + j]!;
      sequence[t * nu + j] = sum / (to - from + 1);
    }
  }
}
