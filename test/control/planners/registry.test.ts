import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MujocoSim } from '../../../sim/mujoco/sim.js';
import { packagePath } from '../../../src/util/paths.js';
import { defineParams } from '../../../src/util/param_schema.js';
import {
  PLANNERS,
  PLANNER_CHOICE,
  PLANNER_NAMES,
  PLANNER_PARAMETERS,
  SAMPLING_PLANNER_NAMES,
  createPlanner,
  mergeParameters,
  samplingOptimizer,
  type PlannerParameterValues,
} from '../../../src/control/planners/registry.js';
import type { PlannerContext, PlannerEntry } from '../../../src/control/planners/entry.js';
import { CemOptimizer } from '../../../src/control/planners/cem/optimizer.js';
import { IcemOptimizer } from '../../../src/control/planners/icem/optimizer.js';
import { MppiOptimizer } from '../../../src/control/planners/mppi/optimizer.js';
import { RandomShootingOptimizer } from '../../../src/control/planners/random_shooting/optimizer.js';
import type { ActionOptimizer } from '../../../src/control/planners/sampling/optimizer.js';
import { SAFETY_PARAMETERS } from '../../../src/control/safety_limits.js';
import { initTensorBackend } from '../../../src/tensor/backend.js';
import controller from '../../../nodes/controller.js';
import { QuadraticEvaluator, smoothTarget } from './quadratic.js';

// The planner registry: the planners and their parameters (every name and default the launch and
// config files use), the merge rules, the optimisers built from parameter values as the optimiser
// classes build them from their settings, and planners made from a controller's context.

/** The planners' parameters and defaults before the registry: launch and config files use these names. */
const KNOWN_DEFAULTS: Record<string, unknown> = {
  'lqr.q_diag': [],
  'lqr.q_position': 100,
  'lqr.q_velocity': 1,
  'lqr.r_diag': [],
  'lqr.r': 0.1,
  'lqr.horizon': 0,
  'lqr.qf_scale': 10,
  'ilqr.dynamics': 'mjcf',
  'ilqr.cost': 'goal',
  'ilqr.horizon_s': 1,
  'ilqr.jacobians': 'held',
  'ilqr.centered_differences': false,
  'ilqr.control_limits': true,
  'ilqr.q_position': 10,
  'ilqr.q_velocity': 0.1,
  'ilqr.r': 1e-3,
  'ilqr.terminal_scale': 10,
  'ilqr.ee_weight': 10,
  'ilqr.ee_norm_scale': 0.01,
  'gradient.horizon_s': 0.5,
  'gradient.learning_rate': 0.05,
  'gradient.cost': 'goal',
  'gradient.jacobians': 'held',
  'sampling.horizon': 25,
  'sampling.particles': 20,
  'sampling.propagation': 'ts1',
  'sampling.population': 400,
  'sampling.elite_ratio': 0.1,
  'sampling.alpha': 0.1,
  'sampling.std': [],
  'sampling.min_std': 0,
  'sampling.policy_share': 0,
  'mppi.temperature': 0.1,
  'mppi.noise_smoothing': 0.9,
  'mppi.filter_window': 1,
  'icem.population_decay': 1.25,
  'icem.keep_elite_fraction': 0.3,
  'icem.noise_exponent': 2,
  'policy.noise_scale': 0,
};

test('the planners, their parameters under their old names and defaults, and the planner parameter', () => {
  assert.deepEqual(PLANNER_NAMES, ['lqr', 'ilqr', 'gradient', 'cem', 'icem', 'mppi', 'random_shooting', 'policy']);
  assert.deepEqual(SAMPLING_PLANNER_NAMES, ['cem', 'icem', 'mppi', 'random_shooting']);
  assert.deepEqual(
    PLANNERS.map((e) => e.plansWith),
    [
      'mjcf_model',
      'mjcf_or_learned_model',
      'mjcf_model',
      'learned_model',
      'learned_model',
      'learned_model',
      'learned_model',
      'learned_policy',
    ],
  );
  const { planner } = PLANNER_CHOICE;
  const fragments = PLANNER_PARAMETERS;
  assert.equal(planner.default, 'lqr');
  assert.deepEqual(planner.choices, PLANNER_NAMES);
  assert.deepEqual(
    Object.fromEntries(Object.entries(fragments).map(([name, spec]) => [name, spec.default])),
    KNOWN_DEFAULTS,
  );
  // a sampling planner declares what it reads: random shooting no elites, MPPI its own, iCEM CEM's and its own
  const names = (entry: PlannerEntry) => Object.keys(entry.parameters).sort();
  const byName = new Map<string, PlannerEntry>(PLANNERS.map((e) => [e.name, e]));
  assert.deepEqual(names(byName.get('random_shooting')!), [
    'sampling.horizon',
    'sampling.particles',
    'sampling.population',
    'sampling.propagation',
  ]);
  assert.ok(names(byName.get('mppi')!).includes('mppi.temperature'));
  assert.ok(!names(byName.get('mppi')!).includes('sampling.elite_ratio'));
  assert.ok(names(byName.get('icem')!).includes('sampling.elite_ratio'));
});

