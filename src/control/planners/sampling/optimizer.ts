import type { TrajectoryEvaluator } from './evaluator.js';

// What every sampling planner is underneath: an optimiser of one action sequence (H × nu,
// row-major) against a batched expected-cost function, started from a warm start. The
// SamplingPlanner wraps one in the Planner interface; tests and benchmarks can drive it directly.

/** How much work one `optimize` call may do. */
export interface OptimizeBudget {
  /** iterations to run (default: the optimiser's own setting, or unlimited under `timeMs`) */
  readonly iterations?: number;
  /** wall-clock limit (ms from the call): no iteration starts after it; the first always runs */
  readonly timeMs?: number;
}

export interface OptimizeResult {
  /** the best sequence evaluated (H × nu), within the action bounds; the caller owns it */
  readonly best: Float32Array;
  /** its expected cost as the evaluator reported it */
  readonly bestCost: number;
  readonly iterations: number;
  /** sequences evaluated */
  readonly evaluations: number;
}

export interface ActionOptimizer {
  readonly name: string;
  optimize(evaluator: TrajectoryEvaluator, warmStart: Float32Array, budget?: OptimizeBudget): OptimizeResult;
  /** time moved on `steps` control steps since the last call: shift what is carried between calls */
  shift?(steps: number): void;
  /** forget what is carried between calls (a new episode) */
  reset?(): void;
}
