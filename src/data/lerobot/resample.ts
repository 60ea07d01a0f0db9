// Recorded streams on LeRobot's frame grid. A LeRobot dataset has one row per frame at a fixed
// fps, frame k of an episode at timestamp k/fps from its start (add_frame in LeRobot's
// datasets/dataset_writer.py sets timestamp = frame_index / fps), holding the observation read and
// the action sent at that tick (record_loop in src/lerobot/scripts/lerobot_record.py). A bag has
// stamped samples at their own rates instead; this puts them on the grid.
//
// Frame k of an episode is at startNs + ⌊k·10⁹/fps⌋ ns, for every such time up to and including
// endNs (an episode's end is the stamp of its last state, as in dynastack_msgs/EpisodeEvent). A
// stream's value at a frame is, by default, a zero-order hold: the latest sample stamped at or
// before the frame's time — what the robot had read, or had been told, at that moment, and what a
// live recorder would have stored. `method: 'linear'` interpolates between that sample and the
// next one instead (smoother for a state sampled slower than the frames; it looks ahead in time,
// which a live recorder cannot). Frames before a stream's first sample take that first sample
// (nothing earlier is known) and count as a gap when that stretch is long.
//
// A gap is a stretch with no sample of a stream longer than maxGapFrames frame periods (from the
// episode's start to the first sample, between two samples, or from the last sample to the end):
// the frames in it repeat an old value, so it is reported with the stream, the times and the
// frames it covers, for the caller to warn about or drop the episode.

/** A time stamp in nanoseconds: a bigint, or a number that is a safe integer. */
export type StampNs = bigint | number;

export interface StampedSample {
  readonly stampNs: StampNs;
  readonly values: ArrayLike<number>;
}

export type ResampleMethod = 'hold' | 'linear';

/** Gaps longer than this many frame periods are reported (default). */
export const DEFAULT_MAX_GAP_FRAMES = 3;

export interface FrameGrid {
  /** frames per second, a positive integer as LeRobot's info.json has it */
  readonly fps: number;
  readonly startNs: StampNs;
  /** the last frame is at or before this stamp */
  readonly endNs: StampNs;
}

export interface ResampleOptions extends FrameGrid {
  /** zero-order hold (default) or linear interpolation */
  readonly method?: ResampleMethod;
  /** report silences longer than this many frame periods (default DEFAULT_MAX_GAP_FRAMES) */
  readonly maxGapFrames?: number;
}

export interface StreamGap {
  readonly stream: string;
  /** the last sample before the gap, or the episode's start if none */
  readonly fromNs: bigint;
  /** the first sample after the gap, or the episode's end if none */
  readonly toNs: bigint;
  /** the frames whose time falls inside (fromNs, toNs) */
  readonly firstFrame: number;
  readonly frames: number;
}

export interface ResampledStream {
  /** one row per frame */
  readonly values: Float32Array[];
  readonly gaps: StreamGap[];
}

export interface ResampledFrame {
  readonly state: Float32Array;
  readonly action: Float32Array;
}

export interface ResampledEpisode {
  readonly frames: ResampledFrame[];
  /** the gaps of both streams, by time */
  readonly gaps: StreamGap[];
}

/** A stamp as a bigint; a number must be a safe integer. */
export function toNs(stamp: StampNs, what = 'stamp'): bigint {
  if (typeof stamp === 'bigint') return stamp;
  if (!Number.isSafeInteger(stamp)) throw new Error(`${what} ${stamp} is not an integer number of nanoseconds`);
  return BigInt(stamp);
}

function checkFps(fps: number): bigint {
  if (!Number.isSafeInteger(fps) || fps < 1) throw new Error(`fps must be a positive integer, got ${fps}`);
  return BigInt(fps);
}

/** The time of frame k: startNs + ⌊k·10⁹/fps⌋. */
export function frameTimeNs(startNs: StampNs, fps: number, k: number): bigint {
  return toNs(startNs, 'episode start') + (BigInt(k) * 1_000_000_000n) / checkFps(fps);
}

/** The frames of an episode: those at or before its end. */
export function frameCount(grid: FrameGrid): number {
  const start = toNs(grid.startNs, 'episode start');
  const end = toNs(grid.endNs, 'episode end');
  if (end < start) throw new Error(`episode ends (${end} ns) before it starts (${start} ns)`);
  // the largest k with ⌊k·10⁹/fps⌋ ≤ end − start is ⌊(end − start)·fps/10⁹⌋
  return Number(((end - start) * checkFps(grid.fps)) / 1_000_000_000n) + 1;
}

interface Prepared {
  readonly stamps: bigint[];
  readonly rows: Float64Array[];
}

