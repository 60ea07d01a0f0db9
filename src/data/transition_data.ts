// A batch of transitions (s, a, s′) as learners take them: the replay buffer hands them out, the
// dynamics ensemble trains on them, the policy trainer will sample them. Row-major Float32 arrays
// with n rows each, so a batch goes to a worker or a native kernel without a copy.

/** row-major n×nx, n×nu, n×nx */
export interface TransitionData {
  states: Float32Array;
  actions: Float32Array;
  nextStates: Float32Array;
  n: number;
}
