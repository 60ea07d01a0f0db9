import type { StampedSample, StampNs } from './resample.js';
import { toNs } from './resample.js';

// Continuous recorded streams cut into episodes by the episode events that came with them.
// Episodes are told, not guessed (as in src/data/transitions.ts): a source says START with the
// stamp of an episode's first state and END with the stamp of its last (dynastack_msgs/EpisodeEvent);
// a recorder adds the task being done and whether the take is thrown away (LeRobot's recorder
// re-records an episode on ←, lerobot_record.py, so the take is discarded, not saved).
//
// Events go by their stamps, not by the order they came in. A START while an episode is open, an
// END of an episode that did not start or that is another's, or an END before its START is an
// error naming both. An episode still open when the events run out (a recording stopped mid-take)
// is closed at the last state sample and marked `unterminated`. With no events at all the whole
// recording is one episode.
//
// An episode's streams are its samples stamped from its start to its end, plus each stream's
// latest sample before the start: the command in force when the episode began, and the state to
// hold at its first frame if the first state came a little late.

export interface EpisodeEvent {
  readonly kind: 'start' | 'end';
  /** start: the stamp of the episode's first state; end: the stamp of its last state */
  readonly stampNs: StampNs;
  /** the source's index of the episode */
  readonly episode: number;
  /** the task being done; given at the start, the end, or both (the end's wins) */
  readonly task?: string;
  /** the take is thrown away (on either event) */
  readonly discard?: boolean;
}

export interface CutOptions {
  readonly state: readonly StampedSample[];
  readonly action: readonly StampedSample[];
  readonly events: readonly EpisodeEvent[];
  /** the task of an episode whose events name none */
  readonly defaultTask?: string;
}

export interface CutEpisode {
  readonly sourceEpisode: number;
  readonly task: string;
  readonly startNs: bigint;
  readonly endNs: bigint;
  /** the events ran out before its END: closed at the last state sample */
  readonly unterminated: boolean;
  readonly state: StampedSample[];
  readonly action: StampedSample[];
}

export interface DiscardedEpisode {
  readonly sourceEpisode: number;
  readonly task: string | undefined;
  readonly startNs: bigint;
  readonly endNs: bigint;
}

export interface CutResult {
  /** the kept episodes, in time order */
  readonly episodes: CutEpisode[];
  readonly discarded: DiscardedEpisode[];
}

interface Stream {
  readonly stamps: bigint[];
  readonly samples: StampedSample[];
}

function sortedStream(name: string, samples: readonly StampedSample[]): Stream {
  const items = samples.map((s, i) => ({ stamp: toNs(s.stampNs, `${name} sample ${i} stamp`), s }));
  if (items.some((it, i) => i > 0 && it.stamp < items[i - 1]!.stamp))
    items.sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : 0));
  return { stamps: items.map((it) => it.stamp), samples: items.map((it) => it.s) };
}

/** Index of the first stamp ≥ t (or the length). */
function firstAtOrAfter(stamps: readonly bigint[], t: bigint): number {
  let lo = 0;
  let hi = stamps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (stamps[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The samples from `start` to `end`, with the latest one before `start` first. */
function slice(stream: Stream, start: bigint, end: bigint): StampedSample[] {
  const from = firstAtOrAfter(stream.stamps, start);
  const to = firstAtOrAfter(stream.stamps, end + 1n);
  return stream.samples.slice(Math.max(from - 1, 0), to);
}

interface Open {
  readonly episode: number;
  readonly startNs: bigint;
  task: string | undefined;
  discard: boolean;
}

/** Cut the streams into the episodes the events declare; discarded takes are listed apart. */
export function cutEpisodes(options: CutOptions): CutResult {
  const state = sortedStream('state', options.state);
  const action = sortedStream('action', options.action);
  const lastState = state.stamps.at(-1);
  if (lastState === undefined) throw new Error('no state samples to cut into episodes');
  const events = options.events
    .map((e, i) => {
      const kind: string = e.kind; // callers in plain JavaScript can pass anything
      if (kind !== 'start' && kind !== 'end')
        throw new Error(`episode event ${i}: kind must be 'start' or 'end', got '${kind}'`);
      if (!Number.isSafeInteger(e.episode) || e.episode < 0)
        throw new Error(`episode event ${i}: episode must be a non-negative integer, got ${e.episode}`);
      return { ...e, stamp: toNs(e.stampNs, `episode event ${i} stamp`), order: i };
    })
    // by stamp; at one stamp an END before a START (one episode's last state, then the next's first)
    .sort((a, b) =>
      a.stamp !== b.stamp
        ? a.stamp < b.stamp
          ? -1
          : 1
        : a.kind !== b.kind
          ? a.kind === 'end'
            ? -1
            : 1
          : a.order - b.order,
    );
  if (!events.length)
    events.push({ kind: 'start', stampNs: state.stamps[0]!, stamp: state.stamps[0]!, episode: 0, order: 0 });

  const episodes: CutEpisode[] = [];
  const discarded: DiscardedEpisode[] = [];
  const close = (open: Open, endNs: bigint, unterminated: boolean): void => {
    const task = open.task ?? options.defaultTask;
    if (open.discard) {
      discarded.push({ sourceEpisode: open.episode, task, startNs: open.startNs, endNs });
      return;
    }
    if (task === undefined || task === '')
      throw new Error(
        `episode ${open.episode} (from ${open.startNs} ns) has no task: give one in its events or defaultTask`,
      );
    const s = slice(state, open.startNs, endNs);
    if (!s.some((x) => toNs(x.stampNs) >= open.startNs))
      throw new Error(`episode ${open.episode} (${open.startNs} to ${endNs} ns) has no state sample`);
    episodes.push({
      sourceEpisode: open.episode,
      task,
      startNs: open.startNs,
      endNs,
      unterminated,
      state: s,
      action: slice(action, open.startNs, endNs),
    });
  };

  let open: Open | undefined;
  for (const e of events) {
    if (e.kind === 'start') {
      if (open)
        throw new Error(
          `episode ${e.episode} starts at ${e.stamp} ns while episode ${open.episode} (started at ${open.startNs} ns) has not ended`,
        );
      open = { episode: e.episode, startNs: e.stamp, task: e.task, discard: e.discard ?? false };
      continue;
    }
    if (!open) throw new Error(`episode ${e.episode} ends at ${e.stamp} ns but no episode is open`);
    if (open.episode !== e.episode)
      throw new Error(`episode ${e.episode} ends at ${e.stamp} ns but the open episode is ${open.episode}`);
    if (e.stamp < open.startNs)
      throw new Error(`episode ${e.episode} ends at ${e.stamp} ns, before its start at ${open.startNs} ns`);
    if (e.task !== undefined) open.task = e.task;
    if (e.discard) open.discard = true;
    close(open, e.stamp, false);
    open = undefined;
  }
  if (open) {
    if (lastState < open.startNs)
      throw new Error(`episode ${open.episode} starts at ${open.startNs} ns, after the last state (${lastState} ns)`);
    close(open, lastState, true);
  }
  return { episodes, discarded };
}
