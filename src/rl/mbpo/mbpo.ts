import {
  ProbabilisticEnsemble,
  type EnsembleConfig,
  type TrainOptions,
  type TrainReport,
} from '../../dynamics/ensemble.js';
import type { StateEncoder } from '../../dynamics/state_encoding.js';
import { Rng } from '../../util/random.js';
import { createSac, type SacEngineChoice } from '../sac/create.js';
import type { SacConfig, SacUpdate, SoftActorCritic } from '../sac/sac.js';
import type { Env } from '../env.js';
import { branchedRollouts, type RolloutTask } from './model_rollouts.js';
import { allocateBatch, ReplayBuffer } from './replay_buffer.js';
import { checkSchedule, rolloutLength, type RolloutSchedule } from './rollout_schedule.js';

// MBPO (Janner et al. 2019, "When to Trust Your Model", Algorithm 2) against any Env, without the
// node graph — benchmarks and tests run it directly; nodes/policy_trainer.ts runs the same pieces
// on the graph's data. Every real step: act with the policy (a sample; uniform random for the first
// steps), store the transition in the real buffer; every `trainEvery` steps fit the ensemble to all
// real data (warm-started); then branch `rolloutsPerStep` rollouts of the current length from real
// states into the model buffer, and take `updatesPerStep` SAC updates on batches mixing
// `realRatio` real rows with model rows. The model buffer keeps `retainEpochs` epochs of rollouts.
// With `model` left out the same loop is SAC alone on real data (the baseline the issue asks for:
// same harness, task and seeds). After every episode the deterministic policy is evaluated on a
// separate environment, its steps not counted and not learned from.

export interface MbpoModelConfig {
  readonly ensemble: Omit<EnsembleConfig, 'stateSize' | 'actionSize' | 'seed'>;
  readonly training: TrainOptions;
  /** real steps between model fits (MBPO: 250) */
  readonly trainEvery: number;
  /** model rollouts branched per real step (MBPO: 400, i.e. 100 000 per 250 steps) */
  readonly rolloutsPerStep: number;
  /** rollout length over epochs of `epochLength` real steps: [start_epoch, end_epoch, start_len, end_len] */
  readonly rolloutSchedule: RolloutSchedule;
  /** real steps per epoch (MBPO: 1000) */
  readonly epochLength: number;
  /** epochs of rollouts the model buffer keeps (MBPO: 1–5) */
  readonly retainEpochs: number;
  /** share of each SAC batch drawn from the real buffer (MBPO: 0.05) */
  readonly realRatio: number;
}

export interface MbpoConfig {
  readonly sac: Omit<SacConfig, 'obsSize' | 'actionLow' | 'actionHigh' | 'seed'>;
  readonly engine?: SacEngineChoice;
  /** the learned model and its rollouts; undefined: SAC alone */
  readonly model?: MbpoModelConfig;
  /** SAC updates per real step (MBPO 10–40; SAC alone 1) */
  readonly updatesPerStep: number;
  readonly batchSize: number;
  /** real steps with uniformly random actions before the policy acts */
  readonly randomSteps: number;
  readonly replayCapacity: number;
  /** stop after this many real steps */
  readonly maxRealSteps: number;
  /** the task on the learner's (encoded) states: rewards and terminations of model transitions */
  readonly task: RolloutTask;
  /** the state the policy observes and the model predicts; default the environment's */
  readonly stateEncoder?: StateEncoder;
  /** stop when an evaluation return reaches this */
  readonly threshold?: number;
  /** where the deterministic policy is evaluated after every training episode */
  readonly evalEnv?: Env;
  /** evaluation episodes each time (their mean is the evaluation return); default 1 */
  readonly evalEpisodes?: number;
  readonly seed: number;
  readonly onEpisode?: (r: MbpoEpisode) => void;
}

export interface MbpoEpisode {
  readonly episode: number;
  /** real steps taken so far (evaluation excluded) */
  readonly realSteps: number;
  /** the training episode's return (stochastic policy, or random actions) */
  readonly trainReturn: number;
  /** the deterministic policy's mean return over the evaluation episodes (NaN without an evaluation environment) */
  readonly evalReturn: number;
  readonly sacUpdates: number;
  /** the last update's figures (undefined before the first) */
  readonly sac?: SacUpdate;
  readonly rolloutLength: number;
  readonly modelTransitions: number;
  readonly training?: TrainReport;
  /** mean reward of the model transitions branched during the episode */
  readonly modelReward: number;
  /** wall time since the run started (s) */
  readonly seconds: number;
}

export interface MbpoResult {
  readonly episodes: MbpoEpisode[];
  /** real steps when an evaluation first reached the threshold (undefined: never) */
  readonly stepsToThreshold?: number;
  readonly seconds: number;
  readonly engine: string;
}

/** The deterministic policy's return over one episode of env. */
export function evaluatePolicy(env: Env, policy: SoftActorCritic, encode: (x: Float32Array) => Float32Array): number {
  let x = env.reset();
  const u = new Float32Array(env.actionSize);
  let total = 0;
  for (;;) {
    policy.act(encode(x), true, u);
    const step = env.step(u);
    total += step.reward;
    x = step.state;
    if (step.done) return total;
  }
}

