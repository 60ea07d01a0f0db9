import { nativeKernels } from '../../src/tensor/native_kernels.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainingClient, type TrainingRequest } from '../../src/dynamics/training_client.js';
import { ProbabilisticEnsemble } from '../../src/dynamics/ensemble.js';
import type { TransitionData } from '../../src/data/transition_data.js';
import { initTensorBackend } from '../../src/tensor/backend.js';

// Training in the worker: a result that deserializes, one training at a time with waiting requests
// coalesced (newest data wins), transferred inputs, errors as rejections, dispose.

/** x′ = 0.9 x + 0.1 u, for n rows (a marker in the first state tells the data sets apart) */
function data(n: number, marker = 0): TransitionData {
  const states = new Float32Array(n);
  const actions = new Float32Array(n);
  const nextStates = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    states[i] = Math.sin(i * 0.37) + (i === 0 ? marker : 0);
    actions[i] = Math.cos(i * 0.11);
    nextStates[i] = 0.9 * states[i]! + 0.1 * actions[i]!;
  }
  return { states, actions, nextStates, n };
}

const request = (d: TransitionData, epochs = 3): TrainingRequest => ({
  config: { stateSize: 1, actionSize: 1, members: 2, elites: 1, hidden: [8] },
  data: d,
  options: { epochs, batchSize: 32 },
});

test(
  'training client: trains in the worker; requests while busy coalesce, the newest data wins',
  { timeout: 60_000 },
  async () => {
    const client = new TrainingClient({ backend: 'cpu' });
    try {
      const first = data(300);
      const p1 = client.train(request(first, 20));
      assert.equal(first.states.length, 0, 'the input buffers were transferred to the worker');
      assert.ok(client.busy);
      const p2 = client.train(request(data(100, 1)));
      const p3 = client.train(request(data(200, 2)));
      const [r1, r2, r3] = await Promise.all([p1, p2, p3]);
      assert.equal(r1.transitions, 300);
      assert.equal(r2, r3, 'the coalesced callers share one result');
      assert.equal(r3.transitions, 200, 'the newest data was trained on');
      assert.deepEqual(client.counts, { trainings: 2, coalesced: 1 });
      // the tensor backend is forced to cpu; the native kernels, when built, still run the ensemble
      if (nativeKernels().kernels) assert.match(r1.backend, /^native kernels/);
      else assert.equal(r1.backend, 'cpu');
      assert.ok(r1.report.epochs >= 1 && r1.seconds > 0);
      await initTensorBackend({ force: 'cpu' });
      const model = ProbabilisticEnsemble.deserialize(r3.metadata, r3.data);
      assert.equal(model.config.stateSize, 1);
      model.dispose();
    } finally {
      await client.dispose();
    }
  },
);

test(
  "training client: a failed training rejects with the worker's message, and the next one runs",
  { timeout: 60_000 },
  async () => {
    const client = new TrainingClient({ backend: 'cpu' });
    try {
      const bad = {
        ...request(data(10)),
        data: { states: new Float32Array(1), actions: new Float32Array(1), nextStates: new Float32Array(1), n: 10 },
      };
      await assert.rejects(client.train(bad), /dynamics training failed: train: data arrays too short for 10 rows/);
      assert.equal((await client.train(request(data(50)))).transitions, 50);
    } finally {
      await client.dispose();
    }
  },
);

test('training client: dispose rejects what is running and waiting, and later requests', async () => {
  const client = new TrainingClient({ backend: 'cpu' });
  const running = client.train(request(data(2000), 200));
  const waiting = client.train(request(data(10)));
  const rejected = [assert.rejects(running, /disposed/), assert.rejects(waiting, /disposed/)];
  await client.dispose();
  await Promise.all(rejected);
  await assert.rejects(client.train(request(data(10))), /disposed/);
});

test(
  "training client: a first request may start from a given ensemble (an earlier run's model) of its config",
  { timeout: 60_000 },
  async () => {
    await initTensorBackend({ force: 'cpu' });
    const config = { stateSize: 1, actionSize: 1, members: 2, elites: 1, hidden: [8], learningRate: 1e-2 };
    /** what a serialised ensemble predicts for x = u = 0.5 */
    const probe = (blob: { metadata: Record<string, unknown>; data: Uint8Array }): number => {
      const m = ProbabilisticEnsemble.deserialize(blob.metadata, blob.data);
      const out = m.predictNext(Float32Array.from([0.5]), Float32Array.from([0.5]), 1, Int32Array.from([0]), false)[0]!;
      m.dispose();
      return out;
    };
    // an ensemble trained away from its initial weights, as an earlier run's model is
    const earlier = ProbabilisticEnsemble.create(config);
    earlier.train(data(300), { epochs: 30, batchSize: 32 });
    const blob = earlier.serialize();
    earlier.dispose();
    const fresh = ProbabilisticEnsemble.create(config);
    const untrained = probe(fresh.serialize());
    fresh.dispose();
    const trained = probe(blob);
    assert.ok(Math.abs(trained - untrained) > 0.05, `the earlier model predicts ${trained}, a new one ${untrained}`);
    // one step from it: it predicts as the earlier model, not as a new one; another config starts anew
    const one = { epochs: 1, batchSize: 32, maxUpdates: 1 };
    const client = new TrainingClient({ backend: 'cpu' });
    try {
      const r = probe(await client.train({ config, data: data(100), options: one, initial: blob }));
      assert.ok(
        Math.abs(r - trained) < Math.abs(r - untrained) / 4,
        `continued from the given ensemble: ${r} (it predicted ${trained}, a new one ${untrained})`,
      );
      const other = await client.train({
        config: { ...config, hidden: [4] },
        data: data(100),
        options: one,
        initial: blob,
      });
      assert.deepEqual(
        (other.metadata.config as { hidden: number[] }).hidden,
        [4],
        'a model of another config is not used',
      );
    } finally {
      await client.dispose();
    }
  },
);
