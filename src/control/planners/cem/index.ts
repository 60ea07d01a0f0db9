import { samplingPlannerEntry } from '../ensemble_mpc/sampling_entry.js';
import {
  SAMPLING_ELITE_PARAMETERS,
  SAMPLING_NOISE_PARAMETERS,
  SAMPLING_POLICY_PARAMETERS,
  stdSetting,
} from '../sampling/parameters.js';
import { CemOptimizer } from './optimizer.js';

// The registry entry of the cross-entropy method: CEM over the learned dynamics model (PETS), with
// the shared sampling.* parameters it reads.

export const cem = samplingPlannerEntry({
  name: 'cem',
  description: 'the cross-entropy method over the learned dynamics model',
  parameters: { ...SAMPLING_NOISE_PARAMETERS, ...SAMPLING_POLICY_PARAMETERS, ...SAMPLING_ELITE_PARAMETERS },
  optimizer: (values, { iterations, seed }) =>
    new CemOptimizer({
      populationSize: values['sampling.population'],
      eliteRatio: values['sampling.elite_ratio'],
      iterations,
      alpha: values['sampling.alpha'],
      initialStd: stdSetting(values['sampling.std']),
      minStd: values['sampling.min_std'],
      policyShare: values['sampling.policy_share'],
      seed,
    }),
});
