import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import definition from '../../nodes/dynamics_learner.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { defineParams } from '../../src/util/param_schema.js';
import { SteppedClock } from '../../framework/time/clock.js';
import { nsToTime } from '../../framework/time/time.js';
import { QOS_EPISODE_EVENTS, QOS_LATCHED } from '../../framework/transport/qos.js';
import { ReplayBuffer } from '../../src/data/replay_buffer.js';
import { modelLayout } from '../../src/control/planners/ensemble_mpc/planner.js';
import { EpisodeEventKind, type DiagnosticArray, type ModelBlob } from '../../framework/msgs/types.js';
import { until } from '../wait.js';

// The learner in PETS's loop: the hinge angle learned as (sin q, cos q), and a training at every
// episode end (an END on `episode`, as the sim bridge declares it), on all data so far, with the
// model's metadata saying its layout and the stamp of the last state it learned from. The episodes
// follow each other with no dead time: only the events tell them apart. Training runs in a worker:
// the test waits for each model (a generous deadline ends a hang), and reads from the learner's own
// diagnostics that no training started before the episode ended.

const PERIOD = 10_000_000n;

async function start(values: Record<string, unknown>) {
  const clock = new SteppedClock('ros', true);
  const transport = new EmbeddedTransport({ checkMessages: true, rosClock: clock });
  const handle = await transport.createNode({
    name: 'dynamics_learner',
    parameters: definition.parameters,
    parameterSources: [{ origin: 'test', values, strict: true }],
  });
  const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
  const states = probe.createPublisher('dynastack_msgs/msg/JointStateEstimate', 'estimated_joint_states');
  const commands = probe.createPublisher('std_msgs/msg/Float64MultiArray', 'forward_command_controller/commands');
  const events = probe.createPublisher('dynastack_msgs/msg/EpisodeEvent', 'episode', QOS_EPISODE_EVENTS);
  const models: ModelBlob[] = [];
  probe.createSubscription('dynastack_msgs/msg/ModelBlob', '/dynamics/model', (m) => models.push(m), {
    qos: QOS_LATCHED,
  });
  const diagnostics: DiagnosticArray[] = [];
  probe.createSubscription('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics', (m) => diagnostics.push(m), {
    qos: { history: 'keep_all' },
  });
  const lifecycle = await definition.configure(handle, handle.params);
  let index = 0;
  /** the source's event of episode `index`: START or END at tick k */
  const declare = async (event: number, k: number): Promise<void> => {
    const reason = event === EpisodeEventKind.END ? 'length' : '';
    events.publish({ header: { stamp: nsToTime(BigInt(k) * PERIOD), frame_id: '' }, episode: index, event, reason });
    await transport.bus.idle();
  };
  /** an episode of ticks k0 … k0+n−1 of a pendulum swinging over the top (q̈ = u − 4 sin q), a state then its command each; declared START first */
  const episode = async (k0: number, n: number): Promise<void> => {
    await declare(EpisodeEventKind.START, k0);
    let [q, qd] = [3, 4];
    for (let k = 0; k < n; k++) {
      const t = BigInt(k0 + k) * PERIOD;
      const u = 2 * Math.sin(0.3 * k);
      clock.set(t);
      states.publish({
        state: {
          header: { stamp: nsToTime(t), frame_id: '' },
          name: ['hinge'],
          position: [q],
          velocity: [qd],
          effort: [],
        },
        covariance: [1e-6, 0, 0, 1e-4],
      });
      await transport.bus.idle();
      commands.publish({ layout: { dim: [], data_offset: 0 }, data: [u] });
      await transport.bus.idle();
      qd += 0.01 * (u - 4 * Math.sin(q));
      q += 0.01 * qd;
    }
  };
  /** the END of the episode under way, its last state at tick k */
  const end = async (k: number): Promise<void> => {
    await declare(EpisodeEventKind.END, k);
    index++;
  };
  const waitForModels = (count: number): Promise<void> =>
    until(`model ${count} on /dynamics/model`, () => models.length >= count, {
      seen: () => `${models.length} models`,
    });
  const stop = async (): Promise<void> => {
    await lifecycle.deactivate?.();
    await lifecycle.cleanup?.();
    await transport.shutdown();
  };
  return { lifecycle, episode, end, models, diagnostics, waitForModels, stop };
}

const PETS_LIKE = {
  use_sim_time: true,
  joints: ['hinge'],
  angle_joints: ['hinge'],
  retrain_on: 'episode',
  min_transitions: 50,
  'ensemble.members': 2,
  'ensemble.elites': 2,
  'ensemble.hidden': [16, 16],
  'training.epochs': 5,
  'training.batch_size': 32,
  diagnostics_period_s: 0.2,
};

