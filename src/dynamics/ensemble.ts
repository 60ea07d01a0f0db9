import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../util/random.js';
import { fileHandler } from '../tensor/file_io.js';
import { packFloat32, unpackFloat32, type NamedArray } from '../tensor/weights.js';
import { bootstrapResamples, holdoutSplit, shuffleInPlace } from './bootstrap.js';
import { createEngine, type EnsembleRuntimeOptions } from './engine_choice.js';
import { biasName, kernelName, layerWidths, type EnsembleEngine, type EnsembleEngineName } from './ensemble_engine.js';
import { INITIAL_MAX_LOGVAR, INITIAL_MIN_LOGVAR, defaultWeightDecay } from './loss.js';
import { Normaliser } from './normaliser.js';
import type { TransitionData } from '../data/transition_data.js';

export type { EnsembleRuntimeOptions } from './engine_choice.js';
export type { EnsembleEngineChoice, EnsembleEngineName } from './ensemble_engine.js';

// A PETS-style bootstrap ensemble of MLPs over the state delta (Chua et al. 2018; mbrl-lib's
// GaussianMLP). Input [normalised state, normalised action] → mean and bounded log-variance of the
// normalised delta x' − x (or the mean alone when deterministic, trained by MSE).
//
// The networks run on an engine (./ensemble_engine.ts): the native kernels when built, else
// TF.js (./engine_choice.ts); this class does the rest — normalisation, member grouping,
// sampling, bootstrap, batching, early stopping, elites and persistence — the same for both.

export interface EnsembleConfig {
  stateSize: number;
  actionSize: number;
  /** default 7 */
  members?: number;
  /** hidden layer widths, default [200, 200, 200, 200] */
  hidden?: number[];
  /** members used for planning, best by validation error; default 5 */
  elites?: number;
  /** mean + log-variance, trained by Gaussian NLL (default); false: mean only, trained by MSE */
  probabilistic?: boolean;
  /** Adam's step size, default 1e-3 */
  learningRate?: number;
  /** per layer (hidden layers, then the output), on weights only; default PETS's 2.5e-5 … 1e-4 */
  weightDecay?: number[];
  /** initial weights, bootstrap draws and default sampling; default 0 */
  seed?: number;
}

export interface TrainOptions {
  /** default 25 (mbrl-lib's PETS cart-pole) */
  epochs?: number;
  /** rows per member per step, default 256 */
  batchSize?: number;
  /** share of rows held out for validation, default 0.2; 0 validates on the training rows */
  holdoutRatio?: number;
  /** stop after this many epochs in which no member's validation error fell by more than 1%; default 5 */
  patience?: number;
  /** stop after this many optimiser steps */
  maxUpdates?: number;
  onEpoch?: (e: { epoch: number; trainLoss: number; valLoss: number }) => void;
}

export interface TrainReport {
  epochs: number;
  updates: number;
  /** mean per-member data loss (Gaussian NLL, or MSE) over the last epoch, normalised units */
  trainLoss: number;
  /** mean over the elites of their best validation MSE, normalised units */
  valLoss: number;
  /** the elites' validation MSE per state dimension, in the state's own units */
  valMsePerDim: number[];
  elites: number[];
  /** rows × members per second of optimiser steps (batch building included, validation not) */
  memberSamplesPerSecond: number;
}

const FORMAT = 'dynastack.ProbabilisticEnsemble';
const FORMAT_VERSION = 1;
/** a member counts as improved when its validation error falls by more than this share (mbrl-lib) */
const IMPROVEMENT = 0.01;
/** rows per validation forward, to bound the wasm heap */
const EVAL_CHUNK = 4096;

const DEFAULTS = {
  members: 7,
  hidden: [200, 200, 200, 200],
  elites: 5,
  probabilistic: true,
  learningRate: 1e-3,
  seed: 0,
};

