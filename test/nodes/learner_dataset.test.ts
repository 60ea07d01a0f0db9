import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BagWriter } from '../../framework/bag/bag_writer.js';
import { codecFor } from '../../framework/msgs/codec.js';
import { EpisodeEventKind, type ModelBlob } from '../../framework/msgs/types.js';
import { nsToTime } from '../../framework/time/time.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { SteppedClock } from '../../framework/time/clock.js';
import { QOS_LATCHED } from '../../framework/transport/qos.js';
import { defineParams } from '../../src/util/param_schema.js';
import { ReplayBuffer } from '../../src/data/replay_buffer.js';
import { datasetMain } from '../../cli/dataset.js';
import definition from '../../nodes/dynamics_learner.js';
import { loadLearnerDataset, type LearnerDatasetOptions } from '../../nodes/learner_dataset.js';
import { until } from '../wait.js';

// The dynamics learner's `dataset`: a recorded session (a bag with a 100 Hz cart-pole state whose
// joints come in another order than the learner's, with one more; forward commands received 3 ms
// after their tick; three episodes, the second discarded) becomes transitions at the learner's
// 20 Hz period in its state layout [x, sin θ, cos θ, ẋ, θ̇]: the state at each tick and the command
// in force then, within an episode, the discarded one left out; its LeRobot export at 20 fps gives
// the same transitions, one at another fps or of other joints fails in one line; and the learner
// started with it publishes a first model trained on it before any online data.

const MS = 1_000_000n;
const PERIOD = 50n * MS;

/** episodes (ms): 0 over [100, 1100], 1 over [1500, 2000] discarded, 2 over [2500, 3500] */
const EPISODES: [number, number, number, string][] = [
  [0, 100, 1100, 'exit_early'],
  [1, 1500, 2000, 'discard'],
  [2, 2500, 3500, 'exit_early'],
];

/** x = t/1000 and θ = −t/2000 at t ms, ẋ = 1, θ̇ = −0.5; the command of the tick at t ms is [t] */
async function writeSession(path: string): Promise<void> {
  const writer = await BagWriter.open(path, { diskSpace: { minFreeBytes: 0, minFreeFraction: 0 } });
  const js = codecFor('sensor_msgs/msg/JointState');
  const arr = codecFor('std_msgs/msg/Float64MultiArray');
  const ev = codecFor('dynastack_msgs/msg/EpisodeEvent');
  const event = (stamp: bigint, episode: number, kind: number, reason: string): void => {
    writer.write(
      '/episode',
      'dynastack_msgs/msg/EpisodeEvent',
      stamp,
      ev.encode({ header: { stamp: nsToTime(stamp), frame_id: '' }, episode, event: kind, reason }),
    );
  };
  for (let t = 0; t <= 3600; t += 10) {
    const stamp = BigInt(t) * MS;
    for (const e of EPISODES) if (e[1] === t) event(stamp, e[0], EpisodeEventKind.START, '');
    writer.write(
      '/joint_states',
      'sensor_msgs/msg/JointState',
      stamp + 2n * MS,
      js.encode({
        header: { stamp: nsToTime(stamp), frame_id: '' },
        name: ['pole_hinge', 'extra', 'cart_slide'],
        position: [-t / 2000, 7, t / 1000],
        velocity: [-0.5, 7, 1],
        effort: [],
      }),
    );
    writer.write(
      '/forward_command_controller/commands',
      'std_msgs/msg/Float64MultiArray',
      stamp + 3n * MS,
      arr.encode({ layout: { dim: [], data_offset: 0 }, data: [t] }),
    );
    for (const e of EPISODES) if (e[2] === t) event(stamp + 4n * MS, e[0], EpisodeEventKind.END, e[3]);
  }
  writer.close();
}

const OPTIONS: LearnerDatasetOptions = {
  rateHz: 20,
  periodNs: PERIOD,
  joints: ['cart_slide', 'pole_hinge'],
  angleJoints: ['pole_hinge'],
  capacity: 10_000,
  stateTopics: ['joint_states'],
  commandTopics: ['forward_command_controller/commands'],
  episodeTopic: 'episode',
};