function prepare(name: string, samples: readonly StampedSample[]): Prepared {
  if (!samples.length) throw new Error(`stream '${name}' has no samples`);
  const width = samples[0]!.values.length;
  const items = samples.map((s, i) => {
    const stamp = toNs(s.stampNs, `stream '${name}' sample ${i} stamp`);
    if (s.values.length !== width)
      throw new Error(`stream '${name}' sample ${i} has ${s.values.length} values, the first has ${width}`);
    const row = Float64Array.from(s.values);
    if (!row.every(Number.isFinite)) throw new Error(`stream '${name}' sample ${i} (at ${stamp} ns) is not finite`);
    return { stamp, row };
  });
  // stamp order; a stable sort keeps the later of two samples with one stamp last (it wins the hold)
  if (items.some((it, i) => i > 0 && it.stamp < items[i - 1]!.stamp))
    items.sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : 0));
  return { stamps: items.map((it) => it.stamp), rows: items.map((it) => it.row) };
}

/** Index of the latest stamp ≤ t, or −1. */
function latestAtOrBefore(stamps: readonly bigint[], t: bigint): number {
  let lo = 0;
  let hi = stamps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (stamps[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** One stream on the frame grid of an episode. */
export function resampleStream(
  name: string,
  samples: readonly StampedSample[],
  options: ResampleOptions,
): ResampledStream {
  const method: string = options.method ?? 'hold'; // callers in plain JavaScript can pass anything
  if (method !== 'hold' && method !== 'linear')
    throw new Error(`resampling method must be 'hold' or 'linear', got '${method}'`);
  const maxGapFrames = options.maxGapFrames ?? DEFAULT_MAX_GAP_FRAMES;
  if (!(maxGapFrames > 0)) throw new Error(`maxGapFrames must be positive, got ${maxGapFrames}`);
  const start = toNs(options.startNs, 'episode start');
  const end = toNs(options.endNs, 'episode end');
  const n = frameCount(options);
  const { stamps, rows } = prepare(name, samples);
  const times = Array.from({ length: n }, (_, k) => frameTimeNs(start, options.fps, k));
  const values = times.map((t) => {
    const i = latestAtOrBefore(stamps, t);
    if (i < 0) return Float32Array.from(rows[0]!);
    const next = i + 1 < stamps.length ? i + 1 : -1;
    if (method === 'hold' || next < 0 || stamps[i] === t) return Float32Array.from(rows[i]!);
    const w = Number(t - stamps[i]!) / Number(stamps[next]! - stamps[i]!);
    const a = rows[i]!;
    const b = rows[next]!;
    return Float32Array.from(a, (v, j) => v + w * (b[j]! - v));
  });
  return { values, gaps: findGaps(name, stamps, start, end, times, options.fps, maxGapFrames) };
}

function findGaps(
  name: string,
  stamps: readonly bigint[],
  start: bigint,
  end: bigint,
  times: readonly bigint[],
  fps: number,
  maxGapFrames: number,
): StreamGap[] {
  const limitNs = (maxGapFrames * 1e9) / fps;
  // the silences inside the episode: its start to the first sample in it, between samples, the last to its end
  const inside = stamps.filter((s) => s > start && s < end);
  const before = stamps.filter((s) => s <= start).at(-1);
  const points = [before ?? start, ...inside, stamps.some((s) => s >= end) ? stamps.find((s) => s >= end)! : end];
  const gaps: StreamGap[] = [];
  for (let i = 1; i < points.length; i++) {
    const from = points[i - 1]!;
    const to = points[i]!;
    if (Number(to - from) <= limitNs) continue;
    // with no sample before the episode, its first frames have none either: they are in the gap
    const first = times.findIndex((t) => (i === 1 && before === undefined ? t >= from : t > from));
    const after = times.findIndex((t) => t >= to);
    const last = after < 0 ? times.length : after;
    if (first < 0 || last <= first) continue;
    gaps.push({ stream: name, fromNs: from, toNs: to, firstFrame: first, frames: last - first });
  }
  return gaps;
}

/** An episode's state and action streams on its frame grid. */
export function resampleEpisode(
  streams: { readonly state: readonly StampedSample[]; readonly action: readonly StampedSample[] },
  options: ResampleOptions,
): ResampledEpisode {
  const state = resampleStream('state', streams.state, options);
  const action = resampleStream('action', streams.action, options);
  return {
    frames: state.values.map((s, k) => ({ state: s, action: action.values[k]! })),
    gaps: [...state.gaps, ...action.gaps].sort((a, b) => (a.fromNs < b.fromNs ? -1 : a.fromNs > b.fromNs ? 1 : 0)),
  };
}
