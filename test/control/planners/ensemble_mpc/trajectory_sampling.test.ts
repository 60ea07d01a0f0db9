import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initTensorBackend } from '../../../../src/tensor/backend.js';
import { ProbabilisticEnsemble } from '../../../../src/dynamics/ensemble.js';
import {
  TrajectorySamplingEvaluator,
  type BatchCost,
  type Propagation,
} from '../../../../src/control/planners/ensemble_mpc/trajectory_sampling.js';
import { Rng } from '../../../../src/util/random.js';
import { linearData, standStillModel } from '../../../dynamics/helpers.js';

// Trajectory sampling through the ensemble (TS-1, TS-∞, expectation): costs, bounds, particle
// assignment, statistics and seeded repeatability, on models whose answers are known.

await initTensorBackend();

const A = [
  [1, 0.1],
  [-0.05, 0.98],
];
const B = [[0], [0.1]];
const bounds = { actionLow: Float32Array.of(-1), actionHigh: Float32Array.of(1) };

/** Σ x² + 0.1 u² per step */
const quadratic: BatchCost = (states, actions, out) => {
  for (let i = 0; i < out.length; i++) out[i] = states[2 * i]! ** 2 + states[2 * i + 1]! ** 2 + 0.1 * actions[i]! ** 2;
};

function randomSequences(n: number, h: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * h }, () => 2 * rng.uniform() - 1);
}

/** a trained probabilistic ensemble on noisy data, so members and samples differ */
const trained = ProbabilisticEnsemble.create({
  stateSize: 2,
  actionSize: 1,
  members: 4,
  elites: 3,
  hidden: [16, 16],
  seed: 2,
});
trained.train(linearData(200, A, B, 0.02, 1), { epochs: 15, batchSize: 32 });

/** record the member of every row of every predictNext call */
function spyMembers(model: ProbabilisticEnsemble): Int32Array[] {
  const calls: Int32Array[] = [];
  const predict = model.predictNext.bind(model);
  model.predictNext = (states, actions, n, members, sample, rng) => {
    calls.push(members.slice(0, n));
    return predict(states, actions, n, members, sample, rng);
  };
  return calls;
}

test('a model that stands still: costs sum over the horizon, actions are clamped to the bounds, terminal cost added', () => {
  const model = standStillModel({ stateSize: 2, actionSize: 1, members: 3, elites: 2, hidden: [4] });
  for (const propagation of ['ts1', 'tsinf', 'expectation'] as Propagation[]) {
    const ts = new TrajectorySamplingEvaluator({
      ensemble: model,
      cost: quadratic,
      horizon: 4,
      particles: 5,
      propagation,
      ...bounds,
      terminalCost: (states, out) => out.forEach((_, i) => (out[i] = 10 * states[2 * i]!)),
    });
    ts.setState(Float32Array.of(0.5, -1));
    // sequence 0: u = 0.5 always; sequence 1: u = 3, clamped to 1
    const seqs = Float32Array.of(0.5, 0.5, 0.5, 0.5, 3, 3, 3, 3);
    const { cost, spread } = ts.evaluate(seqs, 2);
    assert.equal(cost.length, 2);
    // per step 0.25 + 1 + 0.1u², 4 steps, then 10·0.5
    assert.ok(Math.abs(cost[0]! - (4 * (1.25 + 0.025) + 5)) < 1e-4, `${propagation}: ${cost[0]}`);
    assert.ok(Math.abs(cost[1]! - (4 * (1.25 + 0.1) + 5)) < 1e-4, `${propagation}: ${cost[1]}`);
    // the noise left is e^{−15} ≈ 3e-7 per step
    assert.ok(
      spread!.every((v) => v < 1e-4),
      `${propagation}: spread ${spread!.join(',')}`,
    );
  }
  model.dispose();
});

test('deterministic model: every particle agrees, spread 0, for TS-1 and TS-∞', () => {
  const model = ProbabilisticEnsemble.create({
    stateSize: 2,
    actionSize: 1,
    members: 3,
    elites: 3,
    hidden: [8],
    probabilistic: false,
    seed: 1,
  });
  model.train(linearData(100, A, B, 0, 1), { epochs: 2, batchSize: 32 });
  // make the members agree: one member as the only elite is the simplest way
  const blob = model.serialize();
  blob.metadata['elites'] = [1];
  const single = ProbabilisticEnsemble.deserialize(blob.metadata, blob.data);
  for (const propagation of ['ts1', 'tsinf'] as Propagation[]) {
    const ts = new TrajectorySamplingEvaluator({
      ensemble: single,
      cost: quadratic,
      horizon: 6,
      particles: 8,
      propagation,
      ...bounds,
      seed: 3,
    });
    ts.setState(Float32Array.of(0.3, 0.2));
    const { cost, spread } = ts.evaluate(randomSequences(5, 6, 1), 5);
    assert.equal(cost.length, 5);
    assert.ok(
      spread!.every((s) => s < 1e-6 * Math.max(1, cost[0]!)),
      `${propagation}: spread ${spread!.join(',')}`,
    );
  }
  model.dispose();
  single.dispose();
});

