import { defineParams } from '../../../util/param_schema.js';
import { samplingPlannerEntry } from '../ensemble_mpc/sampling_entry.js';
import { SAMPLING_NOISE_PARAMETERS, SAMPLING_POLICY_PARAMETERS, stdSetting } from '../sampling/parameters.js';
import { MppiOptimizer } from './optimizer.js';

// The registry entry of MPPI over the learned dynamics model: its own mppi.* parameters and the
// shared sampling.* ones it reads.

export const MPPI_PARAMETERS = defineParams({
  'mppi.temperature': {
    type: 'double',
    default: 0.1,
    range: [1e-9, 1e9],
    description: 'λ, in cost units: small follows the best sample, large averages',
  },
  'mppi.noise_smoothing': {
    type: 'double',
    default: 0.9,
    range: [1e-6, 1],
    description: 'β of the noise filter along time (1: independent per step)',
  },
  'mppi.filter_window': {
    type: 'integer',
    default: 1,
    range: [1, 1001],
    description: 'odd width of the moving average over the updated plan (1: none)',
  },
});

export const mppi = samplingPlannerEntry({
  name: 'mppi',
  description: 'model predictive path integral control over the learned dynamics model',
  parameters: { ...SAMPLING_NOISE_PARAMETERS, ...SAMPLING_POLICY_PARAMETERS, ...MPPI_PARAMETERS },
  optimizer: (values, { iterations, seed }) =>
    new MppiOptimizer({
      samples: values['sampling.population'],
      iterations,
      temperature: values['mppi.temperature'],
      noiseStd: stdSetting(values['sampling.std']),
      noiseSmoothing: values['mppi.noise_smoothing'],
      filterWindow: values['mppi.filter_window'],
      policyShare: values['sampling.policy_share'],
      seed,
    }),
});
