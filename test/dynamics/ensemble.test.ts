import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initTensorBackend } from '../../src/tensor/backend.js';
import { fileHandler } from '../../src/tensor/file_io.js';
import { ProbabilisticEnsemble } from '../../src/dynamics/ensemble.js';
import { bootstrapResamples, holdoutSplit } from '../../src/dynamics/bootstrap.js';
import { boundLogvarValue, INITIAL_MAX_LOGVAR, INITIAL_MIN_LOGVAR } from '../../src/dynamics/loss.js';
import { Normaliser } from '../../src/dynamics/normaliser.js';
import { Rng } from '../../src/util/random.js';
import { linearData, setWeight } from './helpers.js';

// The probabilistic ensemble: bootstrap, normalisation, learning known systems, bounded
// log-variance, elites, save and load.

await initTensorBackend();

const small = { stateSize: 2, actionSize: 1, members: 3, elites: 2, hidden: [16, 16] };
const A = [
  [1, 0.1],
  [-0.05, 0.98],
];
const B = [[0], [0.1]];

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** predictions of every member for a few rows, means and samples from a seeded source */
function fingerprint(model: ProbabilisticEnsemble): Float32Array {
  const data = linearData(6, A, B, 0, 99);
  const members = Int32Array.from({ length: 6 }, (_, i) => i % model.config.members);
  const rng = new Rng(5);
  const means = model.predictNext(data.states, data.actions, 6, members, false);
  const samples = model.predictNext(data.states, data.actions, 6, members, true, () => rng.uniform());
  return Float32Array.from([...means, ...samples]);
}

test('bootstrap: each member gets its own resample of the training rows, drawn with replacement', () => {
  const rng = new Rng(1);
  const { train, validation } = holdoutSplit(200, 0.2, rng);
  assert.equal(validation.length, 40);
  assert.equal(train.length, 160);
  assert.equal(new Set([...train, ...validation]).size, 200, 'the split is a partition');
  const resamples = bootstrapResamples(train, 5, rng);
  const pool = new Set(train);
  for (const r of resamples) {
    assert.equal(r.length, train.length);
    assert.ok(
      r.every((i) => pool.has(i)),
      'only training rows',
    );
    // with replacement: duplicates (a resample of 160 keeps ≈63% distinct rows)
    const distinct = new Set(r).size;
    assert.ok(distinct < 0.75 * r.length && distinct > 0.5 * r.length, `${distinct} distinct of ${r.length}`);
  }
  for (let a = 0; a < resamples.length; a++)
    for (let b = a + 1; b < resamples.length; b++)
      assert.notDeepEqual([...resamples[a]!], [...resamples[b]!], `members ${a} and ${b} drew the same rows`);
});

test('normalisation: fitted mean/std, and a round trip', () => {
  const rows = Float32Array.from([1, 100, 3, 100, 5, 100]); // column 2 is constant
  const norm = Normaliser.fit(rows, 3, 2);
  assert.deepEqual([...norm.mean], [3, 100]);
  assert.ok(Math.abs(norm.std[0]! - Math.sqrt(8 / 3)) < 1e-6);
  assert.equal(norm.std[1], 1, 'a constant column is centred, not scaled');
  const x = rows.slice();
  norm.normalise(x, 3);
  assert.ok(Math.abs(x[0]! + x[2]! + x[4]!) < 1e-6 && x[1] === 0);
  norm.denormalise(x, 3);
  assert.ok(maxAbsDiff(x, rows) < 1e-5);
});

test('learning: a 2-D linear system from 300 samples, predicted within tolerance', () => {
  const model = ProbabilisticEnsemble.create({ ...small, hidden: [32, 32], seed: 3 });
  const report = model.train(linearData(300, A, B, 0.002, 1), { epochs: 60, batchSize: 32, patience: 60 });
  assert.equal(report.elites.length, 2);
  assert.ok(
    report.valMsePerDim.every((v) => v < 1e-3),
    `validation MSE ${report.valMsePerDim.join(',')}`,
  );
  assert.ok(report.memberSamplesPerSecond > 0 && report.updates === report.epochs * Math.ceil(240 / 32));
  assert.equal(model.version, 1);
  const test = linearData(100, A, B, 0, 2);
  const members = Int32Array.from({ length: 100 }, (_, i) => model.elites[i % 2]!);
  const predicted = model.predictNext(test.states, test.actions, 100, members, false);
  // the delta is ≈0.1 in size; its error should be a few percent of that
  assert.ok(maxAbsDiff(predicted, test.nextStates) < 0.02, `max error ${maxAbsDiff(predicted, test.nextStates)}`);
  // the learned noise is small: samples stay near the means
  const sampled = model.predictNext(test.states, test.actions, 100, members, true);
  assert.ok(maxAbsDiff(sampled, predicted) < 0.05);
  model.dispose();
});

