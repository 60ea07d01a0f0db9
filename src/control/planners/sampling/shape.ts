import type { TrajectoryEvaluator } from './evaluator.js';
import { checkBounds } from './bounds.js';

// The shape of one optimisation, read from the evaluator and checked against the warm start.

export interface ProblemShape {
  readonly horizon: number;
  readonly nu: number;
  /** H · nu: the length of one sequence */
  readonly size: number;
  readonly low: Float32Array;
  readonly high: Float32Array;
}

export function problemShape(evaluator: TrajectoryEvaluator, warmStart: Float32Array, who: string): ProblemShape {
  const { horizon, actionSize: nu, actionLow: low, actionHigh: high } = evaluator;
  if (!Number.isInteger(horizon) || horizon < 1 || !Number.isInteger(nu) || nu < 1)
    throw new Error(`${who}: the evaluator's horizon ${horizon} and action size ${nu} must be positive integers`);
  if (low.length !== nu) throw new Error(`${who}: the evaluator has ${nu} actions but ${low.length} bounds`);
  checkBounds(low, high, who);
  const size = horizon * nu;
  if (warmStart.length !== size)
    throw new Error(`${who}: the warm start has ${warmStart.length} values, expected H × nu = ${horizon} × ${nu}`);
  return { horizon, nu, size, low, high };
}
