import { Rng } from '../../../util/random.js';
import type { TrajectoryEvaluator } from '../sampling/evaluator.js';
import type { ActionOptimizer, OptimizeBudget, OptimizeResult } from '../sampling/optimizer.js';
import { IterationBudget } from '../sampling/budget.js';
import { clipToBounds } from '../sampling/bounds.js';
import { ColoredNoise } from '../sampling/colored_noise.js';
import { eliteIndices, refit } from '../sampling/elites.js';
import { Incumbent } from '../sampling/incumbent.js';
import { PolicyProposals, checkPolicyShare } from '../sampling/policy_proposals.js';
import { problemShape } from '../sampling/shape.js';
import { shiftSequence } from '../sampling/warm_start.js';
import { initialStd, inRange, positiveInteger } from '../sampling/settings.js';

// iCEM (Pinneri et al., "Sample-efficient Cross-Entropy Method for Real-time Planning", CoRL
// 2020): CEM that needs fewer samples for the same plan quality, through
//  - coloured noise along time (PSD ∝ 1/f^β): smooth samples, which suit smooth optima;
//  - a population that shrinks by a factor γ each iteration, N_i = max(N γ^−i, 2K);
//  - elite reuse: a fraction of the previous iteration's elites joins the next population, and
//    at the first iteration the same fraction of the previous time step's elites, shifted;
//  - the mean itself as a candidate in the last iteration.
// Kept elites are the cheapest ones (mbrl-lib draws them at random) and are evaluated again, as
// the evaluator may be stochastic. Shifted elites end with their own last action.
// With a policy share, the last ⌈share · N_i⌉ of the N_i samples of iteration i are the evaluator's
// policy sequences (../sampling/policy_proposals.ts), made once per call for N_0.

export interface IcemSettings {
  /** N: the first iteration's population */
  readonly populationSize: number;
  /** γ: N_i = max(N·γ^−i, 2K) */
  readonly populationDecay: number;
  readonly eliteRatio: number;
  readonly eliteCount?: number;
  /** fraction of the K elites carried to the next iteration and to the next time step */
  readonly keepEliteFraction: number;
  /** β of the noise spectrum: 0 white, 1 pink, 2 red */
  readonly noiseExponent: number;
  readonly iterations: number;
  readonly alpha: number;
  readonly initialStd?: number | readonly number[];
  readonly minStd: number;
  /** share of each iteration's samples replaced by the evaluator's policy sequences (0: none) */
  readonly policyShare: number;
  readonly seed: number;
}

/** Pinneri et al. / mbrl-lib: β 2 (2–2.5 by task), γ 1.25, 30% of the elites kept; CEM's others. */
export const ICEM_DEFAULTS: IcemSettings = {
  populationSize: 400,
  populationDecay: 1.25,
  eliteRatio: 0.1,
  keepEliteFraction: 0.3,
  noiseExponent: 2,
  iterations: 5,
  alpha: 0.1,
  minStd: 0,
  policyShare: 0,
  seed: 1,
};

export class IcemOptimizer implements ActionOptimizer {
  readonly name = 'icem';
  readonly settings: IcemSettings;
  readonly #elites: number;
  readonly #keep: number;
  readonly #rng: Rng;
  #noise: ColoredNoise | undefined;
  /** the last iteration's elites of the previous call, cheapest first (K × size) */
  #carried: Float32Array | undefined;
  /** the action size the carried elites were planned with */
  #nu = 1;

