import type { JointGoalJudge, TaskVerdict } from '../tasks/task_judge.js';

// How closely the state follows the goal: after each new goal has had `settleNs` to be reached,
// the largest and the latest absolute position error per joint. With a judge (the controller's
// judge.* parameters, src/tasks/task_judge.ts) every goal and every state also go to it, from the
// goal's first tick on (no settling: reaching the goal in time is what it judges), and the
// verdict says whether the task was achieved.

export class TrackingStats {
  #goal: Float64Array | undefined;
  #goalSetNs = 0n;
  readonly #max: Float64Array;
  readonly #last: Float64Array;
  #samples = 0;
  readonly #judge: Pick<JointGoalJudge, 'goal' | 'sample' | 'fail' | 'verdict'> | undefined;

  constructor(
    readonly joints: readonly string[],
    readonly settleNs: bigint,
    judge?: Pick<JointGoalJudge, 'goal' | 'sample' | 'fail' | 'verdict'>,
  ) {
    this.#max = new Float64Array(joints.length);
    this.#last = new Float64Array(joints.length);
    this.#judge = judge;
  }

  newGoal(goal: Float64Array, timeNs: bigint): void {
    this.#goal = Float64Array.from(goal);
    this.#goalSetNs = timeNs;
    this.#judge?.goal(goal, timeNs);
  }

  /** x = [q, q̇]; positions are the first joints.length values */
  add(timeNs: bigint, x: ArrayLike<number>): void {
    this.#judge?.sample(timeNs, x);
    if (!this.#goal || timeNs - this.#goalSetNs < this.settleNs) return;
    this.#samples++;
    for (let i = 0; i < this.joints.length; i++) {
      const e = Math.abs(x[i]! - this.#goal[i]!);
      this.#last[i] = e;
      if (e > this.#max[i]!) this.#max[i] = e;
    }
  }

  /** The judge's verdict: undefined without a judge; not achieved when `failure` is given (the controller failed). */
  verdict(failure?: string): TaskVerdict | undefined {
    if (!this.#judge) return undefined;
    if (failure !== undefined) this.#judge.fail(`the controller failed: ${failure}`);
    return this.#judge.verdict();
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
