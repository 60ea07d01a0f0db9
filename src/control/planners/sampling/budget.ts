import type { OptimizeBudget } from './optimizer.js';

// When an optimiser's iterations stop: a count (lockstep runs repeat exactly) or a wall-clock
// limit (real time). With only a time limit the count is unbounded, as in MJPC's planning loop.

export class IterationBudget {
  /** iterations to run unless time runs out first (may be Infinity) */
  readonly planned: number;
  readonly #deadline: number;

  constructor(budget: OptimizeBudget | undefined, defaultIterations: number) {
    const iterations = budget?.iterations ?? (budget?.timeMs !== undefined ? Infinity : defaultIterations);
    if (!(iterations >= 1) || (Number.isFinite(iterations) && !Number.isInteger(iterations))) {
      throw new Error(`sampling budget: iterations must be a positive integer, got ${iterations}`);
    }
    if (budget?.timeMs !== undefined && !(budget.timeMs >= 0))
      throw new Error(`sampling budget: time_ms must be ≥ 0, got ${budget.timeMs}`);
    this.planned = iterations;
    this.#deadline = budget?.timeMs !== undefined ? performance.now() + budget.timeMs : Infinity;
  }

  /** whether iteration `i` (from 0) may start */
  allows(i: number): boolean {
    return i < this.planned && (i === 0 || performance.now() < this.#deadline);
  }

  /** whether iteration `i` is the last planned one (known only under an iteration count) */
  isLast(i: number): boolean {
    return i === this.planned - 1;
  }
}