test(
  'learner: angle joints as (sin, cos), a training at every episode end on all data, the layout and data end in the metadata',
  { timeout: 150_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'learner-episodes-'));
    const bufferFile = join(dir, 'transitions.bin');
    const { lifecycle, episode, end, models, diagnostics, waitForModels, stop } = await start({
      ...PETS_LIKE,
      buffer_file: bufferFile,
    });
    try {
      await lifecycle.activate?.();
      await episode(0, 100); // ticks 0…99: 99 transitions, more than min_transitions, but the episode goes on
      // a report taken after all 99: no model made and no training under way (a training started
      // before the episode's end shows here however fast or slow it runs)
      const after99 = (d: DiagnosticArray): boolean =>
        d.status[0]!.values.some((v) => v.key === 'transitions' && v.value === '99');
      await until('a diagnostics report after 99 transitions', () => diagnostics.some(after99));
      const report = diagnostics.find(after99)!.status[0]!;
      assert.ok(
        report.values.some((v) => v.key === 'model_version' && v.value === '0') && !/training/.test(report.message),
        `no training before the episode ends: ${report.message}`,
      );
      assert.equal(models.length, 0, 'no model before the episode ends');
      await end(99);
      await waitForModels(1);
      assert.equal(models.length, 1, 'one model after the first episode');
      await episode(100, 60); // right after the first: ticks 99 and 100 are one period apart, but do not pair
      await end(159);
      await waitForModels(2);
      assert.equal(models.length, 2, 'one model after each episode');

      const [first, second] = models.map(
        (m) =>
          JSON.parse(m.metadata_json) as Record<string, unknown> & {
            training: Record<string, unknown>;
            config: { stateSize: number };
          },
      );
      assert.deepEqual(first!.training.joints, ['hinge']);
      assert.deepEqual(first!.training.angle_joints, ['hinge']);
      assert.deepEqual(first!.training.state, ['sin.hinge', 'cos.hinge', 'qd.hinge']);
      assert.equal(first!.config.stateSize, 3);
      assert.equal(first!.training.transitions, 99);
      assert.equal(first!.training.data_end_ns, String(99n * PERIOD));
      assert.equal(second!.training.transitions, 99 + 59, 'the second trained on both episodes, nothing across them');
      assert.equal(second!.training.data_end_ns, String(159n * PERIOD));
      // what the controller reads from it
      const layout = modelLayout(second!);
      assert.equal(layout.encoding.describe(), '[sin.hinge, cos.hinge, qd.hinge]');
      assert.equal(layout.dataEndNs, 159n * PERIOD);
      assert.equal(layout.periodNs, Number(PERIOD));
      const metrics = lifecycle.metrics!();
      assert.equal(metrics.models_published, 2);
      assert.deepEqual([metrics.episodes, metrics.missed_ticks, metrics.resets], [2, 0, 0]);
    } finally {
      await stop();
    }
    try {
      // the buffer holds encoded states: on the unit circle, though the pendulum went over the top
      const buffer = ReplayBuffer.load(bufferFile);
      assert.deepEqual(buffer.meta.angle_joints, ['hinge']);
      const { states, nextStates, n } = buffer.toTransitionData();
      assert.equal(n, 99 + 59);
      for (const s of [states, nextStates])
        for (let i = 0; i < n; i++) assert.ok(Math.abs(s[3 * i]! ** 2 + s[3 * i + 1]! ** 2 - 1) < 1e-5);
      assert.ok(
        Array.from({ length: n }, (_, i) => states[3 * i + 1]!).some((c) => c < -0.9),
        'the pole passed the top (cos q near −1)',
      );
      // a run with other angle joints cannot take these transitions
      const transport = new EmbeddedTransport();
      const handle = await transport.createNode({
        name: 'dynamics_learner',
        parameters: definition.parameters,
        parameterSources: [{ origin: 'test', values: { buffer_file: bufferFile }, strict: true }],
      });
      await assert.rejects(
        async () => definition.configure(handle, handle.params),
        /parameter 'angle_joints': \[\] differs from the angle joints of buffer_file .*: \[hinge\]/,
      );
      await transport.shutdown();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('learner: angle joints must be among the joints', async () => {
  const transport = new EmbeddedTransport();
  const handle = await transport.createNode({
    name: 'dynamics_learner',
    parameters: definition.parameters,
    parameterSources: [{ origin: 'test', values: { joints: ['hinge'], angle_joints: ['other'] }, strict: true }],
  });
  await assert.rejects(
    async () => definition.configure(handle, handle.params),
    /parameter 'angle_joints': state encoding: angle joints \[other\] are not among the joints \[hinge\]/,
  );
  await transport.shutdown();
});
