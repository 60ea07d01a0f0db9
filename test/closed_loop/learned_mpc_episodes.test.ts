import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registry } from '../../nodes/index.js';
import { Launcher } from '../../framework/runtime/launcher.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { defineParams } from '../../src/util/param_schema.js';
import { QOS_LATCHED } from '../../framework/transport/qos.js';
import { timeToNs } from '../../framework/time/time.js';
import { EpisodeEventKind } from '../../framework/msgs/types.js';
import type { LaunchDescription, LaunchNode } from '../../framework/launch/types.js';
import { codeNode } from './harness.js';

// PETS's loop in the lockstep graph, as config/pets_cartpole.yaml runs it (smaller and shorter):
// 1 s episodes at 50 Hz; the learner learns [x, sin θ, cos θ, ẋ, θ̇] and retrains after every
// episode; the controller explores the first episode and starts every later one with the model
// trained through the episode before: it holds the episode's first tick until that model is in
// use, so no command of an episode comes from an older model.

const RATE_HZ = 50;
const PERIOD_NS = BigInt(1e9 / RATE_HZ);
const EPISODE_TICKS = 50;
const WALL_LIMIT_MS = 100_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const launchNode = (exec: string, values: Record<string, unknown>): LaunchNode =>
  codeNode('learned_mpc_episodes.test.ts', exec, values);

const GRAPH: LaunchDescription = {
  file: 'learned_mpc_episodes.test.ts',
  args: {},
  warnings: [],
  nodes: [
    launchNode('sim_bridge', {
      model: 'sim/models/cartpole.xml',
      mode: 'lockstep',
      rate_hz: RATE_HZ,
      reset_keyframe: 'hanging',
      initial_position_noise: 0.05,
      episode_length_s: EPISODE_TICKS / RATE_HZ,
      position_noise: 0.0005,
      seed: 7,
      progress_period_s: 0.0,
      lockstep_timeout_s: 60.0,
    }),
    launchNode('state_estimator', {
      use_sim_time: true,
      position_noise_std: 0.0005,
      use_velocity_measurement: true,
      velocity_noise_std: 0.01,
      process_noise: 50.0,
    }),
    launchNode('dynamics_learner', {
      use_sim_time: true,
      rate_hz: RATE_HZ,
      joints: ['cart_slide', 'pole_hinge'],
      angle_joints: ['pole_hinge'],
      retrain_on: 'episode',
      min_transitions: 40,
      'ensemble.members': 2,
      'ensemble.elites': 2,
      'ensemble.hidden': [16, 16],
      'training.epochs': 5,
      'training.batch_size': 32,
      seed: 1,
    }),
    launchNode('controller', {
      use_sim_time: true,
      model: 'sim/models/cartpole.xml',
      rate_hz: RATE_HZ,
      wait_for_state: true,
      planner: 'icem',
      task: 'cartpole_swingup',
      await_episode_model: true,
      iterations_per_tick: 1,
      'sampling.population': 20,
      'sampling.horizon': 8,
      'sampling.particles': 2,
      'sampling.propagation': 'tsinf',
      seed: 3,
    }),
  ],
};

type Event =
  | { kind: 'state'; tNs: bigint }
  | { kind: 'command'; tNs: bigint }
  | { kind: 'model'; tNs: bigint; version: number; dataEndNs: string; state: string[]; stateSize: number };

