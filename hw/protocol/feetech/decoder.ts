import { ByteQueue } from '../byte_queue.js';
import { hexByte } from '../bytes.js';
import { FrameRejection, PushEvents } from '../decode_events.js';
import type { DecodeEvent, InstructionPacket, StatusPacket, StreamDecoder } from '../types.js';
import { feetechChecksum } from './checksum.js';
import { MAX_STATUS_ERROR } from './instructions.js';
import {
  CHECKSUM_BYTES,
  HEADER,
  ID_OFFSET,
  INST_OFFSET,
  isInstructionId,
  isServoId,
  LEN_OFFSET,
  MAX_LEN,
  MAX_SERVO_ID,
  MIN_LEN,
  PREFIX_BYTES,
} from './packet.js';

// Streaming decoders for Feetech SCS/STS (framing: Feetech's "Servo SCS Communication Protocol",
// ftservo/ftservo-wiki docs/en/reference/protocol/ft-scs.md; receive checks: rxPacket in Feetech's
// scservo_sdk protocol_packet_handler.py). Bytes arrive in arbitrary chunks; a packet comes out
// only when every check passed:
//
//  1. header FF FF;
//  2. the id: a servo (0–253) for a status, a servo or broadcast (0–254) for an instruction;
//  3. LEN within 2 … 250;
//  4. status only: the error byte at most 0x7F;
//  5. the checksum.
//
// Checks 2–4 are the FTServo SDK's receive sanity checks (it drops one byte and searches again).
// A frame failing any check is reported `corrupt` and the decoder resynchronises one byte after
// its start, so a packet hidden behind a false header (a stray FF FF, a corrupted LEN that
// swallowed the next reply) is still found. The bytes from the failed frame's start to the next
// possible header inside the part of it that was examined are counted in that corrupt event,
// anything skipped after it as garbage; together with the packets and `pending` the events
// account for every byte pushed, so a caller can tell where in the stream each packet sat.
//
// A false header with a large LEN holds the decoder until LEN bytes have arrived (then its
// checksum fails and the packets it covered come out): the decoder never cuts a frame short to
// accept a packet from inside it, because without byte stuffing a genuine packet's data may hold
// a well-framed packet. On a half-duplex bus nothing more arrives after the replies, so the bus
// driver meets this as a timeout and calls `reset()` before retrying.
//
// ⚠ Echoes. Instruction and status packets share their framing, so the status decoder cannot tell
// a servo's reply from a half-duplex adapter's echo of the request: an echoed PING
// `FF FF 01 02 01 FB` is exactly a status from id 1 with error byte 1 (voltage), and an echoed
// READ is a status with error byte 2 carrying the address and length as data. Echoes of broadcast
// requests (SYNC_READ, SYNC_WRITE) are refused as `corrupt` (id 0xFE is no servo). The bus driver
// must therefore match replies itself: it knows the bytes it has just written and drops a leading
// packet whose re-encoding equals them (`isEchoOf` in echo.ts). Framing alone cannot decide —
// the reply of a servo with a voltage error to that PING is byte for byte the same as its echo —
// so the driver must also know whether its adapter echoes (see echo.ts).
//
// The bytes wait in a ByteQueue reused across pushes; a packet costs one allocation for its
// parameters and one for the event.

const INITIAL_CAPACITY = 1024;

type PacketKind = 'status' | 'instruction';

class FeetechDecoder<P> implements StreamDecoder<P> {
  readonly #queue = new ByteQueue(INITIAL_CAPACITY);
  /** why the last #check that returned -1 refused its frame */
  readonly #rejection = new FrameRejection();
  readonly #events = new PushEvents<P>();

  constructor(readonly kind: PacketKind) {}

  get pending(): number {
    return this.#queue.length;
  }

  reset(): void {
    this.#queue.clear();
  }

