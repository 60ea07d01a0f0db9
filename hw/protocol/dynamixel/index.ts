import type { OperationKind, ServoErrorInfo, ServoProtocol } from '../types.js';
import { createInstructionDecoder, createStatusDecoder } from './decoder.js';
import { encodeFastReply, splitFastReply } from './fast_sync.js';
import { ALERT_BIT, ERROR_NUMBER_MASK, ERROR_NUMBERS } from './instructions.js';
import { expectedReplies, instructionFor, operationOf } from './operations.js';
import { encodeInstructionPacket, encodeStatusPacket, instructionWireBytes, statusWireBytes } from './packet.js';

// DYNAMIXEL Protocol 2.0 (X-series servos) as a ServoProtocol: the pieces of this directory put
// together. The specification followed is ROBOTIS's e-manual page "DYNAMIXEL Protocol 2.0"
// (https://emanual.robotis.com/docs/en/dxl/protocol2/), cross-checked with DynamixelSDK's
// protocol2_packet_handler.cpp; docs/servo-protocols.md summarises what the code relies on.

export { crc16, crc16Bitwise } from './crc16.js';
export { stuff, unstuff, stuffingCount, stuffedCount } from './stuffing.js';
export {
  INSTRUCTION,
  ALERT_BIT,
  ERROR_NUMBERS,
  instructionName,
  describeInstruction,
  errorNumber,
  FACTORY_RESET_OPTION,
  CLEAR_MULTI_TURN,
  CLEAR_KEY,
} from './instructions.js';
export { MAX_PACKET_BYTES, encodeInstructionPacket, encodeStatusPacket } from './packet.js';
export { createStatusDecoder, createInstructionDecoder } from './decoder.js';
export { encodeFastReply, splitFastReply } from './fast_sync.js';
export { MalformedInstructionError } from '../errors.js';

const SUPPORTED: ReadonlySet<OperationKind | 'fast_sync_read'> = new Set<OperationKind | 'fast_sync_read'>([
  'ping',
  'read',
  'write',
  'reg_write',
  'action',
  'reboot',
  'sync_read',
  'sync_write',
  'bulk_read',
  'bulk_write',
  'fast_sync_read',
  'factory_reset',
  'clear',
]);

/** What a status error byte says: the alert bit (a hardware fault, details in Hardware Error Status) and the error number. */
function describeError(error: number): ServoErrorInfo {
  const alert = (error & ALERT_BIT) !== 0;
  const number = error & ERROR_NUMBER_MASK;
  const instruction = number === 0 ? undefined : (ERROR_NUMBERS.get(number)?.name ?? `unknown_error_${number}`);
  return { hardware: alert, instruction, flags: alert ? ['alert'] : [] };
}

export const dynamixel2: ServoProtocol = {
  name: 'dynamixel2',
  byteOrder: 'little',
  supports: SUPPORTED,
  encodeInstruction: encodeInstructionPacket,
  encodeStatus: encodeStatusPacket,
  statusDecoder: createStatusDecoder,
  instructionDecoder: createInstructionDecoder,
  instructionFor,
  operationOf,
  expectedReplies,
  splitCombined: splitFastReply,
  encodeCombined: encodeFastReply,
  describeError,
  instructionBytes: instructionWireBytes,
  statusBytes: statusWireBytes,
};
