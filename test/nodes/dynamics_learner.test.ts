import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import definition from '../../nodes/dynamics_learner.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { defineParams } from '../../src/util/param_schema.js';
import { SteppedClock } from '../../framework/time/clock.js';
import { nsToTime } from '../../framework/time/time.js';
import { QOS_LATCHED } from '../../framework/transport/qos.js';
import { ProbabilisticEnsemble } from '../../src/dynamics/ensemble.js';
import { initTensorBackend } from '../../src/tensor/backend.js';
import { Rng } from '../../src/util/random.js';
import type { DiagnosticArray, ModelBlob } from '../../framework/msgs/types.js';
import { until } from '../wait.js';

// The learner on the embedded transport under sim time, fed a 1-D damped pendulum's states and
// random commands at 100 Hz in lockstep order: after retrain_every transitions a model appears on
// /dynamics/model (latched), and it predicts the system better than "nothing changes". Training
// runs in a worker, so the test waits for its model and diagnostics (with a generous deadline);
// that none came too early is read from the learner's own report, not from a wait.

const DT = 0.01;
const PERIOD = 10_000_000n;

/** a diagnostics report's key/value pairs */
const valuesOf = (d: DiagnosticArray): Record<string, string> =>
  Object.fromEntries(d.status[0]!.values.map((v) => [v.key, v.value]));

/** q̈ = u − 0.5 q̇ − 4 sin q, semi-implicit Euler */
function step(q: number, qd: number, u: number): [number, number] {
  const qd2 = qd + DT * (u - 0.5 * qd - 4 * Math.sin(q));
  return [q + DT * qd2, qd2];
}

/** commands held for 5–15 ticks, uniform in [−3, 3] */
function commands(seed: number, n: number): number[] {
  const rng = new Rng(seed);
  const out: number[] = [];
  while (out.length < n) {
    const u = 6 * rng.uniform() - 3;
    for (let k = 5 + Math.floor(10 * rng.uniform()); k > 0; k--) out.push(u);
  }
  return out.slice(0, n);
}

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
  const commandPub = probe.createPublisher('std_msgs/msg/Float64MultiArray', 'forward_command_controller/commands');
  const diagnostics: DiagnosticArray[] = [];
  probe.createSubscription('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics', (m) => diagnostics.push(m), {
    qos: { history: 'keep_all' },
  });
  const lifecycle = await definition.configure(handle, handle.params);
  /** ticks k0 … k0+n−1 of the system from (q, q̇): the state of the tick, then its command */
  const feed = async (n: number, seed: number, k0 = 0): Promise<void> => {
    const us = commands(seed, n);
    let [q, qd] = [0.3, 0];
    for (let k = 0; k < n; k++) {
      const t = BigInt(k0 + k) * PERIOD;
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
      commandPub.publish({ layout: { dim: [], data_offset: 0 }, data: [us[k]!] });
      await transport.bus.idle();
      [q, qd] = step(q, qd, us[k]!);
    }
  };
  const stop = async (): Promise<void> => {
    await lifecycle.deactivate?.();
    await lifecycle.cleanup?.();
    await transport.shutdown();
  };
  return { transport, probe, lifecycle, feed, diagnostics, stop };
}

const SMALL = {
  use_sim_time: true,
  retrain_every: 600,
  min_transitions: 600,
  'ensemble.members': 3,
  'ensemble.elites': 2,
  'ensemble.hidden': [32, 32],
  'training.epochs': 60,
  'training.batch_size': 64,
  'training.patience': 10,
  diagnostics_period_s: 0.2,
};

