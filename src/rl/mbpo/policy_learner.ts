import type { Rng } from '../../util/random.js';
import { createSac, type SacEngineChoice } from '../sac/create.js';
import type { SacConfig, SacUpdate, SoftActorCritic } from '../sac/sac.js';
import { branchedRollouts, type RolloutModel, type RolloutTask } from './model_rollouts.js';
import { allocateBatch, ReplayBuffer } from './replay_buffer.js';

// MBPO's policy optimisation on its own, for a loop that collects its data some other way: PETS
// acting by MPC learns a SAC policy on the side (its real transitions, and rollouts of the same
// ensemble branched from them), and the sampling planner takes the policy's rollouts as proposals
// (sampling.policy_share). learn() does for each new real step what MBPO's loop does after the
// step: branch rollouts into the model buffer, then take updates on real_ratio-mixed batches.

export interface PolicyLearnerConfig {
  readonly sac: Omit<SacConfig, 'obsSize' | 'actionLow' | 'actionHigh' | 'seed'>;
  readonly engine?: SacEngineChoice;
  readonly rolloutsPerStep: number;
  readonly rolloutLength: number;
  readonly updatesPerStep: number;
  readonly batchSize: number;
  readonly realRatio: number;
  /** model transitions kept (the oldest overwritten) */
  readonly modelCapacity: number;
  readonly task: RolloutTask;
}

export class PolicyLearner {
  readonly sac: SoftActorCritic;
  readonly real: ReplayBuffer;
  readonly #model: ReplayBuffer;
  readonly #batch;
  readonly #starts: Float32Array;
  #last: SacUpdate | undefined;

  constructor(
    private readonly config: PolicyLearnerConfig,
    obsSize: number,
    actionLow: ArrayLike<number>,
    actionHigh: ArrayLike<number>,
    seed: number,
  ) {
    this.sac = createSac(
      { ...config.sac, obsSize, actionLow: Array.from(actionLow), actionHigh: Array.from(actionHigh), seed },
      config.engine,
    ).sac;
    const nu = actionLow.length;
    this.real = new ReplayBuffer(obsSize, nu, 1_000_000);
    this.#model = new ReplayBuffer(obsSize, nu, config.modelCapacity);
    this.#batch = allocateBatch(config.batchSize, obsSize, nu);
    this.#starts = new Float32Array(config.rolloutsPerStep * obsSize);
  }

  get lastUpdate(): SacUpdate | undefined {
    return this.#last;
  }

  /** MBPO's work for `steps` new real steps (already added to `real`) with the current model */
  learn(model: RolloutModel, steps: number, rng: Rng): void {
    const c = this.config;
    if (this.real.size === 0) return;
    const realRows = Math.max(1, Math.round(c.realRatio * c.batchSize));
    for (let s = 0; s < steps; s++) {
      this.real.sampleObs(c.rolloutsPerStep, rng, this.#starts);
      branchedRollouts(
        model,
        this.sac,
        c.task,
        this.#starts,
        c.rolloutsPerStep,
        c.rolloutLength,
        this.real.actionSize,
        rng,
        this.#model,
      );
      for (let k = 0; k < c.updatesPerStep; k++) {
        this.real.sampleInto(this.#batch, 0, realRows, rng);
        this.#model.sampleInto(this.#batch, realRows, c.batchSize - realRows, rng);
        this.#last = this.sac.update(this.#batch);
      }
    }
  }

  /** the policy as the sampling planners take a proposal policy: the mean without a noise source, samples with one */
  proposalPolicy(): { act(obs: Float32Array, rows: number, out: Float32Array, rng?: Rng): void } {
    return { act: (obs, rows, out, rng) => this.sac.actBatch(obs, rows, rng === undefined, out) };
  }

  dispose(): void {
    this.sac.dispose();
  }
}
