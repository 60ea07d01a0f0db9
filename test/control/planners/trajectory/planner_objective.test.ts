import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MujocoSim } from '../../../../sim/mujoco/sim.js';
import { packagePath } from '../../../../src/util/paths.js';
import { DEFAULT_GOAL_WEIGHTS } from '../../../../src/control/planners/trajectory/objectives.js';
import { PlannerObjective, warmStartShift } from '../../../../src/control/planners/trajectory/planner_objective.js';

// What iLQR and gradient shooting minimise as goals come (one object, so the two agree), and how
// their warm start follows the clock.

test('a task objective plans from the start, takes position goals as its target and leaves a state goal alone', async () => {
  const sim = await MujocoSim.fromFile(packagePath('sim/models/cartpole.xml'));
  try {
    const objective = new PlannerObjective(sim, { kind: 'task', task: 'cartpole_balance', target: [] }, '');
    assert.equal(objective.ready, true);
    const first = objective.cost;
    assert.equal(objective.setGoal({ kind: 'state', state: Float64Array.of(0, 0, 0, 0) }), undefined);
    assert.equal(objective.cost, first, 'the hold-the-first-state goal changes nothing');
    assert.equal(objective.description, 'task cartpole_balance');
    const moved = objective.setGoal({ kind: 'position', position: [0.3, 0, 0] });
    assert.ok(moved && moved !== first);
    assert.equal(objective.description, 'task cartpole_balance toward [0.300]');
  } finally {
    sim.dispose();
  }
});

test('a goal objective is not ready until its first goal', async () => {
  const sim = await MujocoSim.fromFile(packagePath('sim/models/cartpole.xml'));
  try {
    const objective = new PlannerObjective(sim, { kind: 'goal', weights: DEFAULT_GOAL_WEIGHTS }, '');
    assert.equal(objective.ready, false);
    assert.equal(objective.description, 'no goal yet');
    assert.ok(objective.setGoal({ kind: 'state', state: Float64Array.of(0, 0, 0, 0) }));
    assert.equal(objective.ready, true);
    assert.equal(objective.description, 'state goal');
  } finally {
    sim.dispose();
  }
});

test('the warm start shifts by the knots elapsed, rounded, and resets when time goes back', () => {
  const step = 10_000_000n;
  assert.equal(warmStartShift(undefined, 5n * step, step), undefined, 'no plan yet');
  assert.equal(warmStartShift(step, step, step), 0);
  assert.equal(warmStartShift(step, 3n * step + 4_000_000n, step), 2);
  assert.equal(warmStartShift(step, 3n * step + 5_000_000n, step), 3);
  assert.equal(warmStartShift(5n * step, step, step), 'reset');
});
