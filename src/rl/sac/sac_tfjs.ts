import * as tf from '@tensorflow/tfjs-core';
import type { NamedArray } from '../../tensor/weights.js';
import { Rng } from '../../util/random.js';
import { Mlp } from './mlp.js';
import { namedParams, paramsFromNamed } from './mlp_layout.js';
import {
  actionScale,
  checkBatch,
  HALF_LOG_2PI,
  LOG_STD_MAX,
  LOG_STD_MIN,
  networkShapes,
  NOISE_SEED,
  resolveSacConfig,
  squashActions,
  type SacBatch,
  type SacConfig,
  type SacUpdate,
  type SoftActorCritic,
} from './sac.js';

// Soft actor-critic (./sac.ts) on TF.js: the losses written as tensors and differentiated by TF.js,
// Adam from tf.train. The engine where the native kernels are not built; the reference the native
// engine is checked against (the same weights, noise and steps from the same seed). Adam's moments
// are TF.js's own and not part of a snapshot: a resumed TF.js learner restarts them.

/** log π of u under N(μ, σ) squashed by tanh, per row ([B, A] → [B]). */
export function squashedLogProb(u: tf.Tensor2D, mu: tf.Tensor2D, logStd: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const z = tf.div(tf.sub(u, mu), tf.exp(logStd));
    const gaussian = tf.sub(tf.sub(tf.mul(-0.5, tf.square(z)), logStd), HALF_LOG_2PI);
    const correction = tf.mul(2, tf.sub(tf.sub(Math.LN2, u), tf.softplus(tf.mul(-2, u))));
    return tf.sum<tf.Tensor1D>(tf.sub(gaussian, correction), 1);
  });
}

export class TfjsSac implements SoftActorCritic {
  readonly engine = 'tfjs' as const;
  readonly config: Required<SacConfig>;
  readonly #actor: Mlp;
  readonly #q1: Mlp;
  readonly #q2: Mlp;
  readonly #q1Target: Mlp;
  readonly #q2Target: Mlp;
  readonly #logAlpha: tf.Variable;
  readonly #actorOptimizer: tf.Optimizer;
  readonly #criticOptimizer: tf.Optimizer;
  readonly #alphaOptimizer: tf.Optimizer;
  readonly #rng: Rng;
  readonly #center: Float32Array;
  readonly #half: Float32Array;
  #updates = 0;

  constructor(config: SacConfig) {
    this.config = resolveSacConfig(config);
    const c = this.config;
    const shapes = networkShapes(c);
    this.#actor = new Mlp('actor', shapes.actor.widths, shapes.actor.seed);
    this.#q1 = new Mlp('q1', shapes.q1.widths, shapes.q1.seed);
    this.#q2 = new Mlp('q2', shapes.q2.widths, shapes.q2.seed);
    this.#q1Target = new Mlp('q1_target', shapes.q1.widths, shapes.q1.seed, false);
    this.#q2Target = new Mlp('q2_target', shapes.q2.widths, shapes.q2.seed, false);
    this.#logAlpha = tf.variable(tf.scalar(Math.log(c.initialAlpha)), true);
    this.#actorOptimizer = tf.train.adam(c.learningRate);
    this.#criticOptimizer = tf.train.adam(c.learningRate);
    this.#alphaOptimizer = tf.train.adam(c.alphaLearningRate);
    this.#rng = new Rng(c.seed ^ NOISE_SEED);
    ({ center: this.#center, half: this.#half } = actionScale(c));
  }

  get actionSize(): number {
    return this.#center.length;
  }

  get alpha(): number {
    return Math.exp(this.#logAlpha.dataSync()[0]!);
  }

  get updates(): number {
    return this.#updates;
  }

  #noise(rows: number): tf.Tensor2D {
    const nu = this.actionSize;
    return tf.tensor2d(
      Float32Array.from({ length: rows * nu }, () => this.#rng.normal()),
      [rows, nu],
    );
  }

  /** μ and log σ (clipped) for a batch of observations. */
  #heads(obs: tf.Tensor2D): { mu: tf.Tensor2D; logStd: tf.Tensor2D } {
    const nu = this.actionSize;
    const out = this.#actor.apply(obs);
    const mu = tf.slice(out, [0, 0], [-1, nu]);
    const logStd = tf.clipByValue(tf.slice(out, [0, nu], [-1, nu]), LOG_STD_MIN, LOG_STD_MAX);
    return { mu, logStd };
  }

  /** A reparameterised sample in [−1, 1] and its log π, for a batch (call inside a tidy). */
  #sample(obs: tf.Tensor2D, noise: tf.Tensor2D): { action: tf.Tensor2D; logProb: tf.Tensor1D } {
    const { mu, logStd } = this.#heads(obs);
    const u = tf.add<tf.Tensor2D>(mu, tf.mul(tf.exp(logStd), noise));
    return { action: tf.tanh(u), logProb: squashedLogProb(u, mu, logStd) };
  }

  #q(net: Mlp, obs: tf.Tensor2D, action: tf.Tensor2D): tf.Tensor1D {
    return tf.squeeze(net.apply(tf.concat([obs, action], 1)), [1]);
  }

