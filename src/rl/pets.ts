import {
  ProbabilisticEnsemble,
  type EnsembleConfig,
  type TrainOptions,
  type TrainReport,
} from '../dynamics/ensemble.js';
import {
  TrajectorySamplingEvaluator,
  type BatchCost,
  type BatchTerminalCost,
  type BatchTermination,
  type Propagation,
} from '../control/planners/ensemble_mpc/trajectory_sampling.js';
import type { ActionOptimizer } from '../control/planners/sampling/optimizer.js';
import { Rng } from '../util/random.js';
import type { StateEncoder } from '../dynamics/state_encoding.js';
import type { Env } from './env.js';
import type { TransitionData } from '../data/transition_data.js';
import { PolicyLearner, type PolicyLearnerConfig } from './mbpo/policy_learner.js';

// PETS (Chua et al. 2018), the lectures' "model-based RL v1.5": collect data with random actions,
// fit a probabilistic ensemble, then act by MPC through the ensemble with trajectory sampling,
// replanning every step and executing the first action; add the data and refit after every
// episode. Runs against any Env, without the node graph: benchmarks and tests use it directly.

/**
 * The state the model learns and plans in, when not the environment's own: e.g. an unlimited
 * hinge angle θ as (sin θ, cos θ), so the model sees one pole whatever the number of turns
 * (PETS's cart-pole preprocesses its inputs the same way; src/dynamics/state_encoding.ts, which
 * the node graph's learner and controller use too). The ensemble then predicts deltas of the
 * encoded state and the planner's costs read encoded states.
 */
export type { StateEncoder };

/**
 * A planner that acts through the ensemble by other means than a sampling optimiser over trajectory
 * sampling (iLQR on the elites' mean): made after each training, asked for one action per step.
 */
export interface PetsActor {
  /** the action for the environment's state x (its own layout, not the encoded one) into u */
  act(x: Float32Array, u: Float32Array): void;
  dispose(): void;
}

export interface PetsConfig {
  readonly ensemble: Omit<EnsembleConfig, 'stateSize' | 'actionSize'>;
  readonly training: TrainOptions;
  /** builds the action optimiser (CEM, MPPI, iCEM, random shooting) */
  readonly optimizer: () => ActionOptimizer;
  /** instead of the optimiser: an actor made from the newly trained ensemble at each planned episode's start */
  readonly actor?: (ensemble: ProbabilisticEnsemble) => PetsActor;
  readonly cost: BatchCost;
  /** cost of the final planned state, added once per particle */
  readonly terminalCost?: BatchTerminalCost;
  /** planned states that end the episode: later steps of that particle cost nothing */
  readonly terminated?: BatchTermination;
  /** the model's state; default the environment's */
  readonly stateEncoder?: StateEncoder;
  readonly horizon: number;
  readonly particles: number;
  readonly propagation: Propagation;
  readonly episodes: number;
  /** episodes of uniformly random actions before the first model */
  readonly randomEpisodes: number;
  /**
   * transitions to start from, in the model's state (e.g. a recording's, as the graph's learner
   * loads its `dataset`): the first model is trained on them, and they are kept with the episodes'
   */
  readonly initialTransitions?: TransitionData;
  readonly seed: number;
  /**
   * A SAC policy learned on the side, MBPO's way (real transitions and branched rollouts of the same
   * ensemble), after every episode from its steps; the optimiser gets its rollouts as proposals
   * (build it with sampling.policy_share > 0). Its reward is the task's on the model's states.
   */
  readonly policy?: PolicyLearnerConfig;
  /** called before each episode's reset, e.g. to draw the episode's goal that the cost reads */
  readonly onEpisodeStart?: (episode: number) => void;
  readonly onEpisode?: (result: EpisodeResult) => void;
}

export interface EpisodeResult {
  readonly episode: number;
  readonly return: number;
  readonly steps: number;
  /** the model trained before the episode (undefined for random episodes) */
  readonly training?: TrainReport;
  readonly trainingSeconds: number;
  /** mean wall time per planning step (ms) */
  readonly planningMs: number;
  /** wall time of the side policy's learning before the episode (s) */
  readonly policySeconds?: number;
  /** wall time of the whole episode: training, planning and simulation (s) */
  readonly seconds: number;
  readonly transitions: number;
  /** the environment's state when the episode ended (e.g. to judge a reach) */
  readonly finalState: Float32Array;
}