/** `config` with every default filled in (as an ensemble's `config` holds it); throws when it is not valid. */
export function resolveConfig(config: EnsembleConfig): Required<EnsembleConfig> {
  const hidden = [...(config.hidden ?? DEFAULTS.hidden)];
  const r: Required<EnsembleConfig> = {
    stateSize: config.stateSize,
    actionSize: config.actionSize,
    members: config.members ?? DEFAULTS.members,
    hidden,
    elites: config.elites ?? Math.min(DEFAULTS.elites, config.members ?? DEFAULTS.members),
    probabilistic: config.probabilistic ?? DEFAULTS.probabilistic,
    learningRate: config.learningRate ?? DEFAULTS.learningRate,
    weightDecay: [...(config.weightDecay ?? defaultWeightDecay(hidden.length + 1))],
    seed: config.seed ?? DEFAULTS.seed,
  };
  const positiveInt = (v: number): boolean => Number.isInteger(v) && v > 0;
  if (!positiveInt(r.stateSize) || !Number.isInteger(r.actionSize) || r.actionSize < 0)
    throw new Error(`ensemble: bad sizes nx=${r.stateSize} nu=${r.actionSize}`);
  if (!positiveInt(r.members)) throw new Error(`ensemble: members must be a positive integer, not ${r.members}`);
  if (!positiveInt(r.elites) || r.elites > r.members)
    throw new Error(`ensemble: elites must be in 1…${r.members}, not ${r.elites}`);
  if (!r.hidden.every(positiveInt)) throw new Error(`ensemble: bad hidden widths [${r.hidden.join(', ')}]`);
  if (r.weightDecay.length !== r.hidden.length + 1)
    throw new Error(`ensemble: ${r.weightDecay.length} weight decays for ${r.hidden.length + 1} layers`);
  if (!(r.learningRate > 0)) throw new Error(`ensemble: learning rate must be positive, not ${r.learningRate}`);
  return r;
}

/** initial weights: truncated normal with std 1/(2√fan_in), zero biases (PETS) */
function initialWeights(config: Required<EnsembleConfig>): NamedArray[] {
  const rng = new Rng(config.seed);
  const arrays: NamedArray[] = [];
  const widths = layerWidths(config);
  for (let m = 0; m < config.members; m++) {
    for (let l = 0; l + 1 < widths.length; l++) {
      const [fanIn, fanOut] = [widths[l]!, widths[l + 1]!];
      const std = 1 / (2 * Math.sqrt(fanIn));
      const w = new Float32Array(fanIn * fanOut);
      for (let i = 0; i < w.length; i++) {
        let z = rng.normal();
        while (Math.abs(z) > 2) z = rng.normal();
        w[i] = z * std;
      }
      arrays.push({ name: kernelName(m, l), shape: [fanIn, fanOut], values: w });
      arrays.push({ name: biasName(m, l), shape: [fanOut], values: new Float32Array(fanOut) });
    }
  }
  if (config.probabilistic) {
    arrays.push({
      name: 'max_logvar',
      shape: [config.stateSize],
      values: new Float32Array(config.stateSize).fill(INITIAL_MAX_LOGVAR),
    });
    arrays.push({
      name: 'min_logvar',
      shape: [config.stateSize],
      values: new Float32Array(config.stateSize).fill(INITIAL_MIN_LOGVAR),
    });
  }
  return arrays;
}

/** a mean prediction and its Jacobians, row-major (ProbabilisticEnsemble.meanJacobians) */
export interface MeanJacobians {
  /** [n, nx] */
  readonly next: Float64Array;
  /** [n, nx, nx]: ∂next_i/∂state_k at [r, i, k] */
  readonly dState: Float64Array;
  /** [n, nx, nu]: ∂next_i/∂action_k at [r, i, k] */
  readonly dAction: Float64Array;
}

interface State {
  readonly input: Normaliser;
  readonly output: Normaliser;
  readonly elites: number[];
  readonly version: number;
}

export class ProbabilisticEnsemble {
  readonly config: Required<EnsembleConfig>;
  #elites: number[];
  /** bumped by every train(); travels with the weights */
  version: number;

  /** runs the networks and holds their weights */
  readonly #engine: EnsembleEngine;
  /** JS copies of the bounds, for predictions */
  #maxLogvarValues: Float32Array;
  #minLogvarValues: Float32Array;
  #input: Normaliser;
  #output: Normaliser;
  readonly #sampling: Rng;
  #scratch = new Float32Array(0);
  /** meanNext's grouped inputs and the normalised rows of meanNext / meanJacobians */
  #meanScratch = new Float32Array(0);
  #jacobianScratch = new Float32Array(0);
  #disposed = false;

