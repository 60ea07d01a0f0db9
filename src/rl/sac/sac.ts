import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../util/random.js';
import { Mlp } from './mlp.js';

// Soft actor-critic (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications"): the
// maximum-entropy RL of the lectures, as SpinningUp and mbrl-lib's SAC write it —
//  - actor: a tanh-squashed Gaussian, u = μ(s) + σ(s) ε, a = tanh(u), scaled to the action box;
//    log π(a|s) = Σᵢ [log N(uᵢ; μᵢ, σᵢ) − log(1 − tanh²uᵢ)], the correction computed stably as
//    2 (log 2 − u − softplus(−2u)); log σ clipped to [−20, 2];
//  - twin critics Q₁, Q₂ with Polyak-averaged targets; the target
//    y = r + γ (1 − d) (min Q'ⱼ(s', a') − α log π(a'|s')), a' ~ π(·|s'); each critic regresses on y;
//  - the actor minimises E[α log π(ã|s) − min Qⱼ(s, ã)] through the reparameterised sample;
//  - the temperature α = e^{log α} minimises E[−log α (log π(ã|s) + H̄)] toward the target entropy
//    H̄ (default −dim A).
// Actions are stored and fed to the critics in the squashed space [−1, 1]; act() returns them in the
// environment's units. This file is the TF.js engine; the noise comes from a seeded source.

export interface SacConfig {
  readonly obsSize: number;
  readonly actionLow: readonly number[];
  readonly actionHigh: readonly number[];
  /** hidden widths of the actor and each critic; default [256, 256] */
  readonly hidden?: readonly number[];
  /** default 0.99 */
  readonly gamma?: number;
  /** Polyak factor of the target critics; default 0.005 */
  readonly tau?: number;
  /** Adam step of the actor and critics; default 3e-4 */
  readonly learningRate?: number;
  /** Adam step of log α; default 3e-4 */
  readonly alphaLearningRate?: number;
  /** α at the start; default 1 */
  readonly initialAlpha?: number;
  /** H̄; default −dim A */
  readonly targetEntropy?: number;
  readonly seed?: number;
}

/** A batch of transitions: B rows each, row-major; actions in the environment's units. */
export interface SacBatch {
  readonly size: number;
  readonly obs: Float32Array;
  readonly actions: Float32Array;
  readonly rewards: Float32Array;
  readonly nextObs: Float32Array;
  /** 1 where the episode terminated at the next state (not where it was cut by a time limit) */
  readonly dones: Float32Array;
}

export interface SacUpdate {
  readonly criticLoss: number;
  readonly actorLoss: number;
  readonly alphaLoss: number;
  readonly alpha: number;
  /** the batch's mean −log π of the actor's samples: the policy's entropy estimate (nats) */
  readonly entropy: number;
  /** the batch's mean min Q of the actor's samples */
  readonly q: number;
}

const LOG_STD_MIN = -20;
const LOG_STD_MAX = 2;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** log π of u under N(μ, σ) squashed by tanh, per row ([B, A] → [B]). */
export function squashedLogProb(u: tf.Tensor2D, mu: tf.Tensor2D, logStd: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const z = tf.div(tf.sub(u, mu), tf.exp(logStd));
    const gaussian = tf.sub(tf.sub(tf.mul(-0.5, tf.square(z)), logStd), HALF_LOG_2PI);
    const correction = tf.mul(2, tf.sub(tf.sub(Math.LN2, u), tf.softplus(tf.mul(-2, u))));
    return tf.sum<tf.Tensor1D>(tf.sub(gaussian, correction), 1);
  });
}

export class Sac {
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
    const nu = config.actionLow.length;
    if (!(config.obsSize > 0) || nu === 0 || config.actionHigh.length !== nu)
      throw new Error(
        `SAC: bad sizes (obs ${config.obsSize}, action box ${nu} and ${config.actionHigh.length} values)`,
      );
    for (let i = 0; i < nu; i++)
      if (!(config.actionHigh[i]! > config.actionLow[i]!))
        throw new Error(`SAC: action ${i} has an empty range [${config.actionLow[i]}, ${config.actionHigh[i]}]`);
    this.config = {
      obsSize: config.obsSize,
      actionLow: [...config.actionLow],
      actionHigh: [...config.actionHigh],
      hidden: [...(config.hidden ?? [256, 256])],
      gamma: config.gamma ?? 0.99,
      tau: config.tau ?? 0.005,
      learningRate: config.learningRate ?? 3e-4,
      alphaLearningRate: config.alphaLearningRate ?? 3e-4,
      initialAlpha: config.initialAlpha ?? 1,
      targetEntropy: config.targetEntropy ?? -nu,
      seed: config.seed ?? 0,
    };
    const c = this.config;
    const seed = c.seed;
    this.#actor = new Mlp('actor', [c.obsSize, ...c.hidden, 2 * nu], seed + 1);
    this.#q1 = new Mlp('q1', [c.obsSize + nu, ...c.hidden, 1], seed + 2);
    this.#q2 = new Mlp('q2', [c.obsSize + nu, ...c.hidden, 1], seed + 3);
    this.#q1Target = new Mlp('q1_target', [c.obsSize + nu, ...c.hidden, 1], seed + 2, false);
    this.#q2Target = new Mlp('q2_target', [c.obsSize + nu, ...c.hidden, 1], seed + 3, false);
    this.#q1Target.copyFrom(this.#q1);
    this.#q2Target.copyFrom(this.#q2);
    this.#logAlpha = tf.variable(tf.scalar(Math.log(c.initialAlpha)), true, 'log_alpha');
    this.#actorOptimizer = tf.train.adam(c.learningRate);
    this.#criticOptimizer = tf.train.adam(c.learningRate);
    this.#alphaOptimizer = tf.train.adam(c.alphaLearningRate);
    this.#rng = new Rng(seed ^ 0x5ac);
    this.#center = Float32Array.from(c.actionLow, (lo, i) => (lo + c.actionHigh[i]!) / 2);
    this.#half = Float32Array.from(c.actionLow, (lo, i) => (c.actionHigh[i]! - lo) / 2);
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

  /**
   * The action for one observation into `out` (environment units): the mean's squash when
   * `deterministic` (evaluation, the policy planner), else a sample (exploration).
   */
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

  /** One SAC update on a batch: critics, then actor, then temperature, then the targets. */
  update(batch: SacBatch): SacUpdate {
    const { obsSize: no, gamma, tau, targetEntropy } = this.config;
    const nu = this.actionSize;
    const B = batch.size;
    if (batch.obs.length < B * no || batch.nextObs.length < B * no || batch.actions.length < B * nu)
      throw new Error(`SAC: batch arrays too short for ${B} rows`);
    const squashed = new Float32Array(B * nu);
    for (let r = 0; r < B; r++)
      for (let i = 0; i < nu; i++) {
        const v = (batch.actions[r * nu + i]! - this.#center[i]!) / this.#half[i]!;
        squashed[r * nu + i] = Math.min(1, Math.max(-1, v));
      }
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

  dispose(): void {
    for (const net of [this.#actor, this.#q1, this.#q2, this.#q1Target, this.#q2Target]) net.dispose();
    this.#logAlpha.dispose();
    for (const o of [this.#actorOptimizer, this.#criticOptimizer, this.#alphaOptimizer]) o.dispose();
  }
}
