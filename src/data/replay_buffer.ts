import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import type { TransitionData } from './transition_data.js';
import type { Rng } from '../util/random.js';
import { writeFileAtomic, writeFileAtomicAsync } from '../util/atomic_file.js';

// A bounded FIFO of transitions (s, a, s′) in flat Float32Arrays, the form the ensemble trains on;
// the oldest is dropped when full. It is saved as a small binary file, written atomically
// (src/util/atomic_file.ts) so that a crash mid-save leaves the previous file whole:
//
//   'DSRB' | uint32 LE header length | header JSON (space-padded to 4 bytes) | float32 LE data
//
// with the data as count states, then count actions, then count next states, oldest first.

const MAGIC = 'DSRB';
const FORMAT = 'dynastack-replay/1';

export interface ReplayBufferOptions {
  readonly capacity: number;
  readonly stateSize: number;
  readonly actionSize: number;
  /** what the numbers mean (joint names, period), kept in the file's header */
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** One transition to add: a TransitionSample, or any (s, a, s′). */
export interface TransitionLike {
  readonly state: ArrayLike<number>;
  readonly action: ArrayLike<number>;
  readonly nextState: ArrayLike<number>;
}

interface Header {
  format: string;
  stateSize: number;
  actionSize: number;
  capacity: number;
  count: number;
  meta: Record<string, unknown>;
}

/** A header as read from a file, before the checks: any format, and meta may be missing. */
type StoredHeader = Omit<Header, 'format' | 'meta'> & { format: unknown; meta?: Header['meta'] };

export class ReplayBuffer {
  readonly capacity: number;
  readonly stateSize: number;
  readonly actionSize: number;
  readonly meta: Readonly<Record<string, unknown>>;
  readonly #states: Float32Array;
  readonly #actions: Float32Array;
  readonly #nextStates: Float32Array;
  /** slot of the oldest transition */
  #head = 0;
  #size = 0;
  #added = 0;

  constructor(options: ReplayBufferOptions) {
    for (const key of ['capacity', 'stateSize', 'actionSize'] as const) {
      const v = options[key];
      if (!Number.isSafeInteger(v) || v < 1)
        throw new Error(`replay buffer ${key} must be a positive integer, got ${v}`);
    }
    this.capacity = options.capacity;
    this.stateSize = options.stateSize;
    this.actionSize = options.actionSize;
    this.meta = { ...options.meta };
    this.#states = new Float32Array(this.capacity * this.stateSize);
    this.#actions = new Float32Array(this.capacity * this.actionSize);
    this.#nextStates = new Float32Array(this.capacity * this.stateSize);
  }

  /** transitions held */
  get size(): number {
    return this.#size;
  }

  /** transitions ever added (those dropped included) */
  get added(): number {
    return this.#added;
  }

