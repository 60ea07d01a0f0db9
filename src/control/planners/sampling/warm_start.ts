// Warm start: the previous plan, moved on by the control steps elapsed since it started, so the
// next optimisation begins where the last one ended (receding horizon). The steps that fall off
// the end are filled with the plan's last action or with a nominal action.

export type ShiftFill = 'last' | Float32Array;

/**
 * out[t] = previous[t + steps] for t + steps < H; the rest from `fill` ('last': the previous
 * plan's last action; an array of nu values: that action). `out` may not alias `previous`.
 */
export function shiftSequence(
  previous: Float32Array,
  nu: number,
  steps: number,
  fill: ShiftFill,
  out: Float32Array = new Float32Array(previous.length),
): Float32Array {
  if (previous.length % nu !== 0)
    throw new Error(`warm start: a sequence of ${previous.length} values is not a whole number of ${nu}-action steps`);
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`warm start: cannot shift by ${steps} steps`);
  if (out === previous) throw new Error('warm start: out must not alias previous');
  const horizon = previous.length / nu;
  const kept = Math.max(0, horizon - steps);
  out.set(previous.subarray(steps * nu, (steps + kept) * nu), 0);
  const tail = fill === 'last' ? previous.subarray((horizon - 1) * nu) : fill;
  if (tail.length !== nu) throw new Error(`warm start: the fill action has ${tail.length} values, expected ${nu}`);
  for (let t = kept; t < horizon; t++) out.set(tail, t * nu);
  return out;
}

/** The action held over the horizon (a cold start). */
export function repeatAction(action: Float32Array, horizon: number): Float32Array {
  const out = new Float32Array(horizon * action.length);
  for (let t = 0; t < horizon; t++) out.set(action, t * action.length);
  return out;
}
