import {
  BROADCAST_ID,
  type ExpectedReplies,
  type InstructionPacket,
  type Operation,
  type OperationKind,
} from '../types.js';
import { MalformedInstructionError } from '../errors.js';
import {
  checkData,
  checkDistinct,
  checkRange,
  checkServoId,
  checkSyncWriteEntries,
  parseSyncWrite,
  parseUnicastOperation,
  readParams,
  syncReadParams,
  syncWriteParams,
  unknownOperation,
  writeParams,
} from '../operation_params.js';
import { describeInstruction, INSTRUCTION } from './instructions.js';
import { isInstructionId, MAX_PARAMS, MAX_SERVO_ID, MIN_LEN } from './packet.js';

// Protocol-neutral operations as Feetech SCS/STS instruction packets and back (Feetech's "Servo
// SCS Communication Protocol", Instruction types: READ DATA, WRITE DATA, SYNC READ, SYNC WRITE, …;
// ftservo/ftservo-wiki docs/en/reference/protocol/ft-scs.md). Addresses and lengths are one byte
// each (the layouts shared with DYNAMIXEL are in ../operation_params.ts):
//   READ          addr len                WRITE / REG_WRITE   addr data…
//   SYNC_READ     addr len id…            SYNC_WRITE          addr len (id data×len)…
//   PING, ACTION, REBOOT                  none
// STS (magnetic encoder) servos answer SYNC_READ with one status per id in request order; SCS
// (potentiometer) servos have no SYNC_READ. Neither has BULK_READ/BULK_WRITE or a fast sync read.

/** Feetech addresses and lengths are one byte each. */
const FIELD = 1;

/** What one Feetech dialect can carry. */
export interface Dialect {
  /** for messages: 'Feetech STS' */
  readonly label: string;
  readonly supports: ReadonlySet<OperationKind | 'fast_sync_read'>;
}

function checkPacketId(id: number, what: string): void {
  if (!isInstructionId(id))
    throw new Error(
      `${what}: id ${id} is not a Feetech packet id (0–${MAX_SERVO_ID}, or ${BROADCAST_ID} for broadcast)`,
    );
}

const checkByte = (value: number, what: string, min: number): void =>
  checkRange(value, what, min, 0xff, ' (one byte on a Feetech bus)');

function checkFits(paramCount: number, what: string): void {
  if (paramCount > MAX_PARAMS)
    throw new Error(
      `${what}: ${paramCount} parameter bytes exceed the ${MAX_PARAMS} a Feetech packet carries (LEN ≤ ${MAX_PARAMS + MIN_LEN}); split it`,
    );
}

function unsupported(dialect: Dialect, op: Operation): Error {
  const kind = op.kind === 'sync_read' && op.fast ? 'fast sync read' : op.kind.replace('_', ' ');
  const has = [...dialect.supports].map((k) => k.replace('_', ' ')).join(', ');
  return new Error(
    `${dialect.label} has no ${kind} instruction (it has ${has})${op.kind === 'sync_read' && !op.fast ? ': read each servo with READ instead' : ''}`,
  );
}

