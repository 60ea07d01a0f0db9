import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MujocoSim } from '../../../../sim/mujoco/sim.js';
import { packagePath } from '../../../../src/util/paths.js';
import { MujocoDynamics, type MujocoJacobians } from '../../../../src/control/planners/trajectory/mujoco_dynamics.js';
import { taskResidualCost } from '../../../../src/control/planners/trajectory/objectives.js';
import type { PlanningTask } from '../../../../src/control/task_costs.js';
import { GradientShooting } from '../../../../src/control/planners/gradient/shooting.js';
import { quadraticCost, unstablePendulum } from './linear.js';

// Gradient shooting on the MuJoCo cart-pole: the adjoint gradient against centred finite
// differences of the total cost, Adam lowering the cost, projection onto the control box, and the
// warm start's shift.

const CARTPOLE = packagePath('sim/models/cartpole.xml');
const PERIOD_NS = 10_000_000n;

async function cartpole(
  task: PlanningTask,
  horizon: number,
  options: { jacobians?: MujocoJacobians; centered?: boolean; learningRate?: number; limit?: number } = {},
): Promise<{ shooting: GradientShooting; dispose: () => void }> {
  const sim = await MujocoSim.fromFile(CARTPOLE);
  const kinematics = await MujocoSim.fromFile(CARTPOLE);
  const dynamics = new MujocoDynamics(sim, {
    stepNs: PERIOD_NS,
    jacobians: options.jacobians ?? 'held',
    centered: options.centered ?? false,
  });
  const cost = taskResidualCost(kinematics, task, new Float64Array(1), undefined);
  const limit = options.limit;
  const shooting = new GradientShooting(dynamics, cost, {
    horizon,
    learningRate: options.learningRate ?? 0.05,
    ...(limit === undefined ? {} : { controlLimits: { low: Float64Array.of(-limit), high: Float64Array.of(limit) } }),
  });
  return {
    shooting,
    dispose: () => {
      dynamics.dispose();
      kinematics.dispose();
    },
  };
}

test('the adjoint gradient equals centred finite differences of the total cost on the MuJoCo cart-pole', async () => {
  const T = 20;
  const { shooting, dispose } = await cartpole('cartpole_swingup', T, { jacobians: 'chained', centered: true });
  try {
    const x0 = Float64Array.of(0.1, 2.5, 0.2, -0.3);
    const u = Float64Array.from({ length: T }, (_, t) => 5 * Math.sin(0.7 * t + 0.3));
    const before = shooting.actions.slice();
    const g = new Float64Array(T);
    const cost = shooting.gradient(x0, g, u);
    assert.deepEqual(shooting.actions, before, 'gradient() leaves the plan alone');
    const states = new Float64Array((T + 1) * shooting.nx);
    assert.equal(cost, shooting.rollout(x0, u, states));
    const h = 1e-4;
    let scale = 0;
    for (const v of g) scale = Math.max(scale, Math.abs(v));
    assert.ok(scale > 1e-3, `a gradient to compare (max |∂J/∂u_t| = ${scale})`);
    for (let k = 0; k < T; k++) {
      const up = u.slice();
      const um = u.slice();
      up[k] = up[k]! + h;
      um[k] = um[k]! - h;
      const fd = (shooting.rollout(x0, up, states) - shooting.rollout(x0, um, states)) / (2 * h);
      assert.ok(
        Math.abs(fd - g[k]!) <= 1e-5 * scale,
        `∂J/∂u_${k}: adjoint ${g[k]}, finite differences ${fd} (max |g| ${scale})`,
      );
    }
  } finally {
    dispose();
  }
});