/** the encoded state at t ms */
const encoded = (t: number): number[] => [t / 1000, Math.sin(-t / 2000), Math.cos(-t / 2000), 1, -0.5];

function near(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++)
    assert.ok(
      Math.abs(actual[i]! - expected[i]!) < 1e-5,
      `${what}: [${Array.from(actual).join(', ')}] vs [${expected.join(', ')}]`,
    );
}

/** the learner with `values` over a small PETS-like configuration at 20 Hz, configured; its models */
async function startLearner(values: Record<string, unknown>) {
  const transport = new EmbeddedTransport({ checkMessages: true, rosClock: new SteppedClock('ros', true) });
  const handle = await transport.createNode({
    name: 'dynamics_learner',
    parameters: definition.parameters,
    parameterSources: [
      {
        origin: 'test',
        strict: true,
        values: {
          use_sim_time: true,
          rate_hz: 20,
          joints: ['cart_slide', 'pole_hinge'],
          angle_joints: ['pole_hinge'],
          retrain_on: 'episode', // PETS's: no episode has ended, the dataset alone makes the first model
          min_transitions: 20,
          'ensemble.members': 2,
          'ensemble.elites': 2,
          'ensemble.hidden': [8],
          'training.epochs': 3,
          'training.batch_size': 16,
          ...values,
        },
      },
    ],
  });
  const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
  const models: ModelBlob[] = [];
  probe.createSubscription('dynastack_msgs/msg/ModelBlob', '/dynamics/model', (m) => models.push(m), {
    qos: QOS_LATCHED,
  });
  const lifecycle = await definition.configure(handle, handle.params);
  const stop = async (): Promise<void> => {
    await lifecycle.deactivate?.();
    await lifecycle.cleanup?.();
    await transport.shutdown();
  };
  return { models, lifecycle, stop };
}

test('a recorded bag → the learner’s transitions at its period: the state at each tick and the command in force then, episodes not crossed, discarded ones left out', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'learner-dataset-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const bag = join(dir, 'session');
  await writeSession(bag);

  const d = await loadLearnerDataset(bag, OPTIONS);
  assert.equal(d.kind, 'bag');
  assert.equal(d.discarded, 1);
  assert.equal(d.episodes, 2);
  // 1 s at 50 ms, both ends on the grid: 21 ticks, 20 transitions, in each kept episode
  assert.equal(d.transitions, 40);
  assert.equal(d.buffer.size, 40);
  assert.equal(d.seconds, 2);
  assert.deepEqual(d.encoding.joints, ['cart_slide', 'pole_hinge']);
  assert.equal(d.buffer.meta['period_ns'], Number(PERIOD));
  const data = d.buffer.toTransitionData();
  const row = (i: number) => ({
    s: data.states.subarray(i * 5, i * 5 + 5),
    a: data.actions[i]!,
    s2: data.nextStates.subarray(i * 5, i * 5 + 5),
  });
  // transition j of an episode starting at t0: ticks t0 + 50j → t0 + 50(j+1), with the command
  // received by the first tick (the previous 10 ms tick's: received 3 ms after it)
  for (const [i, t0, j] of [
    [0, 100, 0],
    [7, 100, 7],
    [19, 100, 19],
    [20, 2500, 0],
    [39, 2500, 19],
  ] as const) {
    const r = row(i);
    const tick = t0 + 50 * j;
    near(r.s, encoded(tick), `transition ${i} state`);
    near(r.s2, encoded(tick + 50), `transition ${i} next state`);
    assert.equal(r.a, tick - 10, `transition ${i} action`);
  }
  // no transition starts in the discarded take or pairs the end of one episode with another
  for (let i = 0; i < 40; i++) {
    const x = data.states[i * 5]!;
    const x2 = data.nextStates[i * 5]!;
    assert.ok(Math.abs(x2 - x - 0.05) < 1e-5, `transition ${i} spans one period: x ${x} → ${x2}`);
    assert.ok(x < 1.5 || x >= 2.5, `transition ${i} starts at x ${x}, in the discarded take`);
  }

  // its LeRobot export at the learner's rate: the same transitions
  const lerobot = join(dir, 'lerobot20');
  assert.equal(
    await datasetMain(['export', bag, '--format', 'lerobot', '--out', lerobot, '--fps', '20', '--task', 'swing up']),
    0,
  );
  const e = await loadLearnerDataset(lerobot, OPTIONS);
  assert.equal(e.kind, 'lerobot');
  assert.equal(e.transitions, 40);
  const exported = e.buffer.toTransitionData();
  assert.deepEqual(exported.states, data.states);
  assert.deepEqual(exported.actions, data.actions);
  assert.deepEqual(exported.nextStates, data.nextStates);
});

