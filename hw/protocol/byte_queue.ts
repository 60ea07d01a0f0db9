// The received bytes a streaming decoder has not consumed yet, as one growable window over a reused
// Uint8Array: chunks are appended at `end`, the decoder consumes from `start`. Both servo decoders
// scan `bytes` between `start` and `end` directly (plain fields, no accessor in their inner loops);
// a chunk costs no allocation unless the window outgrows its array.

/** an idle array larger than this (after a huge chunk) is given back */
const RETAINED_CAPACITY = 64 * 1024;

export class ByteQueue {
  /** the backing array; valid bytes are [start, end). Replaced when the queue grows or is given back. */
  bytes: Uint8Array;
  /** first unconsumed byte */
  start = 0;
  /** one past the last received byte */
  end = 0;

  constructor(readonly initialCapacity: number) {
    if (!Number.isInteger(initialCapacity) || initialCapacity < 1)
      throw new Error(`ByteQueue: initial capacity must be a positive integer, got ${initialCapacity}`);
    this.bytes = new Uint8Array(initialCapacity);
  }

  /** bytes received and not consumed */
  get length(): number {
    return this.end - this.start;
  }

  /** Adds `chunk` after the held bytes: moves them to the front, or into an array twice as large, when the tail has no room. */
  append(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.end + n > this.bytes.length) {
      const live = this.end - this.start;
      if (live + n > this.bytes.length) {
        let capacity = this.bytes.length * 2;
        while (capacity < live + n) capacity *= 2;
        const bigger = new Uint8Array(capacity);
        bigger.set(this.bytes.subarray(this.start, this.end));
        this.bytes = bigger;
      } else {
        this.bytes.copyWithin(0, this.start, this.end);
      }
      this.start = 0;
      this.end = live;
    }
    this.bytes.set(chunk, this.end);
    this.end += n;
  }

  /** Drops every held byte. */
  clear(): void {
    this.start = 0;
    this.end = 0;
  }

  /**
   * When every byte is consumed: rewinds to the front of the array and gives back an array grown
   * past RETAINED_CAPACITY. Returns whether the queue was empty.
   */
  rewindIfEmpty(): boolean {
    if (this.start !== this.end) return false;
    this.clear();
    if (this.bytes.length > RETAINED_CAPACITY) this.bytes = new Uint8Array(this.initialCapacity);
    return true;
  }
}
