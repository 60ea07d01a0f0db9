import { setTimeout as sleep } from 'node:timers/promises';
import type {
  ExpectedReplies,
  Operation,
  ReadResult,
  ServoProtocol,
  StatusPacket,
  StreamDecoder,
} from '../protocol/types.js';

// The half-duplex bus allows one request in flight: requests queue here and run one at a time.
// Each attempt writes the whole packet in one write, collects the replies the protocol says to
// expect (checked on id and order, and on data length where the operation fixes it), and ends at a deadline
// computed from the byte counts, the adapter latency and the servos' return delay. A failed
// attempt (timeout, corrupt reply) is retried a bounded number of times; before the next write the
// line must have been quiet for a while, so a late reply to the failed attempt is dropped as stale
// instead of being taken for the answer to the next request. Bytes arriving between transactions
// are dropped, and the decoder is reset before each attempt. Half-duplex adapters that echo the
// request are tolerated: the exact bytes just sent, arriving first, are dropped (by default until a
// reply shows the adapter does not echo).
//
// Replies must come under the ids the request addressed, in the request's order: both protocols fix
// it (ROBOTIS e-manual "DYNAMIXEL Protocol 2.0", Sync Read / Bulk Read: the servos answer one after
// another in the order of the instruction's ids; Feetech's SYNC READ likewise). A reply under an id
// the request did not address, a second reply under one id, or a reply from a servo listed before
// one that has answered already means a servo answered under another's id or a reply is a late
// one: the attempt fails at once ('mismatch', counted), is retried like a timeout, and nothing of it
// is handed on — its replies are never state. A servo that does not answer leaves a gap, which the
// order allows (the later servos still answer).
//
// Limit (inherent to both protocols, which have no sequence numbers): a reply that arrives later
// than the quiet time, during a later request to the same id with the same data length, in the
// place of that id's own answer, cannot be told apart from it; nor can a servo answering under the
// id of the servo listed just after it when that one is silent (the arm above checks positions for
// what no motor could do, and computes hold goals only from two reads that agree).

/** The byte pipe the queue drives (SerialLink in production). */
export interface ByteLink {
  write(bytes: Uint8Array): Promise<void>;
  on(event: 'data', listener: (bytes: Uint8Array) => void): () => void;
  on(event: 'lost', listener: (reason: string) => void): () => void;
  readonly isOpen: boolean;
}

export interface TransactionTiming {
  /** line rate, for the wire time of each byte (10 bits per byte, 8N1) */
  readonly baudRate: number;
  /** USB-serial adapter latency per direction (FTDI latency_timer; ~1 ms when set to 1) */
  readonly adapterLatencyMs: number;
  /** each servo's Return Delay Time, µs (the register's factory default is 500 µs; LeRobot sets 0) */
  readonly returnDelayUs: number;
  /** slack for host scheduling (Node event loop, threadpool hops, a loaded machine) */
  readonly marginMs: number;
  /** retries after the first attempt */
  readonly retries: number;
  /** line silence required after a failed attempt before the next write; default = that attempt's timeout */
  readonly quietMs?: number;
  /**
   * Adapters that echo the request: 'on' drops the exact request bytes when they come back first;
   * 'off' never does; 'auto' does so until a transaction succeeds without an echo, which proves the
   * adapter does not echo (so a Feetech reply that happens to equal its request — PING answered with
   * the voltage bit — is not dropped for ever).
   */
  readonly echo: 'auto' | 'on' | 'off';
}

export const DEFAULT_TIMING: Omit<TransactionTiming, 'baudRate'> = {
  adapterLatencyMs: 2,
  returnDelayUs: 500,
  marginMs: 20,
  retries: 2,
  echo: 'auto',
};

/** Bus-wide counts since the queue was made, for diagnostics. */
export interface BusCounters {
  transactions: number;
  /** attempts that ended with replies missing */
  timeouts: number;
  /** framed packets that failed their CRC/checksum or length */
  corrupt: number;
  retries: number;
  /** transactions that failed after every retry */
  failures: number;
  /** replies dropped for arriving outside their transaction or matching no expected reply */
  stale: number;
  /** bytes skipped while looking for a header */
  garbageBytes: number;
  /** request echoes dropped */
  echoes: number;
  /** attempts refused for a reply under an id, or in an order, the request does not allow */
  mismatched: number;
  /** bytes received, and status packets decoded from them (a protocol mismatch shows as bytes without packets) */
  receivedBytes: number;
  packets: number;
}

