// Nearest-rank percentiles, as the loop/bus statistics and the benchmarks report them.

/** The p-th percentile (0–100) of ascending `sorted` by nearest rank; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const sortNumbers = (xs: Iterable<number>): number[] => [...xs].sort((a, b) => a - b);

/** The median: the middle value, or the mean of the two middle values for an even count; NaN when empty. */
export function median(xs: readonly number[]): number {
  const s = sortNumbers(xs);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
