import {
  BROADCAST_ID,
  type InstructionPacket,
  type Operation,
  type ReadResult,
  type ServoProtocol,
  type StreamDecoder,
} from '../protocol/types.js';
import { toSI } from '../servos/registers.js';
import type { AccessResult, EmulatedServo } from './emulated_servo.js';
import { corruptReply, type FaultInjector, type ReplyFate } from './faults.js';

// A daisy chain of emulated servos on one bus: it decodes instruction packets with the protocol's
// own codec, lets the addressed servos act on them, and answers with the status packets the
// protocol says the host expects — the same rule the host's driver waits on. A packet for an id
// nobody has is ignored; broadcast writes act on every servo and are not answered; a broadcast
// PING is answered by every servo in id order; a sync/bulk read is answered servo by servo in
// request order (Dynamixel FAST variants: one combined packet, sent only if every servo listed is
// there). Dynamixel servos wait their Return Delay Time before answering, each after the one
// before it (Feetech STS ignores that register). A servo whose Status Return Level (Feetech:
// Response Status Level) leaves the instruction out sends nothing for it. Reply faults are applied
// last, per reply: dropped, late, corrupted, sent under another id (a shifted_ids or answer_as
// fault), or — for the replies to one request several servos answer — sent in reverse order
// (out_of_order).

export interface ChainReply {
  /** when to send it, ms after the request was handled */
  readonly delayMs: number;
  readonly bytes: Uint8Array;
  /** whose reply it is */
  readonly ids: readonly number[];
}

export interface ServoChainOptions {
  readonly protocol: ServoProtocol;
  readonly servos: readonly EmulatedServo[];
  /** extra delay before every reply, ms (a slow adapter, a long cable) */
  readonly extraReplyDelayMs?: number;
  readonly faults?: FaultInjector;
  /** the bus line rate: a servo whose Baud Rate register selects another rate hears only noise */
  readonly baudRate?: number;
  /** ms clock (default performance.now) */
  readonly clock?: () => number;
}

export interface ChainCounters {
  packets: number;
  /** instruction packets that failed their CRC/checksum */
  corrupt: number;
  garbageBytes: number;
  replies: number;
  /** replies withheld by a no_reply fault */
  dropped: number;
}

export class ServoChain {
  readonly protocol: ServoProtocol;
  readonly servos: readonly EmulatedServo[];
  readonly counters: ChainCounters = { packets: 0, corrupt: 0, garbageBytes: 0, replies: 0, dropped: 0 };
  faults: FaultInjector | undefined;
  /** called after every step with its time (ms): a scripted leader places its shafts here (leader_motion.ts) */
  afterStep: ((nowMs: number) => void) | undefined;
  readonly #decoder: StreamDecoder<InstructionPacket>;
  readonly #clock: () => number;
  readonly #extraDelayMs: number;
  readonly #dxl: boolean;
  readonly #baudRate: number | undefined;
  #lastStep: number;

  constructor(options: ServoChainOptions) {
    this.protocol = options.protocol;
    this.servos = options.servos;
    this.faults = options.faults;
    this.#decoder = options.protocol.instructionDecoder();
    this.#clock = options.clock ?? (() => performance.now());
    this.#extraDelayMs = options.extraReplyDelayMs ?? 0;
    this.#dxl = options.protocol.name === 'dynamixel2';
    this.#baudRate = options.baudRate;
    this.#lastStep = this.#clock();
    const ids = new Set<number>();
    for (const s of this.servos) {
      if (s.model.protocol !== this.protocol.name)
        throw new Error(
          `emulated chain: servo ${s.id} is a ${s.model.name} (${s.model.protocol}), the bus speaks ${this.protocol.name}`,
        );
      if (ids.has(s.id)) throw new Error(`emulated chain: two servos with id ${s.id}`);
      ids.add(s.id);
    }
  }

  /** The servo answering to `id` now (ids can be rewritten over the bus). */
  servo(id: number): EmulatedServo | undefined {
    return this.servos.find((s) => s.id === id);
  }

