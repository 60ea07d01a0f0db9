import type { Rng } from '../../util/random.js';
import type { ReplayBuffer } from './replay_buffer.js';

// MBPO's branched rollouts (Janner et al. 2019, Algorithm 2): from states drawn from the real
// buffer, roll the current policy through the learned ensemble for k steps and add every model
// transition to the model buffer. The ensemble is used as in PETS's TS-1: at every step each
// rollout goes through one member drawn at random among the elites, sampling that member's Gaussian
// (aleatoric noise) — the member changing per step is what carries the epistemic uncertainty into
// the data. Rewards and terminations come from the task's functions of the predicted states, the
// same the environment applies to real ones; a terminated rollout stops there.

/** What a rollout needs of the ensemble (ProbabilisticEnsemble fits). */
export interface RolloutModel {
  readonly elites: readonly number[];
  predictNext(
    states: Float32Array,
    actions: Float32Array,
    n: number,
    members: Int32Array,
    sample: boolean,
    rng?: () => number,
  ): Float32Array;
}

/** What a rollout needs of the policy (every SoftActorCritic fits): a sample per row. */
export interface RolloutPolicy {
  actBatch(obs: Float32Array, rows: number, deterministic: boolean, out: Float32Array): void;
}

/** The task on model states: rewards of transitions into `next` with `actions`, and terminal states. */
export interface RolloutTask {
  /** out[i] = r(next_i, a_i), rows = out.length */
  reward(next: Float32Array, actions: Float32Array, out: Float32Array): void;
  /** out[i] = 1 where state i ends the episode */
  terminated?(states: Float32Array, out: Uint8Array): void;
}

export interface RolloutReport {
  /** model transitions added */
  readonly transitions: number;
  /** rollouts that ended in a terminal state before k steps */
  readonly terminated: number;
  /** mean reward per model transition */
  readonly meanReward: number;
}

export function branchedRollouts(
  model: RolloutModel,
  policy: RolloutPolicy,
  task: RolloutTask,
  starts: Float32Array,
  count: number,
  length: number,
  actionSize: number,
  rng: Rng,
  into: ReplayBuffer,
): RolloutReport {
  const nx = into.obsSize;
  const elites = model.elites;
  if (!elites.length) throw new Error('model rollouts: the ensemble has no elites');
  let states: Float32Array = starts.slice(0, count * nx);
  let n = count;
  let transitions = 0;
  let terminatedCount = 0;
  let rewardSum = 0;
  const uniform = (): number => rng.uniform();
  for (let step = 0; step < length && n > 0; step++) {
    const actions = new Float32Array(n * actionSize);
    policy.actBatch(states, n, false, actions);
    const members = Int32Array.from({ length: n }, () => elites[Math.floor(rng.uniform() * elites.length)]!);
    const next = model.predictNext(states, actions, n, members, true, uniform);
    const rewards = new Float32Array(n);
    task.reward(next, actions, rewards);
    const done = new Uint8Array(n);
    task.terminated?.(next, done);
    let alive = 0;
    for (let r = 0; r < n; r++) {
      const s2 = next.subarray(r * nx, (r + 1) * nx);
      // a prediction gone non-finite is the model failing, not data: it ends the rollout unrecorded
      if (!s2.every(Number.isFinite) || !Number.isFinite(rewards[r]!)) continue;
      into.add(
        states.subarray(r * nx, (r + 1) * nx),
        actions.subarray(r * actionSize, (r + 1) * actionSize),
        rewards[r]!,
        s2,
        done[r] === 1,
      );
      transitions++;
      rewardSum += rewards[r]!;
      if (done[r]) terminatedCount++;
      else {
        next.copyWithin(alive * nx, r * nx, (r + 1) * nx);
        alive++;
      }
    }
    states = next.subarray(0, alive * nx);
    n = alive;
  }
  return { transitions, terminated: terminatedCount, meanReward: transitions ? rewardSum / transitions : 0 };
}
