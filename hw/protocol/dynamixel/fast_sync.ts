import { BROADCAST_ID, type ReadResult, type StatusPacket } from '../types.js';
import { crc16 } from './crc16.js';
import { INSTRUCTION } from './instructions.js';
import { checkByte, CRC_BYTES, MAX_ID, MAX_PACKET_BYTES, PREFIX_BYTES, writePrefix } from './packet.js';

// The combined reply of FAST_SYNC_READ / FAST_BULK_READ (ROBOTIS e-manual "DYNAMIXEL Protocol 2.0",
// Fast Sync Read and Fast Bulk Read, with their example packets; DynamixelSDK's
// group_fast_sync_read.cpp parses it the same way): the chained servos build one unstuffed status
// packet from the broadcast id,
//
//   FF FF FD 00 FE LEN 55 | ERR ID DATA… CRC | ERR ID DATA… CRC | … | ERR ID DATA… CRC
//
// where each segment's CRC is the running CRC of the whole packet up to it, and the last one is the
// packet's own CRC. As a StatusPacket (what the decoder returns), the first segment's ERR is the
// status error byte and the last CRC is gone; every other segment is `length + 4` bytes of params.

const SEGMENT_OVERHEAD = 4; // ERR, ID, CRC_L, CRC_H
/** the rebuilt FF FF FD 00 FE LEN 55 ERR a split starts its running CRC with (used synchronously, never kept) */
const prefixScratch = new Uint8Array(PREFIX_BYTES + 2);

function checkSegments(ids: readonly number[], lengths: readonly number[]): void {
  if (ids.length === 0) throw new Error('fast read reply: no servos listed');
  if (ids.length !== lengths.length)
    throw new Error(`fast read reply: ${ids.length} ids but ${lengths.length} lengths`);
  for (const length of lengths) {
    if (!Number.isInteger(length) || length < 1)
      throw new Error(`fast read reply: data length ${length} must be a positive integer`);
  }
}

/** Wire bytes of the combined reply carrying `results` in chain order (what the emulated chain sends). */
export function encodeFastReply(results: readonly ReadResult[]): Uint8Array {
  if (results.length === 0) throw new Error('fast read reply: no results to combine');
  let total = PREFIX_BYTES + 1;
  for (const r of results) {
    if (!Number.isInteger(r.id) || r.id < 0 || r.id > MAX_ID)
      throw new Error(`fast read reply: id ${r.id} is not a servo id (0–${MAX_ID})`);
    checkByte(r.error, `fast read reply: error byte of id ${r.id}`);
    if (!(r.data instanceof Uint8Array) || r.data.length === 0)
      throw new Error(`fast read reply: data of id ${r.id} must be a non-empty Uint8Array`);
    total += SEGMENT_OVERHEAD + r.data.length;
  }
  if (total > MAX_PACKET_BYTES)
    throw new Error(`fast read reply: ${total} bytes is more than the ${MAX_PACKET_BYTES} a DYNAMIXEL bus handles`);
  const out = new Uint8Array(total);
  writePrefix(out, BROADCAST_ID, total - PREFIX_BYTES);
  out[PREFIX_BYTES] = INSTRUCTION.status;
  let at = PREFIX_BYTES + 1;
  let crc = 0;
  let crcDoneTo = 0;
  for (const r of results) {
    out[at++] = r.error;
    out[at++] = r.id;
    out.set(r.data, at);
    at += r.data.length;
    crc = crc16(out, crcDoneTo, at, crc);
    crcDoneTo = at; // the CRC bytes written next are part of the following running CRC
    out[at++] = crc & 0xff;
    out[at++] = crc >>> 8;
  }
  return out;
}

/**
 * Splits a decoded combined reply into per-servo results, servo k's data being `lengths[k]` bytes.
 * The packet's final CRC was checked by the decoder; this checks every intermediate running CRC
 * and that the segments carry `ids` in that order, so a reply framed with the wrong lengths or from
 * a chain in another order is refused, naming the first segment that disagrees.
 */
export function splitFastReply(packet: StatusPacket, ids: readonly number[], lengths: readonly number[]): ReadResult[] {
  checkSegments(ids, lengths);
  if (packet.id !== BROADCAST_ID)
    throw new Error(`fast read reply: comes from id ${packet.id}, a combined reply comes from ${BROADCAST_ID}`);
  const params = packet.params;
  let expected = -(SEGMENT_OVERHEAD - 1); // the first ERR is the status error byte and the last CRC is the packet's
  for (const length of lengths) expected += length + SEGMENT_OVERHEAD;
  if (params.length !== expected) {
    throw new Error(
      `fast read reply: ${params.length} parameter bytes, ${ids.length} servos of ${lengths.join('+')} data bytes need ${expected}`,
    );
  }
  // the running CRC starts with the frame's own prefix, rebuilt here: FF FF FD 00 FE LEN 55 ERR
  writePrefix(prefixScratch, BROADCAST_ID, params.length + 2 + CRC_BYTES);
  prefixScratch[PREFIX_BYTES] = INSTRUCTION.status;
  prefixScratch[PREFIX_BYTES + 1] = packet.error;
  let crc = crc16(prefixScratch);
  const results: ReadResult[] = [];
  let at = 0;
  let crcDoneTo = 0;
  for (let k = 0; k < ids.length; k++) {
    const error = k === 0 ? packet.error : params[at++]!;
    const id = params[at++]!;
    if (id !== ids[k]) throw new Error(`fast read reply: segment ${k} carries id ${id}, expected ${ids[k]}`);
    const data = params.slice(at, at + lengths[k]!);
    at += lengths[k]!;
    results.push({ id, error, data });
    if (k === ids.length - 1) break;
    crc = crc16(params, crcDoneTo, at, crc);
    crcDoneTo = at; // the running CRC goes on over the CRC bytes themselves
    const carried = params[at]! | (params[at + 1]! << 8);
    if (carried !== crc) {
      throw new Error(
        `fast read reply: running CRC after segment ${k} (id ${id}) is 0x${carried.toString(16).padStart(4, '0')}, the bytes give 0x${crc.toString(16).padStart(4, '0')}`,
      );
    }
    at += CRC_BYTES;
  }
  return results;
}
