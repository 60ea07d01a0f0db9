import type { Clock as ClockMessage } from '../msgs/types.js';
import { nsToTime, periodNsFromHz } from '../time/time.js';
import type { BagMessage, BagReader } from './bag_reader.js';

// Replays a bag at its recorded pace (times a rate), as `ros2 bag play` does: each message is
// handed out when the wall time since the start of playback, times the rate, reaches its log time
// since the start of the bag; optionally in a loop, for some topics only, and with /clock stamps
// (rosgraph_msgs/msg/Clock, the bag's time) at a fixed wall rate like `ros2 bag play --clock`.
// Transport-free: messages and stamps go to callbacks, and time comes from an injected clock, so
// the CLI publishes them and tests replay instantly.

/** The time playback runs on: a monotonic now and a sleep until a moment of it. */
export interface PlayClock {
  now(): bigint;
  /** resolve at `ns` of now() or soon after, or early when `signal` aborts */
  sleepUntil(ns: bigint, signal?: AbortSignal): Promise<void>;
}

/** The machine's monotonic clock with setTimeout sleeps. */
export function wallPlayClock(): PlayClock {
  const now = (): bigint => process.hrtime.bigint();
  return {
    now,
    sleepUntil(ns, signal) {
      const ms = Number(ns - now()) / 1e6;
      if (ms <= 0 || signal?.aborted) return Promise.resolve();
      return new Promise((done) => {
        const onAbort = (): void => {
          clearTimeout(timer);
          done();
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          done();
        }, Math.ceil(ms));
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}

export interface PlayOptions {
  /** playback speed: 2 plays twice as fast (default 1) */
  readonly rate?: number;
  /** start again from the beginning at the end, until stopped (default false) */
  readonly loop?: boolean;
  /** only these topics (default all) */
  readonly topics?: readonly string[];
  /** play from / up to these log times (inclusive) */
  readonly startNs?: bigint;
  readonly endNs?: bigint;
  readonly clock?: PlayClock;
  /** publish /clock stamps at this many Hz of wall time (default 0: none) */
  readonly clockHz?: number;
  /** stops playback (the promise resolves with stopped: true) */
  readonly signal?: AbortSignal;
  /** each message, when due; playback waits for a returned promise */
  onMessage(message: BagMessage): void | Promise<void>;
  /** each /clock stamp */
  onClock?(stamp: ClockMessage): void;
}

export interface PlayResult {
  readonly messages: number;
  /** passes over the bag completed */
  readonly passes: number;
  readonly stopped: boolean;
}

/** Play `reader`'s messages to the callbacks; resolves at the end (never, with loop, until stopped). */
export async function playBag(reader: BagReader, options: PlayOptions): Promise<PlayResult> {
  const rate = options.rate ?? 1;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new Error(`play rate ${rate} must be a positive finite number`);
  const clock = options.clock ?? wallPlayClock();
  const signal = options.signal;
  const clockPeriod = options.clockHz ? periodNsFromHz(options.clockHz) : undefined;
  const scale = (ns: bigint, by: number): bigint => BigInt(Math.round(Number(ns) * by));
  let messages = 0;
  let passes = 0;
  const filter = {
    ...(options.topics ? { topics: options.topics } : {}),
    ...(options.startNs !== undefined ? { startNs: options.startNs } : {}),
    ...(options.endNs !== undefined ? { endNs: options.endNs } : {}),
  };
  for (;;) {
    let bagStart: bigint | undefined;
    let wallStart = clock.now();
    let nextStamp = wallStart;
    const stamp = (wall: bigint): void => {
      if (bagStart === undefined) return;
      options.onClock?.({ clock: nsToTime(bagStart + scale(wall - wallStart, rate)) });
    };
    let played = 0;
    for await (const m of reader.messages(filter)) {
      if (signal?.aborted) return { messages, passes, stopped: true };
      if (bagStart === undefined) {
        bagStart = options.startNs !== undefined && options.startNs < m.logTimeNs ? options.startNs : m.logTimeNs;
        wallStart = clock.now();
        nextStamp = wallStart;
      }
      const due = wallStart + scale(m.logTimeNs - bagStart, 1 / rate);
      if (clockPeriod !== undefined) {
        while (nextStamp <= due) {
          await clock.sleepUntil(nextStamp, signal);
          if (signal?.aborted) return { messages, passes, stopped: true };
          stamp(nextStamp);
          nextStamp += clockPeriod;
        }
      }
      await clock.sleepUntil(due, signal);
      if (signal?.aborted) return { messages, passes, stopped: true };
      await options.onMessage(m);
      messages++;
      played++;
    }
    passes++;
    if (!options.loop || played === 0 || signal?.aborted)
      return { messages, passes, stopped: signal?.aborted ?? false };
  }
}
