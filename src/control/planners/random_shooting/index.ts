import { samplingPlannerEntry } from '../ensemble_mpc/sampling_entry.js';
import { RandomShootingOptimizer } from './optimizer.js';

// The registry entry of random shooting over the learned dynamics model: the baseline, which reads
// only the sampling.* parameters every sampling planner has.

export const randomShooting = samplingPlannerEntry({
  name: 'random_shooting',
  description: 'random shooting over the learned dynamics model',
  parameters: {},
  optimizer: (values, { iterations, seed }) =>
    new RandomShootingOptimizer({ samples: values['sampling.population'], iterations, seed }),
});
