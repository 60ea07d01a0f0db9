// What sampling planners need from a model: the expected cost of a batch of action sequences
// from the current state. The learned ensemble with trajectory sampling (src/dynamics/) provides
// one; a test can provide a quadratic. Sequences are row-major N × H × nu. An evaluator that holds
// a learned policy may also propose sequences: the policy rolled out through its model from the
// current state, which the optimisers put into their populations (./policy_proposals.ts).

export interface SequenceCosts {
  /** expected cost per sequence (N) */
  readonly cost: Float32Array;
  /** spread of the cost over particles per sequence (N): epistemic uncertainty, for risk-aware costs */
  readonly spread?: Float32Array;
}

export interface TrajectoryEvaluator {
  readonly actionSize: number;
  readonly horizon: number;
  /** per action dimension */
  readonly actionLow: Float32Array;
  readonly actionHigh: Float32Array;
  evaluate(sequences: Float32Array, n: number): SequenceCosts;
  /**
   * n sequences (n × H × nu) of a policy's actions along its rollouts from the current state, or
   * undefined when it has no policy. Optional: an evaluator without it proposes nothing.
   */
  policySequences?(n: number): Float32Array | undefined;
}

/**
 * An evaluator that plans from a state it is told (the controller's estimate at each replan) and,
 * optionally, toward a goal. `kind` says what the goal vector is: a full model state or an
 * end-effector position (3 values); an evaluator that ignores it can leave it out.
 */
export interface StatefulEvaluator extends TrajectoryEvaluator {
  setState(x: Float32Array): void;
  setGoal?(goal: Float32Array, kind: 'state' | 'position'): void;
  dispose?(): void;
}