export interface ServoCounters {
  timeouts: number;
  /** attempts where this servo's reply was missing and a corrupt packet was seen (its reply, most likely) */
  corrupt: number;
  /** replies carrying a non-zero error byte */
  errorReplies: number;
  /** attempts addressed to this servo that were refused for a reply under a wrong id or out of order */
  mismatched: number;
}

/** 'mismatch': replies came under ids, or in an order, the request does not allow (none of them is used). */
export type BusErrorKind = 'timeout' | 'corrupt' | 'mismatch' | 'lost' | 'closed';

/** A transaction that did not complete. `received` holds the replies of the last attempt. */
export class BusError extends Error {
  constructor(
    readonly kind: BusErrorKind,
    message: string,
    readonly op: Operation,
    readonly missing: readonly number[] = [],
    readonly received: readonly ReadResult[] = [],
    readonly attempts = 0,
  ) {
    super(message);
    this.name = 'BusError';
  }
}

export interface TransactionResult {
  /** replies in the order expected (empty for operations without replies) */
  readonly replies: readonly ReadResult[];
  readonly attempts: number;
}

export interface RequestOptions {
  readonly retries?: number;
  readonly timeoutMs?: number;
}

interface Attempt {
  readonly op: Operation;
  readonly expected: ExpectedReplies;
  /** ids still to answer */
  readonly waiting: Set<number>;
  readonly replies: Map<number, ReadResult>;
  /** data length each reply must carry, when the operation fixes it */
  readonly dataLength: (id: number) => number | undefined;
  corruptSeen: boolean;
  echo: Uint8Array | undefined;
  echoMatched: number;
  /** the whole request came back before any reply */
  echoSeen: boolean;
  /** 'each' replies: the ids in the order they must come, and the place after the last one taken */
  readonly order: readonly number[];
  next: number;
  /** why the replies cannot be trusted (an id or an order the request does not allow) */
  mismatch: string | undefined;
  /** end the attempt now: with what it has, or because the link went away */
  finish: ((lost?: boolean) => void) | undefined;
}

export class TransactionQueue {
  readonly counters: BusCounters = {
    transactions: 0,
    timeouts: 0,
    corrupt: 0,
    retries: 0,
    failures: 0,
    stale: 0,
    garbageBytes: 0,
    echoes: 0,
    mismatched: 0,
    receivedBytes: 0,
    packets: 0,
  };
  readonly #servoCounters = new Map<number, ServoCounters>();
  readonly #protocol: ServoProtocol;
  readonly #link: ByteLink;
  readonly #timing: TransactionTiming;
  readonly #decoder: StreamDecoder<StatusPacket>;
  readonly #unsubscribe: (() => void)[];
  #tail: Promise<unknown> = Promise.resolve();
  #attempt: Attempt | undefined;
  #lastRxAt = 0;
  /** after a failed attempt: the line must stay silent this long, counted from the failure or the last byte since */
  #quietNeededMs = 0;
  #quietFrom = 0;
  /** learnt in echo 'auto' mode: undefined until a transaction tells */
  #adapterEchoes: boolean | undefined;
  #closed = false;

  constructor(protocol: ServoProtocol, link: ByteLink, timing: TransactionTiming) {
    if (!(timing.baudRate > 0)) throw new Error(`transaction timing: baud rate ${timing.baudRate} is not positive`);
    if (!Number.isInteger(timing.retries) || timing.retries < 0)
      throw new Error(`transaction timing: retries ${timing.retries} is not a whole number ≥ 0`);
    this.#protocol = protocol;
    this.#link = link;
    this.#timing = timing;
    this.#decoder = protocol.statusDecoder();
    this.#unsubscribe = [link.on('data', (bytes) => this.#onData(bytes)), link.on('lost', () => this.#onLost())];
  }

  get timing(): TransactionTiming {
    return this.#timing;
  }

