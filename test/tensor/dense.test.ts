import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initTensorBackend } from '../../src/tensor/backend.js';
import { silu, trainableDense } from '../../src/tensor/dense.js';

// The tensor backend choice, and the custom-gradient dense layer and registered gradients against
// hand-worked values and finite differences.

await initTensorBackend();

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++)
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

test('backend: idempotent, and says why', async () => {
  const a = await initTensorBackend();
  const b = await initTensorBackend();
  assert.equal(a, b);
  assert.equal(tf.getBackend(), a.backend);
  assert.match(a.why, /^wasm \(SIMD\): .*tfjs-node.*not installed/);
});

test('backend: a worker thread chooses its own', async () => {
  const backend = new URL('../../src/tensor/backend.js', import.meta.url).href;
  const code = `import('${backend}').then((m) => m.initTensorBackend()).then((c) => require('node:worker_threads').parentPort.postMessage(c.backend))`;
  const worker = new Worker(code, { eval: true });
  const chosen = await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
  await worker.terminate();
  assert.equal(chosen, 'wasm');
});

test('custom-gradient dense: forward and gradients match the formulas worked by hand', () => {
  // x = [[1, 2]], W = [[1, 0, −1], [0.5, 1, 2]], b = [0.1, 0.2, 0.3]
  // y = xW + b = [1 + 1 + 0.1, 0 + 2 + 0.2, −1 + 4 + 0.3] = [2.1, 2.2, 3.3]
  // loss = Σ y·c with c = [1, −1, 2] → dy = c; dx = c·Wᵀ = [1 + 0 − 2, 0.5 − 1 + 4] = [−1, 3.5]
  // dW = xᵀ c = [[1, −1, 2], [2, −2, 4]]; db = c
  const x = tf.tensor2d([[1, 2]]);
  const w = tf.tensor2d([
    [1, 0, -1],
    [0.5, 1, 2],
  ]);
  const b = tf.tensor1d([0.1, 0.2, 0.3]);
  const c = tf.tensor2d([[1, -1, 2]]);
  const y = trainableDense(x, w, b);
  close(y.dataSync(), [2.1, 2.2, 3.3], 1e-6, 'y');
  const [dx, dw, db] = tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) =>
    tf.sum(tf.mul(trainableDense(xi as tf.Tensor2D, wi as tf.Tensor2D, bi as tf.Tensor1D), c)),
  )([x, w, b]);
  close(dx!.dataSync(), [-1, 3.5], 1e-6, 'dx');
  close(dw!.dataSync(), [1, -1, 2, 2, -2, 4], 1e-6, 'dW');
  close(db!.dataSync(), [1, -1, 2], 1e-6, 'db');
  tf.dispose([x, w, b, c, y, dx!, dw!, db!]);
});

test('registered gradients: a loss built from every registered op matches finite differences', () => {
  // d/dz of mean(softplus(z·σ(z) − 0.3)² · e^{−z}) + Σ slice(z)², numerically (float64 in JS)
  const z0 = [0.3, -1.2, 2.0, 0.7, -0.1, 1.5];
  const f = (z: tf.Tensor): tf.Scalar => {
    const h = silu(z);
    const a = tf.squaredDifference(tf.softplus(tf.sub(h, 0.3)), tf.scalar(0));
    const m = tf.mean(tf.mul(a, tf.exp(tf.neg(z))));
    const s = tf.sum(tf.square(tf.slice(z, [0, 1], [2, 2])));
    return tf.addN([m, s, tf.add(tf.scalar(0), tf.scalar(0))]) as tf.Scalar;
  };
  const fJs = (z: number[]): number => {
    const sig = (v: number): number => 1 / (1 + Math.exp(-v));
    const sp = (v: number): number => Math.log1p(Math.exp(v));
    const m = z.reduce((acc, v) => acc + sp(v * sig(v) - 0.3) ** 2 * Math.exp(-v), 0) / z.length;
    const s = z[1]! ** 2 + z[2]! ** 2 + z[4]! ** 2 + z[5]! ** 2;
    return m + s;
  };
  const z = tf.tensor2d(z0, [2, 3]);
  const g = tf.grad(f)(z).dataSync();
  const numeric = z0.map((_, i) => {
    const h = 1e-5;
    const up = [...z0];
    const dn = [...z0];
    up[i]! += h;
    dn[i]! -= h;
    return (fJs(up) - fJs(dn)) / (2 * h);
  });
  close(g, numeric, 1e-4, 'gradient');
  close(f(z).dataSync(), [fJs(z0)], 1e-5, 'value');
  z.dispose();
});
