import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registry } from '../../nodes/index.js';
import { Launcher } from '../../framework/runtime/launcher.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { defineParams } from '../../src/util/param_schema.js';
import { QOS_LATCHED } from '../../framework/transport/qos.js';
import { timeToNs } from '../../framework/time/time.js';
import type { LaunchDescription, LaunchNode } from '../../framework/launch/types.js';
import { codeNode } from './harness.js';
import type { DiagnosticStatus } from '../../framework/msgs/types.js';

// PETS in the node graph: the cart-pole sim in lockstep → state_estimator → dynamics_learner
// (a small ensemble, trained at 200 transitions and again every 100, in its worker) and a controller planning
// with CEM over whatever model /dynamics/model last carried. Until the first model the
// controller commands seeded uniform random actions for 250 ticks, then holds the lockstep graph
// until the model trained on them arrives, and plans from then on. The graph is built in code (no
// launch file has the learner yet); it runs until 1.5 s of sim time after the first model, and a
// graph that does not get where a test needs it within a generous wall limit fails, saying so.

const EXPLORE_TICKS = 250;
const PLANNING_S = 1.5;
/** wall time a graph may take to get where its test needs it (a hang, not a slow machine) */
const WALL_LIMIT_MS = 90_000;

const launchNode = (exec: string, values: Record<string, unknown>): LaunchNode =>
  codeNode('learned_mpc.test.ts', exec, values);

/** The graph: the learner first trains at 200 transitions, then every `retrainEvery`. */
function graph(retrainEvery: number): LaunchDescription {
  return {
    file: 'learned_mpc.test.ts',
    args: {},
    warnings: [],
    nodes: [
      launchNode('sim_bridge', {
        model: 'sim/models/cartpole.xml',
        mode: 'lockstep',
        rate_hz: 100.0,
        reset_keyframe: 'hanging',
        position_noise: 0.001,
        seed: 7,
        max_sim_time_s: 600.0,
        progress_period_s: 0.0,
        lockstep_timeout_s: 60.0,
      }),
      launchNode('state_estimator', { use_sim_time: true, position_noise_std: 0.001, process_noise: 5.0 }),
      launchNode('dynamics_learner', {
        use_sim_time: true,
        rate_hz: 100.0,
        retrain_every: retrainEvery,
        min_transitions: 200,
        'ensemble.members': 3,
        'ensemble.elites': 2,
        'ensemble.hidden': [32, 32],
        'training.epochs': 20,
        'training.batch_size': 64,
        'training.patience': 5,
        seed: 1,
      }),
      launchNode('controller', {
        use_sim_time: true,
        model: 'sim/models/cartpole.xml',
        rate_hz: 100.0,
        wait_for_state: true,
        goal_keyframe: 'upright',
        planner: 'cem',
        explore_ticks: EXPLORE_TICKS,
        task: 'cartpole_swingup',
        iterations_per_tick: 2,
        'sampling.population': 30,
        'sampling.horizon': 12,
        'sampling.particles': 4,
        'sampling.propagation': 'tsinf',
        seed: 3,
      }),
    ],
  };
}

interface Observed {
  nowNs: bigint;
  /** each command with the stamp of the state it answers */
  readonly commands: { tNs: bigint; u: number[] }[];
  /** each model with the sim time it came at */
  readonly models: { version: number; atNs: bigint }[];
  readonly controllerStatus: DiagnosticStatus[];
}

/**
 * Run the graph until `done` says so (checked at every message the probe gets); a graph that does
 * not get there within the wall limit is a failure saying that `what` did not happen.
 */
async function runGraph(description: LaunchDescription, what: string, done: (seen: Observed) => boolean) {
  const transport = new EmbeddedTransport({ checkMessages: true });
  const launcher = new Launcher(description, { transport, registry, logLevelSpec: 'error', checkMessages: true });
  const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
  const seen: Observed = { nowNs: -1n, commands: [], models: [], controllerStatus: [] };
  let reached: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (reached = resolve));
  const check = (): void => {
    if (done(seen)) reached();
  };
  const all = { qos: { history: 'keep_all' as const } };
  probe.createSubscription(
    'sensor_msgs/msg/JointState',
    '/joint_states',
    (m) => {
      seen.nowNs = timeToNs(m.header.stamp);
      check();
    },
    all,
  );
  probe.createSubscription(
    'std_msgs/msg/Float64MultiArray',
    '/forward_command_controller/commands',
    (m) => seen.commands.push({ tNs: seen.nowNs, u: Array.from(m.data) }),
    all,
  );
  probe.createSubscription(
    'dynastack_msgs/msg/ModelBlob',
    '/dynamics/model',
    (m) => {
      seen.models.push({ version: m.version, atNs: seen.nowNs });
      check();
    },
    { qos: QOS_LATCHED },
  );
  probe.createSubscription(
    'diagnostic_msgs/msg/DiagnosticArray',
    '/diagnostics',
    (m) => {
      seen.controllerStatus.push(...m.status.filter((s) => s.name.includes('controller')));
      check();
    },
    all,
  );
  const started = performance.now();
  let limit: NodeJS.Timeout | undefined;
  try {
    await launcher.configure();
    await launcher.activate();
    const inTime = await Promise.race([
      finished.then(() => true),
      new Promise<boolean>((resolve) => (limit = setTimeout(() => resolve(false), WALL_LIMIT_MS))),
    ]);
    if (!inTime)
      throw new Error(
        `${what} did not happen within ${WALL_LIMIT_MS / 1000} s of wall time: at sim time ${Number(seen.nowNs) / 1e9} s, ` +
          `${seen.commands.length} commands, models [${seen.models.map((m) => `v${m.version} at ${Number(m.atNs) / 1e9} s`).join(', ')}]`,
      );
  } finally {
    clearTimeout(limit);
    await launcher.shutdown();
    probe.destroy();
  }
  const report = await launcher.report();
  const metrics = report.nodes.find((n) => n.node === '/controller')!.metrics;
  return { ...seen, report, metrics, wallS: (performance.now() - started) / 1000 };
}