  constructor(settings: Partial<IcemSettings> = {}) {
    const s = { ...ICEM_DEFAULTS, ...settings };
    positiveInteger('iCEM', 'population_size', s.populationSize);
    positiveInteger('iCEM', 'iterations', s.iterations);
    inRange('iCEM', 'population_decay', s.populationDecay, 1, Infinity);
    inRange('iCEM', 'keep_elite_fraction', s.keepEliteFraction, 0, 1);
    inRange('iCEM', 'noise_exponent', s.noiseExponent, 0, Infinity);
    inRange('iCEM', 'alpha', s.alpha, 0, 1, { low: true, high: false });
    inRange('iCEM', 'min_std', s.minStd, 0, Infinity);
    checkPolicyShare('iCEM', s.policyShare);
    this.#elites =
      s.eliteCount ??
      Math.ceil(inRange('iCEM', 'elite_ratio', s.eliteRatio, 0, 1, { low: false, high: true }) * s.populationSize);
    positiveInteger('iCEM', 'elite_count', this.#elites);
    if (2 * this.#elites > s.populationSize)
      throw new Error(
        `iCEM: ${this.#elites} elites need a population of at least ${2 * this.#elites}, got ${s.populationSize}`,
      );
    this.#keep = Math.ceil(s.keepEliteFraction * this.#elites);
    this.settings = s;
    this.#rng = new Rng(s.seed);
  }

  /** population sizes per iteration, before kept elites and the mean are added */
  populationAt(iteration: number): number {
    const { populationSize: n, populationDecay: gamma } = this.settings;
    return Math.max(Math.ceil(n * Math.pow(gamma, -iteration)), 2 * this.#elites);
  }

  shift(steps: number): void {
    if (!this.#carried || steps === 0) return;
    const size = this.#carried.length / this.#elites;
    const nu = this.#nu;
    for (let e = 0; e < this.#elites; e++) {
      const elite = this.#carried.subarray(e * size, (e + 1) * size);
      elite.set(shiftSequence(elite, nu, Math.min(steps, size / nu), 'last'));
    }
  }

  reset(): void {
    this.#carried = undefined;
  }

  optimize(evaluator: TrajectoryEvaluator, warmStart: Float32Array, budget?: OptimizeBudget): OptimizeResult {
    const { horizon, nu, size, low, high } = problemShape(evaluator, warmStart, 'iCEM');
    if (this.#noise?.length !== horizon) this.#noise = new ColoredNoise(horizon, this.settings.noiseExponent);
    if (this.#carried && (this.#carried.length !== this.#elites * size || this.#nu !== nu)) this.#carried = undefined;
    this.#nu = nu;
    const noise = this.#noise;
    const k = this.#elites;
    const mean = clipToBounds(Float32Array.from(warmStart), low, high);
    const std = initialStd(this.settings.initialStd, low, high, horizon, 'iCEM');
    const variance = std.map((s) => s * s);
    // room for the largest population: N_0 samples, kept elites and the mean
    const population = new Float32Array((this.populationAt(0) + this.#keep + 1) * size);
    const eliteIdx = new Uint32Array(k);
    let elites: Float32Array | undefined = this.#carried; // cheapest first
    const incumbent = new Incumbent(size);
    incumbent.reset(mean);
    const iterations = new IterationBudget(budget, this.settings.iterations);
    const share = this.settings.policyShare;
    const proposals = PolicyProposals.from(evaluator, share, this.populationAt(0));
    let i = 0;
    for (; iterations.allows(i); i++) {
      const sampled = this.populationAt(i);
      for (let s = 0; s < sampled; s++) {
        for (let j = 0; j < nu; j++) noise.fill(this.#rng, population, s * size + j, nu);
        for (let d = 0; d < size; d++) population[s * size + d] = mean[d]! + std[d]! * population[s * size + d]!;
      }
      clipToBounds(population.subarray(0, sampled * size), low, high);
      if (proposals) proposals.placeLast(population, sampled, proposals.countFor(share, sampled));
      let count = sampled;
      if (elites) {
        const kept = Math.min(this.#keep, elites.length / size);
        population.set(elites.subarray(0, kept * size), count * size);
        count += kept;
      }
      if (iterations.isLast(i)) population.set(mean, count++ * size);
      const costs = incumbent.evaluate(evaluator, population, count);
      eliteIndices(costs, k, eliteIdx);
      refit(population, size, eliteIdx, this.settings.alpha, this.settings.minStd, mean, variance, std);
      elites = new Float32Array(k * size);
      for (let e = 0; e < k; e++)
        elites.set(population.subarray(eliteIdx[e]! * size, (eliteIdx[e]! + 1) * size), e * size);
    }
    this.#carried = elites;
    return {
      best: Float32Array.from(incumbent.best),
      bestCost: incumbent.cost,
      iterations: i,
      evaluations: incumbent.evaluations,
    };
  }
}
