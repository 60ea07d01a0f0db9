// A teleoperated goal may lead the measured position by at most a bound per joint, per tick: a
// leader arm or a joystick target that jumps (a slipped grip, a leader read while it was moved
// by hand, a wrong calibration) then moves the follower one bounded step a tick instead of at
// once. This is LeRobot's `max_relative_target` (lerobot robots' ensure_safe_goal_position: the
// goal minus the present position is clipped to ±bound, and the goal sent is present + clipped).
// It comes before the safety layer, which then applies the joint, velocity and rate limits.
// A non-finite goal element is passed through untouched: the safety layer replaces it with its
// stop action and counts it.

export class RelativeTargetClip {
  readonly #bound: Float64Array;

  /**
   * @param bound per joint (rad or m, ≥ 0, Infinity for none), or one value for every joint;
   *   empty: no bound
   * @param joints how many joints the goals have
   */
  constructor(bound: readonly number[], joints: number) {
    if (bound.length !== 0 && bound.length !== 1 && bound.length !== joints)
      throw new Error(
        `max_relative_target: ${bound.length} values for ${joints} joints (give none, one for all, or one per joint)`,
      );
    bound.forEach((b, i) => {
      if (!(b >= 0)) throw new Error(`max_relative_target[${i}] = ${b}: a bound must be ≥ 0 (Infinity for none)`);
    });
    this.#bound = Float64Array.from({ length: joints }, (_, i) =>
      bound.length === 0 ? Infinity : bound.length === 1 ? bound[0]! : bound[i]!,
    );
  }

  get joints(): number {
    return this.#bound.length;
  }

  /**
   * Write the goal, each element within its bound of the measured position, into `out`; return how
   * many elements were clipped. `goal`, `measured` and `out` have one value per joint (out may be goal).
   */
  clip(goal: ArrayLike<number>, measured: ArrayLike<number>, out: Float64Array): number {
    const n = this.#bound.length;
    if (goal.length !== n || measured.length !== n || out.length !== n)
      throw new RangeError(
        `max_relative_target: goal ${goal.length}, measured ${measured.length} and out ${out.length} values, expected ${n}`,
      );
    let clipped = 0;
    for (let i = 0; i < n; i++) {
      const g = goal[i]!;
      const m = measured[i]!;
      const b = this.#bound[i]!;
      if (!Number.isFinite(g) || !Number.isFinite(m)) {
        out[i] = g;
        continue;
      }
      const lead = g - m;
      if (lead > b) {
        out[i] = m + b;
        clipped++;
      } else if (lead < -b) {
        out[i] = m - b;
        clipped++;
      } else out[i] = g;
    }
    return clipped;
  }
}
