import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { shiftSequence, repeatAction } from '../../../src/control/planners/sampling/warm_start.js';
import { clipToBounds, midpoint, quarterRange, withinBounds } from '../../../src/control/planners/sampling/bounds.js';
import { IterationBudget } from '../../../src/control/planners/sampling/budget.js';
import { Incumbent } from '../../../src/control/planners/sampling/incumbent.js';
import { eliteIndices } from '../../../src/control/planners/sampling/elites.js';
import type { SequenceCosts, TrajectoryEvaluator } from '../../../src/control/planners/sampling/evaluator.js';

// The pieces every sampling optimiser shares: warm-start shifting, action bounds, iteration
// budgets, and the incumbent.

const f = (...xs: number[]): Float32Array => Float32Array.from(xs);

test('warm start: shifting by one step drops the first action and repeats the last', () => {
  // H = 3, nu = 2
  const previous = f(1, 2, 3, 4, 5, 6);
  assert.deepEqual(shiftSequence(previous, 2, 1, 'last'), f(3, 4, 5, 6, 5, 6));
  assert.deepEqual(shiftSequence(previous, 2, 1, f(0, -1)), f(3, 4, 5, 6, 0, -1));
  assert.deepEqual(shiftSequence(previous, 2, 0, 'last'), previous);
  assert.deepEqual(shiftSequence(previous, 2, 3, 'last'), f(5, 6, 5, 6, 5, 6));
  assert.deepEqual(shiftSequence(previous, 2, 7, f(9, 9)), f(9, 9, 9, 9, 9, 9));
  assert.deepEqual(repeatAction(f(0.5, -0.5), 3), f(0.5, -0.5, 0.5, -0.5, 0.5, -0.5));
  assert.throws(() => shiftSequence(previous, 4, 1, 'last'), /not a whole number of 4-action steps/);
  assert.throws(() => shiftSequence(previous, 2, 1, f(1)), /fill action has 1 values, expected 2/);
  assert.throws(() => shiftSequence(previous, 2, 1, 'last', previous), /alias/);
});

test('warm start: out[t] = previous[t + k] exactly, for any sequence and shift', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 10 }),
      fc.integer(),
      (horizon, nu, k, seed) => {
        const previous = Float32Array.from({ length: horizon * nu }, (_, i) => Math.fround(Math.sin(seed + i * 1.7)));
        const fill = Float32Array.from({ length: nu }, (_, j) => 100 + j);
        const lastOut = shiftSequence(previous, nu, k, 'last');
        const fillOut = shiftSequence(previous, nu, k, fill);
        for (let t = 0; t < horizon; t++) {
          for (let j = 0; j < nu; j++) {
            const src = t + k < horizon ? previous[(t + k) * nu + j]! : undefined;
            assert.equal(lastOut[t * nu + j], src ?? previous[(horizon - 1) * nu + j]);
            assert.equal(fillOut[t * nu + j], src ?? fill[j]);
          }
        }
      },
    ),
  );
});

test('bounds: clipping per action dimension, NaN to the lower bound, midpoints and quarter ranges', () => {
  const low = f(-1, 0);
  const high = f(1, 2);
  assert.deepEqual(clipToBounds(f(-3, 3, 0.5, 1, NaN, -1), low, high), f(-1, 2, 0.5, 1, -1, 0));
  assert.ok(withinBounds(f(-1, 2, 1, 0), low, high));
  assert.ok(!withinBounds(f(-1, 2.5), low, high));
  assert.ok(!withinBounds(f(NaN, 1), low, high));
  assert.deepEqual(midpoint(low, high), f(0, 1));
  assert.deepEqual(quarterRange(low, high, 2), f(0.5, 0.5, 0.5, 0.5));
});

test('iteration budget: a count, or a time limit after which no iteration starts (the first always runs)', () => {
  const byCount = new IterationBudget({ iterations: 3 }, 5);
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => byCount.allows(i)),
    [true, true, true, false],
  );
  assert.ok(byCount.isLast(2));
  assert.equal(new IterationBudget(undefined, 5).planned, 5);
  const byTime = new IterationBudget({ timeMs: 0 }, 5);
  assert.equal(byTime.planned, Infinity);
  assert.ok(byTime.allows(0));
  assert.ok(!byTime.allows(1));
  assert.throws(() => new IterationBudget({ iterations: 0 }, 5), /iterations must be a positive integer, got 0/);
});

test('incumbent: keeps the cheapest sequence, NaN costs never win, counts evaluations', () => {
  const evaluator: TrajectoryEvaluator = {
    actionSize: 1,
    horizon: 2,
    actionLow: f(-1),
    actionHigh: f(1),
    evaluate: (_s: Float32Array, n: number): SequenceCosts => ({ cost: f(NaN, 3, 1, 2).subarray(0, n) }),
  };
  const incumbent = new Incumbent(2);
  incumbent.reset(f(0, 0));
  const costs = incumbent.evaluate(evaluator, f(9, 9, 1, 1, 2, 2, 3, 3), 4);
  assert.deepEqual(costs, f(Infinity, 3, 1, 2));
  assert.deepEqual(incumbent.best, f(2, 2));
  assert.equal(incumbent.cost, 1);
  assert.equal(incumbent.evaluations, 4);
  assert.deepEqual(eliteIndices(costs, 2), Uint32Array.from([2, 3]));
});
