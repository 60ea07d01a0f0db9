import { Rng } from '../../../util/random.js';
import type { SequencePolicy } from '../../policy.js';

// Exploration before there is a model to plan with: an action drawn uniformly inside the action
// box at every tick (PETS's random first episode), from a seeded source, so lockstep runs repeat.

export class UniformExploration {
  readonly #rng: Rng;
  #ticks = 0;

  constructor(
    readonly low: Float32Array,
    readonly high: Float32Array,
    readonly stepNs: bigint,
    seed: number,
  ) {
    if (low.length !== high.length)
      throw new Error(`exploration: ${low.length} lower bounds but ${high.length} upper bounds`);
    this.#rng = new Rng(seed);
  }

  /** actions drawn so far */
  get ticks(): number {
    return this.#ticks;
  }

  /** A one-step policy holding a fresh random action from now on. */
  next(timeNs: bigint): SequencePolicy {
    const nu = this.low.length;
    const actions = new Float64Array(nu);
    for (let j = 0; j < nu; j++) actions[j] = this.low[j]! + (this.high[j]! - this.low[j]!) * this.#rng.uniform();
    this.#ticks++;
    return { kind: 'sequence', nu, startNs: timeNs, stepNs: this.stepNs, actions, interpolation: 'zero_order_hold' };
  }
}
