import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerGoals, type GoalOptions } from '../../src/control/goals.js';
import type { Goal, Planner, PlanningInput } from '../../src/control/planner.js';
import type { StateSnapshot } from '../../src/control/command_loop.js';

// The controller's goals: the keyframe (or "hold here") set at the first tick with a state,
// position goals checked and handed to the planner, and the tracking statistics restarted with
// each goal whose state is known.

class RecordingPlanner implements Planner {
  readonly name = 'recording';
  readonly goals: { goal: Goal; input: PlanningInput }[] = [];
  setGoal(goal: Goal, input: PlanningInput): void {
    this.goals.push({ goal, input });
  }
  optimize(): never {
    throw new Error('not planned here');
  }
  status(): Record<string, number> {
    return {};
  }
  dispose(): void {}
}

const NV = 2;
const state = (q: number[], qd: number[], stampNs = 5n): StateSnapshot => ({
  stampNs,
  x: Float64Array.from([...q, ...qd]),
  position: Float64Array.from(q),
  velocity: Float64Array.from(qd),
});

function setup(options: Partial<GoalOptions> = {}) {
  const planner = new RecordingPlanner();
  const tracked: { goal: number[]; timeNs: bigint }[] = [];
  const keyframes: string[] = [];
  const goals = new ControllerGoals(
    planner,
    { newGoal: (goal, timeNs) => tracked.push({ goal: Array.from(goal), timeNs }) },
    {
      keyframe: '',
      nv: NV,
      topic: 'goal',
      model: {
        resetToKeyframe: (name) => keyframes.push(name),
        getQpos: () => Float64Array.of(0.5, -0.5, 99),
      },
      positionGoalRefusal: () => undefined,
      ...options,
    },
  );
  return { planner, tracked, keyframes, goals };
}

test('hold here: at the first tick with a state, the measured configuration at rest; once', () => {
  const { planner, tracked, goals } = setup();
  goals.atTick(10n, undefined);
  assert.equal(planner.goals.length, 0, 'no state yet');
  goals.atTick(20n, state([1, 2], [3, 4]));
  goals.atTick(30n, state([5, 6], [7, 8]));
  assert.equal(planner.goals.length, 1);
  const { goal, input } = planner.goals[0]!;
  assert.ok(goal.kind === 'state');
  assert.deepEqual(Array.from(goal.state), [1, 2, 0, 0]);
  assert.equal(input.timeNs, 20n);
  assert.deepEqual(tracked, [{ goal: [1, 2, 0, 0], timeNs: 20n }]);
});

test('a keyframe goal: the keyframe configuration at rest', () => {
  const { planner, tracked, keyframes, goals } = setup({ keyframe: 'upright' });
  goals.atTick(20n, state([1, 2], [3, 4]));
  assert.deepEqual(keyframes, ['upright']);
  assert.deepEqual(tracked, [{ goal: [0.5, -0.5, 0, 0], timeNs: 20n }]);
  assert.equal(planner.goals.length, 1);
});

test('position goals: refused and not finite ones are ignored with a reason; accepted ones replace the pending state goal', () => {
  let refusal: string | undefined = 'no ee_site to place';
  const solved = Float64Array.of(0.1, 0.2, 0, 0);
  const { planner, tracked, goals } = setup({ positionGoalRefusal: () => refusal, goalState: () => solved });
  const s = state([1, 2], [0, 0]);
  assert.deepEqual(goals.position({ x: 0.1, y: 0, z: 0.2 }, 7n, s), {
    accepted: false,
    reason: 'refused',
    message: 'goal on goal ignored: no ee_site to place',
  });
  refusal = undefined;
  assert.deepEqual(goals.position({ x: Number.NaN, y: 0, z: 0.2 }, 7n, s), {
    accepted: false,
    reason: 'not_finite',
    message: 'goal (NaN, 0, 0.2) is not finite: ignored',
  });
  assert.equal(planner.goals.length, 0);
  assert.deepEqual(goals.position({ x: 0.1, y: 0, z: 0.2 }, 7n, s), {
    accepted: true,
    message: 'new target (0.100, 0.000, 0.200) m',
  });
  assert.deepEqual(planner.goals[0], {
    goal: { kind: 'position', position: [0.1, 0, 0.2] },
    input: { timeNs: 7n, state: s.x },
  });
  assert.deepEqual(tracked, [{ goal: [0.1, 0.2, 0, 0], timeNs: 7n }]);
  // the hold-here goal no longer comes
  goals.atTick(20n, s);
  assert.equal(planner.goals.length, 1);
});

test('a position goal before the first state is kept and set at the first tick with a state, instead of the state goal', () => {
  const solved = Float64Array.of(0.3, 0.4, 0, 0);
  const { planner, tracked, goals } = setup({ positionGoalRefusal: () => undefined, goalState: () => solved });
  assert.deepEqual(goals.position({ x: 0.1, y: 0, z: 0.2 }, 5n, undefined), {
    accepted: true,
    message: 'new target (0.100, 0.000, 0.200) m, set at the first state',
  });
  goals.atTick(10n, undefined);
  assert.equal(planner.goals.length, 0, 'nothing is set without a state');
  const s = state([1, 2], [0, 0]);
  goals.atTick(20n, s);
  goals.atTick(30n, s);
  assert.deepEqual(planner.goals, [
    { goal: { kind: 'position', position: [0.1, 0, 0.2] }, input: { timeNs: 20n, state: s.x } },
  ]);
  assert.deepEqual(tracked, [{ goal: [0.3, 0.4, 0, 0], timeNs: 20n }]);
});

test('a planner without a goal state (a task cost): the tracking statistics keep their goal', () => {
  const { planner, tracked, goals } = setup();
  assert.equal(goals.position({ x: 0.1, y: 0, z: 0.2 }, 7n, state([1, 2], [0, 0])).accepted, true);
  assert.equal(planner.goals.length, 1);
  assert.deepEqual(tracked, []);
});
