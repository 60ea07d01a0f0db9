import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import definition from '../../nodes/dynamics_learner.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { defineParams } from '../../src/util/param_schema.js';
import { SteppedClock } from '../../framework/time/clock.js';
import { nsToTime } from '../../framework/time/time.js';
import { QOS_EPISODE_EVENTS, QOS_LATCHED } from '../../framework/transport/qos.js';
import { ReplayBuffer } from '../../src/data/replay_buffer.js';
import { loadDynamicsModel, type DynamicsModel } from '../../src/dynamics/model_blob.js';
import { EpisodeEventKind, type ModelBlob } from '../../framework/msgs/types.js';
import { until } from '../wait.js';

// What of the learner's data survives a kill: its buffer is saved (atomically) at every episode
// end, before the training on it starts, and every save_period_s of wall time; its newest model
// after each training (a TF.js model folder with the metadata); temporaries of killed saves go at
// configure. With resume it starts from them: the buffer's transitions, and the model, published
// at activation and numbered on from; without, it starts empty and the earlier files go.
// Trainings and saves run off the test's thread: the test waits for their results (deadlines end
// a hang only).

const PERIOD = 10_000_000n;

/** the pid of a process that has ended */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid!;
  await new Promise((resolve) => child.once('close', resolve));
  return pid;
}

/** the model in `dir`, or undefined while there is none (or a save is under way) */
async function savedModel(dir: string): Promise<DynamicsModel | undefined> {
  try {
    return await loadDynamicsModel(dir);
  } catch {
    return undefined;
  }
}