  add(t: TransitionLike): void {
    const { stateSize: S, actionSize: A } = this;
    if (t.state.length !== S || t.nextState.length !== S || t.action.length !== A) {
      throw new Error(
        `transition of sizes (${t.state.length}, ${t.action.length}, ${t.nextState.length}) does not fit a replay buffer of state size ${S} and action size ${A}`,
      );
    }
    const slot = (this.#head + this.#size) % this.capacity;
    this.#states.set(t.state, slot * S);
    this.#actions.set(t.action, slot * A);
    this.#nextStates.set(t.nextState, slot * S);
    if (this.#size < this.capacity) this.#size++;
    else this.#head = (this.#head + 1) % this.capacity;
    this.#added++;
  }

  /** `batch` transitions drawn uniformly, with replacement. */
  sample(batch: number, rng: Rng): TransitionData {
    if (!this.#size) throw new Error('cannot sample an empty replay buffer');
    const out = this.#allocate(batch);
    for (let i = 0; i < batch; i++) this.#copy(Math.floor(rng.uniform() * this.#size), out, i);
    return out;
  }

  /** Every transition, oldest first, in arrays of their own (to hand to the ensemble or a worker). */
  toTransitionData(): TransitionData {
    const out = this.#allocate(this.#size);
    for (let i = 0; i < this.#size; i++) this.#copy(i, out, i);
    return out;
  }

  /** Write the buffer to `path` atomically (a temporary file beside it, then a rename). */
  save(path: string): void {
    writeFileAtomic(path, this.#fileChunks());
  }

  /**
   * `save` without blocking the thread while the data goes to disk: what is saved is the buffer as
   * it is at the call (transitions added meanwhile are not in this save).
   */
  saveAsync(path: string): Promise<void> {
    return writeFileAtomicAsync(path, this.#fileChunks());
  }

  /**
   * Read a buffer saved by `save`. `expect` states what the caller needs; a file that differs, or
   * is not a whole replay-buffer file, throws an error naming the file and what is wrong.
   * `capacity` overrides the saved one (the newest transitions are kept if it is smaller).
   */
  static load(path: string, expect: { stateSize?: number; actionSize?: number; capacity?: number } = {}): ReplayBuffer {
    const fail = (what: string): Error => new Error(`replay buffer file ${path}: ${what}`);
    let file: Buffer;
    try {
      file = readFileSync(path);
    } catch (err) {
      throw fail(`cannot read it (${(err as Error).message})`);
    }
    if (endianness() !== 'LE') throw fail('this machine is big-endian; the file holds little-endian floats');
    if (file.length < 8 || file.toString('latin1', 0, 4) !== MAGIC)
      throw fail(`not a replay buffer file (it does not start with '${MAGIC}')`);
    const headerLength = file.readUInt32LE(4);
    if (8 + headerLength > file.length)
      throw fail(`truncated: the header says ${headerLength} bytes, the file has ${file.length - 8} after the prefix`);
    let header: StoredHeader;
    try {
      header = JSON.parse(file.toString('utf8', 8, 8 + headerLength)) as StoredHeader;
    } catch (err) {
      throw fail(`corrupt header (${(err as Error).message})`);
    }
    if (header.format !== FORMAT) throw fail(`format '${String(header.format)}', expected '${FORMAT}'`);
    for (const key of ['stateSize', 'actionSize', 'capacity', 'count'] as const) {
      if (!Number.isSafeInteger(header[key]) || header[key] < 0)
        throw fail(`corrupt header: ${key} is ${JSON.stringify(header[key])}`);
    }
    const { stateSize: S, actionSize: A, count } = header;
    if (expect.stateSize !== undefined && expect.stateSize !== S)
      throw fail(`it holds states of size ${S}, expected ${expect.stateSize}`);
    if (expect.actionSize !== undefined && expect.actionSize !== A)
      throw fail(`it holds actions of size ${A}, expected ${expect.actionSize}`);
    const dataBytes = 4 * count * (2 * S + A);
    const start = 8 + headerLength;
    if (file.length - start !== dataBytes)
      throw fail(
        `${file.length - start} bytes of data, but ${count} transitions of sizes (${S}, ${A}, ${S}) take ${dataBytes} (truncated or corrupt)`,
      );
    // copy out: the read buffer's offset need not be 4-byte aligned
    const floats = new Float32Array(file.buffer.slice(file.byteOffset + start, file.byteOffset + start + dataBytes));
    const states = floats.subarray(0, count * S);
    const actions = floats.subarray(count * S, count * (S + A));
    const nextStates = floats.subarray(count * (S + A));
    const buffer = new ReplayBuffer({
      capacity: expect.capacity ?? Math.max(header.capacity, count, 1),
      stateSize: S,
      actionSize: A,
      meta: header.meta ?? {},
    });
    for (let i = Math.max(0, count - buffer.capacity); i < count; i++) {
      buffer.add({
        state: states.subarray(i * S, (i + 1) * S),
        action: actions.subarray(i * A, (i + 1) * A),
        nextState: nextStates.subarray(i * S, (i + 1) * S),
      });
    }
    return buffer;
  }

  /** the file's bytes, from a copy of the buffer as it is now */
  #fileChunks(): Uint8Array[] {
    const data = this.toTransitionData();
    const header: Header = {
      format: FORMAT,
      stateSize: this.stateSize,
      actionSize: this.actionSize,
      capacity: this.capacity,
      count: data.n,
      meta: { ...this.meta },
    };
    let json = JSON.stringify(header);
    json += ' '.repeat((4 - ((8 + Buffer.byteLength(json)) % 4)) % 4);
    const prefix = Buffer.alloc(8);
    prefix.write(MAGIC, 0, 'latin1');
    prefix.writeUInt32LE(Buffer.byteLength(json), 4);
    const bytes = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    return [prefix, Buffer.from(json), bytes(data.states), bytes(data.actions), bytes(data.nextStates)];
  }

  #allocate(n: number): TransitionData {
    return {
      states: new Float32Array(n * this.stateSize),
      actions: new Float32Array(n * this.actionSize),
      nextStates: new Float32Array(n * this.stateSize),
      n,
    };
  }

  /** copy the i-th oldest transition into row `row` of `out` */
  #copy(i: number, out: TransitionData, row: number): void {
    const { stateSize: S, actionSize: A } = this;
    const slot = (this.#head + i) % this.capacity;
    out.states.set(this.#states.subarray(slot * S, (slot + 1) * S), row * S);
    out.actions.set(this.#actions.subarray(slot * A, (slot + 1) * A), row * A);
    out.nextStates.set(this.#nextStates.subarray(slot * S, (slot + 1) * S), row * S);
  }
}
