import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, type Logger } from '../../src/util/log.js';
import { SerialLink, type PortFactory } from '../bus/serial_link.js';
import { BusError, DEFAULT_TIMING, TransactionQueue, type ByteLink } from '../bus/transaction.js';
import { BROADCAST_ID, type ServoProtocol, type StatusPacket } from '../protocol/types.js';
import type { RegisterName, ServoModel } from '../servos/control_table.js';
import { decodeRegister, encodeRegister, registerOf } from '../servos/registers.js';

// The bus as servo setup needs it: one serial port reopened at whatever line rate the scan is
// trying, a broadcast PING that collects every servo answering at that rate, and single-register
// reads and writes by id (the transaction queue of hw/bus, so timeouts, retries, stale replies and
// echoing adapters are handled as for the arm). No joints, no model check at open: the servo on the
// bus is not known yet.
//
// The broadcast PING listens as long as DynamixelSDK's broadcastPing (protocol2_packet_handler.cpp)
// and LeRobot's Feetech `_broadcast_ping` (src/lerobot/motors/feetech/feetech.py) do: the wire time
// of a status packet from every id, plus 3 ms per id (DYNAMIXEL servos answer a broadcast PING one
// after another in id order), plus 16 ms — then the adapter latency and a margin. Two servos that
// answer at once garble each other's replies, so bytes that decode to nothing are counted too.

/** A byte link at one line rate, closed by its user. */
export interface SetupLink extends ByteLink {
  readonly baudRate: number;
  close(): Promise<void>;
}

/** Opens the port at a line rate; rejects naming the cause (missing device, permission, in use…). */
export type LinkOpener = (baudRate: number) => Promise<SetupLink>;

