import type { ActionOptimizer } from './planners/sampling/optimizer.js';
import { RandomShootingOptimizer } from './planners/random_shooting/optimizer.js';
import { CemOptimizer } from './planners/cem/optimizer.js';
import { MppiOptimizer } from './planners/mppi/optimizer.js';
import { IcemOptimizer } from './planners/icem/optimizer.js';

// The sampling optimisers by name, from one flat set of settings (what the controller declares
// as parameters): each takes the settings that mean something to it and ignores the rest.

export const SAMPLING_OPTIMIZERS = ['cem', 'icem', 'mppi', 'random_shooting'] as const;
export type SamplingOptimizerName = (typeof SAMPLING_OPTIMIZERS)[number];

export interface SamplingOptimizerSettings {
  /** sequences per iteration (iCEM: the first iteration's) */
  readonly population: number;
  readonly iterations: number;
  /** CEM, iCEM */
  readonly eliteRatio: number;
  readonly alpha: number;
  readonly minStd: number;
  /** CEM and iCEM's initial std, MPPI's noise σ, per action (empty: (high − low) / 4) */
  readonly std: readonly number[];
  /** MPPI */
  readonly temperature: number;
  readonly noiseSmoothing: number;
  readonly filterWindow: number;
  /** iCEM */
  readonly populationDecay: number;
  readonly keepEliteFraction: number;
  readonly noiseExponent: number;
  readonly seed: number;
}

export function samplingOptimizer(name: SamplingOptimizerName, s: SamplingOptimizerSettings): ActionOptimizer {
  const std = s.std.length ? s.std : undefined;
  switch (name) {
    case 'random_shooting':
      return new RandomShootingOptimizer({ samples: s.population, iterations: s.iterations, seed: s.seed });
    case 'cem':
      return new CemOptimizer({
        populationSize: s.population,
        eliteRatio: s.eliteRatio,
        iterations: s.iterations,
        alpha: s.alpha,
        initialStd: std,
        minStd: s.minStd,
        seed: s.seed,
      });
    case 'mppi':
      return new MppiOptimizer({
        samples: s.population,
        iterations: s.iterations,
        temperature: s.temperature,
        noiseStd: std,
        noiseSmoothing: s.noiseSmoothing,
        filterWindow: s.filterWindow,
        seed: s.seed,
      });
    case 'icem':
      return new IcemOptimizer({
        populationSize: s.population,
        populationDecay: s.populationDecay,
        eliteRatio: s.eliteRatio,
        keepEliteFraction: s.keepEliteFraction,
        noiseExponent: s.noiseExponent,
        iterations: s.iterations,
        alpha: s.alpha,
        initialStd: std,
        minStd: s.minStd,
        seed: s.seed,
      });
  }
}