/** The instruction packet carrying `op`; throws for an operation the dialect lacks or a field out of range. */
export function instructionFor(dialect: Dialect, op: Operation): InstructionPacket {
  const what = `${dialect.label} ${op.kind}`;
  const fast = (op.kind === 'sync_read' || op.kind === 'bulk_read') && op.fast === true;
  if (!dialect.supports.has(op.kind) || (fast && !dialect.supports.has('fast_sync_read')))
    throw unsupported(dialect, op);
  switch (op.kind) {
    case 'ping':
    case 'action':
    case 'reboot':
      checkPacketId(op.id, what);
      return { id: op.id, instruction: INSTRUCTION[op.kind], params: new Uint8Array(0) };
    case 'read':
      checkPacketId(op.id, what);
      checkByte(op.address, `${what}: address`, 0);
      checkByte(op.length, `${what}: length`, 1);
      // the reply must fit in a status packet too
      checkFits(op.length, `${what}: the reply`);
      return { id: op.id, instruction: INSTRUCTION.read, params: readParams(op.address, op.length, FIELD) };
    case 'write':
    case 'reg_write':
      checkPacketId(op.id, what);
      checkByte(op.address, `${what}: address`, 0);
      checkData(op.data, what);
      checkFits(1 + op.data.length, what);
      return { id: op.id, instruction: INSTRUCTION[op.kind], params: writeParams(op.address, op.data, FIELD) };
    case 'sync_read': {
      checkByte(op.address, `${what}: address`, 0);
      checkByte(op.length, `${what}: length`, 1);
      checkFits(op.length, `${what}: each reply`);
      if (op.ids.length === 0) throw new Error(`${what}: no ids to read`);
      op.ids.forEach((id) => checkServoId(id, what, MAX_SERVO_ID));
      checkDistinct(op.ids, what);
      checkFits(2 + op.ids.length, what);
      return {
        id: BROADCAST_ID,
        instruction: INSTRUCTION.sync_read,
        params: syncReadParams(op.address, op.length, op.ids, FIELD),
      };
    }
    case 'sync_write': {
      checkByte(op.address, `${what}: address`, 0);
      checkByte(op.length, `${what}: length`, 1);
      checkSyncWriteEntries(op.entries, op.length, what, MAX_SERVO_ID);
      checkFits(2 + op.entries.length * (1 + op.length), what);
      return {
        id: BROADCAST_ID,
        instruction: INSTRUCTION.sync_write,
        params: syncWriteParams(op.address, op.length, op.entries, FIELD),
      };
    }
    case 'bulk_read':
    case 'bulk_write':
    case 'factory_reset':
    case 'clear':
      throw unsupported(dialect, op);
    default:
      return unknownOperation(dialect.label, op);
  }
}

/**
 * The operation an instruction packet carries, as a servo of this dialect reads it; undefined for
 * instructions outside `Operation` (RESTORE, PARAM_BACKUP, RESET, OFSCAL) and for those the dialect
 * lacks. Throws MalformedInstructionError when a known instruction's parameters do not parse.
 */
export function operationOf(dialect: Dialect, packet: InstructionPacket): Operation | undefined {
  const p = packet.params;
  const malformed = (expected: string): never => {
    throw new MalformedInstructionError(
      `${dialect.label} ${describeInstruction(packet.instruction)} to id ${packet.id}: ${p.length} parameter bytes, expected ${expected}`,
    );
  };
  const unicast = parseUnicastOperation(packet, INSTRUCTION, FIELD, malformed);
  if (unicast) return unicast;
  switch (packet.instruction) {
    case INSTRUCTION.sync_read:
      if (!dialect.supports.has('sync_read')) return undefined;
      if (p.length < 3 || p[1] === 0) malformed('address, a non-zero length and at least one id (≥ 3)');
      return { kind: 'sync_read', address: p[0]!, length: p[1]!, ids: [...p.subarray(2)] };
    case INSTRUCTION.sync_write:
      return { kind: 'sync_write', ...parseSyncWrite(p, FIELD, malformed) };
    default:
      return undefined;
  }
}

/**
 * Which status packets answer `op`, assuming the factory response level 1 (address 8: every
 * instruction to one servo is answered). Broadcasts other than SYNC_READ, SYNC_WRITE and REBOOT
 * (the servo restarts instead of answering) get no answer; SYNC_READ one status per id, in
 * request order.
 */
export function expectedReplies(dialect: Dialect, op: Operation): ExpectedReplies {
  switch (op.kind) {
    case 'ping':
      if (op.id === BROADCAST_ID) {
        throw new Error(
          `${dialect.label} broadcast ping: every servo answers, from ids the host does not know yet; ExpectedReplies cannot express that, so ping the ids one by one`,
        );
      }
      return { kind: 'each', ids: [op.id] };
    case 'read':
    case 'write':
    case 'reg_write':
    case 'action':
      return op.id === BROADCAST_ID ? { kind: 'none' } : { kind: 'each', ids: [op.id] };
    case 'reboot':
      return { kind: 'none' };
    case 'sync_read':
      if (!dialect.supports.has('sync_read') || op.fast) throw unsupported(dialect, op);
      return { kind: 'each', ids: [...op.ids] };
    case 'sync_write':
      return { kind: 'none' };
    case 'bulk_read':
    case 'bulk_write':
    case 'factory_reset':
    case 'clear':
      throw unsupported(dialect, op);
    default:
      return unknownOperation(dialect.label, op);
  }
}