test(
  'learner: a model after retrain_every transitions, latched for a late subscriber, better than a zero-delta guess',
  { timeout: 150_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'learner-'));
    const bufferFile = join(dir, 'transitions.bin');
    const { transport, probe, lifecycle, feed, diagnostics, stop } = await start({ ...SMALL, buffer_file: bufferFile });
    try {
      await lifecycle.activate?.();
      const early: ModelBlob[] = [];
      probe.createSubscription('dynastack_msgs/msg/ModelBlob', '/dynamics/model', (m) => early.push(m), {
        qos: QOS_LATCHED,
      });
      await feed(600, 1); // 599 transitions: not yet
      assert.equal(lifecycle.metrics!().transitions, 599);
      // a report taken after all 599: no model made and no training under way (a training started
      // too early shows here however fast or slow it runs)
      const beforeModel = (d: DiagnosticArray): boolean => valuesOf(d).transitions === '599';
      await until('a diagnostics report after 599 transitions', () => diagnostics.some(beforeModel), {
        seen: () => `${diagnostics.length} reports`,
      });
      const collecting = diagnostics.find(beforeModel)!;
      assert.ok(
        valuesOf(collecting).model_version === '0' && !/training/.test(collecting.status[0]!.message),
        `no training before retrain_every transitions: ${collecting.status[0]!.message}`,
      );
      assert.equal(lifecycle.metrics!().models_published, 0);
      assert.equal(early.length, 0, 'no model before retrain_every transitions');
      await feed(1, 2, 600); // continues the stream at tick 600: the 600th transition
      await until('the first model on /dynamics/model', () => early.length > 0);
      assert.equal(early.length, 1, 'one model published');

      // a subscriber that comes later gets the newest model (transient local)
      const late: ModelBlob[] = [];
      probe.createSubscription('dynastack_msgs/msg/ModelBlob', '/dynamics/model', (m) => late.push(m), {
        qos: QOS_LATCHED,
      });
      await transport.bus.idle();
      assert.equal(late.length, 1, 'the late subscriber got the latched model');
      const blob = late[0]!;
      assert.deepEqual([blob.kind, blob.version, blob.format], ['dynamics_ensemble', 1, 'dynastack-ensemble/1']);
      const metadata = JSON.parse(blob.metadata_json) as Record<string, unknown> & {
        training: { transitions: number; joints: string[]; report: { valMsePerDim: number[] } };
      };
      assert.equal(metadata.training.transitions, 600);
      assert.deepEqual(metadata.training.joints, ['hinge']);
      assert.equal(metadata.training.report.valMsePerDim.length, 2);

      // the model predicts fresh data of the system better than "the state does not change"
      await initTensorBackend();
      const model = ProbabilisticEnsemble.deserialize(metadata, blob.data);
      try {
        const us = commands(99, 300);
        const n = us.length;
        const s = new Float32Array(2 * n);
        const next = new Float32Array(2 * n);
        let [q, qd] = [-0.5, 1];
        for (let k = 0; k < n; k++) {
          s.set([q, qd], 2 * k);
          [q, qd] = step(q, qd, us[k]!);
          next.set([q, qd], 2 * k);
        }
        const members = Int32Array.from({ length: n }, (_, k) => model.elites[k % model.elites.length]!);
        const predicted = model.predictNext(s, Float32Array.from(us), n, members, false);
        let modelErr = 0;
        let zeroErr = 0;
        for (let i = 0; i < 2 * n; i++) {
          modelErr += (predicted[i]! - next[i]!) ** 2;
          zeroErr += (s[i]! - next[i]!) ** 2;
        }
        assert.ok(
          modelErr < 0.05 * zeroErr,
          `model squared error ${modelErr.toExponential(3)} vs zero-delta ${zeroErr.toExponential(3)}`,
        );
      } finally {
        model.dispose();
      }

      const withModel = (d: DiagnosticArray): boolean => valuesOf(d).model_version === '1';
      await until('a diagnostics report with model_version 1', () => diagnostics.some(withModel), {
        seen: () => diagnostics.map((d) => d.status[0]!.message).join(' | '),
      });
      const status = diagnostics.findLast(withModel)!.status[0]!;
      const values = valuesOf(diagnostics.findLast(withModel)!);
      assert.equal(status.name, 'dynamics_learner: dynamics learning');
      assert.equal(values.data_size, '600');
      for (const key of ['train_nll', 'val_mse_normalised', 'val_mse.q.hinge', 'val_mse.qd.hinge', 'training_time_s'])
        assert.ok(Number.isFinite(Number(values[key])), `${key} = ${values[key]}`);
      const m = lifecycle.metrics!();
      assert.equal(m.models_published, 1);
      assert.equal(m.transitions, 600);
      assert.ok(Number.isFinite(Number(m.last_train_loss)));
      assert.match(lifecycle.summary!(), /600 transitions in 1 episodes, 1 dynamics models published/);
    } finally {
      await stop();
    }
    // cleanup saved the buffer; the next run loads it and knows the joints from it
    try {
      assert.ok(existsSync(bufferFile));
      const again = await start({ ...SMALL, buffer_file: bufferFile });
      assert.equal(again.lifecycle.metrics!().buffer_size, 600);
      await again.stop();
      const transport = new EmbeddedTransport();
      const handle = await transport.createNode({
        name: 'dynamics_learner',
        parameters: definition.parameters,
        parameterSources: [{ origin: 'test', values: { buffer_file: bufferFile, joints: ['other'] }, strict: true }],
      });
      await assert.rejects(
        async () => definition.configure(handle, handle.params),
        /parameter 'joints': \[other\] differs from the joints of buffer_file .*: \[hinge\]/,
      );
      await transport.shutdown();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('learner: inconsistent parameters stop it with the parameter named', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ 'ensemble.members': 2, 'ensemble.elites': 3 }, /parameter 'ensemble.elites': 3 elites of 2 members/],
    [
      { buffer_capacity: 100, min_transitions: 200 },
      /parameter 'min_transitions': 200 is more than buffer_capacity 100/,
    ],
  ];
  for (const [values, message] of cases) {
    const transport = new EmbeddedTransport();
    const handle = await transport.createNode({
      name: 'dynamics_learner',
      parameters: definition.parameters,
      parameterSources: [{ origin: 'test', values, strict: true }],
    });
    await assert.rejects(async () => definition.configure(handle, handle.params), message);
    await transport.shutdown();
  }
});
