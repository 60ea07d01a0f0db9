import { defineParams } from '../../../util/param_schema.js';
import { samplingPlannerEntry } from '../ensemble_mpc/sampling_entry.js';
import {
  SAMPLING_ELITE_PARAMETERS,
  SAMPLING_NOISE_PARAMETERS,
  SAMPLING_POLICY_PARAMETERS,
  stdSetting,
} from '../sampling/parameters.js';
import { IcemOptimizer } from './optimizer.js';

// The registry entry of iCEM over the learned dynamics model: its own icem.* parameters and the
// shared sampling.* ones it reads (CEM's, which it extends).

export const ICEM_PARAMETERS = defineParams({
  'icem.population_decay': {
    type: 'double',
    default: 1.25,
    range: [1, 100],
    description: 'γ: the population shrinks by this factor each iteration',
  },
  'icem.keep_elite_fraction': {
    type: 'double',
    default: 0.3,
    range: [0, 1],
    description: 'share of the elites carried to the next iteration and tick',
  },
  'icem.noise_exponent': {
    type: 'double',
    default: 2,
    range: [0, 10],
    description: 'β of the coloured noise: 0 white, 1 pink, 2 red',
  },
});

export const icem = samplingPlannerEntry({
  name: 'icem',
  description: 'the improved cross-entropy method (coloured noise, elite reuse) over the learned dynamics model',
  parameters: {
    ...SAMPLING_NOISE_PARAMETERS,
    ...SAMPLING_POLICY_PARAMETERS,
    ...SAMPLING_ELITE_PARAMETERS,
    ...ICEM_PARAMETERS,
  },
  optimizer: (values, { iterations, seed }) =>
    new IcemOptimizer({
      populationSize: values['sampling.population'],
      populationDecay: values['icem.population_decay'],
      eliteRatio: values['sampling.elite_ratio'],
      keepEliteFraction: values['icem.keep_elite_fraction'],
      noiseExponent: values['icem.noise_exponent'],
      iterations,
      alpha: values['sampling.alpha'],
      initialStd: stdSetting(values['sampling.std']),
      minStd: values['sampling.min_std'],
      policyShare: values['sampling.policy_share'],
      seed,
    }),
});