test(
  'PETS in the graph: random actions until the first learned model, then CEM over it, swapping in each new version',
  { timeout: WALL_LIMIT_MS + 30_000 },
  async () => {
    // 1.5 s of planning, and long enough to see the second model swapped in
    // (the controller's diagnostics come every wall second: wait for one with the planner planning)
    const { commands, models, controllerStatus, report, metrics, wallS } = await runGraph(
      graph(100),
      '1.5 s of planning, the second model, and diagnostics of the planner planning',
      ({ models, nowNs, controllerStatus }) =>
        models.length >= 2 &&
        nowNs >= models[0]!.atNs + BigInt(PLANNING_S * 1e9) &&
        nowNs >= models[1]!.atNs + 200_000_000n &&
        controllerStatus.some((s) => s.values.some((v) => v.key === 'planner.mode' && v.value === 'planning')),
    );
    const firstAt = models[0]!.atNs;
    const before = commands.filter((c) => c.tNs < firstAt);
    const after = commands.filter((c) => c.tNs > firstAt);
    console.log(
      `learned MPC: first model at ${(Number(firstAt) / 1e9).toFixed(2)} s sim, ${models.length} models (v${models.at(-1)!.version}), ` +
        `${before.length} exploring / ${after.length} planned commands, plan ${Number(metrics.planner_plan_ms_mean).toFixed(1)} ms mean, ${wallS.toFixed(1)} s wall`,
    );

    // exploration: uniform random forces over the whole ±20 N box, one per tick, before any model
    assert.equal(before.length, EXPLORE_TICKS, 'explore_ticks random commands, then the graph waits for the model');
    assert.equal(metrics.planner_exploration_ticks, EXPLORE_TICKS);
    const explored = before.map((c) => c.u[0]!);
    assert.ok(explored.every((u) => u >= -20 && u <= 20));
    assert.ok(
      Math.min(...explored) < -15 && Math.max(...explored) > 15,
      `exploration spans [${Math.min(...explored)}, ${Math.max(...explored)}]`,
    );
    assert.ok(new Set(explored).size > 0.9 * explored.length, 'a fresh random action every tick');

    // the controller picked the model up and plans from then on: every tick after it is a plan
    assert.equal(models[0]!.version, 1);
    assert.ok(
      Number(metrics.planner_model_version) >= 2,
      `model version in use ${metrics.planner_model_version}: the second was not swapped in`,
    );
    assert.equal(metrics.planner_models_rejected, 0);
    assert.ok(Number(metrics.planner_models_received) >= 1);
    assert.ok(after.length >= PLANNING_S * 100 - 2, `${after.length} commands after the model`);
    assert.ok(
      Math.abs(Number(metrics.planner_plans) - after.length) <= 2,
      `${metrics.planner_plans} plans for ${after.length} commands after the model`,
    );
    assert.ok(
      Number(metrics.planner_evaluations) >= Number(metrics.planner_plans) * 2 * 30,
      'two CEM iterations of 30 sequences per plan',
    );
    assert.ok(Number.isFinite(Number(metrics.planner_best_cost)));
    assert.ok(
      after.every((c) => c.u.length === 1 && Number.isFinite(c.u[0]!) && Math.abs(c.u[0]!) <= 20),
      'planned commands are finite and within ±20 N',
    );
    assert.ok(new Set(after.map((c) => c.u[0]!)).size > 10, 'the plans vary with the state');
    assert.equal(metrics.safety_nan, 0);
    assert.equal(metrics.safety_stale_state, 0);
    assert.equal(report.nodes.find((n) => n.node === '/sim_bridge')!.metrics.command_timeouts, 0);

    // diagnostics carry the planner's figures
    const keys = new Set(controllerStatus.flatMap((s) => s.values.map((v) => v.key)));
    for (const key of [
      'planner.mode',
      'planner.model_version',
      'planner.exploration_ticks',
      'planner.plans',
      'planner.best_cost',
      'planner.plan_ms',
    ])
      assert.ok(keys.has(key), `diagnostics lack ${key}`);
  },
);

test(
  'lockstep repeats exactly: the same random actions, the same first model, the same plans',
  // two graphs, each allowed the wall limit
  { timeout: 2 * WALL_LIMIT_MS + 30_000 },
  async () => {
    // stop half a second into planning, long before the second model (400 transitions) is due
    const until = ({ models, nowNs }: Observed): boolean =>
      models.length >= 1 && nowNs >= models[0]!.atNs + 500_000_000n;
    const what = 'half a second of planning after the first model';
    const a = await runGraph(graph(200), what, until);
    const b = await runGraph(graph(200), what, until);
    const firstAt = a.models[0]!.atNs;
    assert.equal(b.models[0]!.atNs, firstAt, 'the model came at the same tick');
    const planned = (run: Observed) => run.commands.filter((c) => c.tNs <= firstAt + 450_000_000n);
    assert.ok(planned(a).length >= EXPLORE_TICKS + 40);
    assert.deepEqual(planned(b), planned(a));
    assert.ok(a.models.length === 1 && b.models.length === 1);
  },
);
