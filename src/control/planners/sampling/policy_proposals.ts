import type { Rng } from '../../../util/random.js';
import type { TrajectoryEvaluator } from './evaluator.js';
import { clipToBounds } from './bounds.js';
import { inRange } from './settings.js';

// A learned policy as a proposal inside the sampling optimisers, as TD-MPC (Hansen, Wang & Su, ICML
// 2022) and TD-MPC2 (Hansen, Su & Wang, ICLR 2024) mix trajectories of their policy prior into
// MPPI's population: a share of each iteration's samples are the policy's own action sequences,
// rolled out through the model from the current state, so the search starts from what the policy
// would do and improves on it.
// The evaluator makes the sequences (it holds the model, the state and the policy:
// TrajectoryEvaluator.policySequences), once per optimize call; every iteration puts them in place
// of its last ⌈share · population⌉ samples (the rest, the warm start included, as before). With a
// share of 0, or an evaluator without a policy, nothing is asked and nothing changes.

/** What proposes actions: a policy over the evaluator's state (src/rl/sac/policy_blob.ts's PolicyActor fits). */
export interface ProposalPolicy {
  /** actions into out [rows × nu] for states obs [rows × state size]: the mean, or samples given a noise source */
  act(obs: Float32Array, rows: number, out: Float32Array, rng?: Rng): void;
}

/** Check an optimiser's policy share setting. */
export function checkPolicyShare(who: string, share: number): number {
  return inRange(who, 'policy_share', share, 0, 1);
}

/** ⌈share · population⌉ samples, at most the population; 0 when the share is. */
export function proposalCount(share: number, population: number): number {
  return share > 0 ? Math.min(population, Math.ceil(share * population)) : 0;
}

/** The policy's sequences for one optimize call, placed into each iteration's population. */
export class PolicyProposals {
  private constructor(
    /** count × size, within the action bounds */
    readonly sequences: Float32Array,
    readonly count: number,
    readonly size: number,
  ) {}

  /**
   * The evaluator's policy sequences for a population of `population` (⌈share · population⌉ of
   * them), within its bounds; undefined when the share is 0 or the evaluator has no policy.
   */
  static from(evaluator: TrajectoryEvaluator, share: number, population: number): PolicyProposals | undefined {
    const count = proposalCount(share, population);
    if (count === 0 || !evaluator.policySequences) return undefined;
    const sequences = evaluator.policySequences(count);
    if (!sequences) return undefined;
    const size = evaluator.horizon * evaluator.actionSize;
    if (sequences.length < count * size)
      throw new Error(
        `policy proposals: the evaluator gave ${sequences.length} values for ${count} sequences of ${size}`,
      );
    return new PolicyProposals(
      clipToBounds(Float32Array.from(sequences.subarray(0, count * size)), evaluator.actionLow, evaluator.actionHigh),
      count,
      size,
    );
  }

  /** How many of a population of n are proposals: ⌈share · n⌉, at most the proposals made. */
  countFor(share: number, n: number): number {
    return Math.min(this.count, proposalCount(share, n));
  }

  /** Write the first k proposals over rows [n − k, n) of a population (rows of `size`). */
  placeLast(population: Float32Array, n: number, k: number): void {
    for (let p = 0; p < k; p++)
      population.set(this.sequences.subarray(p * this.size, (p + 1) * this.size), (n - k + p) * this.size);
  }
}
