import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lqr } from '../../src/control/planners/lqr/index.js';
import { lqrPolicyAbout } from '../../src/control/planners/lqr/lqr.js';
import type { Goal, Planner } from '../../src/control/planner.js';
import type { FeedbackPolicy } from '../../src/control/policy.js';
import { DiagnosticLevel } from '../../framework/msgs/types.js';
import { linesOf, PERIOD_NS, startController } from './controller_node.js';

// An exception inside a control tick, from a planner injected in place of LQR's: the controller
// publishes its stop action, logs one error line (never a stack trace per tick), reports ERROR
// with the reason on /diagnostics, resolves its `failed` promise, and from then on sends the stop
// action at every tick without asking the planner again. A planner with no policy yet is not a
// failure: that is the stop action until it has one.

const CARTPOLE = { model: 'sim/models/cartpole.xml', goal_keyframe: '' };
const JOINTS = ['cart_slide', 'pole_hinge'];
const AT_REST = [0, 0, 0, 0];

/** Run `body` with the registry's LQR entry making `planner` instead. */
async function withPlanner(planner: Planner, body: () => Promise<void>): Promise<void> {
  const create = lqr.create.bind(lqr);
  lqr.create = () => Promise.resolve({ planner, positionGoalRefusal: () => 'injected planner' });
  try {
    await body();
  } finally {
    lqr.create = create;
  }
}

class InjectedPlanner implements Planner {
  readonly name = 'injected';
  goals = 0;
  plans = 0;
  constructor(private readonly fault: { inSetGoal?: boolean; afterPlans?: number }) {}
  setGoal(goal: Goal): void {
    assert.equal(goal.kind, 'state');
    this.goals++;
    // a message of several lines, as MuJoCo's errors and stack traces are
    if (this.fault.inSetGoal) throw new Error('injected fault in setGoal\n    at somewhere (planner.ts:1:1)');
  }
  optimize(): FeedbackPolicy {
    if (this.fault.afterPlans !== undefined && this.plans >= this.fault.afterPlans)
      throw new Error('injected fault in optimize');
    this.plans++;
    return lqrPolicyAbout({
      xEq: new Float64Array(4),
      uEq: Float64Array.of(0.5),
      K: new Float64Array(4),
      startNs: 0n,
      stepNs: PERIOD_NS,
    });
  }
  status(): Record<string, number> {
    return { goals: this.goals, plans: this.plans };
  }
  dispose(): void {}
}

async function failedWithin(promise: Promise<string> | undefined): Promise<string> {
  assert.ok(promise, 'the controller has a failed promise');
  let limit: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<string>((_, reject) => (limit = setTimeout(() => reject(new Error('failed never resolved')), 5000))),
    ]);
  } finally {
    clearTimeout(limit);
  }
}

for (const [where, fault, goodTicks] of [
  ['setGoal', { inSetGoal: true }, 0],
  ['optimize', { afterPlans: 5 }, 5],
] as const) {
  test(`a planner that throws in ${where}: one error line, the stop action, /diagnostics ERROR, failed resolved`, async () => {
    const planner = new InjectedPlanner(fault);
    await withPlanner(planner, async () => {
      const c = await startController(CARTPOLE, JOINTS);
      try {
        for (let k = 0; k <= 30; k++) await c.tick(k, AT_REST);
        const errors = linesOf(c.logs, 'error');
        assert.equal(errors.length, 1, `error lines: ${JSON.stringify(errors)}`);
        assert.match(errors[0]!, new RegExp(`injected fault in ${where}`));
        assert.ok(!errors[0]!.includes('\n'), `one line: ${errors[0]}`);
        assert.deepEqual(linesOf(c.logs, 'warn'), [], 'nothing repeated per tick');
        // a command at every tick: the policy's until the fault, the stop action (zero effort) from then on
        assert.equal(c.commands.length, 30);
        assert.deepEqual(
          c.commands.slice(0, goodTicks),
          Array.from({ length: goodTicks }, () => [0.5]),
        );
        assert.deepEqual(
          c.commands.slice(goodTicks),
          Array.from({ length: 30 - goodTicks }, () => [0]),
        );
        // said on /diagnostics at once, with the reason
        const error = c.diagnostics.find((s) => s.level === DiagnosticLevel.ERROR);
        assert.ok(error, `statuses: ${JSON.stringify(c.diagnostics.map((s) => [s.level, s.message]))}`);
        assert.match(error.message, new RegExp(`injected fault in ${where}`));
        assert.match(await failedWithin(c.lifecycle.failed), new RegExp(`injected fault in ${where}`));
        // the planner is not asked again
        assert.equal(planner.goals, 1);
        assert.equal(planner.plans, goodTicks);
        assert.match(c.lifecycle.summary?.() ?? '', /failed/);
      } finally {
        await c.close();
      }
    });
  });
}

test('a planner with no policy yet is not a failure: the stop action until it has one', async () => {
  let ready = false;
  const planner = new InjectedPlanner({});
  const optimize = planner.optimize.bind(planner);
  planner.optimize = () => {
    if (!ready) throw new Error('no plan yet');
    return optimize();
  };
  await withPlanner(planner, async () => {
    const c = await startController(CARTPOLE, JOINTS);
    try {
      for (let k = 0; k <= 5; k++) await c.tick(k, AT_REST);
      ready = true;
      for (let k = 6; k <= 10; k++) await c.tick(k, AT_REST);
      assert.deepEqual(c.commands, [
        ...Array.from({ length: 5 }, () => [0]),
        ...Array.from({ length: 5 }, () => [0.5]),
      ]);
      assert.deepEqual(linesOf(c.logs, 'error'), []);
      assert.ok(!c.diagnostics.some((s) => s.level === DiagnosticLevel.ERROR));
      let failed = false;
      void c.lifecycle.failed?.then(() => (failed = true));
      await new Promise((r) => setImmediate(r));
      assert.equal(failed, false);
    } finally {
      await c.close();
    }
  });
});
