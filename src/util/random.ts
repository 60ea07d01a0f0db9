import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/** A seeded random source (pure-rand's xoroshiro128+), so that noisy runs repeat exactly. */
export class Rng {
  readonly #gen: RandomGenerator;
  #spare: number | undefined;

  constructor(seed: number) {
    this.#gen = xoroshiro128plus(seed | 0);
  }

  /** uniform in [0, 1) */
  uniform(): number {
    return uniformFloat64(this.#gen);
  }

  /** standard normal (Box–Muller, the second value kept for the next call) */
  normal(): number {
    if (this.#spare !== undefined) {
      const s = this.#spare;
      this.#spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.uniform();
    this.#spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}
