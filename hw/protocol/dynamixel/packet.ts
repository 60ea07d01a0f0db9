import { BROADCAST_ID, type InstructionPacket, type StatusPacket } from '../types.js';
import { crc16 } from './crc16.js';
import { INSTRUCTION } from './instructions.js';
import { stuffInto, stuffingCount } from './stuffing.js';

// Framing of DYNAMIXEL Protocol 2.0 packets (ROBOTIS e-manual "DYNAMIXEL Protocol 2.0",
// https://emanual.robotis.com/docs/en/dxl/protocol2/: Instruction Packet, Status Packet, Byte Stuffing):
//
//   FF FF FD 00 | ID | LEN_L LEN_H | INST | [ERR] | PARAM… | CRC_L CRC_H
//
// LEN counts INST, ERR, the parameters and the CRC after stuffing; the CRC covers everything from
// the first FF through the last stuffed parameter. Stuffing runs from INST through the last
// parameter. One exception: a status from the broadcast id is the combined reply of FAST_SYNC_READ /
// FAST_BULK_READ, which the servos send unstuffed (e-manual, Fast Sync Read); encoder and decoder
// both follow that.

export const HEADER_0 = 0xff;
export const HEADER_1 = 0xff;
export const HEADER_2 = 0xfd;
export const RESERVED = 0x00;
/** FF FF FD 00 ID LEN_L LEN_H */
export const PREFIX_BYTES = 7;
export const CRC_BYTES = 2;
/** offset of INST in a packet */
export const INST_OFFSET = 7;
/** Highest unicast id; 0xFD and 0xFF are never ids (they would echo the header). */
export const MAX_ID = 0xfc;
/** Largest packet either side handles: DynamixelSDK's TXPACKET_MAX_LEN / RXPACKET_MAX_LEN. */
export const MAX_PACKET_BYTES = 1024;
/** LEN of the smallest instruction (INST + CRC) and status (INST + ERR + CRC). */
export const MIN_INSTRUCTION_LEN = 3;
export const MIN_STATUS_LEN = 4;

/** Whether `id` may appear in a packet's id field: a servo (0–252) or broadcast (254). */
export const isPacketId = (id: number): boolean =>
  Number.isInteger(id) && ((id >= 0 && id <= MAX_ID) || id === BROADCAST_ID);

/** A status from the broadcast id is a fast-read combined reply, which travels unstuffed. */
export const isUnstuffedStatus = (id: number): boolean => id === BROADCAST_ID;

export function checkPacketId(id: number, what: string): void {
  if (!isPacketId(id))
    throw new Error(`${what}: id ${id} is not a DYNAMIXEL packet id (0–${MAX_ID}, or ${BROADCAST_ID} for broadcast)`);
}

export function checkByte(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff)
    throw new Error(`${what} must be a byte (0–255), got ${value}`);
}

function checkParams(params: unknown, what: string): asserts params is Uint8Array {
  if (!(params instanceof Uint8Array)) throw new Error(`${what}: params must be a Uint8Array`);
}

/** Writes FF FF FD 00 ID LEN at the start of `out`. */
export function writePrefix(out: Uint8Array, id: number, len: number): void {
  out[0] = HEADER_0;
  out[1] = HEADER_1;
  out[2] = HEADER_2;
  out[3] = RESERVED;
  out[4] = id;
  out[5] = len & 0xff;
  out[6] = len >>> 8;
}

/** Writes the CRC of everything before the last two bytes into them. */
export function writeCrc(out: Uint8Array): void {
  const crc = crc16(out, 0, out.length - CRC_BYTES);
  out[out.length - 2] = crc & 0xff;
  out[out.length - 1] = crc >>> 8;
}

/**
 * The wire bytes of a packet whose body (from INST on, before stuffing) is `lead` (INST, and ERR for
 * a status) followed by `params`. The body is written unstuffed first; only when it holds a marker
 * is it copied again with the stuffing, so the usual packet costs one allocation.
 */
function frame(id: number, lead: readonly number[], params: Uint8Array, stuffed: boolean, what: string): Uint8Array {
  const bodyLength = lead.length + params.length;
  let out = new Uint8Array(PREFIX_BYTES + bodyLength + CRC_BYTES);
  for (let i = 0; i < lead.length; i++) out[INST_OFFSET + i] = lead[i]!;
  out.set(params, INST_OFFSET + lead.length);
  const extra = stuffed ? stuffingCount(out, INST_OFFSET, INST_OFFSET + bodyLength) : 0;
  if (extra > 0) {
    const wider = new Uint8Array(out.length + extra);
    stuffInto(out, INST_OFFSET, INST_OFFSET + bodyLength, wider, INST_OFFSET);
    out = wider;
  }
  if (out.length > MAX_PACKET_BYTES) {
    throw new Error(
      `${what}: the packet would be ${out.length} bytes, more than the ${MAX_PACKET_BYTES} a DYNAMIXEL bus handles (${params.length} parameters)`,
    );
  }
  writePrefix(out, id, out.length - PREFIX_BYTES);
  writeCrc(out);
  return out;
}

/** Wire bytes of an instruction packet (stuffed, LEN and CRC filled in). */
export function encodeInstructionPacket(packet: InstructionPacket): Uint8Array {
  const what = 'DYNAMIXEL instruction packet';
  checkPacketId(packet.id, what);
  checkByte(packet.instruction, `${what}: instruction`);
  if (packet.instruction === INSTRUCTION.status)
    throw new Error(`${what}: 0x55 is the status code; encode a status packet instead`);
  checkParams(packet.params, what);
  return frame(packet.id, [packet.instruction], packet.params, true, what);
}

/** Wire bytes of a status packet; a status from the broadcast id (combined fast reply) is left unstuffed. */
export function encodeStatusPacket(packet: StatusPacket): Uint8Array {
  const what = 'DYNAMIXEL status packet';
  checkPacketId(packet.id, what);
  checkByte(packet.error, `${what}: error`);
  checkParams(packet.params, what);
  return frame(packet.id, [INSTRUCTION.status, packet.error], packet.params, !isUnstuffedStatus(packet.id), what);
}

/** Wire bytes of an instruction with `paramCount` parameters, before any stuffing. */
export const instructionWireBytes = (paramCount: number): number => PREFIX_BYTES + 1 + paramCount + CRC_BYTES;
/** Wire bytes of a status with `paramCount` parameters, before any stuffing. */
export const statusWireBytes = (paramCount: number): number => PREFIX_BYTES + 2 + paramCount + CRC_BYTES;
