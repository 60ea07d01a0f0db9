// How closely the state follows the goal: after each new goal has had `settleNs` to be reached,
// the largest and the latest absolute position error per joint.

export class TrackingStats {
  #goal: Float64Array | undefined;
  #goalSetNs = 0n;
  readonly #max: Float64Array;
  readonly #last: Float64Array;
  #samples = 0;

  constructor(
    readonly joints: readonly string[],
    readonly settleNs: bigint,
  ) {
    this.#max = new Float64Array(joints.length);
    this.#last = new Float64Array(joints.length);
  }

  newGoal(goal: Float64Array, timeNs: bigint): void {
    this.#goal = Float64Array.from(goal);
    this.#goalSetNs = timeNs;
  }

  /** x = [q, q̇]; positions are the first joints.length values */
  add(timeNs: bigint, x: ArrayLike<number>): void {
    if (!this.#goal || timeNs - this.#goalSetNs < this.settleNs) return;
    this.#samples++;
    for (let i = 0; i < this.joints.length; i++) {
      const e = Math.abs(x[i]! - this.#goal[i]!);
      this.#last[i] = e;
      if (e > this.#max[i]!) this.#max[i] = e;
    }
  }

  /** 'largest error after settling: cart_slide 0.012, pole_hinge 0.034' */
  summary(): string {
    if (!this.#samples) return 'no settled samples';
    return `largest error after settling ${this.joints.map((n, i) => `${n} ${this.#max[i]!.toFixed(4)}`).join(', ')}`;
  }

  metrics(): Record<string, number> {
    const out: Record<string, number> = { tracking_samples: this.#samples };
    this.joints.forEach((name, i) => {
      out[`max_error_${name}`] = this.#max[i]!;
      out[`final_error_${name}`] = this.#last[i]!;
    });
    return out;
  }
}