test('a dataset at another fps, or of other joints, fails in one line naming the cause', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'learner-dataset-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const bag = join(dir, 'session');
  await writeSession(bag);
  const lerobot = join(dir, 'lerobot30');
  assert.equal(
    await datasetMain(['export', bag, '--format', 'lerobot', '--out', lerobot, '--fps', '30', '--task', 'swing up']),
    0,
  );
  const oneLine = (pattern: RegExp) => (err: unknown) => {
    const message = (err as Error).message;
    assert.match(message, pattern);
    assert.ok(!message.includes('\n'), message);
    return true;
  };
  await assert.rejects(loadLearnerDataset(lerobot, OPTIONS), oneLine(/recorded at 30 fps, but rate_hz is 20/));
  await assert.rejects(
    loadLearnerDataset(lerobot, { ...OPTIONS, rateHz: 30, periodNs: 33_333_333n, joints: ['cart_slide', 'hinge'] }),
    oneLine(/its joints \[pole_hinge, extra, cart_slide\] are not the learner's \[cart_slide, hinge\].*missing hinge/),
  );
  await assert.rejects(
    loadLearnerDataset(bag, { ...OPTIONS, joints: ['cart', 'pole_hinge'] }),
    oneLine(/not the learner's \[cart, pole_hinge\].*missing cart/),
  );
  await assert.rejects(loadLearnerDataset(join(dir, 'nothing'), OPTIONS), oneLine(/no such bag or dataset folder/));
});

test(
  'the learner with dataset:= publishes a first model trained on it before any online data',
  { timeout: 120_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'learner-dataset-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const bag = join(dir, 'session');
    await writeSession(bag);
    const { models, lifecycle, stop } = await startLearner({ dataset: bag });
    try {
      await lifecycle.activate?.();
      await until('a model on /dynamics/model', () => models.length >= 1, { seen: () => `${models.length} models` });
      const meta = JSON.parse(models[0]!.metadata_json) as {
        training: { transitions: number; data_end_ns: string; joints: string[]; angle_joints: string[] };
      };
      assert.equal(models[0]!.version, 1);
      assert.equal(meta.training.transitions, 40, 'trained on the dataset’s transitions');
      assert.equal(meta.training.data_end_ns, '0', 'no state of this run');
      assert.deepEqual(meta.training.joints, ['cart_slide', 'pole_hinge']);
      assert.deepEqual(meta.training.angle_joints, ['pole_hinge']);
    } finally {
      await stop();
    }
  },
);

test(
  'with resume, a buffer_file saved by a run with the dataset holds it: it is not loaded again',
  { timeout: 120_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'learner-dataset-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const bag = join(dir, 'session');
    await writeSession(bag);
    const bufferFile = join(dir, 'buffer.bin');
    const first = await startLearner({ dataset: bag, buffer_file: bufferFile, save_period_s: 0 });
    await first.stop();
    const saved = ReplayBuffer.load(bufferFile);
    assert.equal(saved.size, 40, 'the dataset saved with the run’s data at cleanup');
    assert.equal(saved.meta['dataset'], bag);
    const second = await startLearner({ dataset: bag, buffer_file: bufferFile, save_period_s: 0 });
    try {
      await second.lifecycle.activate?.();
      const metrics = second.lifecycle.metrics?.() ?? {};
      assert.equal(metrics['buffer_size'], 40, JSON.stringify(metrics));
    } finally {
      await second.stop();
    }
  },
);
