import type { DecodeEvent } from './types.js';

// The bookkeeping both streaming decoders share for the events a push returns: skipped bytes
// gathered into one garbage event per run, and the record of why a frame was refused. One of each
// lives as long as its decoder, so a push allocates nothing here but its events array.

/** The events of one push, in stream order; skipped bytes become one garbage event per run. */
export class PushEvents<P> {
  #events: DecodeEvent<P>[] = [];
  /** skipped bytes not yet reported */
  #garbage = 0;

  /** Starts the events of a new push. */
  begin(): void {
    this.#events = [];
    this.#garbage = 0;
  }

  /** Bytes skipped while looking for a header. */
  skip(bytes: number): void {
    this.#garbage += bytes;
  }

  /** A packet or corrupt frame, after the garbage skipped before it. */
  add(event: DecodeEvent<P>): void {
    this.#flushGarbage();
    this.#events.push(event);
  }

  /** The push's events, ending with any garbage skipped after the last one. */
  finish(): DecodeEvent<P>[] {
    this.#flushGarbage();
    return this.#events;
  }

  #flushGarbage(): void {
    if (this.#garbage === 0) return;
    this.#events.push({ kind: 'garbage', bytes: this.#garbage });
    this.#garbage = 0;
  }
}

/** Why the frame a decoder checked last was refused: its corrupt event's reason and how far the check reached. */
export class FrameRejection {
  bytes = 0;
  reason = '';

  /** Records the refusal; returns -1, the checks' "refused" verdict. */
  refuse(bytes: number, reason: string): -1 {
    this.bytes = bytes;
    this.reason = reason;
    return -1;
  }
}
