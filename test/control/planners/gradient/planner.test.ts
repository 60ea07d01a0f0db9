import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MujocoSim } from '../../../../sim/mujoco/sim.js';
import { packagePath } from '../../../../src/util/paths.js';
import type { PlannerContext } from '../../../../src/control/planners/entry.js';
import { PLANNER_NAMES, PLANNER_PARAMETERS, createPlanner } from '../../../../src/control/planners/registry.js';
import { GRADIENT_PARAMETERS } from '../../../../src/control/planners/gradient/index.js';
import { GradientPlanner } from '../../../../src/control/planners/gradient/planner.js';
import { evaluatePolicy } from '../../../../src/control/policy.js';

// Gradient shooting as the controller's planner, made from the registry: a sequence policy of the
// nominal actions (zero-order hold, one control period per action) inside the action box, goals
// and tasks as iLQR takes them, the warm start across plans, and its status figures.

const CARTPOLE = packagePath('sim/models/cartpole.xml');

async function context(over: Partial<PlannerContext> = {}): Promise<PlannerContext> {
  const sim = over.sim ?? (await MujocoSim.fromFile(CARTPOLE));
  const quiet = (): void => undefined;
  return {
    sim,
    modelPath: CARTPOLE,
    periodNs: 10_000_000n,
    commandInterface: 'effort',
    actionBounds: () => ({ low: Float32Array.of(-5), high: Float32Array.of(5) }),
    eeSite: '',
    ikJoints: [],
    task: 'cartpole_balance',
    taskTarget: [],
    planning: {
      thread: 'inline',
      lockstep: true,
      iterations: 15,
      timeBudgetMs: 5,
      maxPlanAgeNs: 500_000_000n,
      nice: 5,
      backend: undefined,
    },
    explore: false,
    seed: 1,
    logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    ...over,
  };
}

function values(over: Record<string, unknown> = {}): Parameters<typeof createPlanner>[2] {
  const defaults = Object.fromEntries(Object.entries(PLANNER_PARAMETERS).map(([k, spec]) => [k, spec.default]));
  return { ...defaults, ...over } as unknown as Parameters<typeof createPlanner>[2];
}

test('the registry has gradient, its parameters in the gradient namespace', () => {
  assert.ok(PLANNER_NAMES.includes('gradient'));
  for (const name of Object.keys(GRADIENT_PARAMETERS)) {
    assert.ok(name.startsWith('gradient.'), name);
    assert.ok(name in PLANNER_PARAMETERS, name);
  }
});

test('a state goal: the plan is a zero-order-hold sequence inside the action box that lowers the cost plan by plan', async () => {
  const instance = await createPlanner('gradient', await context(), values({ 'gradient.horizon_s': 0.3 }));
  const planner = instance.planner;
  try {
    assert.ok(planner instanceof GradientPlanner);
    assert.match(planner.name, /^gradient shooting \(Adam\) on MuJoCo/);
    assert.equal(instance.learned, undefined);
    assert.equal(instance.positionGoalRefusal(), 'no ee_site to reach for');
    const x = Float64Array.of(0, 0.2, 0, 0);
    assert.throws(() => planner.optimize({ timeNs: 0n, state: x }), /no goal set/);
    planner.setGoal({ kind: 'state', state: new Float64Array(4) });
    assert.deepEqual(instance.goalState?.(), new Float64Array(4));
    const policy = planner.optimize({ timeNs: 0n, state: x });
    assert.equal(policy.kind, 'sequence');
    assert.equal(policy.interpolation, 'zero_order_hold');
    assert.equal(policy.stepNs, 10_000_000n);
    assert.equal(policy.nu, 1);
    assert.equal(policy.actions.length, 30);
    for (const u of policy.actions) assert.ok(u >= -5 && u <= 5, `action ${u} outside the box`);
    const out = new Float64Array(1);
    assert.equal(evaluatePolicy(policy, 15_000_000n, x, out)[0], policy.actions[1]);
    const status = planner.status();
    assert.equal(status.iterations, 15);
    assert.equal(status.goal, 'state goal');
    assert.ok((status.cost as number) < (status.initial_cost as number));
    for (const key of ['gradient_norm', 'first_gradient_norm', 'last_gradient_norm', 'gradient_ratio', 'plan_ms'])
      assert.equal(typeof status[key], 'number', key);
    // the next plan, one period later from the state the plan predicted, starts from the shifted plan
    const shooting = planner.shooting;
    const predicted = shooting.states.slice(4, 8);
    const cold = shooting.rollout(predicted, new Float64Array(30), new Float64Array(31 * 4));
    planner.optimize({ timeNs: 10_000_000n, state: predicted });
    const warm = planner.status().initial_cost as number;
    assert.ok(warm < cold, `the warm start (first rollout ${warm}) carries the plan on (from zero actions: ${cold})`);
    assert.equal(planner.status().total_iterations, 30);
  } finally {
    planner.dispose();
  }
});

test('a task objective plans from the start; a model it cannot plan on is refused in one line', async () => {
  const instance = await createPlanner('gradient', await context(), values({ 'gradient.cost': 'task' }));
  try {
    assert.equal(instance.positionGoalRefusal(), undefined, 'cart-pole balance takes position goals (the cart x)');
    const policy = instance.planner.optimize({ timeNs: 0n, state: Float64Array.of(0, 0.1, 0, 0) });
    assert.equal(policy.actions.length, 50, 'the default horizon 0.5 s at 10 ms');
    assert.equal(instance.planner.status().goal, 'task cartpole_balance');
  } finally {
    instance.planner.dispose();
  }
  const free = await MujocoSim.fromXml(
    '<mujoco><worldbody><body><freejoint name="f"/><geom size="0.1"/></body></worldbody><actuator><motor joint="f" gear="1 0 0 0 0 0"/></actuator></mujoco>',
  );
  await assert.rejects(
    createPlanner('gradient', await context({ sim: free }), values()),
    /planner gradient: joint 'f' is a free joint/,
  );
  free.dispose();
});
