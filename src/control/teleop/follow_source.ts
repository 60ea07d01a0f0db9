import type { TeleopSource } from './teleop_source.js';

// A teleop source that follows positions given from outside: a leader arm's joint angles, already
// mapped into the follower's joints, offered as they are read (the reads are asynchronous and
// come at their own rate). Each tick takes the newest; one older than `maxAgeNs` (a leader that
// stopped answering) is no target, so the measured position is held rather than an old goal chased.

export class FollowSource implements TeleopSource {
  readonly kind: string;
  readonly #target: Float64Array;
  readonly #maxAgeNs: bigint;
  readonly #now: () => bigint;
  #stampNs: bigint | undefined;

  /**
   * @param now the clock readings are stamped and judged with (monotonic, ns)
   * @param maxAgeNs a reading older than this gives no target
   */
  constructor(kind: string, joints: number, maxAgeNs: bigint, now: () => bigint) {
    if (!(maxAgeNs > 0n)) throw new Error(`follow source: maxAgeNs ${maxAgeNs} must be > 0`);
    this.kind = kind;
    this.#target = new Float64Array(joints);
    this.#maxAgeNs = maxAgeNs;
    this.#now = now;
  }

  /** A new reading: one position per follower joint (non-finite elements go on to the safety layer, which stops that joint). */
  offer(positions: ArrayLike<number>): void {
    if (positions.length !== this.#target.length)
      throw new RangeError(`${this.kind}: a reading of ${positions.length} joints, expected ${this.#target.length}`);
    for (let i = 0; i < this.#target.length; i++) this.#target[i] = positions[i]!;
    this.#stampNs = this.#now();
  }

  /** No reading any more (the leader went away): hold until the next. */
  lost(): void {
    this.#stampNs = undefined;
  }

  tick(): Float64Array | undefined {
    if (this.#stampNs === undefined || this.#now() - this.#stampNs > this.#maxAgeNs) return undefined;
    return this.#target;
  }
}
