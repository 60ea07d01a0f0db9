import * as tf from '@tensorflow/tfjs-core';
import { registerTrainingGradients } from './gradients.js';

// Dense layers laid out for the wasm backend's fast path: XNNPACK takes a matMul only when it is
// 2-D (batch 1) with neither operand transposed; anything else runs a scalar blocked loop
// (fused_batch_mat_mul in tfjs-backend-wasm/src/cc/batch_mat_mul_impl.cc). tfjs's own matMul
// gradient sets the transpose flags (tfjs-core/src/gradients/BatchMatMul_grad.ts) and so falls to
// that loop (measured here: ≈4.6× slower training), so the trained layer brings its own gradient
// that builds the transposed operands first and multiplies plainly.

/** x·W + b for x [B,in], W [in,out], b [out]; inference only (no custom gradient) */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: w, bias: b }) as tf.Tensor2D;
}

// whatever trains through this layer also differentiates the element-wise ops around it
registerTrainingGradients();

type Dense = (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/** x·W + b with a backward pass of untransposed 2-D matMuls: dx = dy·(Wᵀ), dW = (xᵀ)·dy, db = Σ_rows dy */
export const trainableDense: Dense = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x, b: w, bias: b }),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dy2 = dy as tf.Tensor2D;
      return [tf.matMul(dy2, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy2), tf.sum(dy2, 0)];
    },
  };
}) as unknown as Dense;

/** SiLU (swish), h·σ(h): wasm cannot fuse it into the matMul, so it follows as two element-wise ops */
export function silu<T extends tf.Tensor>(h: T): T {
  return tf.mul(h, tf.sigmoid(h));
}
