import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MujocoSim } from '../../sim/mujoco/sim.js';
import { cartpoleTask, wrapAngle } from '../../src/tasks/cartpole.js';
import { loadArmReachTask, SO_ARM_JOINTS } from '../../src/tasks/arm_reach.js';
import type { Task } from '../../src/tasks/types.js';

// Tasks: observations come from the right joints, batch costs equal single costs, termination
// follows the task's rules, and the arm's end-effector (pure TS) is where MuJoCo puts the site.

const root = fileURLToPath(new URL('../../../', import.meta.url));

function checkBatchMatches(task: Task, states: Float64Array, actions: Float64Array, goal?: ArrayLike<number>): void {
  const n = states.length / task.stateSize;
  const out = new Float64Array(n);
  assert.equal(task.costBatch(states, actions, out, goal), out);
  for (let i = 0; i < n; i++) {
    const x = states.subarray(i * task.stateSize, (i + 1) * task.stateSize);
    const u = actions.subarray(i * task.actionSize, (i + 1) * task.actionSize);
    assert.equal(out[i], task.cost(x, u, goal));
  }
  assert.throws(() => task.costBatch(states, actions, new Float64Array(n + 1)), /costBatch: for/);
}

test('wrapAngle maps to (−π, π]', () => {
  assert.equal(wrapAngle(0), 0);
  assert.equal(wrapAngle(Math.PI), Math.PI);
  assert.equal(wrapAngle(-Math.PI), Math.PI);
  assert.ok(Math.abs(wrapAngle(2 * Math.PI + 0.1) - 0.1) < 1e-12);
  assert.ok(Math.abs(wrapAngle(-3 * Math.PI + 0.1) - (-Math.PI + 0.1)) < 1e-12);
});

test('cart-pole task: observation, costs, batch, termination, goal state', async () => {
  const task = cartpoleTask();
  assert.equal(task.modelFile, 'sim/models/cartpole.xml');
  using sim = await MujocoSim.fromFile(join(root, task.modelFile));
  assert.deepEqual(
    task.joints,
    sim.info.joints.map((j) => j.name),
  );
  assert.deepEqual(
    task.actuators,
    sim.info.actuators.map((a) => a.name),
  );
  assert.deepEqual([...task.actionHigh], [sim.info.actuators[0]!.ctrlRange![1]]);
  sim.resetToKeyframe(task.initialKeyframe);
  sim.setQpos([0.2, 0.1]);
  sim.setQvel([-0.3, 0.4]);
  assert.deepEqual([...task.observe(sim)], [0.2, 0.1, -0.3, 0.4]);

  assert.equal(task.cost([0, 0, 0, 0], [0]), 0);
  assert.equal(task.cost([0, 2 * Math.PI, 0, 0], [0]), 0, 'a full turn is upright again');
  assert.ok(task.cost([0, 0.2, 0, 0], [0]) > task.cost([0, 0.1, 0, 0], [0]));
  assert.ok(task.cost([0, 0, 0, 0], [10]) > 0);
  assert.equal(task.cost([0.5, 0, 0, 0], [0], [0.5]), 0);
  assert.ok(task.terminalCost([0.1, 0, 0, 0]) > task.cost([0.1, 0, 0, 0], [0]));
  assert.throws(() => task.cost([0, 0, 0, 0], [0], [1, 2]), /a goal has 1 values, got 2/);
  const states = Float64Array.from({ length: 4 * 50 }, (_, i) => Math.sin(i * 1.7) * 2);
  const actions = Float64Array.from({ length: 50 }, (_, i) => Math.cos(i) * 20);
  checkBatchMatches(task, states, actions);
  checkBatchMatches(task, states, actions, [0.3]);

  assert.equal(task.terminated([0, 0.4, 0, 0]), false);
  assert.equal(task.terminated([0, 0.6, 0, 0]), true, 'the pole fell');
  assert.equal(task.terminated([0, 2 * Math.PI + 0.1, 0, 0]), false);
  assert.equal(task.terminated([0.99, 0, 0, 0]), true, 'the cart left the track');
  assert.equal(task.terminated([0, Number.NaN, 0, 0]), true);
  assert.deepEqual([...task.goalState!([0.4])], [0.4, 0, 0, 0]);

  const swing = cartpoleTask({ mode: 'swingup' });
  assert.equal(swing.initialKeyframe, 'hanging');
  assert.equal(swing.terminated([0, Math.PI, 0, 0]), false);
  assert.equal(swing.terminated([-0.99, Math.PI, 0, 0]), true);
});

test("arm reach task: FK end-effector equals MuJoCo's site, costs and batch", async () => {
  const task = await loadArmReachTask({}, root);
  assert.equal(task.modelFile, 'sim/models/so_arm.xml');
  assert.equal(task.stateSize, 12);
  assert.equal(task.actionSize, 6);
  using sim = await MujocoSim.fromFile(join(root, task.modelFile));
  assert.deepEqual(
    task.joints,
    sim.info.joints.map((j) => j.name),
  );
  assert.deepEqual([...task.actionLow], Array(6).fill(-2.9));
  sim.resetToKeyframe(task.initialKeyframe);
  let s = 1;
  const rand = (): number => (s = (s * 16807) % 2147483647) / 2147483647;
  const x = new Float64Array(12);
  for (let k = 0; k < 100; k++) {
    sim.setQpos(sim.info.joints.map((j) => j.range![0] + rand() * (j.range![1] - j.range![0])));
    sim.setQvel(Array.from({ length: 6 }, () => rand() - 0.5));
    task.observe(sim, x);
    assert.deepEqual([...x], [...sim.getQpos(), ...sim.getQvel()]);
    const ee = task.endEffector(x);
    const site = sim.sitePosition('ee');
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(ee[i]! - site[i]!) < 1e-9);
    // with zero action and velocity weight 0, the cost is the squared distance
    const target = [0.1, -0.1, 0.2];
    const d2 = (site[0]! - 0.1) ** 2 + (site[1]! + 0.1) ** 2 + (site[2]! - 0.2) ** 2;
    assert.ok(Math.abs(task.cost(x, new Float64Array(6), target) - d2) < 1e-12);
  }
  sim.resetToKeyframe('home');
  const atHome = task.endEffector(task.observe(sim));
  assert.ok(task.cost(task.observe(sim), new Float64Array(6), atHome) < 1e-20);
  assert.ok(task.cost(x, [1, 0, 0, 0, 0, 0], atHome) > task.cost(x, [0, 0, 0, 0, 0, 0], atHome));
  const states = Float64Array.from({ length: 12 * 30 }, (_, i) => Math.sin(i * 0.37));
  const actions = Float64Array.from({ length: 6 * 30 }, (_, i) => Math.cos(i * 0.11));
  checkBatchMatches(task, states, actions, [0.15, 0.05, 0.1]);
  assert.equal(task.terminated(x), false);
  assert.equal(task.terminated([...x.subarray(0, 11), Infinity]), true);
});

test('arm reach task with position servos penalises the lead of the target over q', async () => {
  const task = await loadArmReachTask({ actuation: 'position' }, root);
  assert.equal(task.modelFile, 'sim/models/so_arm_position.xml');
  assert.deepEqual(task.joints, SO_ARM_JOINTS);
  assert.equal(task.actionHigh[0], 1.92);
  const x = Float64Array.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0, 0, 0, 0, 0, 0);
  const goal = task.endEffector(x);
  assert.ok(task.cost(x, x.subarray(0, 6), goal) < 1e-20, 'holding still where it is costs nothing');
  assert.ok(task.cost(x, new Float64Array(6), goal) > 0);
});
