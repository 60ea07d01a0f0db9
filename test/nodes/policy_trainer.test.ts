import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import definition from '../../nodes/policy_trainer.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { defineParams } from '../../src/util/param_schema.js';
import { SteppedClock } from '../../framework/time/clock.js';
import { nsToTime } from '../../framework/time/time.js';
import { QOS_EPISODE_EVENTS, QOS_LATCHED } from '../../framework/transport/qos.js';
import { EpisodeEventKind, type DiagnosticArray, type ModelBlob } from '../../framework/msgs/types.js';
import { ProbabilisticEnsemble } from '../../src/dynamics/ensemble.js';
import { StateEncoding } from '../../src/dynamics/state_encoding.js';
import { PolicyActor } from '../../src/rl/sac/policy_blob.js';
import { initTensorBackend } from '../../src/tensor/backend.js';
import { until } from '../wait.js';

// The policy trainer on the embedded transport under sim time, fed one 60-tick episode of a toy
// cart-pole at 20 Hz (a state, then its command, each tick) with an untrained dynamics model of the
// learner's layout latched on /dynamics/model: after the episode's END the policy trained on it
// (updates_per_step × the steps past random_steps) is on /policy/model, latched, so a subscriber
// that comes later gets it, and it decodes into the PolicyActor the controller runs, acting on the
// cart's actuator inside its range. Its diagnostics carry the learning's figures. At cleanup it
// writes its checkpoint; a second run with resume publishes the same policy at activation. The
// training runs in a worker: the test waits for what it publishes (a generous deadline ends a hang).

const PERIOD = 50_000_000n;
const ENCODING = new StateEncoding(['cart_slide', 'pole_hinge'], ['pole_hinge']);

const SMALL = {
  use_sim_time: true,
  rate_hz: 20,
  joints: ['cart_slide', 'pole_hinge'],
  angle_joints: ['pole_hinge'],
  hidden: [16, 16],
  batch_size: 32,
  random_steps: 40,
  updates_per_step: 2,
  rollouts_per_step: 16,
  publish_every_updates: 0,
  diagnostics_period_s: 0.2,
  seed: 2,
};

const valuesOf = (d: DiagnosticArray): Record<string, string> =>
  Object.fromEntries(d.status[0]!.values.map((v) => [v.key, v.value]));

async function start(values: Record<string, unknown>) {
  const clock = new SteppedClock('ros', true);
  const transport = new EmbeddedTransport({ checkMessages: true, rosClock: clock });
  const handle = await transport.createNode({
    name: 'policy_trainer',
    parameters: definition.parameters,
    parameterSources: [{ origin: 'test', values, strict: true }],
  });
  const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
  const states = probe.createPublisher('dynastack_msgs/msg/JointStateEstimate', 'estimated_joint_states');
  const commands = probe.createPublisher('std_msgs/msg/Float64MultiArray', 'forward_command_controller/commands');
  const events = probe.createPublisher('dynastack_msgs/msg/EpisodeEvent', 'episode', QOS_EPISODE_EVENTS);
  const models = probe.createPublisher('dynastack_msgs/msg/ModelBlob', '/dynamics/model', QOS_LATCHED);
  const diagnostics: DiagnosticArray[] = [];
  probe.createSubscription('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics', (m) => diagnostics.push(m), {
    qos: { history: 'keep_all' },
  });
  const lifecycle = await definition.configure(handle, handle.params);
  const declare = async (event: number, k: number): Promise<void> => {
    const reason = event === EpisodeEventKind.END ? 'length' : '';
    events.publish({ header: { stamp: nsToTime(BigInt(k) * PERIOD), frame_id: '' }, episode: 0, event, reason });
    await transport.bus.idle();
  };
  /** ticks 0 … n−1 of a cart-pole from hanging under a swinging push, declared START and END */
  const episode = async (n: number): Promise<void> => {
    await declare(EpisodeEventKind.START, 0);
    let [x, th, xd, thd] = [0, Math.PI - 0.1, 0, 0];
    for (let k = 0; k < n; k++) {
      const t = BigInt(k) * PERIOD;
      const u = 15 * Math.sin(0.4 * k);
      clock.set(t);
      states.publish({
        state: {
          header: { stamp: nsToTime(t), frame_id: '' },
          name: ['cart_slide', 'pole_hinge'],
          position: [x, th],
          velocity: [xd, thd],
          effort: [],
        },
        covariance: [1e-6, 0, 0, 1e-4, 1e-6, 0, 0, 1e-4],
      });
      await transport.bus.idle();
      commands.publish({ layout: { dim: [], data_offset: 0 }, data: [u] });
      await transport.bus.idle();
      const xdd = u / 1.15;
      const thdd = (9.81 / 0.3) * Math.sin(th) - (xdd * Math.cos(th)) / 0.3;
      xd += 0.05 * xdd;
      thd += 0.05 * thdd;
      x += 0.05 * xd;
      th += 0.05 * thd;
    }
    await declare(EpisodeEventKind.END, n - 1);
  };
  const stop = async (): Promise<void> => {
    await lifecycle.deactivate?.();
    await lifecycle.cleanup?.();
    await transport.shutdown();
  };
  return { transport, probe, lifecycle, episode, models, diagnostics, stop };
}