test('deterministic variant (MSE) learns too, and its samples are its means', () => {
  const model = ProbabilisticEnsemble.create({ ...small, hidden: [32, 32], probabilistic: false, seed: 4 });
  model.train(linearData(300, A, B, 0.002, 1), { epochs: 40, batchSize: 32, patience: 40 });
  const test = linearData(50, A, B, 0, 2);
  const members = new Int32Array(50).fill(model.elites[0]!);
  const mean = model.predictNext(test.states, test.actions, 50, members, false);
  assert.ok(maxAbsDiff(mean, test.nextStates) < 0.03);
  assert.deepEqual(model.predictNext(test.states, test.actions, 50, members, true), mean);
  model.dispose();
});

test('samples spread by the bounded log-variance: std e^{½·bound(raw)} below, between and above the bounds', () => {
  const n = 20000;
  const states = new Float32Array(n);
  const actions = new Float32Array(n);
  const members = new Int32Array(n);
  for (const raw of [-14, -2, 3]) {
    // no hidden layer, zero kernel: every output is its bias, `raw` (mean and raw log-variance alike)
    const blob = ProbabilisticEnsemble.create({
      stateSize: 1,
      actionSize: 1,
      members: 1,
      elites: 1,
      hidden: [],
      seed: 1,
    }).serialize();
    setWeight(blob, 'member0/dense0/kernel', 0);
    setWeight(blob, 'member0/dense0/bias', raw);
    const model = ProbabilisticEnsemble.deserialize(blob.metadata, blob.data);
    const means = model.predictNext(states, actions, n, members, false);
    const samples = model.predictNext(states, actions, n, members, true);
    let sq = 0;
    for (let i = 0; i < n; i++) sq += (samples[i]! - means[i]!) ** 2;
    const expected = Math.exp(0.5 * boundLogvarValue(raw, INITIAL_MAX_LOGVAR, INITIAL_MIN_LOGVAR));
    assert.ok(
      Math.abs(Math.sqrt(sq / n) / expected - 1) < 0.03,
      `raw ${raw}: spread ${Math.sqrt(sq / n)}, expected ${expected}`,
    );
    model.dispose();
  }
});

test('elites: a member made bad is not chosen', () => {
  const data = linearData(200, A, B, 0.002, 1);
  const trained = ProbabilisticEnsemble.create({ ...small, members: 4, elites: 3, seed: 6 });
  trained.train(data, { epochs: 20, batchSize: 32 });
  const blob = trained.serialize();
  trained.dispose();
  // member 1's mean output is pushed 50 normalised units off
  setWeight(blob, 'member1/dense2/bias', 50);
  const model = ProbabilisticEnsemble.deserialize(blob.metadata, blob.data);
  const report = model.train(data, { epochs: 2, batchSize: 32 });
  assert.deepEqual(report.elites, [0, 2, 3]);
  assert.deepEqual(model.elites, [0, 2, 3]);
  model.dispose();
});

test('serialize/deserialize and save/load give identical predictions', async () => {
  const model = ProbabilisticEnsemble.create({ ...small, seed: 7 });
  model.train(linearData(100, A, B, 0.01, 1), { epochs: 3, batchSize: 32 });
  const before = fingerprint(model);

  const blob = model.serialize();
  const copy = ProbabilisticEnsemble.deserialize(
    JSON.parse(JSON.stringify(blob.metadata)) as Record<string, unknown>,
    blob.data.slice(),
  );
  assert.equal(maxAbsDiff(fingerprint(copy), before), 0);
  assert.deepEqual(copy.elites, model.elites);
  assert.equal(copy.version, model.version);
  assert.deepEqual(copy.config, model.config);

  const dir = join(mkdtempSync(join(tmpdir(), 'ensemble-')), 'model');
  await model.save(dir);
  assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'weights.bin']);
  const loaded = await ProbabilisticEnsemble.load(dir);
  assert.equal(maxAbsDiff(fingerprint(loaded), before), 0);
  assert.deepEqual(loaded.elites, model.elites);
  assert.equal(loaded.version, 1);
  tf.dispose([]);
  for (const m of [model, copy, loaded]) m.dispose();
});