/** the transitions saved in `path` (0 when there is no file yet) */
function savedTransitions(path: string): number {
  return existsSync(path) ? ReplayBuffer.load(path).size : 0;
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
  const commands = probe.createPublisher('std_msgs/msg/Float64MultiArray', 'forward_command_controller/commands');
  const events = probe.createPublisher('dynastack_msgs/msg/EpisodeEvent', 'episode', QOS_EPISODE_EVENTS);
  const models: ModelBlob[] = [];
  probe.createSubscription('dynastack_msgs/msg/ModelBlob', '/dynamics/model', (m) => models.push(m), {
    qos: QOS_LATCHED,
  });
  const lifecycle = await definition.configure(handle, handle.params);
  const declare = async (event: number, k: number): Promise<void> => {
    const reason = event === EpisodeEventKind.END ? 'length' : '';
    events.publish({ header: { stamp: nsToTime(BigInt(k) * PERIOD), frame_id: '' }, episode: 0, event, reason });
    await transport.bus.idle();
  };
  /** ticks k0 … k0+n−1 of a pendulum (q̈ = u − 4 sin q), a state then its command each; `declared`: START first */
  const ticks = async (k0: number, n: number, declared = true): Promise<void> => {
    if (declared) await declare(EpisodeEventKind.START, k0);
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
  const end = (k: number): Promise<void> => declare(EpisodeEventKind.END, k);
  const waitForModels = (count: number): Promise<void> =>
    until(`model ${count} on /dynamics/model`, () => models.length >= count, { seen: () => `${models.length} models` });
  const stop = async (): Promise<void> => {
    await lifecycle.deactivate?.();
    await lifecycle.cleanup?.();
    await transport.shutdown();
  };
  return { transport, lifecycle, ticks, end, models, waitForModels, stop };
}

const PETS_LIKE = {
  use_sim_time: true,
  joints: ['hinge'],
  retrain_on: 'episode',
  min_transitions: 50,
  'ensemble.members': 2,
  'ensemble.elites': 2,
  'ensemble.hidden': [16, 16],
  'training.epochs': 5,
  'training.batch_size': 32,
};

test(
  'learner files: the buffer at every episode end before its training, the newest model after each; stale temporaries go at configure',
  { timeout: 150_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'learner-files-'));
    const bufferFile = join(dir, 'buffer.bin');
    const modelDir = join(dir, 'model');
    const dead = await deadPid();
    writeFileSync(join(dir, `buffer.bin.${dead}.1.tmp`), 'a save that was killed');
    mkdirSync(join(dir, `model.${dead}.2.tmp`));
    const run = await start({ ...PETS_LIKE, buffer_file: bufferFile, model_dir: modelDir, save_period_s: 0 });
    try {
      assert.deepEqual(readdirSync(dir), [], "configure removed the killed saves' temporaries");
      await run.lifecycle.activate?.();
      await run.ticks(0, 100);
      assert.equal(existsSync(bufferFile), false, 'no save while the episode goes on (save_period_s 0)');
      await run.end(99);
      await run.waitForModels(1);
      assert.equal(savedTransitions(bufferFile), 99, 'the episode was saved before its model was trained');
      await until('model v1 in model_dir', async () => (await savedModel(modelDir))?.version === 1);
      const saved = (await savedModel(modelDir))!;
      assert.deepEqual(JSON.parse(saved.metadataJson), JSON.parse(run.models[0]!.metadata_json));
      assert.deepEqual(saved.data, run.models[0]!.data);

      await run.ticks(100, 60);
      await run.end(159);
      await run.waitForModels(2);
      assert.equal(savedTransitions(bufferFile), 99 + 59);
      await until('model v2 in model_dir', async () => (await savedModel(modelDir))?.version === 2);
    } finally {
      await run.stop();
    }
    try {
      assert.deepEqual(readdirSync(dir).sort(), ['buffer.bin', 'model'], 'no temporary left');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'learner files: the buffer every save_period_s of wall time while transitions come',
  { timeout: 150_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'learner-files-'));
    const bufferFile = join(dir, 'buffer.bin');
    const run = await start({
      ...PETS_LIKE,
      retrain_on: 'transitions',
      retrain_every: 100_000,
      buffer_capacity: 100_000,
      buffer_file: bufferFile,
      save_period_s: 0.05,
    });
    try {
      await run.lifecycle.activate?.();
      await run.ticks(0, 50, false);
      await until('49 transitions in buffer_file', () => savedTransitions(bufferFile) === 49, {
        seen: () => `${savedTransitions(bufferFile)}`,
      });
      await run.ticks(50, 30, false);
      await until('79 transitions in buffer_file', () => savedTransitions(bufferFile) === 79, {
        seen: () => `${savedTransitions(bufferFile)}`,
      });
    } finally {
      await run.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'learner files: resume takes the buffer and the model (published at activation, numbered on from); without, it starts empty',
  { timeout: 150_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'learner-files-'));
    const files = { buffer_file: join(dir, 'buffer.bin'), model_dir: join(dir, 'model') };
    try {
      const first = await start({ ...PETS_LIKE, ...files });
      try {
        await first.lifecycle.activate?.();
        await first.ticks(0, 100);
        await first.end(99);
        await first.waitForModels(1);
        await until('model v1 in model_dir', async () => (await savedModel(files.model_dir))?.version === 1);
      } finally {
        await first.stop();
      }
      const saved = (await savedModel(files.model_dir))!;

      // a new run (its clock starts again), resuming
      const again = await start({ ...PETS_LIKE, ...files, resume: true });
      try {
        assert.equal(again.lifecycle.metrics!().buffer_size, 99);
        await again.transport.bus.idle();
        assert.equal(again.models.length, 0, 'nothing published before activation');
        await again.lifecycle.activate?.();
        await again.waitForModels(1);
        const loaded = again.models[0]!;
        assert.equal(loaded.version, 1);
        assert.deepEqual(loaded.data, saved.data);
        const training = (JSON.parse(loaded.metadata_json) as { training: Record<string, unknown> }).training;
        assert.equal(training.data_end_ns, '0', "it learned from none of this run's states");
        assert.equal(training.resumed_from, files.model_dir);
        await again.ticks(0, 60);
        await again.end(59);
        await again.waitForModels(2);
        const next = again.models[1]!;
        assert.equal(next.version, 2, 'numbered on from the loaded model');
        const nextTraining = (JSON.parse(next.metadata_json) as { training: Record<string, unknown> }).training;
        assert.equal(nextTraining.transitions, 99 + 59, 'trained on the loaded transitions and the new ones');
        assert.equal(nextTraining.data_end_ns, String(59n * PERIOD));
        assert.equal(again.lifecycle.metrics!().models_published, 1, 'one model trained in this run');
      } finally {
        await again.stop();
      }
      assert.equal(savedTransitions(files.buffer_file), 99 + 59);

      // a model of other joints is refused, naming the parameter and the folder
      const transport = new EmbeddedTransport();
      const handle = await transport.createNode({
        name: 'dynamics_learner',
        parameters: definition.parameters,
        parameterSources: [
          { origin: 'test', values: { joints: ['other'], model_dir: files.model_dir, resume: true }, strict: true },
        ],
      });
      await assert.rejects(
        async () => definition.configure(handle, handle.params),
        /parameter 'joints': \[other\] differs from the joints of model_dir .*model: \[hinge\]/,
      );
      await transport.shutdown();

      // not resuming: an empty start, and the earlier run's files go
      const fresh = await start({ ...PETS_LIKE, ...files, resume: false });
      try {
        assert.equal(fresh.lifecycle.metrics!().buffer_size, 0);
        assert.deepEqual(readdirSync(dir), [], "the earlier run's files are gone");
        await fresh.lifecycle.activate?.();
        await fresh.transport.bus.idle();
        assert.equal(fresh.models.length, 0, 'no model to publish');
      } finally {
        await fresh.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