test('Adam lowers the cost of a short-horizon cart-pole plan, and reports each part', async () => {
  const T = 25;
  const { shooting, dispose } = await cartpole('cartpole_balance', T, { learningRate: 0.05, limit: 20 });
  try {
    const x0 = Float64Array.of(0, 0.3, 0, 0);
    const report = shooting.iterate(x0, 40);
    assert.equal(report.iterations, 40);
    assert.equal(report.stop, 'iterations');
    assert.ok(
      report.cost < 0.5 * report.initialCost,
      `cost ${report.cost} is not below half the first rollout's ${report.initialCost}`,
    );
    assert.equal(report.gradientNorms.length, T);
    assert.equal(report.firstGradientNorm, report.gradientNorms[0]);
    assert.equal(report.lastGradientNorm, report.gradientNorms[T - 1]);
    assert.ok(report.gradientNorm >= report.firstGradientNorm && report.gradientNorm > 0);
    assert.ok(report.rolloutMs >= 0 && report.linearizeMs >= 0 && report.adjointMs >= 0 && report.totalMs >= 0);
    // the nominal is the rollout of the nominal actions, and its cost the reported one
    const states = new Float64Array((T + 1) * shooting.nx);
    assert.equal(shooting.rollout(x0, shooting.actions, states), report.cost);
    assert.deepEqual(states, shooting.states);
    // a second plan from the same state starts where the first ended and goes on down
    const again = shooting.iterate(x0, 10);
    assert.equal(again.initialCost, report.cost);
    assert.ok(again.cost <= report.cost);
  } finally {
    dispose();
  }
});

test('projected Adam steps keep every action inside the control limits', async () => {
  const T = 25;
  // a large step toward forces the limit does not allow: balancing from 0.5 rad wants more than 2 N
  const { shooting, dispose } = await cartpole('cartpole_balance', T, { learningRate: 1, limit: 2 });
  try {
    const report = shooting.iterate(Float64Array.of(0, 0.5, 0, 0), 20);
    for (const u of shooting.actions) assert.ok(u >= -2 && u <= 2, `action ${u} outside [−2, 2]`);
    assert.ok(report.clampedActions > 0, 'some actions are on a limit');
    assert.ok(report.cost < report.initialCost);
  } finally {
    dispose();
  }
  // and on the linear problem, with asymmetric limits and the unconstrained optimum outside them
  const lq = new GradientShooting(unstablePendulum(0.01, 16), quadraticCost([10, 0.1], [0.01], 10), {
    horizon: 50,
    learningRate: 0.5,
    controlLimits: { low: Float64Array.of(-0.5), high: Float64Array.of(3) },
  });
  const r = lq.iterate(Float64Array.of(0.1, 0), 50);
  for (const u of lq.actions) assert.ok(u >= -0.5 && u <= 3, `action ${u} outside [−0.5, 3]`);
  assert.ok(r.clampedActions > 0);
});

test('warmStart shifts the plan by whole knots and reset forgets it', () => {
  const T = 5;
  const lq = new GradientShooting(unstablePendulum(0.01, 16), quadraticCost([1, 1], [1], 1), {
    horizon: T,
    learningRate: 0.1,
    controlLimits: { low: Float64Array.of(-1), high: Float64Array.of(1) },
  });
  lq.reset(Float64Array.of(0.1, 0.2, 0.3, 0.4, 0.5));
  lq.warmStart(2);
  assert.deepEqual(Array.from(lq.actions), [0.3, 0.4, 0.5, 0.5, 0.5]);
  lq.warmStart(0);
  assert.deepEqual(Array.from(lq.actions), [0.3, 0.4, 0.5, 0.5, 0.5]);
  lq.reset(Float64Array.of(-3, 0, 0, 0, 3));
  assert.deepEqual(Array.from(lq.actions), [-1, 0, 0, 0, 1], 'reset projects onto the limits');
  lq.reset();
  assert.deepEqual(Array.from(lq.actions), [0, 0, 0, 0, 0]);
  assert.throws(() => lq.reset(new Float64Array(3)), /5 nominal actions expected, got 3/);
  assert.throws(() => lq.iterate(new Float64Array(3), 1), /the state has 3 values, expected 2/);
  assert.throws(
    () =>
      new GradientShooting(unstablePendulum(0.01, 16), quadraticCost([1, 1], [1], 1), { horizon: 0, learningRate: 1 }),
    /horizon must be a positive integer/,
  );
});
