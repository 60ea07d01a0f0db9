import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { QuadraticEvaluator, smoothTarget } from './quadratic.js';
import { SamplingPlanner } from '../../../src/control/planners/sampling/planner.js';
import type { ActionOptimizer, OptimizeResult } from '../../../src/control/planners/sampling/optimizer.js';
import type { TrajectoryEvaluator } from '../../../src/control/planners/sampling/evaluator.js';
import { CemOptimizer } from '../../../src/control/planners/cem/optimizer.js';
import { IcemOptimizer } from '../../../src/control/planners/icem/optimizer.js';
import { MppiOptimizer } from '../../../src/control/planners/mppi/optimizer.js';
import { RandomShootingOptimizer } from '../../../src/control/planners/random_shooting/optimizer.js';
import { evaluatePolicy, policySteps } from '../../../src/control/policy.js';
import { withinBounds } from '../../../src/control/planners/sampling/bounds.js';

// The sampling planner around any optimiser: the policy it returns, warm starts, goals, receding
// horizon tracking, and action bounds.

const stepNs = 20_000_000n; // 50 Hz
const f = (...xs: number[]): Float32Array => Float32Array.from(xs);

/** An optimiser that returns a known sequence and remembers what it was given. */
class Recording implements ActionOptimizer {
  readonly name = 'recording';
  warmStarts: Float32Array[] = [];
  shifts: number[] = [];
  constructor(private readonly answer: (call: number) => Float32Array) {}
  optimize(_evaluator: TrajectoryEvaluator, warmStart: Float32Array): OptimizeResult {
    this.warmStarts.push(Float32Array.from(warmStart));
    return { best: this.answer(this.warmStarts.length - 1), bestCost: 0.5, iterations: 2, evaluations: 7 };
  }
  shift(steps: number): void {
    this.shifts.push(steps);
  }
}

test('the planner returns a zero-order-hold SequencePolicy that evaluatePolicy reads back at the right times', () => {
  const horizon = 5;
  const evaluator = new QuadraticEvaluator({ horizon, low: [-1, -2], high: [1, 2], target: smoothTarget(horizon, 2) });
  const planner = new SamplingPlanner(evaluator, new CemOptimizer(), { stepNs, budget: { iterations: 10 } });
  const t0 = 1_000_000_000n;
  const policy = planner.optimize({ timeNs: t0, state: Float64Array.from([0.1, 0.2, 0.3]) });
  assert.equal(planner.name, 'cem');
  assert.equal(policy.kind, 'sequence');
  assert.equal(policy.startNs, t0);
  assert.equal(policy.stepNs, stepNs);
  assert.equal(policy.interpolation, 'zero_order_hold');
  assert.equal(policySteps(policy), horizon);
  assert.deepEqual(evaluator.state, f(0.1, 0.2, 0.3));
  const out = new Float64Array(2);
  for (let k = 0; k < horizon; k++) {
    for (const within of [0n, stepNs / 2n, stepNs - 1n]) {
      evaluatePolicy(policy, t0 + BigInt(k) * stepNs + within, [], out);
      assert.deepEqual(
        Array.from(out),
        Array.from(policy.actions.subarray(2 * k, 2 * k + 2)),
        `step ${k} + ${within} ns`,
      );
    }
  }
  // before the start: the first action; past the horizon: the last one held
  assert.deepEqual(Array.from(evaluatePolicy(policy, t0 - 1n, [], out)), Array.from(policy.actions.subarray(0, 2)));
  assert.deepEqual(
    Array.from(evaluatePolicy(policy, t0 + 100n * stepNs, [], out)),
    Array.from(policy.actions.subarray(8, 10)),
  );
  // and the plan is the optimum
  const { sequence } = evaluator.optimum();
  policy.actions.forEach((a, i) => assert.ok(Math.abs(a - sequence[i]!) < 0.05, `action ${i}: ${a} vs ${sequence[i]}`));
  const status = planner.status();
  assert.equal(status.iterations, 10);
  assert.equal(status.evaluations, 4000);
  assert.equal(status.plans, 1);
  assert.equal(typeof status.best_cost, 'number');
  assert.equal(typeof status.plan_ms, 'number');
});

test('the planner warm-starts from the previous plan shifted by the control steps elapsed', () => {
  const plans = [f(1, 2, 3, 4), f(5, 6, 7, 8), f(9, 9, 9, 9), f(0, 0, 0, 0)];
  const optimizer = new Recording((call) => plans[call]!);
  const evaluator = new QuadraticEvaluator({ horizon: 4, low: [-10], high: [10], target: new Float32Array(4) });
  const planner = new SamplingPlanner(evaluator, optimizer, { stepNs });
  const state = new Float64Array(2);
  planner.optimize({ timeNs: 0n, state });
  planner.optimize({ timeNs: stepNs, state }); // one step on
  planner.optimize({ timeNs: 3n * stepNs + stepNs / 2n, state }); // two and a half steps on
  assert.deepEqual(optimizer.warmStarts[0], f(0, 0, 0, 0)); // cold: mid-bounds held
  assert.deepEqual(optimizer.warmStarts[1], f(2, 3, 4, 4));
  assert.deepEqual(optimizer.warmStarts[2], f(7, 8, 8, 8));
  assert.deepEqual(optimizer.shifts, [1, 2]);
  assert.equal(planner.status().shift_steps, 2);
  planner.reset();
  planner.optimize({ timeNs: 4n * stepNs, state });
  assert.deepEqual(optimizer.warmStarts[3], f(0, 0, 0, 0));
});