  /** Per-servo counts (created on first use). */
  servoCounters(id: number): ServoCounters {
    let c = this.#servoCounters.get(id);
    if (!c) this.#servoCounters.set(id, (c = { timeouts: 0, corrupt: 0, errorReplies: 0, mismatched: 0 }));
    return c;
  }

  /** Run one operation when the bus is free: resolves with its replies or rejects with a BusError. */
  request(op: Operation, options: RequestOptions = {}): Promise<TransactionResult> {
    const run = this.#tail.then(() => this.#run(op, options));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Wire + adapter + return-delay budget of one attempt, ms. */
  timeoutMs(op: Operation, expected: ExpectedReplies = this.#protocol.expectedReplies(op)): number {
    const t = this.#timing;
    const byteMs = 10_000 / t.baudRate;
    const request = this.#protocol.instructionFor(op);
    const txBytes = this.#protocol.instructionBytes(request.params.length);
    let rxBytes = 0;
    let replies = 0;
    if (expected.kind === 'each') {
      replies = expected.ids.length;
      for (const id of expected.ids) rxBytes += this.#protocol.statusBytes(dataLengthOf(op, id) ?? 4);
    } else if (expected.kind === 'combined') {
      replies = expected.ids.length;
      // one packet: per servo error + id + data + running CRC
      rxBytes = this.#protocol.statusBytes(expected.lengths.reduce((sum, n) => sum + n + 4, 0));
    }
    return (txBytes + rxBytes) * byteMs + 2 * t.adapterLatencyMs + (replies * t.returnDelayUs) / 1000 + t.marginMs;
  }

  /** Stop: pending and future requests reject. */
  close(): void {
    this.#closed = true;
    for (const off of this.#unsubscribe) off();
    this.#attempt?.finish?.();
  }

  /** Read through a call: close() may run while #run awaits, which narrowing of the field cannot see. */
  #isClosed(): boolean {
    return this.#closed;
  }

  async #run(op: Operation, options: RequestOptions): Promise<TransactionResult> {
    if (this.#closed) throw new BusError('closed', 'the bus is closed', op);
    const expected = this.#protocol.expectedReplies(op);
    const packet = this.#protocol.encodeInstruction(this.#protocol.instructionFor(op));
    const timeoutMs = options.timeoutMs ?? this.timeoutMs(op, expected);
    const retries = options.retries ?? this.#timing.retries;
    this.counters.transactions++;
    let last: Attempt | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) this.counters.retries++;
      if (!this.#link.isOpen)
        throw new BusError(
          'lost',
          `the bus is not open: ${describe(op)} not sent`,
          op,
          expectedIds(expected),
          [],
          attempt,
        );
      await this.#waitForQuiet();
      const outcome = await this.#attemptOnce(op, expected, packet, timeoutMs);
      if (outcome === 'lost')
        throw new BusError(
          'lost',
          `the bus was lost during ${describe(op)}`,
          op,
          expectedIds(expected),
          [],
          attempt + 1,
        );
      if (this.#isClosed()) throw new BusError('closed', 'the bus was closed', op);
      last = outcome;
      if (outcome.mismatch === undefined && outcome.waiting.size === 0) {
        if (this.#timing.echo === 'auto' && expected.kind !== 'none') this.#adapterEchoes ??= outcome.echoSeen;
        return { replies: orderedReplies(outcome, expected), attempts: attempt + 1 };
      }
      // failed attempt: count it, and make the next write wait until late replies have passed
      if (outcome.mismatch !== undefined) {
        this.counters.mismatched++;
        for (const id of outcome.order) this.servoCounters(id).mismatched++;
      } else {
        this.counters.timeouts++;
        for (const id of outcome.waiting) {
          const c = this.servoCounters(id);
          c.timeouts++;
          if (outcome.corruptSeen) c.corrupt++;
        }
      }
      this.#quietNeededMs = this.#timing.quietMs ?? timeoutMs;
      this.#quietFrom = performance.now();
    }
    this.counters.failures++;
    if (last!.mismatch !== undefined) {
      // nothing of it is handed on: every id it addressed is missing
      throw new BusError(
        'mismatch',
        `${describe(op)}: ${last!.mismatch} after ${retries + 1} attempts: not used`,
        op,
        last!.order,
        [],
        retries + 1,
      );
    }
    const missing = [...last!.waiting];
    const kind: BusErrorKind = last!.corruptSeen ? 'corrupt' : 'timeout';
    const what = kind === 'corrupt' ? 'corrupt or missing replies' : 'no reply';
    throw new BusError(
      kind,
      `${describe(op)}: ${what} from id ${missing.join(', ')} after ${retries + 1} attempts (${timeoutMs.toFixed(1)} ms each)`,
      op,
      missing,
      [...last!.replies.values()],
      retries + 1,
    );
  }

  #attemptOnce(
    op: Operation,
    expected: ExpectedReplies,
    packet: Uint8Array,
    timeoutMs: number,
  ): Promise<Attempt | 'lost'> {
    const ids = expectedIds(expected);
    const attempt: Attempt = {
      op,
      expected,
      waiting: new Set(ids),
      replies: new Map(),
      dataLength: (id) => dataLengthOf(op, id),
      corruptSeen: false,
      echo: this.#stripsEcho() ? packet : undefined,
      echoMatched: 0,
      echoSeen: false,
      order: ids,
      next: 0,
      mismatch: undefined,
      finish: undefined,
    };
    this.#decoder.reset();
    return new Promise<Attempt | 'lost'>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = (value: Attempt | 'lost') => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        if (this.#attempt === attempt) this.#attempt = undefined;
        resolve(value);
      };
      attempt.finish = (lost = false) => settle(lost ? 'lost' : attempt);
      this.#attempt = attempt;
      this.#link.write(packet).then(
        () => {
          if (attempt.waiting.size === 0) {
            settle(attempt);
            return;
          }
          timer = setTimeout(() => settle(attempt), timeoutMs);
        },
        () => settle('lost'),
      );
    });
  }

  #onData(bytes: Uint8Array): void {
    this.#lastRxAt = performance.now();
    this.counters.receivedBytes += bytes.length;
    const attempt = this.#attempt;
    if (!attempt) {
      // between transactions: whatever this is answers nothing we are waiting for
      this.counters.stale++;
      return;
    }
    let chunk = bytes;
    if (attempt.echo) chunk = this.#stripEcho(attempt, chunk);
    if (chunk.length === 0) return;
    for (const event of this.#decoder.push(chunk)) {
      if (event.kind === 'garbage') this.counters.garbageBytes += event.bytes;
      else if (event.kind === 'corrupt') {
        this.counters.corrupt++;
        attempt.corruptSeen = true;
      } else {
        this.counters.packets++;
        this.#accept(attempt, event.packet);
      }
    }
    if (attempt.waiting.size === 0 || attempt.mismatch !== undefined) attempt.finish?.();
  }

  /** Drop the request's own bytes if they come back first; give back whatever does not match. */
  #stripEcho(attempt: Attempt, chunk: Uint8Array): Uint8Array {
    const echo = attempt.echo!;
    let i = 0;
    while (i < chunk.length && attempt.echoMatched < echo.length && chunk[i] === echo[attempt.echoMatched]) {
      i++;
      attempt.echoMatched++;
    }
    if (attempt.echoMatched === echo.length) {
      // the whole request came back: an echo
      attempt.echo = undefined;
      attempt.echoSeen = true;
      this.counters.echoes++;
      return chunk.subarray(i);
    }
    if (i === chunk.length) return new Uint8Array(0); // still matching, wait for more
    // not an echo: the held prefix was the start of a reply
    const held = echo.subarray(0, attempt.echoMatched);
    attempt.echo = undefined;
    const out = new Uint8Array(held.length + chunk.length - i);
    out.set(held, 0);
    out.set(chunk.subarray(i), held.length);
    return out;
  }

  #accept(attempt: Attempt, packet: StatusPacket): void {
    const expected = attempt.expected;
    if (expected.kind === 'combined') {
      if (packet.id !== 0xfe || attempt.waiting.size === 0) {
        this.counters.stale++;
        return;
      }
      let results: ReadResult[];
      try {
        results = this.#protocol.splitCombined(packet, expected.ids, expected.lengths);
      } catch {
        this.counters.corrupt++;
        attempt.corruptSeen = true;
        return;
      }
      for (const r of results) {
        if (!attempt.waiting.delete(r.id)) continue;
        attempt.replies.set(r.id, r);
        if (r.error) this.servoCounters(r.id).errorReplies++;
      }
      return;
    }
    if (attempt.mismatch !== undefined || attempt.waiting.size === 0) {
      // the attempt is over: whatever follows is not looked at
      this.counters.stale++;
      return;
    }
    const length = attempt.dataLength(packet.id);
    const instructionError = packet.error !== 0 && this.#protocol.describeError(packet.error).instruction !== undefined;
    // a reply of the wrong size is an answer to some other request; an instruction error carries no data
    if (length !== undefined && packet.params.length !== length && !instructionError) {
      this.counters.stale++;
      return;
    }
    // the id must be one the request addressed, each once, in the request's order (gaps allowed)
    const at = attempt.order.indexOf(packet.id);
    if (at < 0 || at < attempt.next) {
      attempt.mismatch =
        at < 0
          ? `a reply under id ${packet.id}, which the request did not address (ids ${attempt.order.join(', ')})`
          : attempt.replies.has(packet.id)
            ? `a second reply under id ${packet.id} (a servo answering under another's id)`
            : `a reply from id ${packet.id} after id ${attempt.order[attempt.next - 1]} (the request's order is ${attempt.order.join(', ')})`;
      return;
    }
    attempt.next = at + 1;
    attempt.waiting.delete(packet.id);
    attempt.replies.set(packet.id, { id: packet.id, error: packet.error, data: packet.params });
    if (packet.error) this.servoCounters(packet.id).errorReplies++;
  }

  #stripsEcho(): boolean {
    const mode = this.#timing.echo;
    return mode === 'on' || (mode === 'auto' && this.#adapterEchoes !== false);
  }

  /** Whether the adapter was found to echo ('auto' mode; undefined until a transaction told). */
  get adapterEchoes(): boolean | undefined {
    return this.#timing.echo === 'auto' ? this.#adapterEchoes : this.#timing.echo === 'on';
  }

  #onLost(): void {
    this.#decoder.reset();
    this.#attempt?.finish?.(true);
  }

  async #waitForQuiet(): Promise<void> {
    if (this.#quietNeededMs <= 0) return;
    for (;;) {
      const quietFor = performance.now() - Math.max(this.#lastRxAt, this.#quietFrom);
      const left = this.#quietNeededMs - quietFor;
      if (left <= 0 || !this.#link.isOpen) break;
      await sleep(Math.ceil(left));
    }
    this.#quietNeededMs = 0;
  }
}

function expectedIds(expected: ExpectedReplies): number[] {
  return expected.kind === 'none' ? [] : [...expected.ids];
}

function orderedReplies(attempt: Attempt, expected: ExpectedReplies): ReadResult[] {
  return expectedIds(expected).map((id) => attempt.replies.get(id)!);
}

/** The data length a reply to `op` from `id` must carry, when the operation fixes it. */
function dataLengthOf(op: Operation, id: number): number | undefined {
  switch (op.kind) {
    case 'read':
    case 'sync_read':
      return op.length;
    case 'bulk_read':
      return op.entries.find((e) => e.id === id)?.length;
    case 'write':
    case 'reg_write':
    case 'action':
    case 'reboot':
      return 0;
    default:
      // ping: model number and firmware on Dynamixel, nothing on Feetech
      return undefined;
  }
}

function describe(op: Operation): string {
  switch (op.kind) {
    case 'sync_read':
    case 'sync_write':
      return `${op.kind} @${op.address}×${op.length}`;
    case 'bulk_read':
    case 'bulk_write':
      return `${op.kind} of ${op.entries.length}`;
    case 'read':
      return `read id ${op.id} @${op.address}×${op.length}`;
    case 'write':
    case 'reg_write':
      return `${op.kind} id ${op.id} @${op.address}×${op.data.length}`;
    default:
      return `${op.kind} id ${op.id}`;
  }
}