  act(obs: ArrayLike<number>, deterministic: boolean, out: Float32Array | Float64Array): void {
    const nu = this.actionSize;
    if (obs.length !== this.config.obsSize)
      throw new Error(`SAC: an observation has ${this.config.obsSize} values, got ${obs.length}`);
    const a = tf.tidy(() => {
      const o = tf.tensor2d(Float32Array.from(obs), [1, this.config.obsSize]);
      if (deterministic) return tf.tanh(this.#heads(o).mu);
      return this.#sample(o, this.#noise(1)).action;
    });
    const values = a.dataSync();
    a.dispose();
    for (let i = 0; i < nu; i++) out[i] = this.#center[i]! + this.#half[i]! * values[i]!;
  }

  actBatch(obs: Float32Array, rows: number, deterministic: boolean, out: Float32Array): void {
    const nu = this.actionSize;
    if (obs.length < rows * this.config.obsSize) throw new Error(`SAC: ${obs.length} values for ${rows} observations`);
    const a = tf.tidy(() => {
      const o = tf.tensor2d(obs.subarray(0, rows * this.config.obsSize), [rows, this.config.obsSize]);
      if (deterministic) return tf.tanh(this.#heads(o).mu);
      return this.#sample(o, this.#noise(rows)).action;
    });
    const values = a.dataSync();
    a.dispose();
    for (let k = 0; k < rows * nu; k++) out[k] = this.#center[k % nu]! + this.#half[k % nu]! * values[k]!;
  }

  update(batch: SacBatch): SacUpdate {
    checkBatch(this.config, batch);
    const { obsSize: no, gamma, tau, targetEntropy, minAlpha } = this.config;
    const nu = this.actionSize;
    const B = batch.size;
    const squashed = squashActions(this.config, batch.actions, B);
    const obs = tf.tensor2d(batch.obs.subarray(0, B * no), [B, no]);
    const next = tf.tensor2d(batch.nextObs.subarray(0, B * no), [B, no]);
    const actions = tf.tensor2d(squashed, [B, nu]);
    const rewards = tf.tensor1d(batch.rewards.subarray(0, B));
    const notDone = tf.tidy(() => tf.sub(1, tf.tensor1d(batch.dones.subarray(0, B))));
    const nextNoise = this.#noise(B);
    const noise = this.#noise(B);
    try {
      const alpha = tf.exp(this.#logAlpha);
      const target = tf.tidy(() => {
        const { action, logProb } = this.#sample(next, nextNoise);
        const qNext = tf.minimum(this.#q(this.#q1Target, next, action), this.#q(this.#q2Target, next, action));
        return tf.add(rewards, tf.mul(gamma, tf.mul(notDone, tf.sub(qNext, tf.mul(alpha, logProb)))));
      });
      const criticVars = [...this.#q1.variables, ...this.#q2.variables];
      const criticLoss = this.#criticOptimizer.minimize(
        () =>
          tf.add<tf.Scalar>(
            tf.mean(tf.square(tf.sub(this.#q(this.#q1, obs, actions), target))),
            tf.mean(tf.square(tf.sub(this.#q(this.#q2, obs, actions), target))),
          ),
        true,
        criticVars,
      )!;
      let logProbMean = 0;
      let qMean = 0;
      const actorLoss = this.#actorOptimizer.minimize(
        () => {
          const { action, logProb } = this.#sample(obs, noise);
          const q = tf.minimum(this.#q(this.#q1, obs, action), this.#q(this.#q2, obs, action));
          logProbMean = tf.mean(logProb).dataSync()[0]!;
          qMean = tf.mean(q).dataSync()[0]!;
          return tf.mean<tf.Scalar>(tf.sub(tf.mul(alpha, logProb), q));
        },
        true,
        this.#actor.variables,
      )!;
      const alphaLoss = this.#alphaOptimizer.minimize(
        () => tf.neg<tf.Scalar>(tf.mul(this.#logAlpha, logProbMean + targetEntropy)),
        true,
        [this.#logAlpha],
      )!;
      if (minAlpha > 0) tf.tidy(() => this.#logAlpha.assign(tf.maximum(this.#logAlpha, Math.log(minAlpha))));
      this.#q1Target.polyak(this.#q1, tau);
      this.#q2Target.polyak(this.#q2, tau);
      this.#updates++;
      const result: SacUpdate = {
        criticLoss: criticLoss.dataSync()[0]!,
        actorLoss: actorLoss.dataSync()[0]!,
        alphaLoss: alphaLoss.dataSync()[0]!,
        alpha: this.alpha,
        entropy: -logProbMean,
        q: qMean,
      };
      for (const t of [alpha, target, criticLoss, actorLoss, alphaLoss]) t.dispose();
      return result;
    } finally {
      for (const t of [obs, next, actions, rewards, notDone, nextNoise, noise]) t.dispose();
    }
  }

  #nets(): [string, Mlp][] {
    return [
      ['actor', this.#actor],
      ['q1', this.#q1],
      ['q2', this.#q2],
      ['q1_target', this.#q1Target],
      ['q2_target', this.#q2Target],
    ];
  }

  actorWeights(): NamedArray[] {
    return this.#actor.weights();
  }

  snapshot(): NamedArray[] {
    return [
      ...this.#nets().flatMap(([name, net]) => namedParams(name, net.layout, net.params())),
      { name: 'log_alpha', shape: [1], values: Float32Array.from(this.#logAlpha.dataSync()) },
      { name: 'updates', shape: [1], values: Float32Array.of(this.#updates) },
    ];
  }

  restore(weights: ReadonlyMap<string, NamedArray>): void {
    // everything is read and checked before anything is written: a bad checkpoint changes nothing
    const params = this.#nets().map(([name, net]) => [net, paramsFromNamed(name, net.layout, weights)] as const);
    const logAlpha = weights.get('log_alpha');
    if (logAlpha?.values.length !== 1) throw new Error("SAC checkpoint: 'log_alpha' is missing");
    for (const [net, p] of params) net.setParams(p);
    tf.tidy(() => this.#logAlpha.assign(tf.scalar(logAlpha.values[0]!)));
    this.#updates = weights.get('updates')?.values[0] ?? 0;
  }

  dispose(): void {
    for (const net of [this.#actor, this.#q1, this.#q2, this.#q1Target, this.#q2Target]) net.dispose();
    this.#logAlpha.dispose();
    for (const o of [this.#actorOptimizer, this.#criticOptimizer, this.#alphaOptimizer]) o.dispose();
  }
}