test('TS-∞ keeps each particle on one elite for the whole horizon, spread evenly; TS-1 redraws', () => {
  const n = 6;
  const P = 6;
  const H = 5;
  const calls = spyMembers(trained);
  const tsinf = new TrajectorySamplingEvaluator({
    ensemble: trained,
    cost: quadratic,
    horizon: H,
    particles: P,
    propagation: 'tsinf',
    ...bounds,
    seed: 4,
  });
  tsinf.setState(Float32Array.of(0.2, -0.4));
  const { cost, spread } = tsinf.evaluate(randomSequences(n, H, 2), n);
  assert.equal(calls.length, H);
  for (const c of calls) assert.deepEqual(c, calls[0], 'a particle changed member');
  const elites = new Set(trained.elites);
  for (let i = 0; i < n; i++) {
    const counts = new Map<number, number>();
    for (let p = 0; p < P; p++) counts.set(calls[0]![i * P + p]!, (counts.get(calls[0]![i * P + p]!) ?? 0) + 1);
    assert.deepEqual([...counts.keys()].sort(), [...elites].sort(), 'every elite carries particles');
    assert.ok([...counts.values()].every((v) => v === P / elites.size));
  }
  assert.ok(cost.every(Number.isFinite) && spread!.every((s) => s > 0), 'sampled particles spread');

  calls.length = 0;
  const ts1 = new TrajectorySamplingEvaluator({
    ensemble: trained,
    cost: quadratic,
    horizon: H,
    particles: P,
    propagation: 'ts1',
    ...bounds,
    seed: 4,
  });
  ts1.setState(Float32Array.of(0.2, -0.4));
  ts1.evaluate(randomSequences(n, H, 2), n);
  assert.equal(calls.length, H);
  assert.ok(
    calls.every((c) => c.every((m) => elites.has(m))),
    'only elites',
  );
  assert.ok(
    calls.some((c) => c.some((m, r) => m !== calls[0]![r])),
    'TS-1 redraws members',
  );
  delete (trained as { predictNext?: unknown }).predictNext; // back to the prototype's
});

test('statistics: TS-1 expected cost is the mean over particles, near the expectation rollout; seeded runs repeat', () => {
  const H = 8;
  const seqs = randomSequences(3, H, 5);
  const make = (propagation: Propagation, particles: number): TrajectorySamplingEvaluator => {
    const ts = new TrajectorySamplingEvaluator({
      ensemble: trained,
      cost: quadratic,
      horizon: H,
      particles,
      propagation,
      ...bounds,
      seed: 9,
    });
    ts.setState(Float32Array.of(0.5, 0.5));
    return ts;
  };
  const a = make('ts1', 200).evaluate(seqs, 3);
  const b = make('ts1', 200).evaluate(seqs, 3);
  assert.deepEqual(a, b, 'same seed, same costs');
  const e = make('expectation', 20).evaluate(seqs, 3);
  assert.deepEqual([...e.spread!], [0, 0, 0]);
  for (let i = 0; i < 3; i++) {
    // noise 0.02 per step adds ≈ H·2·0.02² ≈ 0.006 to a quadratic cost, within 10% of a cost ≈ 3
    assert.ok(
      Math.abs(a.cost[i]! - e.cost[i]!) < 0.1 * e.cost[i]!,
      `sequence ${i}: TS-1 ${a.cost[i]} vs expectation ${e.cost[i]}`,
    );
    // the standard error of the mean is spread/√P
    assert.ok(a.spread![i]! > 0 && a.spread![i]! < e.cost[i]!);
  }
});

test('no tensor leak across evaluations; evaluate before setState is an error', () => {
  const ts = new TrajectorySamplingEvaluator({
    ensemble: trained,
    cost: quadratic,
    horizon: 3,
    particles: 4,
    ...bounds,
  });
  assert.throws(() => ts.evaluate(randomSequences(2, 3, 1), 2), /setState/);
  ts.setState(Float32Array.of(0, 0));
  ts.evaluate(randomSequences(2, 3, 1), 2);
  const start = tf.memory().numTensors;
  for (let i = 0; i < 200; i++) ts.evaluate(randomSequences(2, 3, i), 2);
  assert.equal(tf.memory().numTensors, start);
});
