// The cross-entropy update shared by CEM and iCEM: pick the k cheapest sequences, fit a
// per-element Gaussian to them, and blend it into the sampling distribution
// (mbrl-lib / PETS: new = α·old + (1 − α)·elite statistic, on mean and variance).

/** Indices of the k lowest costs, cheapest first (ties in index order, so runs repeat). */
export function eliteIndices(costs: Float32Array, k: number, out: Uint32Array = new Uint32Array(k)): Uint32Array {
  const order = Array.from({ length: costs.length }, (_, i) => i);
  order.sort((a, b) => costs[a]! - costs[b]! || a - b);
  for (let i = 0; i < k; i++) out[i] = order[i]!;
  return out;
}

/**
 * mean ← α·mean + (1 − α)·elite mean, variance ← α·variance + (1 − α)·elite variance (the biased
 * one, as mbrl-lib), then std = max(√variance, minStd). `population` is rows of `size` values.
 */
export function refit(
  population: Float32Array,
  size: number,
  elites: Uint32Array,
  alpha: number,
  minStd: number,
  mean: Float32Array,
  variance: Float32Array,
  std: Float32Array,
): void {
  const k = elites.length;
  for (let d = 0; d < size; d++) {
    let m = 0;
    for (let e = 0; e < k; e++) m += population[elites[e]! * size + d]!;
    m /= k;
    let v = 0;
    for (let e = 0; e < k; e++) v += (population[elites[e]! * size + d]! - m) ** 2;
    v /= k;
    mean[d] = alpha * mean[d]! + (1 - alpha) * m;
    variance[d] = alpha * variance[d]! + (1 - alpha) * v;
    std[d] = Math.max(Math.sqrt(variance[d]!), minStd);
  }
}
