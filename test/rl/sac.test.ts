import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initTensorBackend } from '../../src/tensor/backend.js';
import { TfjsSac as Sac, squashedLogProb } from '../../src/rl/sac/sac_tfjs.js';
import { Rng } from '../../src/util/random.js';

// Soft actor-critic on TF.js: the squashed Gaussian's log-probability against its closed form, a
// one-step problem with a known best action (SAC's mean action goes there and its temperature
// drives the policy's entropy toward the target), and no tensor left behind by updates.

await initTensorBackend();

test("the tanh-squashed Gaussian's log π is the Gaussian's minus log(1 − tanh²u), per row", () => {
  const u = [0.3, -1.2, 2.5, 0.0];
  const mu = [0.1, -1.0, 1.0, 0.5];
  const logStd = [-0.5, 0.2, 0.0, -1.0];
  const got = tf.tidy(() =>
    squashedLogProb(tf.tensor2d(u, [2, 2]), tf.tensor2d(mu, [2, 2]), tf.tensor2d(logStd, [2, 2])).arraySync(),
  );
  for (let r = 0; r < 2; r++) {
    let expected = 0;
    for (let i = 0; i < 2; i++) {
      const k = r * 2 + i;
      const s = Math.exp(logStd[k]!);
      expected += -0.5 * ((u[k]! - mu[k]!) / s) ** 2 - logStd[k]! - 0.5 * Math.log(2 * Math.PI);
      expected -= Math.log(1 - Math.tanh(u[k]!) ** 2);
    }
    assert.ok(Math.abs(got[r]! - expected) < 1e-4, `row ${r}: ${got[r]} vs ${expected}`);
  }
});

/** A one-step task: any observation, reward −4 (a − 0.6)², the episode ends. */
function bandit(rng: Rng, size: number) {
  const obs = Float32Array.from({ length: size }, () => rng.uniform() * 2 - 1);
  const actions = Float32Array.from({ length: size }, () => rng.uniform() * 2 - 1);
  return {
    size,
    obs,
    actions,
    rewards: Float32Array.from(actions, (a) => -4 * (a - 0.6) ** 2),
    nextObs: obs,
    dones: new Float32Array(size).fill(1),
  };
}

test('SAC on a one-step task: the mean action goes to the best one, the entropy toward its target', () => {
  const sac = new Sac({
    obsSize: 1,
    actionLow: [-1],
    actionHigh: [1],
    hidden: [32, 32],
    learningRate: 3e-3,
    alphaLearningRate: 3e-3,
    targetEntropy: -1,
    seed: 3,
  });
  const rng = new Rng(5);
  try {
    let last = sac.update(bandit(rng, 64));
    for (let i = 0; i < 1500; i++) last = sac.update(bandit(rng, 64));
    const a = new Float32Array(1);
    for (const o of [-0.8, 0, 0.8]) {
      sac.act([o], true, a);
      assert.ok(Math.abs(a[0]! - 0.6) < 0.1, `mean action at s = ${o}: ${a[0]} (best 0.6)`);
    }
    assert.ok(Math.abs(last.entropy - -1) < 0.5, `entropy ${last.entropy} nats (target −1), α ${last.alpha}`);
    assert.ok(last.alpha < 1, `α fell from 1 to ${last.alpha}`);
  } finally {
    sac.dispose();
  }
});

test('updates leave no tensor behind, and acting neither', () => {
  const sac = new Sac({ obsSize: 3, actionLow: [-2, 0], actionHigh: [2, 1], hidden: [16], seed: 1 });
  const rng = new Rng(2);
  const batch = () => ({
    size: 8,
    obs: Float32Array.from({ length: 24 }, () => rng.normal()),
    actions: Float32Array.from({ length: 16 }, () => rng.uniform()),
    rewards: Float32Array.from({ length: 8 }, () => rng.normal()),
    nextObs: Float32Array.from({ length: 24 }, () => rng.normal()),
    dones: new Float32Array(8),
  });
  try {
    sac.update(batch());
    const before = tf.memory().numTensors;
    const a = new Float64Array(2);
    for (let i = 0; i < 100; i++) {
      sac.update(batch());
      sac.act([0.1, 0.2, 0.3], i % 2 === 0, a);
      assert.ok(a[0]! >= -2 && a[0]! <= 2 && a[1]! >= 0 && a[1]! <= 1, `action ${a[0]}, ${a[1]} in the box`);
    }
    assert.equal(tf.memory().numTensors, before);
  } finally {
    sac.dispose();
  }
});