  /** Step every servo's motor up to now. */
  advance(now = this.#clock()): void {
    const dt = (now - this.#lastStep) / 1000;
    if (dt <= 0) return;
    this.#lastStep = now;
    for (const s of this.servos) s.step(dt);
    this.afterStep?.(now);
  }

  /** Bytes from the bus in; the replies to send out. */
  receive(bytes: Uint8Array): ChainReply[] {
    const replies: ChainReply[] = [];
    for (const event of this.#decoder.push(bytes)) {
      if (event.kind === 'packet') replies.push(...this.handle(event.packet));
      else if (event.kind === 'corrupt') this.counters.corrupt++;
      else this.counters.garbageBytes += event.bytes;
    }
    return replies;
  }

  /** One instruction packet; the replies to send. */
  handle(packet: InstructionPacket): ChainReply[] {
    const now = this.#clock();
    this.advance(now);
    this.counters.packets++;
    let op: Operation | undefined;
    try {
      op = this.protocol.operationOf(packet);
    } catch (err) {
      if ((err as Error).name !== 'MalformedInstructionError') throw err;
      // Dynamixel: the addressed servo reports the bad parameters; Feetech servos stay silent
      return this.#dxl ? this.#unicastError(packet.id, now, 'data_length_error') : [];
    }
    if (!op) return this.#dxl ? this.#unicastError(packet.id, now, 'instruction_error') : [];
    return this.#execute(op, now);
  }

  #execute(op: Operation, now: number): ChainReply[] {
    const awake = (id: number): EmulatedServo | undefined => {
      const s = this.servo(id);
      return s && this.#hears(s, now) ? s : undefined;
    };
    const everyone = (): EmulatedServo[] => this.servos.filter((s) => this.#hears(s, now)).sort((a, b) => a.id - b.id);
    const results = new Map<number, AccessResult>();
    switch (op.kind) {
      case 'ping':
        if (op.id === BROADCAST_ID) return this.#replies(everyone().map((s) => [s, s.ping()] as const));
        {
          const s = awake(op.id);
          if (s) results.set(s.id, s.ping());
        }
        break;
      case 'read': {
        const s = awake(op.id);
        if (s) results.set(s.id, s.read(op.address, op.length));
        break;
      }
      case 'write':
      case 'reg_write':
      case 'action':
        for (const s of op.id === BROADCAST_ID ? everyone() : [awake(op.id)]) {
          if (!s) continue;
          const r =
            op.kind === 'write'
              ? s.write(op.address, op.data)
              : op.kind === 'reg_write'
                ? s.regWrite(op.address, op.data)
                : s.action();
          results.set(s.id, r);
        }
        break;
      case 'reboot':
        for (const s of op.id === BROADCAST_ID ? everyone() : [awake(op.id)]) {
          if (!s) continue;
          // the status goes out before the servo restarts (Dynamixel); Feetech does not answer
          results.set(s.id, { error: s.errorByte(), data: new Uint8Array(0) });
          s.reboot(now);
        }
        break;
      case 'clear':
        for (const s of op.id === BROADCAST_ID ? everyone() : [awake(op.id)])
          if (s) results.set(s.id, s.clear(op.option));
        break;
      case 'factory_reset': {
        // the status goes out under the ID the servo had, before the reset (which may change it)
        const broadcast = op.id === BROADCAST_ID;
        const targets = (broadcast ? everyone() : [awake(op.id)]).filter((s) => s !== undefined);
        const replies = broadcast
          ? []
          : this.#replies(
              targets.filter((s) => s.answers(op.kind)).map((s) => [s, s.factoryResetStatus(op.option)] as const),
            );
        for (const s of targets) s.factoryReset(op.option, now, broadcast);
        return replies;
      }
      case 'sync_read':
        for (const id of op.ids) {
          const s = awake(id);
          if (s) results.set(id, s.read(op.address, op.length));
        }
        break;
      case 'bulk_read':
        for (const e of op.entries) {
          const s = awake(e.id);
          if (s) results.set(e.id, s.read(e.address, e.length));
        }
        break;
      case 'sync_write':
        for (const e of op.entries) awake(e.id)?.write(op.address, e.data);
        break;
      case 'bulk_write':
        for (const e of op.entries) awake(e.id)?.write(e.address, e.data);
        break;
    }
    // Status Return Level (Feetech: Response Status Level): a servo set to answer less keeps its status
    for (const id of [...results.keys()]) if (!this.servo(id)?.answers(op.kind)) results.delete(id);
    const expected = this.protocol.expectedReplies(op);
    if (expected.kind === 'none') return [];
    if (expected.kind === 'each') {
      return this.#replies(
        expected.ids.flatMap((id) => (results.has(id) ? [[this.servo(id)!, results.get(id)!] as const] : [])),
      );
    }
    // combined (fast) reply: the chain builds it together, so one missing servo breaks it
    if (!expected.ids.every((id) => results.has(id))) return [];
    const chain = this.#ids();
    const order = this.faults?.reorder() ? [...expected.ids].reverse() : expected.ids;
    const parts: ReadResult[] = order.map((id) => ({
      id: this.faults?.answerId(id, chain) ?? id,
      error: results.get(id)!.error,
      data: results.get(id)!.data,
    }));
    let delay = this.#extraDelayMs;
    for (const id of expected.ids) delay += this.#returnDelayMs(this.servo(id)!);
    const reply = this.#withFaults(expected.ids, () => this.protocol.encodeCombined(parts), delay);
    return reply ? [reply] : [];
  }

  /** Status packets servo after servo, each after its predecessor's return delay. */
  #replies(answers: readonly (readonly [EmulatedServo, AccessResult])[]): ChainReply[] {
    const out: ChainReply[] = [];
    let delay = this.#extraDelayMs;
    const ordered = answers.length > 1 && this.faults?.reorder() ? [...answers].reverse() : answers;
    for (const [servo, result] of ordered) {
      delay += this.#returnDelayMs(servo);
      const reply = this.#withFaults(
        [servo.id],
        (id = servo.id) => this.protocol.encodeStatus({ id, error: result.error, params: result.data }),
        delay,
      );
      if (reply) out.push(reply);
    }
    return out;
  }

  /** Every servo id on the bus (a shifted_ids fault answers under a neighbour's). */
  #ids(): number[] {
    return this.servos.map((s) => s.id);
  }

  #unicastError(id: number, now: number, error: 'data_length_error' | 'instruction_error'): ChainReply[] {
    if (id === BROADCAST_ID) return [];
    const s = this.servo(id);
    // only a servo that answers every instruction (Status Return Level 2) reports one it cannot take
    if (!s || !this.#hears(s, now) || !s.answers(undefined)) return [];
    return this.#replies([[s, { error: s.errorByte(error), data: new Uint8Array(0) }]]);
  }

  /** Booted, and listening at the bus's rate. */
  #hears(servo: EmulatedServo, now: number): boolean {
    if (!servo.isAwake(now)) return false;
    const rate = servo.baudRate;
    return this.#baudRate === undefined || rate === undefined || rate === this.#baudRate;
  }

  /** One reply through the faults: `encode` builds it, under the id a fault gives when there is one. */
  #withFaults(ids: readonly number[], encode: (id?: number) => Uint8Array, delayMs: number): ChainReply | undefined {
    const fate: ReplyFate | undefined = this.faults?.replyFate(ids, this.#ids());
    if (fate?.drop) {
      this.counters.dropped++;
      return undefined;
    }
    let out = encode(fate?.id);
    if (fate?.corrupt) out = corruptReply(out, fate.corrupt.byteFromEnd ?? (this.#dxl ? 3 : 2), fate.corrupt.bit);
    this.counters.replies++;
    return { delayMs: delayMs + (fate?.delayMs ?? 0), bytes: out, ids };
  }

  #returnDelayMs(servo: EmulatedServo): number {
    if (!this.#dxl || !servo.model.registers.return_delay_time) return 0;
    return toSI(servo.model, 'return_delay_time', servo.register('return_delay_time')) * 1000;
  }
}