/** Growable (s, a, s′) storage in the ensemble's row-major layout. */
class Dataset {
  states: number[] = [];
  actions: number[] = [];
  next: number[] = [];
  n = 0;
  add(s: Float32Array, a: Float32Array, s2: Float32Array): void {
    this.states.push(...s);
    this.actions.push(...a);
    this.next.push(...s2);
    this.n++;
  }
  addAll(d: TransitionData): void {
    const nx = d.states.length / d.n;
    const nu = d.actions.length / d.n;
    for (let i = 0; i < d.n; i++)
      this.add(
        d.states.subarray(i * nx, (i + 1) * nx),
        d.actions.subarray(i * nu, (i + 1) * nu),
        d.nextStates.subarray(i * nx, (i + 1) * nx),
      );
  }
  data() {
    return {
      states: Float32Array.from(this.states),
      actions: Float32Array.from(this.actions),
      nextStates: Float32Array.from(this.next),
      n: this.n,
    };
  }
}

export function runPets(env: Env, config: PetsConfig): EpisodeResult[] {
  const rng = new Rng(config.seed);
  const data = new Dataset();
  if (config.initialTransitions?.n) data.addAll(config.initialTransitions);
  const encode = config.stateEncoder ? (x: Float32Array) => config.stateEncoder!.encode(x) : (x: Float32Array) => x;
  const ensemble = ProbabilisticEnsemble.create({
    ...config.ensemble,
    stateSize: config.stateEncoder?.size ?? env.stateSize,
    actionSize: env.actionSize,
    seed: config.seed,
  });
  const optimizer = config.optimizer();
  const evaluator = new TrajectorySamplingEvaluator({
    ensemble,
    cost: config.cost,
    terminalCost: config.terminalCost,
    terminated: config.terminated,
    horizon: config.horizon,
    particles: config.particles,
    propagation: config.propagation,
    actionLow: env.actionLow,
    actionHigh: env.actionHigh,
    seed: config.seed + 1,
  });
  const nu = env.actionSize;
  const results: EpisodeResult[] = [];
  let actor: PetsActor | undefined;
  const policy = config.policy
    ? new PolicyLearner(
        config.policy,
        config.stateEncoder?.size ?? env.stateSize,
        env.actionLow,
        env.actionHigh,
        config.seed,
      )
    : undefined;
  let unlearned = 0;
  try {
    for (let episode = 0; episode < config.episodes; episode++) {
      const started = performance.now();
      const random = episode < config.randomEpisodes;
      let training: TrainReport | undefined;
      let trainingSeconds = 0;
      if (!random) {
        const t0 = performance.now();
        training = ensemble.train(data.data(), config.training);
        trainingSeconds = (performance.now() - t0) / 1000;
      }
      let policySeconds = 0;
      if (policy && !random) {
        const t0 = performance.now();
        policy.learn(ensemble, unlearned, rng);
        unlearned = 0;
        evaluator.setPolicy(policy.proposalPolicy());
        policySeconds = (performance.now() - t0) / 1000;
      }
      config.onEpisodeStart?.(episode);
      optimizer.reset?.();
      actor?.dispose();
      actor = random ? undefined : config.actor?.(ensemble);
      // warm start: the middle of the action box
      let plan = new Float32Array(config.horizon * nu);
      for (let t = 0; t < config.horizon; t++)
        for (let i = 0; i < nu; i++) plan[t * nu + i] = (env.actionLow[i]! + env.actionHigh[i]!) / 2;
      let x = env.reset();
      let ret = 0;
      let steps = 0;
      let planningMs = 0;
      for (;;) {
        const u = new Float32Array(nu);
        if (random) {
          for (let i = 0; i < nu; i++)
            u[i] = env.actionLow[i]! + rng.uniform() * (env.actionHigh[i]! - env.actionLow[i]!);
        } else {
          const t0 = performance.now();
          if (actor) actor.act(x, u);
          else {
            evaluator.setState(encode(x));
            const result = optimizer.optimize(evaluator, plan);
            u.set(result.best.subarray(0, nu));
            // shift the solution one step for the next plan, repeating the last action
            plan = new Float32Array(result.best.length);
            plan.set(result.best.subarray(nu));
            plan.set(result.best.subarray(result.best.length - nu), result.best.length - nu);
            optimizer.shift?.(1);
          }
          planningMs += performance.now() - t0;
        }
        const step = env.step(u);
        data.add(encode(x), u, encode(step.state));
        if (policy) {
          policy.real.add(encode(x), u, step.reward, encode(step.state), step.terminated === true);
          unlearned++;
        }
        ret += step.reward;
        steps++;
        x = step.state;
        if (step.done) break;
      }
      const result: EpisodeResult = {
        episode,
        return: ret,
        steps,
        training,
        trainingSeconds,
        policySeconds,
        planningMs: random ? 0 : planningMs / steps,
        seconds: (performance.now() - started) / 1000,
        transitions: data.n,
        finalState: Float32Array.from(x),
      };
      results.push(result);
      config.onEpisode?.(result);
    }
  } finally {
    actor?.dispose();
    policy?.dispose();
    ensemble.dispose();
  }
  return results;
}
