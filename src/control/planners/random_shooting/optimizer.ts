import { Rng } from '../../../util/random.js';
import type { TrajectoryEvaluator } from '../sampling/evaluator.js';
import type { ActionOptimizer, OptimizeBudget, OptimizeResult } from '../sampling/optimizer.js';
import { IterationBudget } from '../sampling/budget.js';
import { clipToBounds } from '../sampling/bounds.js';
import { Incumbent } from '../sampling/incumbent.js';
import { problemShape } from '../sampling/shape.js';
import { positiveInteger } from '../sampling/settings.js';

// Random shooting: sequences drawn uniformly inside the action bounds, the cheapest one wins. The
// baseline every other sampling planner must beat. The warm start (the previous plan, shifted) is
// a candidate too, so replanning never throws away a plan that is still the best known.

export interface RandomShootingSettings {
  /** sequences per iteration */
  readonly samples: number;
  /** batches of `samples` per optimisation (each a fresh draw; the best over all is kept) */
  readonly iterations: number;
  readonly includeWarmStart: boolean;
  readonly seed: number;
}

export const RANDOM_SHOOTING_DEFAULTS: RandomShootingSettings = {
  samples: 400,
  iterations: 1,
  includeWarmStart: true,
  seed: 1,
};

export class RandomShootingOptimizer implements ActionOptimizer {
  readonly name = 'random_shooting';
  readonly settings: RandomShootingSettings;
  readonly #rng: Rng;
  #population = new Float32Array(0);

  constructor(settings: Partial<RandomShootingSettings> = {}) {
    this.settings = { ...RANDOM_SHOOTING_DEFAULTS, ...settings };
    positiveInteger('random shooting', 'samples', this.settings.samples);
    positiveInteger('random shooting', 'iterations', this.settings.iterations);
    this.#rng = new Rng(this.settings.seed);
  }

  optimize(evaluator: TrajectoryEvaluator, warmStart: Float32Array, budget?: OptimizeBudget): OptimizeResult {
    const { size, nu, low, high } = problemShape(evaluator, warmStart, 'random shooting');
    const n = this.settings.samples;
    if (this.#population.length !== n * size) this.#population = new Float32Array(n * size);
    const population = this.#population;
    const start = clipToBounds(Float32Array.from(warmStart), low, high);
    const incumbent = new Incumbent(size);
    incumbent.reset(start);
    const iterations = new IterationBudget(budget, this.settings.iterations);
    let i = 0;
    for (; iterations.allows(i); i++) {
      for (let e = 0; e < n * size; e++) {
        const j = e % nu;
        population[e] = low[j]! + (high[j]! - low[j]!) * this.#rng.uniform();
      }
      if (i === 0 && this.settings.includeWarmStart) population.set(start, 0);
      incumbent.evaluate(evaluator, population, n);
    }
    return {
      best: Float32Array.from(incumbent.best),
      bestCost: incumbent.cost,
      iterations: i,
      evaluations: incumbent.evaluations,
    };
  }
}
