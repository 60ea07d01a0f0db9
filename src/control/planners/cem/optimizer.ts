import { Rng } from '../../../util/random.js';
import type { TrajectoryEvaluator } from '../sampling/evaluator.js';
import type { ActionOptimizer, OptimizeBudget, OptimizeResult } from '../sampling/optimizer.js';
import { IterationBudget } from '../sampling/budget.js';
import { clipToBounds } from '../sampling/bounds.js';
import { eliteIndices, refit } from '../sampling/elites.js';
import { Incumbent } from '../sampling/incumbent.js';
import { PolicyProposals, checkPolicyShare } from '../sampling/policy_proposals.js';
import { problemShape } from '../sampling/shape.js';
import { initialStd, inRange, positiveInteger } from '../sampling/settings.js';

// The cross-entropy method as PETS and mbrl-lib run it: a diagonal Gaussian over the whole
// sequence, centred on the warm start; each iteration samples a population, keeps the elites,
// and moves the Gaussian toward them with momentum α. Samples are clipped to the action bounds
// (PETS truncates instead; clipping lets an optimum on a bound be reached exactly). Returns the
// best sequence evaluated, not the final mean (mbrl-lib's default). The std restarts from its
// initial value at every call, so a shifted warm start can still move; the warm start itself is
// one of the first population (not in mbrl-lib), so a replan is never worse than the old plan.
// With a policy share, the last ⌈share · N⌉ samples of every iteration are the evaluator's policy
// sequences (../sampling/policy_proposals.ts), made once per call.

export interface CemSettings {
  readonly populationSize: number;
  /** elites as a fraction of the population (rounded up), unless `eliteCount` is given */
  readonly eliteRatio: number;
  readonly eliteCount?: number;
  readonly iterations: number;
  /** momentum: new = α·old + (1 − α)·elite statistic, for mean and variance */
  readonly alpha: number;
  /** initial std per action dimension (one value for all); default (high − low) / 4 */
  readonly initialStd?: number | readonly number[];
  /** floor of the std, so the search never stops exploring (0: none, as mbrl-lib) */
  readonly minStd: number;
  /** evaluate the warm start as one of the first population */
  readonly includeWarmStart: boolean;
  /** share of each population replaced by the evaluator's policy sequences (0: none) */
  readonly policyShare: number;
  readonly seed: number;
}

/** mbrl-lib PETS (pop 350) and PETS cartpole/reacher (pop 400, 40 elites): 10% elites, 5 iterations, α 0.1. */
export const CEM_DEFAULTS: CemSettings = {
  populationSize: 400,
  eliteRatio: 0.1,
  iterations: 5,
  alpha: 0.1,
  minStd: 0,
  includeWarmStart: true,
  policyShare: 0,
  seed: 1,
};

export class CemOptimizer implements ActionOptimizer {
  readonly name = 'cem';
  readonly settings: CemSettings;
  readonly #elites: number;
  readonly #rng: Rng;
  #population = new Float32Array(0);

  constructor(settings: Partial<CemSettings> = {}) {
    const s = { ...CEM_DEFAULTS, ...settings };
    positiveInteger('CEM', 'population_size', s.populationSize);
    positiveInteger('CEM', 'iterations', s.iterations);
    inRange('CEM', 'alpha', s.alpha, 0, 1, { low: true, high: false });
    inRange('CEM', 'min_std', s.minStd, 0, Infinity);
    checkPolicyShare('CEM', s.policyShare);
    this.#elites =
      s.eliteCount ??
      Math.ceil(inRange('CEM', 'elite_ratio', s.eliteRatio, 0, 1, { low: false, high: true }) * s.populationSize);
    positiveInteger('CEM', 'elite_count', this.#elites);
    if (this.#elites > s.populationSize)
      throw new Error(`CEM: ${this.#elites} elites from a population of ${s.populationSize}`);
    this.settings = s;
    this.#rng = new Rng(s.seed);
  }

  get eliteCount(): number {
    return this.#elites;
  }

  optimize(evaluator: TrajectoryEvaluator, warmStart: Float32Array, budget?: OptimizeBudget): OptimizeResult {
    const { horizon, size, low, high } = problemShape(evaluator, warmStart, 'CEM');
    const n = this.settings.populationSize;
    const start = clipToBounds(Float32Array.from(warmStart), low, high);
    const mean = Float32Array.from(start);
    const std = initialStd(this.settings.initialStd, low, high, horizon, 'CEM');
    const variance = std.map((s) => s * s);
    if (this.#population.length !== n * size) this.#population = new Float32Array(n * size);
    const population = this.#population;
    const elites = new Uint32Array(this.#elites);
    const incumbent = new Incumbent(size);
    incumbent.reset(mean);
    const iterations = new IterationBudget(budget, this.settings.iterations);
    const proposals = PolicyProposals.from(evaluator, this.settings.policyShare, n);
    let i = 0;
    for (; iterations.allows(i); i++) {
      for (let s = 0; s < n; s++) {
        for (let d = 0; d < size; d++) population[s * size + d] = mean[d]! + std[d]! * this.#rng.normal();
      }
      clipToBounds(population, low, high);
      if (proposals) proposals.placeLast(population, n, proposals.count);
      if (i === 0 && this.settings.includeWarmStart) population.set(start, 0);
      const costs = incumbent.evaluate(evaluator, population, n);
      eliteIndices(costs, this.#elites, elites);
      refit(population, size, elites, this.settings.alpha, this.settings.minStd, mean, variance, std);
    }
    return {
      best: Float32Array.from(incumbent.best),
      bestCost: incumbent.cost,
      iterations: i,
      evaluations: incumbent.evaluations,
    };
  }
}
