import { Ring } from '../../src/util/ring.js';
import { percentile, sortNumbers } from '../../src/util/percentile.js';

// How the arm's bus cycle goes: the duration of each cycle (sync write + sync read, ms), its
// p50/p99 over a recent window, the achieved cycle rate over the last window of wall time, and
// ticks skipped because the previous cycle was still on the bus.

export interface CycleSummary {
  readonly cycles: number;
  readonly failed: number;
  readonly overruns: number;
  readonly rateHz: number;
  readonly cycleP50Ms: number;
  readonly cycleP99Ms: number;
  readonly cycleMaxMs: number;
}

export class CycleStats {
  readonly #durations: Ring<number>;
  readonly #ends: Ring<number>;
  cycles = 0;
  failed = 0;
  overruns = 0;

  constructor(window = 1000) {
    this.#durations = new Ring(window);
    this.#ends = new Ring(window);
  }

  /** A cycle that completed: its start and end, performance.now() ms. */
  done(startMs: number, endMs: number): void {
    this.cycles++;
    this.#durations.push(endMs - startMs);
    this.#ends.push(endMs);
  }

  fail(): void {
    this.failed++;
  }

  overrun(): void {
    this.overruns++;
  }

  summary(nowMs = performance.now(), rateWindowMs = 2000): CycleSummary {
    const xs = sortNumbers(this.#durations.toArray());
    const pct = (p: number): number => (xs.length ? percentile(xs, p) : 0);
    const recent = this.#ends.toArray().filter((t) => t > nowMs - rateWindowMs);
    // the rate over the span the recent cycles cover (not the whole window, which may predate the first)
    const span = recent.length > 1 ? nowMs - recent[0]! : 0;
    return {
      cycles: this.cycles,
      failed: this.failed,
      overruns: this.overruns,
      rateHz: span > 0 ? ((recent.length - 1) / span) * 1000 : 0,
      cycleP50Ms: pct(50),
      cycleP99Ms: pct(99),
      cycleMaxMs: xs.length ? xs[xs.length - 1]! : 0,
    };
  }
}
