import type { NamedArray } from '../../tensor/weights.js';

// Soft actor-critic (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications"): the
// maximum-entropy RL of the lectures, as SpinningUp and mbrl-lib's SAC write it —
//  - actor: a tanh-squashed Gaussian, u = μ(s) + σ(s) ε, a = tanh(u), scaled to the action box;
//    log π(a|s) = Σᵢ [log N(uᵢ; μᵢ, σᵢ) − log(1 − tanh²uᵢ)], the correction computed stably as
//    2 (log 2 − u − softplus(−2u)); log σ clipped to [−20, 2];
//  - twin critics Q₁, Q₂ with Polyak-averaged targets; the target
//    y = r + γ (1 − d) (min Q'ⱼ(s', a') − α log π(a'|s')), a' ~ π(·|s'); each critic regresses on y;
//  - the actor minimises E[α log π(ã|s) − min Qⱼ(s, ã)] through the reparameterised sample;
//  - the temperature α = e^{log α} minimises E[−log α (log π(ã|s) + H̄)] toward the target entropy
//    H̄ (default −dim A), optionally never below a floor (minAlpha).
// Actions are stored and fed to the critics in the squashed space [−1, 1]; act() returns them in
// the environment's units. Two engines implement it (the ensemble's seam): ./sac_native.ts on the
// native kernels and ./sac_tfjs.ts on TF.js; ./create.ts picks one. This file is what both share.

export type SacEngineName = 'native' | 'tfjs';

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
  /**
   * A floor under α (0: none, the default). The learned temperature can collapse on sparse
   * rewards (α → 0.01 within a few thousand updates on the swing-up), after which the actor
   * stops exploring; a floor keeps a minimum of entropy in the objective.
   */
  readonly minAlpha?: number;
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

/** The learner both engines are. */
export interface SoftActorCritic {
  readonly engine: SacEngineName;
  readonly config: Required<SacConfig>;
  readonly actionSize: number;
  readonly alpha: number;
  readonly updates: number;
  /**
   * The action for one observation into `out` (environment units): the mean's squash when
   * `deterministic` (evaluation, the policy planner), else a sample (exploration).
   */
  act(obs: ArrayLike<number>, deterministic: boolean, out: Float32Array | Float64Array): void;
  /** actions for `rows` observations [rows × obs] into out [rows × A] (environment units) */
  actBatch(obs: Float32Array, rows: number, deterministic: boolean, out: Float32Array): void;
  /** One SAC update on a batch: critics, then actor, then temperature, then the targets. */
  update(batch: SacBatch): SacUpdate;
  /** the actor's weights (TF.js names `actor/dense<l>/kernel|bias`): what the policy planner needs */
  actorWeights(): NamedArray[];
  /** everything an update depends on, to resume from: networks, targets, log α, Adam's state where the engine keeps it */
  snapshot(): NamedArray[];
  restore(weights: ReadonlyMap<string, NamedArray>): void;
  dispose(): void;
}

export const LOG_STD_MIN = -20;
export const LOG_STD_MAX = 2;
export const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
/** the noise source's seed offset: both engines draw the same noise in the same order */
export const NOISE_SEED = 0x5ac;

export function resolveSacConfig(config: SacConfig): Required<SacConfig> {
  const nu = config.actionLow.length;
  if (!(config.obsSize > 0) || nu === 0 || config.actionHigh.length !== nu)
    throw new Error(`SAC: bad sizes (obs ${config.obsSize}, action box ${nu} and ${config.actionHigh.length} values)`);
  for (let i = 0; i < nu; i++)
    if (
      !(config.actionHigh[i]! > config.actionLow[i]!) ||
      !Number.isFinite(config.actionHigh[i]! - config.actionLow[i]!)
    )
      throw new Error(`SAC: action ${i} has no finite range [${config.actionLow[i]}, ${config.actionHigh[i]}]`);
  if (config.minAlpha !== undefined && !(config.minAlpha >= 0 && config.minAlpha <= (config.initialAlpha ?? 1)))
    throw new Error(`SAC: minAlpha ${config.minAlpha} must lie in [0, initialAlpha]`);
  return {
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
    minAlpha: config.minAlpha ?? 0,
    seed: config.seed ?? 0,
  };
}

/** The widths and seeds of the five networks, the same for both engines. */
export function networkShapes(c: Required<SacConfig>) {
  const nu = c.actionLow.length;
  return {
    actor: { widths: [c.obsSize, ...c.hidden, 2 * nu], seed: c.seed + 1 },
    q1: { widths: [c.obsSize + nu, ...c.hidden, 1], seed: c.seed + 2 },
    q2: { widths: [c.obsSize + nu, ...c.hidden, 1], seed: c.seed + 3 },
  };
}

/** The action box's centre and half-width: a = centre + half · tanh(u). */
export function actionScale(c: Required<SacConfig>): { center: Float32Array; half: Float32Array } {
  return {
    center: Float32Array.from(c.actionLow, (lo, i) => (lo + c.actionHigh[i]!) / 2),
    half: Float32Array.from(c.actionLow, (lo, i) => (c.actionHigh[i]! - lo) / 2),
  };
}

/** Batch actions in environment units → the squashed space, clipped to [−1, 1]. */
export function squashActions(c: Required<SacConfig>, actions: Float32Array, rows: number): Float32Array {
  const { center, half } = actionScale(c);
  const nu = center.length;
  const out = new Float32Array(rows * nu);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < nu; i++) {
      const v = (actions[r * nu + i]! - center[i]!) / half[i]!;
      out[r * nu + i] = Math.min(1, Math.max(-1, v));
    }
  return out;
}

export function checkBatch(c: Required<SacConfig>, batch: SacBatch): void {
  const nu = c.actionLow.length;
  const B = batch.size;
  if (!(Number.isInteger(B) && B > 0)) throw new Error(`SAC: batch size ${B}`);
  if (
    batch.obs.length < B * c.obsSize ||
    batch.nextObs.length < B * c.obsSize ||
    batch.actions.length < B * nu ||
    batch.rewards.length < B ||
    batch.dones.length < B
  )
    throw new Error(`SAC: batch arrays too short for ${B} rows`);
}
