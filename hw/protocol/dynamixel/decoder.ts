import { ByteQueue } from '../byte_queue.js';
import { hexByte, hexWord } from '../bytes.js';
import { FrameRejection, PushEvents } from '../decode_events.js';
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

// Streaming decoders for DYNAMIXEL Protocol 2.0 (ROBOTIS e-manual "DYNAMIXEL Protocol 2.0", Byte
// Stuffing and Status Packet; the checks follow rxPacket in DynamixelSDK's protocol2_packet_handler.cpp).
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
// The bytes wait in a ByteQueue reused across pushes; a packet costs one allocation for its
// parameters and one for the event.

const INITIAL_CAPACITY = 2048;

type PacketKind = 'status' | 'instruction';

class Protocol2Decoder<P> implements StreamDecoder<P> {
  readonly #queue = new ByteQueue(INITIAL_CAPACITY);
  /** offset from the queue start before which no complete packet can start inside the incomplete head frame */
  #lookahead = 0;
  /** why the last #check that did not return a packet length refused its frame */
  readonly #rejection = new FrameRejection();
  readonly #events = new PushEvents<P>();
  /** stuffed FD count of the frame #check last accepted */
  #stuffed = 0;

  constructor(readonly kind: PacketKind) {}

  get pending(): number {
    return this.#queue.length;
  }

  reset(): void {
    this.#queue.clear();
    this.#lookahead = 0;
  }

  push(chunk: Uint8Array): DecodeEvent<P>[] {
    if (!(chunk instanceof Uint8Array))
      throw new Error(`DYNAMIXEL ${this.kind} decoder: push() takes a Uint8Array or Buffer, got ${typeof chunk}`);
    const queue = this.#queue;
    queue.append(chunk);
    const events = this.#events;
    events.begin();
    for (;;) {
      const header = this.#findHeader(queue.start, queue.end);
      if (header > queue.start) {
        events.skip(header - queue.start);
        queue.start = header;
        this.#lookahead = 0;
      }
      if (queue.start === queue.end) break;
      const verdict = this.#check(queue.start);
      if (verdict > 0) {
        events.add({ kind: 'packet', packet: this.#build(queue.start, verdict) });
        this.#advance(verdict);
      } else if (verdict < 0) {
        const bytes = this.#resyncSpan(queue.start, this.#rejection.bytes);
        events.add({ kind: 'corrupt', reason: this.#rejection.reason, bytes });
        this.#advance(bytes);
      } else {
        const inner = this.#completePacketInside(queue.start);
        if (inner < 0) break;
        events.add({
          kind: 'corrupt',
          reason: 'packet cut short: a complete packet starts inside it',
          bytes: inner - queue.start,
        });
        this.#advance(inner - queue.start);
      }
    }
    if (queue.rewindIfEmpty()) this.#lookahead = 0;
    return events.finish();
  }

  #advance(bytes: number): void {
    this.#queue.start += bytes;
    this.#lookahead = 0;
  }

  /**
   * The first position in [from, limit) where a header starts, or could start once more bytes
   * arrive (a prefix of FF FF FD x at the end of the buffer); `limit` if none.
   */
  #findHeader(from: number, limit: number): number {
    const buf = this.#queue.bytes;
    const end = this.#queue.end;
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

  /**
   * Judges the frame at `p` (where #findHeader found a header): its wire length when it is a whole
   * valid packet of this decoder's kind, 0 when more bytes are needed, -1 when it fails a check
   * (#rejection says how far it reached and why).
   */
  #check(p: number): number {
    const buf = this.#queue.bytes;
    const available = this.#queue.end - p;
    if (available < 4) return 0;
    if (buf[p + 3] !== RESERVED)
      return this.#rejection.refuse(4, `reserved byte ${hexByte(buf[p + 3]!)} after the header (must be 0x00)`);
    if (available < PREFIX_BYTES) return 0;
    const id = buf[p + 4]!;
    if (!isPacketId(id)) return this.#rejection.refuse(5, `id ${id} is not a packet id (0–${MAX_ID}, 254)`);
    const len = buf[p + 5]! | (buf[p + 6]! << 8);
    if (len < MIN_INSTRUCTION_LEN || PREFIX_BYTES + len > MAX_PACKET_BYTES) {
      return this.#rejection.refuse(
        PREFIX_BYTES,
        `length ${len} outside ${MIN_INSTRUCTION_LEN}–${MAX_PACKET_BYTES - PREFIX_BYTES}`,
      );
    }
    const total = PREFIX_BYTES + len;
    if (available < total) return 0;
    const crcAt = p + total - CRC_BYTES;
    const received = buf[crcAt]! | (buf[crcAt + 1]! << 8);
    const computed = crc16(buf, p, crcAt);
    if (received !== computed)
      return this.#rejection.refuse(
        total,
        `CRC mismatch: packet carries ${hexWord(received)}, its bytes give ${hexWord(computed)}`,
      );
    const instruction = buf[p + INST_OFFSET]!;
    if (this.kind === 'status') {
      if (instruction !== INSTRUCTION.status) {
        return this.#rejection.refuse(
          total,
          `${describeInstruction(instruction)} instruction packet where a status (0x55) was expected: an echo of the request?`,
        );
      }
      if (len < MIN_STATUS_LEN) return this.#rejection.refuse(total, `status of length ${len} has no error byte`);
    } else if (instruction === INSTRUCTION.status) {
      return this.#rejection.refuse(
        total,
        `status packet from id ${id} where an instruction was expected: another servo's reply`,
      );
    }
    if (this.kind === 'status' && isUnstuffedStatus(id)) {
      this.#stuffed = 0;
    } else {
      this.#stuffed = stuffedCount(buf, p + INST_OFFSET, crcAt);
      if (this.#stuffed < 0)
        return this.#rejection.refuse(total, 'FF FF FD inside the packet without its stuffing byte');
    }
    return total;
  }

  /** The packet of the valid frame of `total` bytes at `p` (right after #check accepted it). */
  #build(p: number, total: number): P {
    const buf = this.#queue.bytes;
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
    const limit = Math.min(p + bytes, this.#queue.end);
    return this.#findHeader(p + 1, limit) - p;
  }

  /**
   * The start of a complete valid packet inside the incomplete frame at `p`, or -1. Positions
   * already ruled out for this frame are not looked at again; the first one still waiting for
   * bytes is where the next look starts.
   */
  #completePacketInside(p: number): number {
    const end = this.#queue.end;
    let waiting = -1;
    for (let q = this.#findHeader(p + Math.max(1, this.#lookahead), end); q < end; q = this.#findHeader(q + 1, end)) {
      const verdict = this.#check(q);
      if (verdict > 0) return q;
      if (verdict === 0 && waiting < 0) waiting = q;
    }
    this.#lookahead = (waiting < 0 ? end : waiting) - p;
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