export function runMbpo(env: Env, config: MbpoConfig): MbpoResult {
  const started = performance.now();
  const rng = new Rng(config.seed);
  const encoder = config.stateEncoder;
  const encode = encoder ? (x: Float32Array) => encoder.encode(x) : (x: Float32Array) => x;
  const obsSize = encoder?.size ?? env.stateSize;
  const nu = env.actionSize;
  const { sac, why } = createSac(
    { ...config.sac, obsSize, actionLow: [...env.actionLow], actionHigh: [...env.actionHigh], seed: config.seed },
    config.engine,
  );
  const model = config.model;
  if (model) {
    checkSchedule(model.rolloutSchedule);
    if (!(model.realRatio >= 0 && model.realRatio <= 1))
      throw new Error(`MBPO: real ratio ${model.realRatio} not in 0…1`);
  }
  const real = new ReplayBuffer(obsSize, nu, config.replayCapacity);
  const maxLength = model ? Math.max(model.rolloutSchedule[2], model.rolloutSchedule[3]) : 0;
  const modelBuffer = model
    ? new ReplayBuffer(obsSize, nu, model.rolloutsPerStep * maxLength * model.epochLength * model.retainEpochs)
    : undefined;
  const ensemble = model
    ? ProbabilisticEnsemble.create({ ...model.ensemble, stateSize: obsSize, actionSize: nu, seed: config.seed })
    : undefined;
  const batch = allocateBatch(config.batchSize, obsSize, nu);
  const realRows = model ? Math.max(1, Math.round(model.realRatio * config.batchSize)) : config.batchSize;
  const starts = new Float32Array((model?.rolloutsPerStep ?? 0) * obsSize);
  const episodes: MbpoEpisode[] = [];
  let stepsToThreshold: number | undefined;
  let steps = 0;
  let lastUpdate: SacUpdate | undefined;
  let training: TrainReport | undefined;
  let trained = false;
  try {
    for (let episode = 0; steps < config.maxRealSteps && stepsToThreshold === undefined; episode++) {
      let x = env.reset();
      let ret = 0;
      let modelRewardSum = 0;
      let modelRewardCount = 0;
      let length = 0;
      training = undefined;
      for (;;) {
        const obs = encode(x);
        const u = new Float32Array(nu);
        if (steps < config.randomSteps)
          for (let i = 0; i < nu; i++)
            u[i] = env.actionLow[i]! + rng.uniform() * (env.actionHigh[i]! - env.actionLow[i]!);
        else sac.act(obs, false, u);
        const step = env.step(u);
        // a time limit is not a termination: bootstrapping continues through it
        real.add(obs, u, step.reward, encode(step.state), step.terminated === true);
        ret += step.reward;
        steps++;
        x = step.state;

        if (model && ensemble && modelBuffer) {
          if (
            steps % model.trainEvery === 0 ||
            (!trained && steps >= config.randomSteps && real.size >= config.batchSize)
          ) {
            training = ensemble.train(real.transitions(), model.training);
            trained = true;
          }
          if (trained) {
            length = rolloutLength(model.rolloutSchedule, steps / model.epochLength);
            real.sampleObs(model.rolloutsPerStep, rng, starts);
            const r = branchedRollouts(
              ensemble,
              sac,
              config.task,
              starts,
              model.rolloutsPerStep,
              length,
              nu,
              rng,
              modelBuffer,
            );
            modelRewardSum += r.meanReward * r.transitions;
            modelRewardCount += r.transitions;
          }
        }
        if (real.size >= config.batchSize && steps >= config.randomSteps) {
          for (let k = 0; k < config.updatesPerStep; k++) {
            if (modelBuffer && modelBuffer.size > 0) {
              real.sampleInto(batch, 0, realRows, rng);
              modelBuffer.sampleInto(batch, realRows, config.batchSize - realRows, rng);
            } else real.sampleInto(batch, 0, config.batchSize, rng);
            lastUpdate = sac.update(batch);
          }
        }
        if (step.done || steps >= config.maxRealSteps) break;
      }
      const evalEnv = config.evalEnv;
      const evalEpisodes = config.evalEpisodes ?? 1;
      let evalReturn = Number.NaN;
      if (evalEnv) {
        evalReturn = 0;
        for (let k = 0; k < evalEpisodes; k++) evalReturn += evaluatePolicy(evalEnv, sac, encode) / evalEpisodes;
      }
      if (config.threshold !== undefined && evalReturn >= config.threshold) stepsToThreshold = steps;
      const result: MbpoEpisode = {
        episode,
        realSteps: steps,
        trainReturn: ret,
        evalReturn,
        sacUpdates: sac.updates,
        sac: lastUpdate,
        rolloutLength: length,
        modelTransitions: modelBuffer?.added ?? 0,
        training,
        modelReward: modelRewardCount ? modelRewardSum / modelRewardCount : Number.NaN,
        seconds: (performance.now() - started) / 1000,
      };
      episodes.push(result);
      config.onEpisode?.(result);
    }
    return {
      episodes,
      stepsToThreshold,
      seconds: (performance.now() - started) / 1000,
      engine: `${sac.engine} (${why})`,
    };
  } finally {
    sac.dispose();
    ensemble?.dispose();
  }
}
