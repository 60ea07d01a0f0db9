import type { SequenceCosts, StatefulEvaluator } from '../../../src/control/planners/sampling/evaluator.js';

// A test evaluator with a known optimum: cost = Σ_t Σ_j w_j (a_tj − a*_tj)². Inside the bounds
// the optimum is a* with cost 0; outside, the box and the separable cost make it clip(a*). It
// counts evaluations, records when a cost threshold was first reached, and checks every sequence
// it is asked about against the bounds.

export interface QuadraticProblem {
  readonly horizon: number;
  readonly low: readonly number[];
  readonly high: readonly number[];
  /** H × nu */
  readonly target: Float32Array;
  /** per action dimension; default 1 */
  readonly weights?: readonly number[];
}

export class QuadraticEvaluator implements StatefulEvaluator {
  readonly actionSize: number;
  readonly horizon: number;
  readonly actionLow: Float32Array;
  readonly actionHigh: Float32Array;
  target: Float32Array;
  readonly weights: Float32Array;
  evaluations = 0;
  calls = 0;
  outOfBounds = 0;
  /** the evaluation count at which a cost ≤ `threshold` was first seen */
  reachedAt: number | undefined;
  threshold = -Infinity;
  state: Float32Array | undefined;
  goal: { vector: Float32Array; kind: 'state' | 'position' } | undefined;

  constructor(problem: QuadraticProblem) {
    this.actionSize = problem.low.length;
    this.horizon = problem.horizon;
    this.actionLow = Float32Array.from(problem.low);
    this.actionHigh = Float32Array.from(problem.high);
    this.target = problem.target;
    this.weights = Float32Array.from(problem.weights ?? problem.low.map(() => 1));
  }

  /** the optimum within the bounds and its cost */
  optimum(): { sequence: Float32Array; cost: number } {
    const nu = this.actionSize;
    const sequence = this.target.map((v, i) =>
      Math.min(Math.max(v, this.actionLow[i % nu]!), this.actionHigh[i % nu]!),
    );
    return { sequence, cost: this.cost(sequence) };
  }

  cost(sequence: Float32Array): number {
    const nu = this.actionSize;
    let c = 0;
    for (let i = 0; i < sequence.length; i++) c += this.weights[i % nu]! * (sequence[i]! - this.target[i]!) ** 2;
    return c;
  }

  evaluate(sequences: Float32Array, n: number): SequenceCosts {
    const size = this.horizon * this.actionSize;
    if (sequences.length !== n * size)
      throw new Error(`asked about ${sequences.length} values for ${n} sequences of ${size}`);
    const cost = new Float32Array(n);
    for (let s = 0; s < n; s++) {
      const seq = sequences.subarray(s * size, (s + 1) * size);
      for (let i = 0; i < size; i++) {
        const j = i % this.actionSize;
        if (!(seq[i]! >= this.actionLow[j]! && seq[i]! <= this.actionHigh[j]!)) this.outOfBounds++;
      }
      cost[s] = this.cost(seq);
      if (this.reachedAt === undefined && cost[s]! <= this.threshold) this.reachedAt = this.evaluations + s + 1;
    }
    this.evaluations += n;
    this.calls++;
    return { cost };
  }

  setState(x: Float32Array): void {
    this.state = Float32Array.from(x);
  }

  setGoal(goal: Float32Array, kind: 'state' | 'position'): void {
    this.goal = { vector: Float32Array.from(goal), kind };
  }
}

/** A smooth target inside [−0.6, 0.6]: a_tj = 0.6 sin(2π t / H + j + 0.5). */
export function smoothTarget(horizon: number, nu: number): Float32Array {
  const out = new Float32Array(horizon * nu);
  for (let t = 0; t < horizon; t++)
    for (let j = 0; j < nu; j++) out[t * nu + j] = 0.6 * Math.sin((2 * Math.PI * t) / horizon + j + 0.5);
  return out;
}
