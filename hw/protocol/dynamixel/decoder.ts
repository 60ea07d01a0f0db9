import type { DecodeEvent, InstructionPacket, StatusPacket, StreamDecoder } from '../types.js';
import { crc16 } from './crc16.js';
import { describeInstruction, INSTRUCTION } from './instructions.js';
import {
  CRC_BYTES,
  HEADER_0,
  HEADER_1,
  HEADER_2,
  INST_OFFSET,
  isPacketId,
  isUnstuffedStatus,
  MAX_ID,
  MAX_PACKET_BYTES,
  MIN_INSTRUCTION_LEN,
  MIN_STATUS_LEN,
  PREFIX_BYTES,
  RESERVED,
} from './packet.js';
import { stuffedCount, unstuffInto } from './stuffing.js';

// Streaming decoders for DYNAMIXEL Protocol 2.0 (shared/reference/servo-protocols.md §2.5, §5.2).
// Bytes arrive in arbitrary chunks; packets come out only when every check passed:
//
//  1. header: FF FF FD not followed by FD (FF FF FD FD is stuffing inside a body, never a start);
//  2. RSRV 00, a packet id (0–252 or 254), LEN within 3 … MAX_PACKET_BYTES − 7;
//  3. the CRC over the still-stuffed bytes;
//  4. the packet kind: a status decoder takes only INST 0x55 (so an adapter's echo of the request
//     is refused), an instruction decoder everything else (so other servos' replies are refused);
//  5. canonical stuffing: every FF FF FD in the body carries its extra FD, so a packet is accepted
//     only if encoding it again gives exactly the bytes that were received.
//
// A frame failing 2–5 is reported `corrupt` and the decoder resynchronises by dropping its first
// byte and searching again, so a packet hidden behind a false header is still found. The bytes
// up to the next possible header inside the failed frame are counted in that corrupt event and
// anything skipped after it as garbage; together with the packets and `pending`, the events
// account for every byte pushed.
//
// While a frame is incomplete the decoder also looks ahead inside it: a complete, valid packet
// starting there means the frame was cut short (a servo stopped mid-reply, a garbage header with a
// large LEN), so the frame is dropped as corrupt at once instead of holding the good packet until
// enough unrelated bytes arrive. A genuine stuffed frame cannot contain a header, so this never
// cuts one short. (A fast-read combined reply is unstuffed; it would take a complete packet with a
// valid CRC inside its data to trip this.)
//
// The buffer is one growable Uint8Array reused across pushes; a packet costs one allocation for
// its parameters and one for the event.

const INITIAL_CAPACITY = 2048;
/** an idle buffer larger than this (after a huge chunk) is given back */
const RETAINED_CAPACITY = 64 * 1024;

const hex2 = (value: number): string => `0x${value.toString(16).toUpperCase().padStart(2, '0')}`;
const hex4 = (value: number): string => `0x${value.toString(16).toUpperCase().padStart(4, '0')}`;

type PacketKind = 'status' | 'instruction';

class Protocol2Decoder<P> implements StreamDecoder<P> {
  #buf = new Uint8Array(INITIAL_CAPACITY);
  #start = 0;
  #end = 0;
  /** offset from #start before which no complete packet can start inside the incomplete head frame */
  #lookahead = 0;
  // results of the last #check that did not return a packet length
  #badBytes = 0;
  #badReason = '';
  /** stuffed FD count of the frame #check last accepted */
  #stuffed = 0;

  constructor(readonly kind: PacketKind) {}

  get pending(): number {
    return this.#end - this.#start;
  }

  reset(): void {
    this.#start = 0;
    this.#end = 0;
    this.#lookahead = 0;
  }

