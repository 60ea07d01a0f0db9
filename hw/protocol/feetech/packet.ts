import { BROADCAST_ID, type InstructionPacket, type StatusPacket } from '../types.js';
import { feetechChecksum } from './checksum.js';
import { MAX_STATUS_ERROR } from './instructions.js';

// Framing of Feetech SCS/STS packets (Feetech's "Servo SCS Communication Protocol", Instruction
// frame and Status frame, ftservo/ftservo-wiki docs/en/reference/protocol/ft-scs.md), essentially
// DYNAMIXEL Protocol 1.0:
//
//   instruction  FF FF | ID | LEN | INST | P1 … PN | CHK
//   status       FF FF | ID | LEN | ERR  | P1 … PN | CHK
//
// LEN = N + 2 (it counts INST/ERR, the parameters and CHK); CHK = ~(ID + LEN + INST/ERR + ΣP) & 0xFF.
// There is no byte stuffing and no CRC: the header FF FF may also occur inside a packet's data,
// and an instruction is framed exactly like a status (see decoder.ts on what that means for echoes).

export const HEADER = 0xff;
/** FF FF ID LEN */
export const PREFIX_BYTES = 4;
export const CHECKSUM_BYTES = 1;
/** offset of ID, LEN and INST/ERR in a packet */
export const ID_OFFSET = 2;
export const LEN_OFFSET = 3;
export const INST_OFFSET = 4;
/** Highest servo id (253); 0xFE is broadcast, 0xFF never an id (it would read as a header). */
export const MAX_SERVO_ID = 0xfd;
/** LEN of a packet without parameters (INST/ERR + CHK). */
export const MIN_LEN = 2;
/** Largest LEN either side accepts: the FTServo SDK's RXPACKET_MAX_LEN; its receiver drops larger ones. */
export const MAX_LEN = 250;
/** Most parameters a packet carries. */
export const MAX_PARAMS = MAX_LEN - MIN_LEN;

/** Wire bytes of a packet with `paramCount` parameters (FF FF ID LEN INST/ERR P… CHK). */
export const packetBytes = (paramCount: number): number => PREFIX_BYTES + MIN_LEN + paramCount;

/** Whether `id` may head an instruction: a servo (0–253) or broadcast (254). */
export const isInstructionId = (id: number): boolean => Number.isInteger(id) && id >= 0 && id <= BROADCAST_ID;
/** Whether `id` may head a status: only a servo answers, never the broadcast id. */
export const isServoId = (id: number): boolean => Number.isInteger(id) && id >= 0 && id <= MAX_SERVO_ID;

function checkByte(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff)
    throw new Error(`${what} must be a byte (0–255), got ${value}`);
}

function checkParams(params: unknown, what: string): asserts params is Uint8Array {
  if (!(params instanceof Uint8Array)) throw new Error(`${what}: params must be a Uint8Array`);
  if (params.length > MAX_PARAMS) {
    throw new Error(
      `${what}: ${params.length} parameters make LEN ${params.length + MIN_LEN}, more than the ${MAX_LEN} a Feetech receiver accepts`,
    );
  }
}

/** FF FF ID LEN lead P… CHK */
function frame(id: number, lead: number, params: Uint8Array): Uint8Array {
  const out = new Uint8Array(packetBytes(params.length));
  out[0] = HEADER;
  out[1] = HEADER;
  out[ID_OFFSET] = id;
  out[LEN_OFFSET] = params.length + MIN_LEN;
  out[INST_OFFSET] = lead;
  out.set(params, INST_OFFSET + 1);
  out[out.length - 1] = feetechChecksum(out, ID_OFFSET, out.length - CHECKSUM_BYTES);
  return out;
}

/** Wire bytes of an instruction packet (LEN and checksum filled in). */
export function encodeInstructionPacket(packet: InstructionPacket): Uint8Array {
  const what = 'Feetech instruction packet';
  if (!isInstructionId(packet.id))
    throw new Error(
      `${what}: id ${packet.id} is not a Feetech packet id (0–${MAX_SERVO_ID}, or ${BROADCAST_ID} for broadcast)`,
    );
  checkByte(packet.instruction, `${what}: instruction`);
  checkParams(packet.params, what);
  return frame(packet.id, packet.instruction, packet.params);
}

/** Wire bytes of a status packet (LEN and checksum filled in). */
export function encodeStatusPacket(packet: StatusPacket): Uint8Array {
  const what = 'Feetech status packet';
  if (!isServoId(packet.id))
    throw new Error(`${what}: id ${packet.id} is not a servo id (0–${MAX_SERVO_ID}); only servos answer`);
  checkByte(packet.error, `${what}: error byte`);
  if (packet.error > MAX_STATUS_ERROR) {
    throw new Error(
      `${what}: error byte 0x${packet.error.toString(16)} has bit 7 set, which no servo sends and every receiver drops`,
    );
  }
  checkParams(packet.params, what);
  return frame(packet.id, packet.error, packet.params);
}
