import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initTensorBackend } from '../../src/tensor/backend.js';
import {
  boundLogvar,
  boundLogvarValue,
  boundPenalty,
  defaultWeightDecay,
  gaussianNll,
  weightDecayLoss,
} from '../../src/dynamics/loss.js';

// The ensemble's training loss against formulas worked by hand: Gaussian NLL, soft log-variance
// bounds, weight decay.

await initTensorBackend();

const near = (actual: number, expected: number, tol: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} differs from ${expected} by more than ${tol}`);

test('Gaussian NLL (PETS scaling) matches the formula worked by hand', () => {
  // two rows, two outputs: mean over the 4 terms of (μ − y)²·e^{−s} + s
  // (0.5 − 1)²e^{−0.2} + 0.2 = 0.25·0.818730753 + 0.2 = 0.404682688
  // (−1 − 0)²e^{−(−1)} + (−1) = e − 1 = 1.718281828
  // (0 − 0)²e^{0} + 0 = 0
  // (2 − 1)²e^{−ln 2} + ln 2 = 0.5 + 0.693147181 = 1.193147181
  // mean = (0.404682688 + 1.718281828 + 0 + 1.193147181) / 4 = 0.829027924
  const mu = tf.tensor2d([
    [0.5, -1],
    [0, 2],
  ]);
  const s = tf.tensor2d([
    [0.2, -1],
    [0, Math.LN2],
  ]);
  const y = tf.tensor2d([
    [1, 0],
    [0, 1],
  ]);
  near(gaussianNll(mu, s, y).dataSync()[0]!, 0.829027924, 1e-6, 'NLL');
  tf.dispose([mu, s, y]);
});

test('soft log-variance bounds and their penalty match the formulas worked by hand', () => {
  // max = 0.5, min = −10, raw = 0: upper = 0.5 − softplus(0.5) = 0.5 − 0.974076984 = −0.474076984
  // lower = −10 + softplus(−0.474076984 + 10) = −10 + 9.526000 (+ log1p(e^{−9.526}) = 7.3e-5) = −0.474004
  const max = tf.tensor1d([0.5, 0.5]);
  const min = tf.tensor1d([-10, -10]);
  const raw = tf.tensor2d([
    [0, 100],
    [-100, 0],
  ]);
  const lv = boundLogvar(raw, max, min).dataSync();
  near(lv[0]!, -0.474004, 1e-5, 'bounded 0');
  near(boundLogvarValue(0, 0.5, -10), -0.474004, 1e-6, 'bounded 0 in JS');
  // far above the upper bound the value saturates at max, far below at min
  near(lv[1]!, 0.5, 1e-4, 'bounded +100');
  near(lv[2]!, -10, 1e-4, 'bounded −100');
  // penalty 0.01·(Σ max − Σ min) = 0.01·(1 − (−20)) = 0.21
  near(boundPenalty(max, min).dataSync()[0]!, 0.21, 1e-6, 'penalty');
  tf.dispose([max, min, raw]);
});

test('weight decay is Σ λ_l ½‖W_l‖², with PETS per-layer values', () => {
  assert.deepEqual(defaultWeightDecay(5), [2.5e-5, 5e-5, 7.5e-5, 7.5e-5, 1e-4]);
  // ½·(1 + 4)·0.1 + ½·9·0.2 = 0.25 + 0.9 = 1.15
  const w = [tf.tensor2d([[1, 2]]), tf.tensor2d([[3]])];
  near(weightDecayLoss(w, [0.1, 0.2]).dataSync()[0]!, 1.15, 1e-6, 'decay');
  tf.dispose(w);
});