test("the controller's parameters are its own, the registry's and the safety layer's, each declared once", () => {
  const params: Record<string, unknown> = controller.parameters;
  for (const [name, spec] of [
    ...Object.entries(PLANNER_CHOICE),
    ...Object.entries(PLANNER_PARAMETERS),
    ...Object.entries(SAFETY_PARAMETERS),
  ])
    assert.equal(params[name], spec, `the controller's '${name}' is the declaration's`);
  assert.ok('episode_topic' in params && 'model_topic' in params && 'explore_ticks' in params);
  assert.ok(
    !Object.keys(params).some((n) => /^(lqr|ilqr|gradient|sampling|icem|mppi)\./.test(n) && !(n in PLANNER_PARAMETERS)),
  );
});

test('merging: one declaration twice is one parameter; two different ones, a name without a namespace or two planners of one name are refused', () => {
  const shared = defineParams({ 'x.a': { type: 'double', default: 1, description: 'a' } });
  const entry = (name: string, parameters: PlannerEntry['parameters']): PlannerEntry => ({
    name,
    description: name,
    parameters,
    plansWith: 'mjcf_model',
    create: () => Promise.reject(new Error('not made here')),
  });
  assert.deepEqual(Object.keys(mergeParameters([entry('p', shared), entry('q', { ...shared })])), ['x.a']);
  assert.throws(
    () =>
      mergeParameters([
        entry('p', shared),
        entry('q', defineParams({ 'x.a': { type: 'double', default: 2, description: 'a' } })),
      ]),
    /parameter 'x\.a' is declared differently by p and q/,
  );
  assert.throws(
    () => mergeParameters([entry('p', defineParams({ a: { type: 'double', default: 1, description: 'a' } }))]),
    /planner p: parameter 'a' needs a namespace/,
  );
  assert.throws(() => mergeParameters([entry('p', shared), entry('p', shared)]), /two planners are named 'p'/);
});

/** The plan an optimiser makes on a fixed quadratic, from a cold start. */
function planOf(optimizer: ActionOptimizer): number[] {
  const evaluator = new QuadraticEvaluator({ horizon: 6, low: [-1, -2], high: [1, 2], target: smoothTarget(6, 2) });
  return Array.from(optimizer.optimize(evaluator, new Float32Array(12)).best);
}

test('an optimiser from parameter values is the one its class makes from the same settings', () => {
  const values = {
    'sampling.population': 37,
    'sampling.elite_ratio': 0.2,
    'sampling.alpha': 0.3,
    'sampling.std': [0.4, 0.5],
    'sampling.min_std': 0.01,
    'mppi.temperature': 0.7,
    'mppi.noise_smoothing': 0.6,
    'mppi.filter_window': 3,
    'icem.population_decay': 1.5,
    'icem.keep_elite_fraction': 0.2,
    'icem.noise_exponent': 1,
  };
  const common = { iterations: 3, seed: 11 };
  const direct: Record<string, ActionOptimizer> = {
    cem: new CemOptimizer({
      populationSize: 37,
      eliteRatio: 0.2,
      alpha: 0.3,
      initialStd: [0.4, 0.5],
      minStd: 0.01,
      ...common,
    }),
    icem: new IcemOptimizer({
      populationSize: 37,
      eliteRatio: 0.2,
      alpha: 0.3,
      initialStd: [0.4, 0.5],
      minStd: 0.01,
      populationDecay: 1.5,
      keepEliteFraction: 0.2,
      noiseExponent: 1,
      ...common,
    }),
    mppi: new MppiOptimizer({
      samples: 37,
      temperature: 0.7,
      noiseStd: [0.4, 0.5],
      noiseSmoothing: 0.6,
      filterWindow: 3,
      ...common,
    }),
    random_shooting: new RandomShootingOptimizer({ samples: 37, ...common }),
  };
  for (const name of SAMPLING_PLANNER_NAMES) {
    const made = samplingOptimizer({ planner: name, iterations: 3, values }, 11);
    assert.equal(made.name, name);
    assert.deepEqual(planOf(made), planOf(direct[name]!), `${name}: the same plan`);
  }
  // absent values take the controller's defaults: an empty std is the optimiser's own default
  assert.deepEqual(
    planOf(samplingOptimizer({ planner: 'cem', iterations: 2, values: {} }, 5)),
    planOf(new CemOptimizer({ populationSize: 400, iterations: 2, seed: 5 })),
  );
});