  push(chunk: Uint8Array): DecodeEvent<P>[] {
    if (!(chunk instanceof Uint8Array)) throw new Error(`DYNAMIXEL ${this.kind} decoder: push() takes a Uint8Array or Buffer, got ${typeof chunk}`);
    this.#append(chunk);
    const events: DecodeEvent<P>[] = [];
    let garbage = 0; // skipped bytes not yet reported: one event per run of them
    for (;;) {
      const header = this.#findHeader(this.#start, this.#end);
      if (header > this.#start) {
        garbage += header - this.#start;
        this.#start = header;
        this.#lookahead = 0;
      }
      if (this.#start === this.#end) break;
      const verdict = this.#check(this.#start);
      let event: DecodeEvent<P>;
      if (verdict > 0) {
        event = { kind: 'packet', packet: this.#build(this.#start, verdict) };
        this.#advance(verdict);
      } else if (verdict < 0) {
        const bytes = this.#resyncSpan(this.#start, this.#badBytes);
        event = { kind: 'corrupt', reason: this.#badReason, bytes };
        this.#advance(bytes);
      } else {
        const inner = this.#completePacketInside(this.#start);
        if (inner < 0) break;
        event = { kind: 'corrupt', reason: 'packet cut short: a complete packet starts inside it', bytes: inner - this.#start };
        this.#advance(inner - this.#start);
      }
      if (garbage > 0) events.push({ kind: 'garbage', bytes: garbage });
      garbage = 0;
      events.push(event);
    }
    if (garbage > 0) events.push({ kind: 'garbage', bytes: garbage });
    if (this.#start === this.#end) {
      this.reset();
      if (this.#buf.length > RETAINED_CAPACITY) this.#buf = new Uint8Array(INITIAL_CAPACITY);
    }
    return events;
  }

  #advance(bytes: number): void {
    this.#start += bytes;
    this.#lookahead = 0;
  }

  #append(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.#end + n > this.#buf.length) {
      const live = this.#end - this.#start;
      if (live + n > this.#buf.length) {
        let capacity = this.#buf.length * 2;
        while (capacity < live + n) capacity *= 2;
        const bigger = new Uint8Array(capacity);
        bigger.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = bigger;
      } else {
        this.#buf.copyWithin(0, this.#start, this.#end);
      }
      this.#start = 0;
      this.#end = live;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += n;
  }

  /**
   * The first position in [from, limit) where a header starts, or could start once more bytes
   * arrive (a prefix of FF FF FD x at the end of the buffer); `limit` if none.
   */
  #findHeader(from: number, limit: number): number {
    const buf = this.#buf;
    const end = this.#end;
    for (let i = from; i < limit; i++) {
      if (buf[i] !== HEADER_0) continue;
      if (i + 1 >= end) return i;
      if (buf[i + 1] !== HEADER_1) continue;
      if (i + 2 >= end) return i;
      if (buf[i + 2] !== HEADER_2) continue;
      if (i + 3 >= end || buf[i + 3] !== 0xfd) return i;
    }
    return limit;
  }

  #bad(bytes: number, reason: string): -1 {
    this.#badBytes = bytes;
    this.#badReason = reason;
    return -1;
  }

  /**
   * Judges the frame at `p` (where #findHeader found a header): its wire length when it is a whole
   * valid packet of this decoder's kind, 0 when more bytes are needed, -1 when it fails a check
   * (#badBytes and #badReason say how far it reached and why).
   */
  #check(p: number): number {
    const buf = this.#buf;
    const available = this.#end - p;
    if (available < 4) return 0;
    if (buf[p + 3] !== RESERVED) return this.#bad(4, `reserved byte ${hex2(buf[p + 3]!)} after the header (must be 0x00)`);
    if (available < PREFIX_BYTES) return 0;
    const id = buf[p + 4]!;
    if (!isPacketId(id)) return this.#bad(5, `id ${id} is not a packet id (0–${MAX_ID}, 254)`);
    const len = buf[p + 5]! | (buf[p + 6]! << 8);
    if (len < MIN_INSTRUCTION_LEN || PREFIX_BYTES + len > MAX_PACKET_BYTES) {
      return this.#bad(PREFIX_BYTES, `length ${len} outside ${MIN_INSTRUCTION_LEN}–${MAX_PACKET_BYTES - PREFIX_BYTES}`);
    }
    const total = PREFIX_BYTES + len;
    if (available < total) return 0;
    const crcAt = p + total - CRC_BYTES;
    const received = buf[crcAt]! | (buf[crcAt + 1]! << 8);
    const computed = crc16(buf, p, crcAt);
    if (received !== computed) return this.#bad(total, `CRC mismatch: packet carries ${hex4(received)}, its bytes give ${hex4(computed)}`);
    const instruction = buf[p + INST_OFFSET]!;
    if (this.kind === 'status') {
      if (instruction !== INSTRUCTION.status) {
        return this.#bad(total, `${describeInstruction(instruction)} instruction packet where a status (0x55) was expected: an echo of the request?`);
      }
      if (len < MIN_STATUS_LEN) return this.#bad(total, `status of length ${len} has no error byte`);
    } else if (instruction === INSTRUCTION.status) {
      return this.#bad(total, `status packet from id ${id} where an instruction was expected: another servo's reply`);
    }
    if (this.kind === 'status' && isUnstuffedStatus(id)) {
      this.#stuffed = 0;
    } else {
      this.#stuffed = stuffedCount(buf, p + INST_OFFSET, crcAt);
      if (this.#stuffed < 0) return this.#bad(total, 'FF FF FD inside the packet without its stuffing byte');
    }
    return total;
  }

  /** The packet of the valid frame of `total` bytes at `p` (right after #check accepted it). */
  #build(p: number, total: number): P {
    const buf = this.#buf;
    const id = buf[p + 4]!;
    let body = buf;
    let start = p + INST_OFFSET;
    let end = p + total - CRC_BYTES;
    if (this.#stuffed > 0) {
      body = new Uint8Array(end - start - this.#stuffed);
      unstuffInto(buf, start, end, body, 0);
      start = 0;
      end = body.length;
    }
    if (this.kind === 'status') {
      const packet: StatusPacket = { id, error: body[start + 1]!, params: body.slice(start + 2, end) };
      return packet as P;
    }
    const packet: InstructionPacket = { id, instruction: body[start]!, params: body.slice(start + 1, end) };
    return packet as P;
  }

  /** After a failed frame of `bytes` at `p`: how many bytes to drop, up to the next possible header inside it. */
  #resyncSpan(p: number, bytes: number): number {
    const limit = Math.min(p + bytes, this.#end);
    return this.#findHeader(p + 1, limit) - p;
  }

  /**
   * The start of a complete valid packet inside the incomplete frame at `p`, or -1. Positions
   * already ruled out for this frame are not looked at again; the first one still waiting for
   * bytes is where the next look starts.
   */
  #completePacketInside(p: number): number {
    let waiting = -1;
    for (let q = this.#findHeader(p + Math.max(1, this.#lookahead), this.#end); q < this.#end; q = this.#findHeader(q + 1, this.#end)) {
      const verdict = this.#check(q);
      if (verdict > 0) return q;
      if (verdict === 0 && waiting < 0) waiting = q;
    }
    this.#lookahead = (waiting < 0 ? this.#end : waiting) - p;
    return -1;
  }
}

/** Host side: a decoder of status packets (INST 0x55), refusing echoed instructions. */
export function createStatusDecoder(): StreamDecoder<StatusPacket> {
  return new Protocol2Decoder<StatusPacket>('status');
}

/** Servo side (emulator, bus sniffer): a decoder of instruction packets, refusing other servos' status packets. */
export function createInstructionDecoder(): StreamDecoder<InstructionPacket> {
  return new Protocol2Decoder<InstructionPacket>('instruction');
}
