import type { TrajectoryEvaluator } from './evaluator.js';

// The best sequence evaluated so far in one optimisation, and the count of evaluations: every
// batch goes through here, so each optimiser reports the same figures. A NaN cost (a rollout
// that diverged) counts as +∞: it is never the plan and never an elite.

export class Incumbent {
  readonly best: Float32Array;
  cost = Infinity;
  evaluations = 0;
  #costs = new Float32Array(0);

  constructor(readonly size: number) {
    this.best = new Float32Array(size);
  }

  /** Start over, holding `initial` (not yet evaluated) in case nothing finite is found. */
  reset(initial: Float32Array): void {
    this.best.set(initial);
    this.cost = Infinity;
    this.evaluations = 0;
  }

  /** Evaluate n sequences (n × size, row-major); the costs are valid until the next call. */
  evaluate(evaluator: TrajectoryEvaluator, sequences: Float32Array, n: number): Float32Array {
    const reported = evaluator.evaluate(sequences.subarray(0, n * this.size), n).cost;
    if (reported.length < n) throw new Error(`the evaluator returned ${reported.length} costs for ${n} sequences`);
    if (this.#costs.length < n) this.#costs = new Float32Array(n);
    const costs = this.#costs.subarray(0, n);
    for (let i = 0; i < n; i++) {
      const c = Number.isNaN(reported[i]!) ? Infinity : reported[i]!;
      costs[i] = c;
      if (c < this.cost) {
        this.cost = c;
        this.best.set(sequences.subarray(i * this.size, (i + 1) * this.size));
      }
    }
    this.evaluations += n;
    return costs;
  }
}
