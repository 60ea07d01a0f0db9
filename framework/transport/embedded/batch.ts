// Messages cross a thread boundary in batches: every message one executor turn produced for a
// thread is packed into one ArrayBuffer that is transferred, not copied (one postMessage, one
// transfer, however many messages). Layout: u32 count, then count × (u32 id, u32 length), then
// the payloads back to back, each 8-byte aligned so CDR float64 views stay cheap to read.

export type BatchItem = readonly [id: number, bytes: Uint8Array];

const align8 = (n: number): number => (n + 7) & ~7;

export function packBatch(items: readonly BatchItem[]): ArrayBuffer {
  const headerBytes = align8(4 + 8 * items.length);
  let total = headerBytes;
  for (const [, bytes] of items) total += align8(bytes.byteLength);
  const buffer = new ArrayBuffer(total);
  const header = new Uint32Array(buffer, 0, 1 + 2 * items.length);
  const body = new Uint8Array(buffer);
  header[0] = items.length;
  let offset = headerBytes;
  items.forEach(([id, bytes], i) => {
    header[1 + 2 * i] = id;
    header[2 + 2 * i] = bytes.byteLength;
    body.set(bytes, offset);
    offset += align8(bytes.byteLength);
  });
  return buffer;
}

/** The messages of a batch, as views into its buffer (no copy). */
export function unpackBatch(buffer: ArrayBuffer): BatchItem[] {
  const count = new Uint32Array(buffer, 0, 1)[0]!;
  const header = new Uint32Array(buffer, 0, 1 + 2 * count);
  const items: BatchItem[] = [];
  let offset = align8(4 + 8 * count);
  for (let i = 0; i < count; i++) {
    const length = header[2 + 2 * i]!;
    if (offset + length > buffer.byteLength) throw new Error(`corrupt message batch: item ${i} runs past the end`);
    items.push([header[1 + 2 * i]!, new Uint8Array(buffer, offset, length)]);
    offset += align8(length);
  }
  return items;
}

/** Collects items and sends them as one batch at the end of the current turn. */
export class Outbox {
  #items: BatchItem[] = [];
  #scheduled = false;

  constructor(private readonly send: (buffer: ArrayBuffer) => void) {}

  push(id: number, bytes: Uint8Array): void {
    this.#items.push([id, bytes]);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.flush);
    }
  }

  /** Send what is waiting now (also called before any control message, to keep order). */
  readonly flush = (): void => {
    this.#scheduled = false;
    if (this.#items.length === 0) return;
    const items = this.#items;
    this.#items = [];
    this.send(packBatch(items));
  };
}