  private constructor(
    config: Required<EnsembleConfig>,
    weights: Map<string, NamedArray>,
    state: State,
    runtime: EnsembleRuntimeOptions,
  ) {
    this.config = config;
    this.#elites = [...state.elites];
    this.version = state.version;
    this.#input = state.input;
    this.#output = state.output;
    this.#sampling = new Rng(config.seed ^ 0x5eed);
    this.#engine = createEngine(config, weights, runtime);
    this.#maxLogvarValues = weights.get('max_logvar')?.values.slice() ?? new Float32Array(0);
    this.#minLogvarValues = weights.get('min_logvar')?.values.slice() ?? new Float32Array(0);
  }

  /** a fresh, untrained ensemble (call initTensorBackend first: the TF.js engine and saving use tfjs) */
  static create(config: EnsembleConfig, runtime: EnsembleRuntimeOptions = {}): ProbabilisticEnsemble {
    const c = resolveConfig(config);
    const weights = new Map(initialWeights(c).map((a) => [a.name, a]));
    return new ProbabilisticEnsemble(
      c,
      weights,
      {
        input: Normaliser.identity(c.stateSize + c.actionSize),
        output: Normaliser.identity(c.stateSize),
        elites: Array.from({ length: c.elites }, (_, i) => i),
        version: 0,
      },
      runtime,
    );
  }

  /** what runs the networks: 'native' or 'tfjs' */
  get engine(): EnsembleEngineName {
    return this.#engine.name;
  }

  /** the engine in a few words, e.g. "native kernels (avx512), 1 thread" */
  get engineDescription(): string {
    return this.#engine.description;
  }

  /** the members planners use, ascending */
  get elites(): readonly number[] {
    return this.#elites;
  }

  get inputNormaliser(): Normaliser {
    return this.#input;
  }

  get outputNormaliser(): Normaliser {
    return this.#output;
  }

  // ---------------------------------------------------------------------------------------------
  // predictions

