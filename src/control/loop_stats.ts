import { Ring } from '../util/ring.js';
import { percentile, sortNumbers } from '../util/percentile.js';

// How well the command loop keeps its rate: the period between ticks on the steady clock, its
// error against the nominal period (p50/p99 over a recent window), and deadline misses — ticks
// that came more than half a period late, so the robot saw a command late.

export interface LoopSummary {
  readonly ticks: number;
  readonly deadlineMisses: number;
  readonly periodErrorP50Us: number;
  readonly periodErrorP99Us: number;
  readonly computeP99Us: number;
}

export class LoopStats {
  readonly #periodErrors: Ring<number>;
  readonly #compute: Ring<number>;
  #last: bigint | undefined;
  ticks = 0;
  deadlineMisses = 0;

  constructor(
    readonly periodNs: bigint,
    window = 2000,
  ) {
    this.#periodErrors = new Ring(window);
    this.#compute = new Ring(window);
  }

  /** Record one tick: when it started and how long its work took (steady clock, ns). */
  tick(startNs: bigint, computeNs: bigint): void {
    this.ticks++;
    if (this.#last !== undefined) {
      const interval = startNs - this.#last;
      const error = interval > this.periodNs ? interval - this.periodNs : this.periodNs - interval;
      this.#periodErrors.push(Number(error) / 1000);
      if (interval > this.periodNs + this.periodNs / 2n) this.deadlineMisses++;
    }
    this.#compute.push(Number(computeNs) / 1000);
    this.#last = startNs;
  }

  /** Forget the last tick time (after a pause, so the gap is not counted as a miss). */
  pause(): void {
    this.#last = undefined;
  }

  summary(): LoopSummary {
    const pct = (ring: Ring<number>, p: number): number => (ring.size ? percentile(sortNumbers(ring.toArray()), p) : 0);
    return {
      ticks: this.ticks,
      deadlineMisses: this.deadlineMisses,
      periodErrorP50Us: pct(this.#periodErrors, 50),
      periodErrorP99Us: pct(this.#periodErrors, 99),
      computeP99Us: pct(this.#compute, 99),
    };
  }
}
