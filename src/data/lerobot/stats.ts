// Feature statistics as LeRobot v3.0 stores them: per episode in the episodes file's
// `stats/<feature>/<stat>` columns, and over the dataset in meta/stats.json. The statistics and
// how they are made follow huggingface/lerobot src/lerobot/datasets/compute_stats.py (commit
// 7427f31):
//   - per episode and per dimension: min, max, mean, std (population, ddof 0), count (frames, as a
//     one-element list), and the quantiles q01 q10 q50 q90 q99 (DEFAULT_QUANTILES);
//   - the quantiles are read off a 5000-bin histogram spanning [min − 1e-10, max + 1e-10] with
//     linear interpolation inside the bin (RunningQuantileStats._compute_single_quantile), so they
//     are within one bin width of the exact ones; with fewer than 2 frames every quantile is the
//     mean (_compute_basic_stats);
//   - the dataset's statistics aggregate the episodes' (aggregate_feature_stats): min of mins, max
//     of maxes, count-weighted mean, the pooled variance Σ nᵢ(σᵢ² + (μᵢ − μ)²)/Σ nᵢ, and for the
//     quantiles the envelope of the episodes' (min for q ≤ 50, max above), which bounds, not
//     estimates, the dataset's quantiles.
// One deliberate difference: LeRobot computes a float32 feature's mean in float32 and its std from
// E[x²] − E[x]²; here everything is float64 and the std is two-pass, so values can differ from
// LeRobot's in the last float32 digits (more accurate, not less).

export const QUANTILES = [0.01, 0.1, 0.5, 0.9, 0.99] as const;
export const QUANTILE_KEYS = ['q01', 'q10', 'q50', 'q90', 'q99'] as const;
/** The statistics of a feature in LeRobot's order (RunningQuantileStats.get_statistics). */
export const STAT_KEYS = ['min', 'max', 'mean', 'std', 'count', ...QUANTILE_KEYS] as const;
export type StatKey = (typeof STAT_KEYS)[number];

/** One feature's statistics: a value per dimension, and count as [frames]. */
export type FeatureStats = Readonly<Record<StatKey, readonly number[]>>;

/** Feature key → its statistics. */
export type DatasetStats = Readonly<Record<string, FeatureStats>>;

const HISTOGRAM_BINS = 5000;

/**
 * Statistics of one feature over one episode: `values` row-major, `rows` frames of `dim` numbers.
 */
export function featureStats(values: ArrayLike<number>, rows: number, dim: number): FeatureStats {
  if (!Number.isSafeInteger(rows) || rows < 1)
    throw new Error(`feature statistics need at least one frame, got ${rows}`);
  if (!Number.isSafeInteger(dim) || dim < 1)
    throw new Error(`feature dimension must be a positive integer, got ${dim}`);
  if (values.length !== rows * dim)
    throw new Error(`feature statistics: ${values.length} values are not ${rows} frames of ${dim}`);
  const min: number[] = [];
  const max: number[] = [];
  const mean: number[] = [];
  const std: number[] = [];
  const quantiles: number[][] = QUANTILES.map(() => []);
  const column = new Float64Array(rows);
  for (let j = 0; j < dim; j++) {
    let lo = Infinity;
    let hi = -Infinity;
    let sum = 0;
    for (let i = 0; i < rows; i++) {
      const v = values[i * dim + j]!;
      column[i] = v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      sum += v;
    }
    const m = sum / rows;
    let squares = 0;
    for (let i = 0; i < rows; i++) squares += (column[i]! - m) ** 2;
    min.push(lo);
    max.push(hi);
    mean.push(m);
    std.push(Math.sqrt(squares / rows));
    const q = rows < 2 ? QUANTILES.map(() => m) : histogramQuantiles(column, lo, hi);
    q.forEach((v, k) => quantiles[k]!.push(v));
  }
  return {
    min,
    max,
    mean,
    std,
    count: [rows],
    q01: quantiles[0]!,
    q10: quantiles[1]!,
    q50: quantiles[2]!,
    q90: quantiles[3]!,
    q99: quantiles[4]!,
  };
}