/** an untrained ensemble of the learner's layout, as the learner publishes it */
function dynamicsBlob(): ModelBlob {
  const ensemble = ProbabilisticEnsemble.create({ stateSize: 5, actionSize: 1, members: 3, elites: 2, hidden: [8] });
  try {
    const { metadata, data } = ensemble.serialize();
    const training = { ...ENCODING.toMetadata(), period_ns: Number(PERIOD), data_end_ns: '0' };
    return {
      header: { stamp: nsToTime(0n), frame_id: '' },
      kind: 'dynamics_ensemble',
      version: 1,
      format: 'dynastack-ensemble/1',
      metadata_json: JSON.stringify({ ...metadata, training }),
      data,
    };
  } finally {
    ensemble.dispose();
  }
}

const subscribe = (probe: Awaited<ReturnType<typeof start>>['probe']): ModelBlob[] => {
  const got: ModelBlob[] = [];
  probe.createSubscription('dynastack_msgs/msg/ModelBlob', '/policy/model', (m) => got.push(m), { qos: QOS_LATCHED });
  return got;
};

test(
  'policy trainer: the policy of an episode on /policy/model, latched for a late subscriber, runs as a PolicyActor; resume publishes it again',
  { timeout: 180_000 },
  async () => {
    await initTensorBackend();
    const dir = mkdtempSync(join(tmpdir(), 'policy-trainer-'));
    try {
      const first = await start({ ...SMALL, run_dir: dir, resume: false });
      let published: ModelBlob;
      try {
        first.models.publish(dynamicsBlob());
        await first.lifecycle.activate?.();
        await first.episode(60);
        const early = subscribe(first.probe);
        await until('a policy on /policy/model', () => early.length > 0, {
          seen: () => JSON.stringify(first.lifecycle.metrics!()),
        });

        // a subscriber that comes later gets it (transient local)
        const late = subscribe(first.probe);
        await first.transport.bus.idle();
        assert.equal(late.length, 1, 'the late subscriber got the latched policy');
        published = late[0]!;
        assert.deepEqual(
          [published.kind, published.version, published.format],
          ['sac_policy', 1, 'dynastack-policy/1'],
        );
        const meta = JSON.parse(published.metadata_json) as {
          policy: { training: { updates: number; real_steps: number; data_end_ns: string; model_version: number } };
        };
        // 59 transitions; updates from step 40 on: 20 steps × 2
        assert.equal(meta.policy.training.real_steps, 59);
        assert.equal(meta.policy.training.updates, 20 * 2);
        assert.equal(meta.policy.training.data_end_ns, String(59n * PERIOD));
        assert.equal(meta.policy.training.model_version, 1, 'the rollouts ran through the latched model');

        const actor = new PolicyActor({
          kind: published.kind,
          version: published.version,
          format: published.format,
          metadataJson: published.metadata_json,
          data: published.data,
        });
        assert.deepEqual(actor.layout.actuators, ['cart_force']);
        assert.equal(actor.layout.periodNs, PERIOD);
        assert.equal(actor.layout.encoding.describe(), ENCODING.describe());
        const obs = new Float32Array(ENCODING.size);
        ENCODING.encodeInto([0.1, 3, 0, 1], obs);
        const u = new Float32Array(1);
        actor.act(obs, 1, u);
        assert.ok(Number.isFinite(u[0]!) && Math.abs(u[0]!) <= 20, `action ${u[0]}`);

        const trained = (d: DiagnosticArray): boolean => valuesOf(d).policy_version === '1';
        await until('a diagnostics report with policy_version 1', () => first.diagnostics.some(trained));
        const values = valuesOf(first.diagnostics.findLast(trained)!);
        for (const key of ['q', 'entropy', 'alpha', 'critic_loss', 'model_reward_mean', 'last_episode_return'])
          assert.ok(Number.isFinite(Number(values[key])), `${key} = ${values[key]}`);
        assert.deepEqual([values.sac_updates, values.real_buffer, values.model_version], ['40', '59', '1']);
        assert.ok(Number(values.model_buffer) > 0, 'model rollouts are in the model buffer');
      } finally {
        await first.stop();
      }
      assert.ok(existsSync(join(dir, 'checkpoint.bin')), 'a checkpoint at cleanup');
      assert.ok(existsSync(join(dir, 'policy', 'model.json')), 'the newest policy saved');
      assert.match(first.lifecycle.summary!(), /^59 real steps in 1 episodes, 40 SAC updates, 1 policies published/);

      // resume: the same policy, published at activation, with the counts going on
      const second = await start({ ...SMALL, run_dir: dir, resume: true });
      try {
        await second.lifecycle.activate?.();
        // at activation, before the worker has made its trainer
        const again = subscribe(second.probe);
        await second.transport.bus.idle();
        assert.equal(again.length, 1, 'published at activation');
        assert.equal(again[0]!.version, 1);
        assert.deepEqual(again[0]!.data, published.data, 'the same weights');
        await until('the resumed trainer', () => second.lifecycle.metrics!().real_steps !== undefined);
        assert.equal(second.lifecycle.metrics!().real_steps, 59, 'the real transitions of the checkpoint');
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
