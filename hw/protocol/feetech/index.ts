import type {
  InstructionPacket,
  Operation,
  OperationKind,
  ReadResult,
  ServoErrorInfo,
  ServoProtocol,
  StatusPacket,
} from '../types.js';
import { createInstructionDecoder, createStatusDecoder } from './decoder.js';
import { STATUS_ERROR_BITS } from './instructions.js';
import { type Dialect, expectedReplies, instructionFor, operationOf } from './operations.js';
import { encodeInstructionPacket, encodeStatusPacket, packetBytes } from './packet.js';

// The Feetech SCS/STS protocol behind the protocol-neutral `ServoProtocol` (hw/protocol/types.ts),
// in its two dialects (Feetech's "Servo SCS Communication Protocol", ftservo/ftservo-wiki
// docs/en/reference/protocol/ft-scs.md, which gives the byte order per servo type; LeRobot's
// lerobot/motors/feetech/ names them protocol 0 and 1):
//  - `feetechSts`: STS/SMS servos (magnetic encoder, e.g. the STS3215 of SO-100/SO-101),
//    little-endian registers (SCS_END = 0, LeRobot protocol 0), SYNC_READ and SYNC_WRITE;
//  - `feetechScs`: SCS servos (potentiometer), big-endian registers (LeRobot protocol 1),
//    SYNC_WRITE but no SYNC_READ.
// Packets are framed identically; only the register byte order and the instruction set differ.
// Neither has bulk read/write or a combined (fast) reply.
//
// Echoes: a half-duplex adapter's echo of a unicast request decodes as a valid status packet;
// the bus driver drops it with `isEchoOf` (echo.ts, decoder.ts explain why nothing else can).

export { feetechChecksum } from './checksum.js';
export { decodeSignMagnitude, encodeSignMagnitude, maxMagnitude, SignMagnitudeRangeError } from './sign_magnitude.js';
export { isEchoOf } from './echo.js';
export { INSTRUCTION, STATUS_ERROR_BITS, describeInstruction, instructionName } from './instructions.js';
export { MalformedInstructionError } from '../errors.js';

function describeError(error: number): ServoErrorInfo {
  if (!Number.isInteger(error) || error < 0 || error > 0xff)
    throw new Error(`Feetech error byte must be 0–255, got ${error}`);
  const flags: string[] = [];
  let unknown = error;
  for (const [mask, name] of STATUS_ERROR_BITS) {
    if (error & mask) flags.push(name);
    unknown &= ~mask;
  }
  for (let bit = 0; bit < 8; bit++) if (unknown & (1 << bit)) flags.push(`undefined_bit_${bit}`);
  // every defined bit is a hardware condition (voltage, angle sensor, overheat, overcurrent, overload)
  return { hardware: (error & ~unknown) !== 0, instruction: undefined, flags };
}

function noCombined(label: string): never {
  throw new Error(`${label} has no combined (fast) replies: SYNC_READ is answered by one status packet per servo`);
}

function makeProtocol(
  name: 'feetech_sts' | 'feetech_scs',
  byteOrder: 'little' | 'big',
  label: string,
  kinds: readonly OperationKind[],
): ServoProtocol {
  const dialect: Dialect = { label, supports: new Set(kinds) };
  return {
    name,
    byteOrder,
    supports: dialect.supports,
    encodeInstruction: (packet: InstructionPacket) => encodeInstructionPacket(packet),
    encodeStatus: (packet: StatusPacket) => encodeStatusPacket(packet),
    statusDecoder: createStatusDecoder,
    instructionDecoder: createInstructionDecoder,
    instructionFor: (op: Operation) => instructionFor(dialect, op),
    operationOf: (packet: InstructionPacket) => operationOf(dialect, packet),
    expectedReplies: (op: Operation) => expectedReplies(dialect, op),
    splitCombined: (): ReadResult[] => noCombined(label),
    encodeCombined: (): Uint8Array => noCombined(label),
    describeError,
    instructionBytes: packetBytes,
    statusBytes: packetBytes,
  };
}

const COMMON: readonly OperationKind[] = ['ping', 'read', 'write', 'reg_write', 'action', 'reboot', 'sync_write'];

/** Feetech STS/SMS: little-endian, SYNC_READ and SYNC_WRITE, no bulk, no fast read. */
export const feetechSts: ServoProtocol = makeProtocol('feetech_sts', 'little', 'Feetech STS', [...COMMON, 'sync_read']);

/** Feetech SCS: big-endian, SYNC_WRITE only (no SYNC_READ), no bulk, no fast read. */
export const feetechScs: ServoProtocol = makeProtocol('feetech_scs', 'big', 'Feetech SCS', COMMON);