/** The quantiles of a column from its 5000-bin histogram, as LeRobot's RunningQuantileStats. */
function histogramQuantiles(column: Float64Array, lo: number, hi: number): number[] {
  const first = lo - 1e-10;
  const last = hi + 1e-10;
  const step = (last - first) / HISTOGRAM_BINS;
  const edge = (i: number): number => (i === HISTOGRAM_BINS ? last : first + i * step);
  const counts = new Float64Array(HISTOGRAM_BINS);
  for (const v of column) {
    let b = Math.floor((v - first) / step);
    b = Math.min(Math.max(b, 0), HISTOGRAM_BINS - 1);
    // bins are [edge b, edge b+1), the last one closed: settle rounding at the edges
    if (b > 0 && v < edge(b)) b--;
    else if (b < HISTOGRAM_BINS - 1 && v >= edge(b + 1)) b++;
    counts[b]!++;
  }
  const cumulative = new Float64Array(HISTOGRAM_BINS);
  let total = 0;
  for (let i = 0; i < HISTOGRAM_BINS; i++) cumulative[i] = total += counts[i]!;
  return QUANTILES.map((q) => {
    const target = q * column.length;
    // the first bin whose cumulative count reaches the target (numpy searchsorted, side left)
    let a = 0;
    let b = HISTOGRAM_BINS;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (cumulative[mid]! < target) a = mid + 1;
      else b = mid;
    }
    if (a === 0) return edge(0);
    if (a >= HISTOGRAM_BINS) return edge(HISTOGRAM_BINS);
    const before = cumulative[a - 1]!;
    const inBin = cumulative[a]! - before;
    if (inBin === 0) return edge(a);
    return edge(a) + ((target - before) / inBin) * (edge(a + 1) - edge(a));
  });
}

/** The statistics of the episodes together (LeRobot's aggregate_feature_stats). */
export function aggregateFeatureStats(parts: readonly FeatureStats[]): FeatureStats {
  if (!parts.length) throw new Error('no statistics to aggregate');
  const dim = parts[0]!.mean.length;
  for (const p of parts)
    if (p.mean.length !== dim) throw new Error(`statistics of ${p.mean.length} and ${dim} dimensions do not aggregate`);
  const total = parts.reduce((s, p) => s + p.count[0]!, 0);
  const per = (f: (j: number) => number): number[] => Array.from({ length: dim }, (_, j) => f(j));
  const mean = per((j) => parts.reduce((s, p) => s + p.mean[j]! * p.count[0]!, 0) / total);
  const variance = per(
    (j) => parts.reduce((s, p) => s + (p.std[j]! ** 2 + (p.mean[j]! - mean[j]!) ** 2) * p.count[0]!, 0) / total,
  );
  // by reduce, not Math.min(...spread): a dataset can have more episodes than a call takes arguments
  const least = (key: StatKey): number[] => per((j) => parts.reduce((m, p) => Math.min(m, p[key][j]!), Infinity));
  const most = (key: StatKey): number[] => per((j) => parts.reduce((m, p) => Math.max(m, p[key][j]!), -Infinity));
  return {
    min: least('min'),
    max: most('max'),
    mean,
    std: variance.map(Math.sqrt),
    count: [total],
    q01: least('q01'),
    q10: least('q10'),
    q50: least('q50'),
    q90: most('q90'),
    q99: most('q99'),
  };
}

/** The dataset's statistics from the episodes', feature by feature. */
export function aggregateStats(episodes: readonly DatasetStats[]): DatasetStats {
  const keys = [...new Set(episodes.flatMap((e) => Object.keys(e)))];
  return Object.fromEntries(keys.map((k) => [k, aggregateFeatureStats(episodes.flatMap((e) => (e[k] ? [e[k]] : [])))]));
}