test('optimisers from plain data: not a sampling planner, an unknown parameter or a bad value are refused by name', () => {
  assert.throws(() => samplingOptimizer({ planner: 'lqr', iterations: 1, values: {} }, 1), /lqr is not a sampling/);
  assert.throws(() => samplingOptimizer({ planner: 'ilqg', iterations: 1, values: {} }, 1), /no planner 'ilqg'/);
  assert.throws(
    () => samplingOptimizer({ planner: 'cem', iterations: 1, values: { 'sampling.populaton': 3 } }, 1),
    /no planner has a parameter 'sampling\.populaton'/,
  );
  assert.throws(
    () => samplingOptimizer({ planner: 'cem', iterations: 1, values: { 'sampling.population': 0 } }, 1),
    /planner cem: parameter 'sampling\.population': 0 is outside the range/,
  );
  // another planner's parameter is ignored, as the controller ignores it
  assert.equal(samplingOptimizer({ planner: 'cem', iterations: 1, values: { 'mppi.temperature': 5 } }, 1).name, 'cem');
});

/** Every planner parameter at its default, and the overrides. */
function values(over: Partial<PlannerParameterValues> = {}): PlannerParameterValues {
  const defaults = Object.fromEntries(Object.entries(PLANNER_PARAMETERS).map(([k, spec]) => [k, spec.default]));
  return { ...defaults, ...over } as unknown as PlannerParameterValues;
}

async function context(over: Partial<PlannerContext> = {}): Promise<PlannerContext> {
  const sim = await MujocoSim.fromFile(packagePath('sim/models/cartpole.xml'));
  const logged: string[] = [];
  return {
    sim,
    modelPath: packagePath('sim/models/cartpole.xml'),
    periodNs: 10_000_000n,
    commandInterface: 'effort',
    actionBounds: () => ({ low: Float32Array.of(-20), high: Float32Array.of(20) }),
    eeSite: '',
    ikJoints: [],
    task: 'cartpole_swingup',
    taskTarget: [],
    planning: {
      thread: 'inline',
      lockstep: true,
      iterations: 1,
      timeBudgetMs: 5,
      maxPlanAgeNs: 500_000_000n,
      nice: 5,
      backend: undefined,
    },
    explore: true,
    seed: 1,
    logger: {
      debug: (m) => logged.push(m),
      info: (m) => logged.push(m),
      warn: (m) => logged.push(m),
      error: (m) => logged.push(m),
    },
    ...over,
  };
}

test('made from a context: LQR on the MJCF model, a sampling planner over the learned model, each as it says', async () => {
  const lqr = await createPlanner('lqr', await context(), values({ 'lqr.r': 0.5 }));
  try {
    assert.equal(lqr.planner.name, 'lqr');
    assert.equal(lqr.learned, undefined);
    assert.equal(lqr.thread, undefined);
    assert.equal(lqr.positionGoalRefusal(), 'no ee_site to place');
    assert.equal(lqr.goalState?.(), undefined, 'no goal yet');
  } finally {
    lqr.planner.dispose();
  }
  await initTensorBackend();
  const ctx = await context();
  try {
    const cem = await createPlanner('cem', ctx, values({ 'sampling.horizon': 5 }));
    assert.equal(cem.planner.name, 'cem over the learned model (cartpole_swingup)');
    assert.equal(cem.learned, cem.planner);
    assert.equal(cem.thread, undefined, 'inline');
    assert.equal(cem.maxPolicyAgeNs, undefined);
    assert.equal(cem.positionGoalRefusal(), 'task cartpole_swingup takes no goal');
    assert.equal(cem.learned.exploring, true);
    cem.planner.dispose();
    await assert.rejects(
      createPlanner('icem', { ...ctx, actionBounds: () => ({ missingRange: 'cart_force' }) }, values()),
      /parameter 'planner': icem samples inside the action bounds, and actuator 'cart_force' has no ctrlrange/,
    );
  } finally {
    ctx.sim.dispose();
  }
});

test('every planner that plans on the MJCF model refuses a model with no x = [q, q̇] in one line naming the joint', async () => {
  // a ball joint: 4 positions (a quaternion), 3 velocities; LQR used to fail deep in setQpos
  const ball = await MujocoSim.fromXml(
    '<mujoco><worldbody><body><joint name="swivel" type="ball"/><geom size="0.1"/></body></worldbody><actuator><motor joint="swivel" gear="1 0 0"/></actuator></mujoco>',
  );
  try {
    // the planners that can plan on the MJCF model (iLQR by default; on the ensemble with ilqr.dynamics)
    for (const name of ['lqr', 'ilqr', 'gradient'])
      await assert.rejects(
        createPlanner(name, await context({ sim: ball }), values()),
        new RegExp(`^Error: planner ${name}: joint 'swivel' is a ball joint: its quaternion is not a planning state`),
      );
  } finally {
    ball.dispose();
  }
});