/** The real serial port at `path`, opened with no background reopen (setup must not carry on across an unplug). */
export function serialLinkOpener(
  path: string,
  options: { readonly openPort?: PortFactory; readonly logger?: Logger } = {},
): LinkOpener {
  return async (baudRate) => {
    const link = new SerialLink({
      path,
      baudRate,
      reopen: false,
      ...(options.openPort ? { openPort: options.openPort } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    await link.open();
    return link;
  };
}

/** One servo that answered a broadcast PING. */
export interface PingReply {
  readonly id: number;
  /** DYNAMIXEL: from the PING reply; Feetech: its PING reply carries none (undefined) */
  readonly modelNumber: number | undefined;
  readonly error: number;
}

export interface PingScan {
  readonly baudRate: number;
  /** in the order they arrived; one entry per id */
  readonly replies: readonly PingReply[];
  /** bytes that framed no valid status packet: collisions (two servos at once) or line noise */
  readonly unreadableBytes: number;
}

export interface SessionOptions {
  /** the adapter's latency per direction, ms (an FTDI latency_timer; default transaction.ts DEFAULT_TIMING) */
  readonly adapterLatencyMs?: number;
  /** slack added to every timeout and to the PING window, ms (default 20) */
  readonly marginMs?: number;
  /** how long a broadcast PING listens, ms (default: the SDK's window for every id, see above) */
  readonly pingWindowMs?: number;
  readonly logger?: Logger;
}

/** The highest id the broadcast PING window allows for (Feetech 253; DYNAMIXEL stops at 252). */
const MAX_ID = 253;

/** How long to keep listening after the window when this process was stalled past its end. */
const STALL_GRACE_MS = 20;

/**
 * Wait `ms`. When the event loop was blocked past the end (a busy machine), replies that came in
 * meanwhile are still unread — timers run before I/O in each turn of the loop — so listen a little
 * longer, until a grace period passes without a stall.
 */
async function listenFor(ms: number): Promise<void> {
  let deadline = performance.now() + ms;
  for (;;) {
    await sleep(Math.max(0, deadline - performance.now()));
    const now = performance.now();
    if (now - deadline < STALL_GRACE_MS) return;
    deadline = now + STALL_GRACE_MS;
  }
}

export class SetupSession {
  readonly protocol: ServoProtocol;
  readonly #open: LinkOpener;
  readonly #options: SessionOptions;
  readonly #log: Logger;
  #link: SetupLink | undefined;
  #queue: TransactionQueue | undefined;

  constructor(protocol: ServoProtocol, open: LinkOpener, options: SessionOptions = {}) {
    this.protocol = protocol;
    this.#open = open;
    this.#options = options;
    this.#log = options.logger ?? createLogger('servo_setup');
  }

  /** The line rate the port is open at (undefined while closed). */
  get baudRate(): number | undefined {
    return this.#link?.baudRate;
  }

  /** Make sure the port is open at `baudRate` (closing and reopening it when it is at another rate). */
  async at(baudRate: number): Promise<void> {
    if (this.#link?.isOpen && this.#link.baudRate === baudRate) return;
    await this.close();
    const link = await this.#open(baudRate);
    this.#link = link;
    this.#queue = new TransactionQueue(this.protocol, link, {
      ...DEFAULT_TIMING,
      adapterLatencyMs: this.#options.adapterLatencyMs ?? DEFAULT_TIMING.adapterLatencyMs,
      marginMs: this.#options.marginMs ?? DEFAULT_TIMING.marginMs,
      baudRate,
    });
  }

  /** Close the port (setup closes it between servos: the user is unplugging things). */
  async close(): Promise<void> {
    this.#queue?.close();
    this.#queue = undefined;
    const link = this.#link;
    this.#link = undefined;
    await link?.close();
  }

  /** How long a broadcast PING listens at this rate, ms. */
  pingWindowMs(baudRate: number): number {
    if (this.#options.pingWindowMs !== undefined) return this.#options.pingWindowMs;
    const byteMs = 10_000 / baudRate;
    // a DYNAMIXEL PING reply carries model number and firmware (3 bytes); a Feetech one nothing
    const replyBytes = this.protocol.statusBytes(this.protocol.name === 'dynamixel2' ? 3 : 0);
    const latency = this.#options.adapterLatencyMs ?? DEFAULT_TIMING.adapterLatencyMs;
    const margin = this.#options.marginMs ?? DEFAULT_TIMING.marginMs;
    return MAX_ID * replyBytes * byteMs + 3 * MAX_ID + 16 + 2 * latency + margin;
  }

  /** PING the broadcast id at the current rate and collect every reply within the window. */
  async broadcastPing(): Promise<PingScan> {
    const link = this.#requireLink();
    const request = this.protocol.encodeInstruction(this.protocol.instructionFor({ kind: 'ping', id: BROADCAST_ID }));
    const decoder = this.protocol.statusDecoder();
    const replies = new Map<number, PingReply>();
    let unreadable = 0;
    // an adapter that echoes hands the request back first: drop exactly those bytes
    let echoMatched = 0;
    let echoPossible = true;
    const onPacket = (p: StatusPacket): void => {
      if (p.id === BROADCAST_ID || replies.has(p.id)) {
        // a second reply under one id is two servos sharing it
        if (replies.has(p.id)) unreadable += this.protocol.statusBytes(p.params.length);
        return;
      }
      const modelNumber = p.params.length >= 2 ? p.params[0]! | (p.params[1]! << 8) : undefined;
      replies.set(p.id, { id: p.id, modelNumber, error: p.error });
    };
    const off = link.on('data', (bytes) => {
      let chunk = bytes;
      if (echoPossible) {
        let i = 0;
        while (i < chunk.length && echoMatched < request.length && chunk[i] === request[echoMatched]) {
          i++;
          echoMatched++;
        }
        if (echoMatched === request.length) {
          echoPossible = false;
          chunk = chunk.subarray(i);
        } else if (i === chunk.length) return;
        else {
          // not an echo: what was held back is the start of a reply
          const held = request.subarray(0, echoMatched);
          echoPossible = false;
          const joined = new Uint8Array(held.length + chunk.length - i);
          joined.set(held, 0);
          joined.set(chunk.subarray(i), held.length);
          chunk = joined;
        }
      }
      for (const event of decoder.push(chunk)) {
        if (event.kind === 'packet') onPacket(event.packet);
        else unreadable += event.bytes;
      }
    });
    try {
      await link.write(request);
      await listenFor(this.pingWindowMs(link.baudRate));
    } finally {
      off();
    }
    unreadable += decoder.pending;
    return { baudRate: link.baudRate, replies: [...replies.values()], unreadableBytes: unreadable };
  }

  /** PING one id; its model number where the protocol's reply carries one. */
  async ping(id: number): Promise<{ readonly modelNumber: number | undefined }> {
    const { replies } = await this.#requireQueue().request({ kind: 'ping', id });
    const data = replies[0]!.data;
    return { modelNumber: data.length >= 2 ? data[0]! | (data[1]! << 8) : undefined };
  }

  /** One register of servo `id`, raw, through `model`'s control table. */
  async read(id: number, model: ServoModel, name: RegisterName): Promise<number> {
    const register = registerOf(model, name);
    const { replies } = await this.#requireQueue().request({
      kind: 'read',
      id,
      address: register.address,
      length: register.size,
    });
    const reply = replies[0]!;
    this.#throwIfRefused(id, reply.error, `reading ${name}`);
    return decodeRegister(model, name, reply.data);
  }

  /**
   * Write one register of servo `id`. `answeredBy: 'maybe'` is for writes after which the servo may
   * not answer as asked (a new id or a new rate takes effect around the reply): no reply is then
   * not an error (resolves false), and only the read-back decides.
   */
  async write(
    id: number,
    model: ServoModel,
    name: RegisterName,
    value: number,
    answeredBy: 'always' | 'maybe' = 'always',
  ): Promise<boolean> {
    const register = registerOf(model, name);
    const data = encodeRegister(model, name, value);
    try {
      const { replies } = await this.#requireQueue().request(
        { kind: 'write', id, address: register.address, data },
        answeredBy === 'maybe' ? { retries: 0 } : {},
      );
      this.#throwIfRefused(id, replies[0]!.error, `writing ${name} = ${value}`);
      return true;
    } catch (err) {
      // no reply, or one under the new id: the read-back decides
      if (answeredBy === 'maybe' && err instanceof BusError && err.kind !== 'lost' && err.kind !== 'closed') {
        this.#log.debug(`id ${id}: no reply to writing ${name} = ${value} (expected when it changes how it answers)`);
        return false;
      }
      throw err;
    }
  }

  #throwIfRefused(id: number, error: number, what: string): void {
    const info = this.protocol.describeError(error);
    if (info.instruction) throw new Error(`servo id ${id} refused ${what}: ${info.instruction}`);
  }

  #requireLink(): SetupLink {
    if (!this.#link?.isOpen) throw new Error('servo setup: the port is not open');
    return this.#link;
  }

  #requireQueue(): TransactionQueue {
    this.#requireLink();
    return this.#queue!;
  }
}