test(
  'PETS episodes in the graph: each episode starts with the model trained through the one before, in the sin/cos state',
  { timeout: 150_000 },
  async () => {
    const transport = new EmbeddedTransport({ checkMessages: true });
    const launcher = new Launcher(GRAPH, { transport, registry, logLevelSpec: 'error', checkMessages: true });
    const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
    const events: Event[] = [];
    let nowNs = -1n;
    // the stamps of the first states of the episodes after the first, as the bridge declares them
    const episodeStarts: bigint[] = [];
    const all = { qos: { history: 'keep_all' as const } };
    probe.createSubscription(
      'dynastack_msgs/msg/EpisodeEvent',
      '/episode',
      (m) => {
        if (m.event === EpisodeEventKind.START && m.episode > 0) episodeStarts.push(timeToNs(m.header.stamp));
      },
      all,
    );
    probe.createSubscription(
      'sensor_msgs/msg/JointState',
      '/joint_states',
      (m) => {
        nowNs = timeToNs(m.header.stamp);
        events.push({ kind: 'state', tNs: nowNs });
      },
      all,
    );
    probe.createSubscription(
      'std_msgs/msg/Float64MultiArray',
      '/forward_command_controller/commands',
      () => events.push({ kind: 'command', tNs: nowNs }),
      all,
    );
    probe.createSubscription(
      'dynastack_msgs/msg/ModelBlob',
      '/dynamics/model',
      (m) => {
        const meta = JSON.parse(m.metadata_json) as {
          training: { data_end_ns: string; state: string[] };
          config: { stateSize: number };
        };
        events.push({
          kind: 'model',
          tNs: nowNs,
          version: m.version,
          dataEndNs: meta.training.data_end_ns,
          state: meta.training.state,
          stateSize: meta.config.stateSize,
        });
      },
      { qos: QOS_LATCHED },
    );
    const started = performance.now();
    try {
      await launcher.configure();
      await launcher.activate();
      // until the fourth episode is 10 ticks in
      while (
        performance.now() - started < WALL_LIMIT_MS &&
        !(episodeStarts.length >= 3 && nowNs >= episodeStarts[2]! + 10n * PERIOD_NS)
      )
        await sleep(50);
    } finally {
      await launcher.shutdown();
      probe.destroy();
    }
    const report = await launcher.report();
    const metrics = (node: string) => report.nodes.find((n) => n.node === node)!.metrics;

    const states = events.filter((e) => e.kind === 'state').map((e) => e.tNs);
    assert.ok(episodeStarts.length >= 3, `${episodeStarts.length + 1} episodes within ${WALL_LIMIT_MS / 1000} s`);
    const models = events.filter((e): e is Extract<Event, { kind: 'model' }> => e.kind === 'model');
    console.log(
      `PETS episodes: ${episodeStarts.length + 1} episodes, ${models.length} models, ${((performance.now() - started) / 1000).toFixed(1)} s wall`,
    );

    // the first episode explores: a random command every tick (the bridge's tick at 0 s comes before
    // the graph is active), and no model before it ends
    const commands = events.filter((e) => e.kind === 'command');
    const explored = commands.filter((c) => c.tNs < episodeStarts[0]!).length;
    assert.ok(explored >= EPISODE_TICKS - 1, `${explored} commands in the first episode`);
    assert.equal(metrics('/controller').planner_exploration_ticks, explored);
    assert.ok(models.every((m) => m.tNs >= episodeStarts[0]!));
    for (const [k, start] of episodeStarts.slice(0, 3).entries()) {
      const lastOfPrevious = states[states.indexOf(start) - 1]!;
      const model = models.find((m) => m.version === k + 1);
      assert.ok(model, `no model v${k + 1}`);
      // trained through the last state of the episode before, in the encoded state
      assert.equal(model.dataEndNs, String(lastOfPrevious));
      assert.deepEqual(model.state, [
        'q.cart_slide',
        'sin.pole_hinge',
        'cos.pole_hinge',
        'qd.cart_slide',
        'qd.pole_hinge',
      ]);
      assert.equal(model.stateSize, 5);
      // it came while the graph stood at the episode's first tick, and that tick's command after it
      assert.equal(model.tNs, start);
      const modelIndex = events.indexOf(model);
      const firstCommand = events.findIndex((e) => e.kind === 'command' && e.tNs === start);
      assert.ok(firstCommand > modelIndex, `the command of the tick at ${start} ns came before model v${k + 1}`);
    }
    // one command per tick throughout: none skipped while holding, none extra — but for the stop
    // action the controller sends when the test's shutdown deactivates it, at the tick it answered last
    const ticks =
      commands.length > 1 && commands.at(-1)!.tNs === commands.at(-2)!.tNs ? commands.slice(0, -1) : commands;
    const commanded = new Set(ticks.map((c) => c.tNs));
    assert.equal(commanded.size, ticks.length, 'one command per tick');
    const uncommanded = states.slice(1, -1).filter((t) => !commanded.has(t));
    assert.deepEqual(uncommanded, [], 'a command for every tick after the first (the newest may still be waiting)');
    assert.equal(metrics('/sim_bridge').command_timeouts, 0);
    assert.equal(metrics('/controller').planner_models_rejected, 0);
    assert.equal(metrics('/controller').safety_nan, 0);
    // every transition learned: 49 per episode (an episode's last command has no next state)
    assert.ok(Number(metrics('/dynamics_learner').transitions) >= 3 * (EPISODE_TICKS - 1));
  },
);
