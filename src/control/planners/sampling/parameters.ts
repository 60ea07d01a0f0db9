import { defineParams } from '../../../util/param_schema.js';

// The sampling.* parameters, declared once here and referenced by the entry of every sampling
// planner that reads them (the registry merges the entries' parameters into the controller's):
// what every sampling planner over the learned model reads, the noise the Gaussian ones draw
// from, the elite statistics of the cross-entropy family, and the share of policy proposals.

/** Every sampling planner: the plan, its particles through the ensemble, and the sequences per iteration. */
export const SAMPLING_PARAMETERS = defineParams({
  'sampling.horizon': { type: 'integer', default: 25, range: [1, 10_000], description: 'plan length in control steps' },
  'sampling.particles': {
    type: 'integer',
    default: 20,
    range: [1, 10_000],
    description: 'trajectory-sampling particles per sequence (ignored by expectation)',
  },
  'sampling.propagation': {
    type: 'string',
    default: 'ts1',
    choices: ['ts1', 'tsinf', 'expectation'],
    description:
      "particles through the ensemble: a new member every step (ts1), one member per particle (tsinf), or the elites' mean (expectation)",
  },
  'sampling.population': {
    type: 'integer',
    default: 400,
    range: [1, 1_000_000],
    description: 'sequences per iteration (iCEM: the first iteration)',
  },
});

/** CEM, iCEM, MPPI: the spread of the samples. */
export const SAMPLING_NOISE_PARAMETERS = defineParams({
  'sampling.std': {
    type: 'double_array',
    default: [],
    range: [0, 1e6],
    description:
      'CEM, iCEM initial std, MPPI noise std: one value or one per actuator (empty: a quarter of the action range)',
  },
});

/** CEM, iCEM: the elites and how the distribution moves toward them. */
export const SAMPLING_ELITE_PARAMETERS = defineParams({
  'sampling.elite_ratio': {
    type: 'double',
    default: 0.1,
    range: [1e-6, 1],
    description: 'CEM, iCEM: elites as a fraction of the population',
  },
  'sampling.alpha': {
    type: 'double',
    default: 0.1,
    range: [0, 0.999999],
    description: 'CEM, iCEM: momentum of the mean and variance update',
  },
  'sampling.min_std': { type: 'double', default: 0, range: [0, 1e6], description: 'CEM, iCEM: floor of the std' },
});

/** CEM, iCEM, MPPI: the learned policy's sequences as a share of the samples (./policy_proposals.ts). */
export const SAMPLING_POLICY_PARAMETERS = defineParams({
  'sampling.policy_share': {
    type: 'double',
    default: 0,
    range: [0, 1],
    description:
      "CEM, iCEM, MPPI: share of each iteration's samples replaced by the learned policy's action sequences, rolled out through the model from the current state (the policy comes on policy_topic; inline planning only); 0: off",
  },
});

/** sampling.std as the optimisers take it: absent when empty (a quarter of the action range). */
export function stdSetting(std: readonly number[]): readonly number[] | undefined {
  return std.length ? std : undefined;
}