  /**
   * Next states for a batch, row r through member members[r]: the mean, or a sample from the
   * member's Gaussian when `sample` (and probabilistic), denormalised and added to the state.
   */
  predictNext(
    states: Float32Array,
    actions: Float32Array,
    n: number,
    members: Int32Array,
    sample: boolean,
    rng?: () => number,
  ): Float32Array {
    this.#checkLive();
    const { stateSize: nx, actionSize: nu, members: count, probabilistic } = this.config;
    if (states.length < n * nx || actions.length < n * nu || members.length < n)
      throw new Error(`predictNext: arrays too short for ${n} rows`);
    const width = nx + nu;
    // counting sort of the rows by member: where each row goes in the grouped batch
    const offsets = new Int32Array(count + 1);
    for (let r = 0; r < n; r++) {
      const m = members[r]!;
      if (!(m >= 0 && m < count)) throw new Error(`predictNext: row ${r} names member ${m}, not in 0…${count - 1}`);
      offsets[m + 1]!++;
    }
    for (let m = 0; m < count; m++) offsets[m + 1]! += offsets[m]!;
    const fill = offsets.slice(0, count);
    const slot = new Int32Array(n);
    if (this.#scratch.length < n * width) this.#scratch = new Float32Array(n * width);
    const inputs = this.#scratch;
    const { mean: inMean, std: inStd } = this.#input;
    for (let r = 0; r < n; r++) {
      const p = fill[members[r]!]!++;
      slot[r] = p;
      const base = p * width;
      for (let j = 0; j < nx; j++) inputs[base + j] = (states[r * nx + j]! - inMean[j]!) / inStd[j]!;
      for (let j = 0; j < nu; j++) inputs[base + nx + j] = (actions[r * nu + j]! - inMean[nx + j]!) / inStd[nx + j]!;
    }
    // raw outputs (normalised mean, then raw log-variance if probabilistic), grouped by member
    const out = this.#engine.forwardGrouped(inputs, offsets);
    const outWidth = probabilistic ? 2 * nx : nx;
    const draw = sample && probabilistic;
    const uniform = rng ?? (() => this.#sampling.uniform());
    const gauss = draw ? gaussian(uniform) : undefined;
    // the bounded variance in closed form: with logvar = min + softplus(max − softplus(max − raw) − min)
    // (loss.ts), e^logvar = e^min + e^max / (1 + e^(max − raw)): one exp per value instead of five
    const max = this.#maxLogvarValues;
    const expMax = draw ? Float64Array.from(max, Math.exp) : undefined;
    const expMin = draw ? Float64Array.from(this.#minLogvarValues, Math.exp) : undefined;
    const { mean: outMean, std: outStd } = this.#output;
    const next = new Float32Array(n * nx);
    for (let r = 0; r < n; r++) {
      const base = slot[r]! * outWidth;
      for (let j = 0; j < nx; j++) {
        let delta = out[base + j]!;
        if (gauss)
          delta += Math.sqrt(expMin![j]! + expMax![j]! / (1 + Math.exp(max[j]! - out[base + nx + j]!))) * gauss();
        next[r * nx + j] = states[r * nx + j]! + delta * outStd[j]! + outMean[j]!;
      }
    }
    return next;
  }

  /**
   * The mean over `members` of each member's mean next state (as predictNext with sample = false
   * computes it per member: state + delta·outStd + outMean), for n (state, action) rows, in float64:
   * [n, nx] row-major. Each listed member runs on its own copy of the rows (forwardGrouped), so
   * members not listed cost nothing. For rollouts through the elites (pass `elites`).
   */
  meanNext(
    states: ArrayLike<number>,
    actions: ArrayLike<number>,
    n: number,
    members: readonly number[],
    out?: Float64Array,
  ): Float64Array {
    this.#checkLive();
    const list = this.#meanArgs('meanNext', states, actions, n, members);
    const { stateSize: nx, actionSize: nu, members: count, probabilistic } = this.config;
    if (out && out.length < n * nx) throw new Error(`meanNext: out has ${out.length} values, needs ${n * nx}`);
    const next = out ?? new Float64Array(n * nx);
    const width = nx + nu;
    const normalised = this.#normalisedInputs(states, actions, n);
    const offsets = new Int32Array(count + 1);
    for (const m of list) offsets[m + 1]! += n;
    for (let m = 0; m < count; m++) offsets[m + 1]! += offsets[m]!;
    if (this.#meanScratch.length < list.length * n * width)
      this.#meanScratch = new Float32Array(list.length * n * width);
    const inputs = this.#meanScratch;
    const fill = offsets.slice(0, count);
    for (const m of list) {
      inputs.set(normalised.subarray(0, n * width), fill[m]! * width);
      fill[m]! += n;
    }
    const raw = this.#engine.forwardGrouped(inputs, offsets);
    const outWidth = probabilistic ? 2 * nx : nx;
    next.fill(0, 0, n * nx);
    // every listed member's block is n rows; their order does not matter for the sum
    for (let b = 0; b < list.length; b++)
      for (let r = 0; r < n; r++) for (let j = 0; j < nx; j++) next[r * nx + j]! += raw[(b * n + r) * outWidth + j]!;
    const { mean: outMean, std: outStd } = this.#output;
    const inv = 1 / list.length;
    for (let r = 0; r < n; r++)
      for (let j = 0; j < nx; j++)
        next[r * nx + j] = states[r * nx + j]! + next[r * nx + j]! * inv * outStd[j]! + outMean[j]!;
    return next;
  }

  /**
   * meanNext and its Jacobians with respect to the raw state and action, analytic (the engine's
   * forward mode through every listed member), averaged over `members`. Per member, by the chain
   * rule through the normalisers (input x̂ = (x − inMean)/inStd, next = x + outStd·δ̂ + outMean):
   *   ∂next/∂x = I + diag(outStd)·∂δ̂/∂x̂_x·diag(1/inStd_x),  ∂next/∂u = diag(outStd)·∂δ̂/∂x̂_u·diag(1/inStd_u).
   * Row-major: next [n, nx], dState [n, nx, nx] (dState[r, i, k] = ∂next_i/∂x_k), dAction
   * [n, nx, nu]. With `out`, its arrays (each at least that long) are filled and returned.
   */
  meanJacobians(
    states: ArrayLike<number>,
    actions: ArrayLike<number>,
    n: number,
    members: readonly number[],
    out?: MeanJacobians,
  ): MeanJacobians {
    this.#checkLive();
    const list = this.#meanArgs('meanJacobians', states, actions, n, members);
    const { stateSize: nx, actionSize: nu } = this.config;
    const width = nx + nu;
    if (out) {
      for (const [name, size] of [
        ['next', n * nx],
        ['dState', n * nx * nx],
        ['dAction', n * nx * nu],
      ] as const)
        if (out[name].length < size)
          throw new Error(`meanJacobians: out.${name} has ${out[name].length} values, needs ${size}`);
    }
    const result: MeanJacobians = out ?? {
      next: new Float64Array(n * nx),
      dState: new Float64Array(n * nx * nx),
      dAction: new Float64Array(n * nx * nu),
    };
    const { next, dState, dAction } = result;
    const inputs = this.#normalisedInputs(states, actions, n);
    const { outputs, jacobians } = this.#engine.forwardJacobian(inputs, n, list);
    next.fill(0, 0, n * nx);
    dState.fill(0, 0, n * nx * nx);
    dAction.fill(0, 0, n * nx * nu);
    // sums over the members' blocks ([member, row, …]), then one pass of scaling
    for (let b = 0; b < list.length; b++) {
      for (let r = 0; r < n; r++) {
        const row = b * n + r;
        for (let i = 0; i < nx; i++) {
          next[r * nx + i]! += outputs[row * nx + i]!;
          const src = (row * nx + i) * width;
          const xs = (r * nx + i) * nx;
          const us = (r * nx + i) * nu;
          for (let k = 0; k < nx; k++) dState[xs + k]! += jacobians[src + k]!;
          for (let k = 0; k < nu; k++) dAction[us + k]! += jacobians[src + nx + k]!;
        }
      }
    }
    const { mean: outMean, std: outStd } = this.#output;
    const inStd = this.#input.std;
    const inv = 1 / list.length;
    for (let r = 0; r < n; r++) {
      for (let i = 0; i < nx; i++) {
        const scale = outStd[i]! * inv;
        next[r * nx + i] = states[r * nx + i]! + next[r * nx + i]! * scale + outMean[i]!;
        const xs = (r * nx + i) * nx;
        const us = (r * nx + i) * nu;
        for (let k = 0; k < nx; k++) dState[xs + k] = (i === k ? 1 : 0) + (dState[xs + k]! * scale) / inStd[k]!;
        for (let k = 0; k < nu; k++) dAction[us + k] = (dAction[us + k]! * scale) / inStd[nx + k]!;
      }
    }
    return result;
  }

  /** checks the sizes and members of a mean prediction (one line naming what is wrong); the members as an Int32Array */
  #meanArgs(
    what: string,
    states: ArrayLike<number>,
    actions: ArrayLike<number>,
    n: number,
    members: readonly number[],
  ): Int32Array {
    const { stateSize: nx, actionSize: nu, members: count } = this.config;
    if (!Number.isInteger(n) || n < 0) throw new Error(`${what}: n must be a non-negative integer, not ${n}`);
    if (states.length < n * nx) throw new Error(`${what}: states has ${states.length} values, needs ${n}×${nx}`);
    if (actions.length < n * nu) throw new Error(`${what}: actions has ${actions.length} values, needs ${n}×${nu}`);
    if (members.length === 0) throw new Error(`${what}: no members given`);
    for (const m of members)
      if (!Number.isInteger(m) || m < 0 || m >= count) throw new Error(`${what}: member ${m} is not in 0…${count - 1}`);
    return Int32Array.from(members);
  }

  /** n rows of [normalised state, normalised action], in a reused buffer */
  #normalisedInputs(states: ArrayLike<number>, actions: ArrayLike<number>, n: number): Float32Array {
    const { stateSize: nx, actionSize: nu } = this.config;
    const width = nx + nu;
    if (this.#jacobianScratch.length < n * width) this.#jacobianScratch = new Float32Array(n * width);
    const inputs = this.#jacobianScratch;
    const { mean: inMean, std: inStd } = this.#input;
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < nx; j++) inputs[r * width + j] = (states[r * nx + j]! - inMean[j]!) / inStd[j]!;
      for (let j = 0; j < nu; j++)
        inputs[r * width + nx + j] = (actions[r * nu + j]! - inMean[nx + j]!) / inStd[nx + j]!;
    }
    return inputs;
  }

  // ---------------------------------------------------------------------------------------------
  // training

  /** Fit normalisation on the data, then train every member on its own bootstrap resample. */
  train(data: TransitionData, options: TrainOptions = {}): TrainReport {
    this.#checkLive();
    const { stateSize: nx, actionSize: nu, members } = this.config;
    const { n } = data;
    if (!(n > 0) || data.states.length < n * nx || data.actions.length < n * nu || data.nextStates.length < n * nx)
      throw new Error(`train: data arrays too short for ${n} rows`);
    const epochs = options.epochs ?? 25;
    const batchSize = options.batchSize ?? 256;
    const patience = options.patience ?? 5;
    const maxUpdates = options.maxUpdates ?? Infinity;
    const width = nx + nu;

    // normalised inputs and targets, once
    const inputs = new Float32Array(n * width);
    const targets = new Float32Array(n * nx);
    for (let r = 0; r < n; r++) {
      inputs.set(data.states.subarray(r * nx, (r + 1) * nx), r * width);
      inputs.set(data.actions.subarray(r * nu, (r + 1) * nu), r * width + nx);
      for (let j = 0; j < nx; j++) targets[r * nx + j] = data.nextStates[r * nx + j]! - data.states[r * nx + j]!;
    }
    this.#input = Normaliser.fit(inputs, n, width);
    this.#output = Normaliser.fit(targets, n, nx);
    this.#input.normalise(inputs, n);
    this.#output.normalise(targets, n);

    // splits: a different draw per training round, but repeatable
    const rng = new Rng((this.config.seed * 7919 + this.version + 1) | 0);
    const split = holdoutSplit(n, options.holdoutRatio ?? 0.2, rng);
    const validation = split.validation.length > 0 ? split.validation : split.train;
    const resamples = bootstrapResamples(split.train, members, rng);
    const nTrain = split.train.length;

    const best = new Float64Array(members).fill(Infinity);
    let updates = 0;
    let epoch = 0;
    let trainLoss = NaN;
    let stepSeconds = 0;
    let rowsSeen = 0;
    let sinceImproved = 0;
    const xBatch = new Float32Array(members * batchSize * width);
    const yBatch = new Float32Array(members * batchSize * nx);
    try {
      while (epoch < epochs && updates < maxUpdates) {
        for (const r of resamples) shuffleInPlace(r, rng);
        let lossSum = 0;
        let steps = 0;
        for (let start = 0; start < nTrain && updates < maxUpdates; start += batchSize) {
          const t0 = performance.now();
          const rows = Math.min(batchSize, nTrain - start);
          // element loops: rows are a few values wide, too short for subarray + set to pay
          for (let m = 0; m < members; m++) {
            const idx = resamples[m]!;
            for (let i = 0; i < rows; i++) {
              const src = idx[start + i]!;
              const dst = m * rows + i;
              for (let j = 0; j < width; j++) xBatch[dst * width + j] = inputs[src * width + j]!;
              for (let j = 0; j < nx; j++) yBatch[dst * nx + j] = targets[src * nx + j]!;
            }
          }
          lossSum += this.#engine.trainStep(xBatch, yBatch, rows);
          steps++;
          updates++;
          rowsSeen += rows * members;
          stepSeconds += (performance.now() - t0) / 1000;
        }
        trainLoss = lossSum / steps / members;
        epoch++;

        // validation, early stopping and per-member copies of the best weights
        const scores = this.#validationMse(inputs, targets, validation).perMember;
        let improved = false;
        for (let m = 0; m < members; m++) {
          const s = scores[m]!;
          if (!(best[m] === Infinity ? Number.isFinite(s) : (best[m]! - s) / Math.abs(best[m]!) > IMPROVEMENT))
            continue;
          best[m] = s;
          improved = true;
          this.#engine.rememberMember(m);
        }
        sinceImproved = improved ? 0 : sinceImproved + 1;
        options.onEpoch?.({ epoch, trainLoss, valLoss: mean(scores) });
        if (sinceImproved >= patience) break;
      }
      this.#engine.restoreRemembered();
    } finally {
      this.#engine.forgetRemembered();
    }
    if (this.config.probabilistic) {
      const bounds = new Map(
        this.#engine
          .weights()
          .filter((a) => a.name.endsWith('_logvar'))
          .map((a) => [a.name, a.values]),
      );
      this.#maxLogvarValues = bounds.get('max_logvar')!;
      this.#minLogvarValues = bounds.get('min_logvar')!;
    }

    // elites: lowest validation error of the restored weights
    const final = this.#validationMse(inputs, targets, validation);
    const ranked = Array.from({ length: members }, (_, m) => m).sort(
      (a, b) => rank(final.perMember[a]!) - rank(final.perMember[b]!) || a - b,
    );
    this.#elites = ranked.slice(0, this.config.elites).sort((a, b) => a - b);
    this.version++;
    const valMsePerDim = Array.from(
      { length: nx },
      (_, j) => mean(this.#elites.map((m) => final.perDim[m]![j]!)) * this.#output.std[j]! ** 2,
    );
    return {
      epochs: epoch,
      updates,
      trainLoss,
      valLoss: mean(this.#elites.map((m) => final.perMember[m]!)),
      valMsePerDim,
      elites: [...this.#elites],
      memberSamplesPerSecond: stepSeconds > 0 ? rowsSeen / stepSeconds : 0,
    };
  }

  /** per member: MSE of the mean over the given rows, overall and per dimension (normalised units) */
  #validationMse(
    inputs: Float32Array,
    targets: Float32Array,
    rows: Int32Array,
  ): { perMember: number[]; perDim: number[][] } {
    const { stateSize: nx, actionSize: nu, members, probabilistic } = this.config;
    const width = nx + nu;
    const outWidth = probabilistic ? 2 * nx : nx;
    const sums = Array.from({ length: members }, () => new Float64Array(nx));
    const chunk = new Float32Array(Math.min(rows.length, EVAL_CHUNK) * width);
    for (let start = 0; start < rows.length; start += EVAL_CHUNK) {
      const count = Math.min(EVAL_CHUNK, rows.length - start);
      for (let i = 0; i < count; i++)
        chunk.set(inputs.subarray(rows[start + i]! * width, (rows[start + i]! + 1) * width), i * width);
      const outs = this.#engine.forwardShared(chunk, count);
      for (let m = 0; m < members; m++) {
        for (let i = 0; i < count; i++) {
          const row = rows[start + i]!;
          const base = (m * count + i) * outWidth;
          for (let j = 0; j < nx; j++) sums[m]![j]! += (outs[base + j]! - targets[row * nx + j]!) ** 2;
        }
      }
    }
    const perDim = sums.map((s) => Array.from(s, (v) => v / rows.length));
    return { perMember: perDim.map(mean), perDim };
  }

  // ---------------------------------------------------------------------------------------------
  // persistence

  #metadata(): Record<string, object | string | number> {
    return {
      format: FORMAT,
      formatVersion: FORMAT_VERSION,
      config: this.config,
      elites: [...this.#elites],
      version: this.version,
    };
  }

  /** members' kernels and biases, the bounds, then the normalisers: the saved order */
  #arrays(): NamedArray[] {
    const arrays = this.#engine.weights();
    for (const [name, norm] of [
      ['input', this.#input],
      ['output', this.#output],
    ] as const) {
      arrays.push({ name: `${name}_mean`, shape: [norm.dim], values: norm.mean });
      arrays.push({ name: `${name}_std`, shape: [norm.dim], values: norm.std });
    }
    return arrays;
  }

  /** weights, normalisation, config, elites and version as one blob (dynastack_msgs/ModelBlob) */
  serialize(): { metadata: Record<string, unknown>; data: Uint8Array } {
    this.#checkLive();
    const { specs, data } = packFloat32(this.#arrays());
    return { metadata: { ...this.#metadata(), weightSpecs: specs }, data };
  }

  static deserialize(
    metadata: Record<string, unknown>,
    data: Uint8Array,
    runtime: EnsembleRuntimeOptions = {},
  ): ProbabilisticEnsemble {
    const specs = metadata['weightSpecs'];
    if (!Array.isArray(specs)) throw new Error('ensemble blob: metadata has no weightSpecs');
    return ProbabilisticEnsemble.#fromParts(metadata, specs as tf.io.WeightsManifestEntry[], data, runtime);
  }

  /** TF.js artifacts (weights through tf.io.encodeWeights), for any IOHandler */
  async artifacts(): Promise<tf.io.ModelArtifacts> {
    this.#checkLive();
    const named: tf.NamedTensorMap = {};
    const arrays = this.#arrays();
    for (const a of arrays) named[a.name] = tf.tensor(a.values, [...a.shape], 'float32');
    try {
      const { data, specs } = await tf.io.encodeWeights(named);
      return {
        modelTopology: { class: 'ProbabilisticEnsemble' },
        format: FORMAT,
        generatedBy: 'dynastack',
        convertedBy: null,
        weightSpecs: specs,
        weightData: data,
        userDefinedMetadata: this.#metadata(),
      };
    } finally {
      tf.dispose(named);
    }
  }

  static fromArtifacts(artifacts: tf.io.ModelArtifacts, runtime: EnsembleRuntimeOptions = {}): ProbabilisticEnsemble {
    if (!artifacts.userDefinedMetadata || !artifacts.weightSpecs || !artifacts.weightData)
      throw new Error('ensemble artifacts: metadata or weights missing');
    const data = new Uint8Array(new tf.io.CompositeArrayBuffer(artifacts.weightData).slice());
    return ProbabilisticEnsemble.#fromParts(artifacts.userDefinedMetadata, artifacts.weightSpecs, data, runtime);
  }

  static #fromParts(
    metadata: Record<string, unknown>,
    specs: tf.io.WeightsManifestEntry[],
    data: Uint8Array,
    runtime: EnsembleRuntimeOptions,
  ): ProbabilisticEnsemble {
    if (metadata['format'] !== FORMAT || metadata['formatVersion'] !== FORMAT_VERSION)
      throw new Error(
        `ensemble blob: format ${String(metadata['format'])} v${String(metadata['formatVersion'])}, expected ${FORMAT} v${FORMAT_VERSION}`,
      );
    const config = resolveConfig(metadata['config'] as EnsembleConfig);
    const elites = metadata['elites'];
    const version = metadata['version'];
    if (
      !Array.isArray(elites) ||
      !elites.every((m) => Number.isInteger(m) && m >= 0 && m < config.members) ||
      typeof version !== 'number'
    )
      throw new Error('ensemble blob: bad elites or version');
    const weights = unpackFloat32(specs, data);
    const norm = (name: string, dim: number): Normaliser => {
      const [mean, std] = [weights.get(`${name}_mean`), weights.get(`${name}_std`)];
      if (!mean || !std || mean.values.length !== dim || std.values.length !== dim)
        throw new Error(`ensemble blob: ${name} normalisation missing or mis-sized`);
      return new Normaliser(mean.values, std.values);
    };
    return new ProbabilisticEnsemble(
      config,
      weights,
      {
        input: norm('input', config.stateSize + config.actionSize),
        output: norm('output', config.stateSize),
        elites: elites as number[],
        version,
      },
      runtime,
    );
  }

  /** model.json + weights.bin in `dir`, replaced atomically */
  async save(dir: string): Promise<void> {
    await fileHandler(dir).save(await this.artifacts());
  }

  /** The model saved in `dir`; a folder that holds no such model is refused naming it. */
  static async load(dir: string, runtime: EnsembleRuntimeOptions = {}): Promise<ProbabilisticEnsemble> {
    const artifacts = await fileHandler(dir).load();
    try {
      return ProbabilisticEnsemble.fromArtifacts(artifacts, runtime);
    } catch (err) {
      throw new Error(`model folder ${dir}: ${(err as Error).message}`, { cause: err });
    }
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#engine.dispose();
  }

  #checkLive(): void {
    if (this.#disposed) throw new Error('ensemble: used after dispose()');
  }
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
/** NaN ranks last */
const rank = (x: number): number => (Number.isNaN(x) ? Infinity : x);

/** standard normal draws from a uniform source (Box–Muller, both values used) */
function gaussian(uniform: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = uniform();
    while (u <= 0) u = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * uniform();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}
