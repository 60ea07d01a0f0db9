// Action bounds, per action dimension, applied to row-major sequences (any number of H × nu
// blocks back to back): every sequence a planner evaluates or returns lies inside them.

/** Clip in place; `values.length` must be a multiple of nu = low.length. */
export function clipToBounds(values: Float32Array, low: Float32Array, high: Float32Array): Float32Array {
  const nu = low.length;
  for (let i = 0; i < values.length; i++) {
    const j = i % nu;
    const v = values[i]!;
    // NaN (a poisoned warm start) becomes the lower bound rather than escaping the box
    values[i] = v >= low[j]! ? (v <= high[j]! ? v : high[j]!) : low[j]!;
  }
  return values;
}

export function withinBounds(values: Float32Array, low: Float32Array, high: Float32Array): boolean {
  const nu = low.length;
  for (let i = 0; i < values.length; i++) {
    const j = i % nu;
    if (!(values[i]! >= low[j]! && values[i]! <= high[j]!)) return false;
  }
  return true;
}

/** Throw unless the bounds are finite, of one length, and low ≤ high. */
export function checkBounds(low: Float32Array, high: Float32Array, who: string): void {
  if (low.length !== high.length) throw new Error(`${who}: ${low.length} lower bounds but ${high.length} upper bounds`);
  for (let j = 0; j < low.length; j++) {
    if (!Number.isFinite(low[j]!) || !Number.isFinite(high[j]!) || low[j]! > high[j]!) {
      throw new Error(`${who}: action ${j} has bounds [${low[j]}, ${high[j]}]; sampling needs finite low ≤ high`);
    }
  }
}

/** (low + high) / 2 per action dimension: the neutral action a cold start holds. */
export function midpoint(low: Float32Array, high: Float32Array): Float32Array {
  return low.map((l, j) => (l + high[j]!) / 2);
}

/** (high − low) / 4 per dimension, tiled over the horizon: the PETS / mbrl-lib initial std. */
export function quarterRange(low: Float32Array, high: Float32Array, horizon: number): Float32Array {
  const nu = low.length;
  const out = new Float32Array(horizon * nu);
  for (let i = 0; i < out.length; i++) out[i] = (high[i % nu]! - low[i % nu]!) / 4;
  return out;
}
