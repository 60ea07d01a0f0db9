import * as tf from '@tensorflow/tfjs-core';

// The probabilistic ensemble's training objective, as in PETS (kchua/handful-of-trials, BNN):
//  - each member predicts a mean μ and a raw log-variance s per output;
//  - s is squashed softly into [min_logvar, max_logvar], two learned variables, so the variance
//    can neither collapse on the training data nor blow up off it:
//        s ← max − softplus(max − s);   s ← min + softplus(s − min)
//  - loss per member: mean over rows and outputs of (μ − y)²·e^{−s} + s (the Gaussian NLL
//    without its ½ and log 2π, PETS's scaling, which the penalty weights below assume);
//  - plus 0.01·(Σ max − Σ min), which pulls the bounds in around the variances actually used;
//  - plus weight decay Σ_l λ_l·½‖W_l‖² on weights (not biases), growing with depth.

export const LOGVAR_BOUND_PENALTY = 0.01;
export const INITIAL_MAX_LOGVAR = 0.5;
export const INITIAL_MIN_LOGVAR = -10;

/** PETS's per-layer decays for 4 hidden layers are 2.5e-5, 5e-5, 7.5e-5, 7.5e-5 and 1e-4 at the output */
export function defaultWeightDecay(layers: number): number[] {
  return Array.from({ length: layers }, (_, l) => (l === layers - 1 ? 1e-4 : Math.min(2.5e-5 * (l + 1), 7.5e-5)));
}

export function boundLogvar(raw: tf.Tensor, maxLogvar: tf.Tensor, minLogvar: tf.Tensor): tf.Tensor {
  const upper = tf.sub(maxLogvar, tf.softplus(tf.sub(maxLogvar, raw)));
  return tf.add(minLogvar, tf.softplus(tf.sub(upper, minLogvar)));
}

export function gaussianNll(mean: tf.Tensor, logvar: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.mean(tf.add(tf.mul(tf.squaredDifference(mean, target), tf.exp(tf.neg(logvar))), logvar));
}

export function boundPenalty(maxLogvar: tf.Tensor, minLogvar: tf.Tensor): tf.Scalar {
  return tf.mul(LOGVAR_BOUND_PENALTY, tf.sub(tf.sum(maxLogvar), tf.sum(minLogvar)));
}

export function weightDecayLoss(weights: readonly tf.Tensor[], decays: readonly number[]): tf.Scalar {
  if (weights.length === 0) return tf.scalar(0);
  return tf.addN<tf.Scalar>(weights.map((w, l) => tf.mul(0.5 * decays[l]!, tf.sum(tf.square(w)))));
}

/** the same bounding in plain JS, for predictions read back from the net */
export function boundLogvarValue(raw: number, maxLogvar: number, minLogvar: number): number {
  const upper = maxLogvar - softplus(maxLogvar - raw);
  return minLogvar + softplus(upper - minLogvar);
}

/** log(1 + eˣ) without overflow */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}