test('save is atomic: a failed write, or a kill between the renames, leaves the old model loadable', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'ensemble-'));
  const dir = join(parent, 'model');
  const old = ProbabilisticEnsemble.create({ ...small, seed: 8 });
  await old.save(dir);
  const expected = fingerprint(old);

  // the write fails halfway (after weights.bin, at model.json)
  const next = ProbabilisticEnsemble.create({ ...small, seed: 9 });
  const failing = fileHandler(dir, {
    writeFile: (path) => (path.endsWith('model.json') ? Promise.reject(new Error('disk full')) : Promise.resolve()),
  });
  await assert.rejects(failing.save(await next.artifacts()), /disk full/);
  assert.equal(maxAbsDiff(fingerprint(await ProbabilisticEnsemble.load(dir)), expected), 0);
  assert.deepEqual(readdirSync(parent), ['model'], 'no temp directory left behind');

  // killed after the old model stepped aside, before the new one moved in
  renameSync(dir, `${dir}.old`);
  assert.equal(maxAbsDiff(fingerprint(await ProbabilisticEnsemble.load(dir)), expected), 0);
  // the next save completes the swap
  await next.save(dir);
  assert.equal(maxAbsDiff(fingerprint(await ProbabilisticEnsemble.load(dir)), fingerprint(next)), 0);
  assert.deepEqual(readdirSync(parent), ['model']);
  old.dispose();
  next.dispose();
});

test('save is atomic: a process killed (SIGKILL) while saving leaves a whole model', async () => {
  const child = fileURLToPath(new URL('./save_child.js', import.meta.url));
  const rng = new Rng(10);
  for (let round = 0; round < 4; round++) {
    const dir = join(mkdtempSync(join(tmpdir(), 'ensemble-kill-')), 'model');
    const proc = spawn(process.execPath, [child, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    // let a few saves complete, then kill at a random moment within the next one
    await new Promise<void>((resolve, reject) => {
      let saved = 0;
      let armed = false;
      proc.stdout.on('data', (chunk: Buffer) => {
        // a busy machine can deliver several 'saved' lines in one chunk: count, and arm once
        saved += chunk
          .toString()
          .split('\n')
          .filter((l) => l.startsWith('saved')).length;
        if (saved >= 2 && !armed) {
          armed = true;
          setTimeout(() => resolve(), rng.uniform() * 15);
        }
      });
      proc.on('exit', (code) => reject(new Error(`save child exited early (${code})`)));
    });
    proc.kill('SIGKILL');
    await new Promise((resolve) => proc.once('close', resolve));
    const loaded = await ProbabilisticEnsemble.load(dir);
    // model k was created with seed k: what loads must be one of them, whole
    const k = loaded.version;
    assert.ok(Number.isInteger(k) && k >= 2, `version ${k}`);
    const reference = ProbabilisticEnsemble.create({
      stateSize: 3,
      actionSize: 2,
      members: 3,
      elites: 2,
      hidden: [64, 64],
      seed: k,
    });
    reference.version = k;
    const rows = new Float32Array(9).fill(0.3);
    const us = new Float32Array(6).fill(-0.2);
    const members = Int32Array.from([0, 1, 2]);
    assert.equal(
      maxAbsDiff(loaded.predictNext(rows, us, 3, members, false), reference.predictNext(rows, us, 3, members, false)),
      0,
      `round ${round}: model ${k} loaded torn`,
    );
    loaded.dispose();
    reference.dispose();
  }
});

// tensors exist only on the TF.js engine (the native engine's weights are plain Float32Arrays)
test('no tensor leak over 10,000 predictNext calls', () => {
  const model = ProbabilisticEnsemble.create(
    { stateSize: 2, actionSize: 1, members: 3, elites: 2, hidden: [8] },
    { engine: 'tfjs' },
  );
  const data = linearData(8, A, B, 0, 3);
  const members = Int32Array.from({ length: 8 }, (_, i) => i % 3);
  model.predictNext(data.states, data.actions, 8, members, true);
  const start = tf.memory().numTensors;
  for (let i = 0; i < 10_000; i++) model.predictNext(data.states, data.actions, 8, members, i % 2 === 0);
  assert.equal(tf.memory().numTensors, start);
  model.dispose();
  assert.ok(tf.memory().numTensors < start, 'dispose releases the variables');
});

test('no tensor leak from training', () => {
  const model = ProbabilisticEnsemble.create({ ...small, hidden: [8] }, { engine: 'tfjs' });
  const data = linearData(64, A, B, 0.01, 1);
  model.train(data, { epochs: 1, batchSize: 16 });
  const start = tf.memory().numTensors;
  model.train(data, { epochs: 3, batchSize: 16 });
  assert.equal(tf.memory().numTensors, start);
  model.dispose();
});
