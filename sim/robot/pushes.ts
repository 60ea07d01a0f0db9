import { Rng } from '../../src/util/random.js';

// Scheduled pushes: a horizontal force on a body for a short time every period, in a direction
// drawn from a seeded source, so that a controller is tested against the same disturbances every run.

export interface PushSchedule {
  readonly body: string;
  readonly periodNs: bigint;
  readonly durationNs: bigint;
  /** newtons */
  readonly force: number;
  readonly seed: number;
}

export class Pushes {
  readonly #rng: Rng;
  #direction = 1;
  #lastStart = -1n;

  constructor(private readonly schedule: PushSchedule) {
    this.#rng = new Rng(schedule.seed);
  }

  /** The force along x to apply at sim time t (0 when no push is on). */
  forceAt(tNs: bigint): number {
    const { periodNs, durationNs, force } = this.schedule;
    if (periodNs <= 0n || force === 0 || tNs < periodNs) return 0;
    const start = (tNs / periodNs) * periodNs;
    if (tNs - start >= durationNs) return 0;
    if (start !== this.#lastStart) {
      this.#lastStart = start;
      this.#direction = this.#rng.uniform() < 0.5 ? -1 : 1;
    }
    return this.#direction * force;
  }

  /** How many pushes have started by time t. */
  countAt(tNs: bigint): number {
    return this.schedule.periodNs > 0n && this.schedule.force !== 0 ? Number(tNs / this.schedule.periodNs) : 0;
  }
}