  push(chunk: Uint8Array): DecodeEvent<P>[] {
    if (!(chunk instanceof Uint8Array))
      throw new Error(`Feetech ${this.kind} decoder: push() takes a Uint8Array or Buffer, got ${typeof chunk}`);
    const queue = this.#queue;
    queue.append(chunk);
    const events = this.#events;
    events.begin();
    for (;;) {
      const header = this.#findHeader(queue.start, queue.end);
      if (header > queue.start) {
        events.skip(header - queue.start);
        queue.start = header;
      }
      if (queue.start === queue.end) break;
      const verdict = this.#check(queue.start);
      if (verdict === 0) break;
      if (verdict > 0) {
        events.add({ kind: 'packet', packet: this.#build(queue.start, verdict) });
        queue.start += verdict;
      } else {
        const bytes = this.#findHeader(queue.start + 1, queue.start + this.#rejection.bytes) - queue.start;
        events.add({ kind: 'corrupt', reason: this.#rejection.reason, bytes });
        queue.start += bytes;
      }
    }
    queue.rewindIfEmpty();
    return events.finish();
  }

  /**
   * The first position in [from, limit) where a header FF FF starts, or could start once more
   * bytes arrive (an FF as the last byte received); `limit` if none.
   */
  #findHeader(from: number, limit: number): number {
    const buf = this.#queue.bytes;
    const end = this.#queue.end;
    for (let i = from; i < limit; i++) {
      if (buf[i] !== HEADER) continue;
      if (i + 1 >= end || buf[i + 1] === HEADER) return i;
    }
    return limit;
  }

  /**
   * Judges the frame at `p` (where #findHeader found FF FF): its wire length when it is a whole
   * valid packet, 0 when more bytes are needed, -1 when it fails a check (#rejection says how many
   * of its bytes were examined and why).
   */
  #check(p: number): number {
    const buf = this.#queue.bytes;
    const available = this.#queue.end - p;
    if (available <= ID_OFFSET) return 0;
    const id = buf[p + ID_OFFSET]!;
    if (this.kind === 'status' ? !isServoId(id) : !isInstructionId(id)) {
      const allowed = this.kind === 'status' ? `a servo id 0–${MAX_SERVO_ID}` : `0–${MAX_SERVO_ID} or 254 (broadcast)`;
      return this.#rejection.refuse(
        ID_OFFSET + 1,
        `id ${hexByte(id)} after FF FF is not ${allowed}${this.kind === 'status' && id === 0xfe ? ': an echo of a broadcast request?' : ''}`,
      );
    }
    if (available <= LEN_OFFSET) return 0;
    const len = buf[p + LEN_OFFSET]!;
    if (len < MIN_LEN || len > MAX_LEN)
      return this.#rejection.refuse(LEN_OFFSET + 1, `length ${len} outside ${MIN_LEN}–${MAX_LEN}`);
    if (this.kind === 'status') {
      if (available <= INST_OFFSET) return 0;
      const error = buf[p + INST_OFFSET]!;
      if (error > MAX_STATUS_ERROR)
        return this.#rejection.refuse(
          INST_OFFSET + 1,
          `error byte ${hexByte(error)} has bit 7 set (no servo sends it): not a status`,
        );
    }
    const total = PREFIX_BYTES + len;
    if (available < total) return 0;
    const checksumAt = p + total - CHECKSUM_BYTES;
    const received = buf[checksumAt]!;
    const computed = feetechChecksum(buf, p + ID_OFFSET, checksumAt);
    if (received !== computed)
      return this.#rejection.refuse(
        total,
        `checksum mismatch: packet carries ${hexByte(received)}, its bytes give ${hexByte(computed)}`,
      );
    return total;
  }

  /** The packet of the valid frame of `total` bytes at `p` (right after #check accepted it). */
  #build(p: number, total: number): P {
    const buf = this.#queue.bytes;
    const id = buf[p + ID_OFFSET]!;
    const lead = buf[p + INST_OFFSET]!;
    const params = buf.slice(p + INST_OFFSET + 1, p + total - CHECKSUM_BYTES);
    if (this.kind === 'status') {
      const packet: StatusPacket = { id, error: lead, params };
      return packet as P;
    }
    const packet: InstructionPacket = { id, instruction: lead, params };
    return packet as P;
  }
}

/** Host side: a decoder of status packets. It cannot tell an adapter's echo of a unicast request from a reply (see above). */
export function createStatusDecoder(): StreamDecoder<StatusPacket> {
  return new FeetechDecoder<StatusPacket>('status');
}

/** Servo side (emulator, bus sniffer): a decoder of instruction packets. A sniffer sees replies as instructions too. */
export function createInstructionDecoder(): StreamDecoder<InstructionPacket> {
  return new FeetechDecoder<InstructionPacket>('instruction');
}