test('the planner fills the shifted-out steps with the nominal when asked, and clips a nominal to the bounds', () => {
  const optimizer = new Recording(() => f(1, 2, 3));
  const evaluator = new QuadraticEvaluator({ horizon: 3, low: [-5], high: [5], target: new Float32Array(3) });
  const planner = new SamplingPlanner(evaluator, optimizer, { stepNs, shiftFill: 'nominal', nominal: [7] });
  planner.optimize({ timeNs: 0n, state: new Float64Array(1) });
  planner.optimize({ timeNs: stepNs, state: new Float64Array(1) });
  assert.deepEqual(optimizer.warmStarts[0], f(5, 5, 5));
  assert.deepEqual(optimizer.warmStarts[1], f(2, 3, 5));
  assert.throws(
    () => new SamplingPlanner(evaluator, optimizer, { stepNs: 0n }),
    /recording: the control period must be positive/,
  );
  assert.throws(
    () => new SamplingPlanner(evaluator, optimizer, { stepNs, nominal: [0, 0] }),
    /the nominal action has 2 values, expected 1/,
  );
});

test('goals are forwarded to an evaluator that takes them, as a vector and its kind', () => {
  const evaluator = new QuadraticEvaluator({ horizon: 2, low: [-1], high: [1], target: new Float32Array(2) });
  const planner = new SamplingPlanner(evaluator, new RandomShootingOptimizer(), { stepNs });
  const input = { timeNs: 0n, state: new Float64Array(2) };
  planner.setGoal({ kind: 'state', state: Float64Array.from([1, 2]) }, input);
  assert.deepEqual(evaluator.goal, { vector: f(1, 2), kind: 'state' });
  planner.setGoal({ kind: 'position', position: [0.1, 0.2, 0.3] }, input);
  assert.deepEqual(evaluator.goal, { vector: f(0.1, 0.2, 0.3), kind: 'position' });
  const goalless = Object.assign(Object.create(QuadraticEvaluator.prototype) as QuadraticEvaluator, evaluator, {
    setGoal: undefined,
  });
  const other = new SamplingPlanner(goalless, new RandomShootingOptimizer(), { stepNs });
  other.setGoal({ kind: 'state', state: Float64Array.from([1, 2]) }, input);
  assert.match(String(other.status().goal), /ignored/);
});

test('receding horizon: replanning each step tracks a moving optimum, warm-started, 5 iterations a replan', () => {
  // the optimum at time k is a*(t + k): the same smooth curve, moving one step per replan
  const horizon = 10;
  const curve = (k: number): Float32Array =>
    Float32Array.from({ length: horizon }, (_, t) => 0.6 * Math.sin(0.3 * (t + k)));
  for (const optimizer of [new CemOptimizer(), new IcemOptimizer(), new MppiOptimizer({ noiseStd: 0.1 })]) {
    const evaluator = new QuadraticEvaluator({ horizon, low: [-1], high: [1], target: curve(0) });
    const planner = new SamplingPlanner(evaluator, optimizer, { stepNs, budget: { iterations: 5 } });
    const costs: number[] = [];
    for (let k = 0; k < 15; k++) {
      evaluator.target = curve(k);
      planner.optimize({ timeNs: BigInt(k) * stepNs, state: new Float64Array(1) });
      costs.push(Number(planner.status().best_cost));
    }
    console.log(`# ${optimizer.name}: ${costs.map((c) => c.toExponential(1)).join(' ')}`);
    // the shifted plan's new last step misses the moving optimum by ≈ 0.18, a cost of ≈ 0.03
    assert.ok(
      Math.max(...costs.slice(3)) < 0.05,
      `${optimizer.name}: costs ${costs.join(',')} over 15 warm-started replans`,
    );
  }
});

test('planned policies respect the action bounds (property)', () => {
  fc.assert(
    fc.property(
      fc.double({ min: -3, max: 3, noNaN: true }),
      fc.double({ min: 0, max: 2, noNaN: true }),
      fc.double({ min: -10, max: 10, noNaN: true }),
      fc.integer(),
      (low, width, target, seed) => {
        const lo = Math.fround(low);
        const hi = Math.max(lo, Math.fround(low + width));
        for (const optimizer of [
          new RandomShootingOptimizer({ samples: 8, seed }),
          new CemOptimizer({ populationSize: 8, seed }),
          new IcemOptimizer({ populationSize: 8, seed }),
          new MppiOptimizer({ samples: 8, seed }),
        ]) {
          const evaluator = new QuadraticEvaluator({
            horizon: 3,
            low: [lo],
            high: [hi],
            target: new Float32Array(3).fill(target),
          });
          const planner = new SamplingPlanner(evaluator, optimizer, { stepNs, nominal: [target] });
          for (let k = 0; k < 3; k++) {
            const policy = planner.optimize({ timeNs: BigInt(k) * stepNs, state: new Float64Array(1) });
            assert.ok(withinBounds(Float32Array.from(policy.actions), evaluator.actionLow, evaluator.actionHigh));
          }
          assert.equal(evaluator.outOfBounds, 0);
        }
      },
    ),
    { numRuns: 40 },
  );
});
