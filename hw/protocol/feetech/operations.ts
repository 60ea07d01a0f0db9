import { BROADCAST_ID, type ExpectedReplies, type InstructionPacket, type Operation, type OperationKind } from '../types.js';
import { describeInstruction, INSTRUCTION } from './instructions.js';
import { isInstructionId, MAX_PARAMS, MAX_SERVO_ID, MIN_LEN } from './packet.js';

// Protocol-neutral operations as Feetech SCS/STS instruction packets and back
// (shared/reference/servo-protocols.md §3.2). Addresses and lengths are one byte each:
//   READ          addr len                WRITE / REG_WRITE   addr data…
//   SYNC_READ     addr len id…            SYNC_WRITE          addr len (id data×len)…
//   PING, ACTION, REBOOT                  none
// STS (magnetic encoder) servos answer SYNC_READ with one status per id in request order; SCS
// (potentiometer) servos have no SYNC_READ. Neither has BULK_READ/BULK_WRITE or a fast sync read.

/** A known instruction whose parameters do not parse (the emulator ignores it, as a servo would). */
export class MalformedInstructionError extends Error {
  override readonly name = 'MalformedInstructionError';
}

/** What one Feetech dialect can carry. */
export interface Dialect {
  /** for messages: 'Feetech STS' */
  readonly label: string;
  readonly supports: ReadonlySet<OperationKind | 'fast_sync_read'>;
}

function checkServoId(id: number, what: string): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_SERVO_ID) throw new Error(`${what}: id ${id} is not a servo id (0–${MAX_SERVO_ID})`);
}

function checkPacketId(id: number, what: string): void {
  if (!isInstructionId(id)) throw new Error(`${what}: id ${id} is not a Feetech packet id (0–${MAX_SERVO_ID}, or ${BROADCAST_ID} for broadcast)`);
}

function checkByte(value: number, what: string, min: number): void {
  if (!Number.isInteger(value) || value < min || value > 0xff) throw new Error(`${what} must be an integer in ${min}–255 (one byte on a Feetech bus), got ${value}`);
}

function checkData(data: Uint8Array, what: string): void {
  if (!(data instanceof Uint8Array) || data.length === 0) throw new Error(`${what}: data must be a non-empty Uint8Array`);
}

function checkDistinct(ids: readonly number[], what: string): void {
  const seen = new Set<number>();
  for (const id of ids) {
    if (seen.has(id)) throw new Error(`${what}: id ${id} is listed twice (each servo answers once)`);
    seen.add(id);
  }
}

function checkFits(paramCount: number, what: string): void {
  if (paramCount > MAX_PARAMS) throw new Error(`${what}: ${paramCount} parameter bytes exceed the ${MAX_PARAMS} a Feetech packet carries (LEN ≤ ${MAX_PARAMS + MIN_LEN}); split it`);
}

function unsupported(dialect: Dialect, op: Operation): Error {
  const kind = op.kind === 'sync_read' && op.fast ? 'fast sync read' : op.kind.replace('_', ' ');
  const has = [...dialect.supports].map((k) => k.replace('_', ' ')).join(', ');
  return new Error(`${dialect.label} has no ${kind} instruction (it has ${has})${op.kind === 'sync_read' && !op.fast ? ': read each servo with READ instead' : ''}`);
}

/** The instruction packet carrying `op`; throws for an operation the dialect lacks or a field out of range. */
export function instructionFor(dialect: Dialect, op: Operation): InstructionPacket {
  const what = `${dialect.label} ${op.kind}`;
  const fast = (op.kind === 'sync_read' || op.kind === 'bulk_read') && op.fast === true;
  if (!dialect.supports.has(op.kind) || (fast && !dialect.supports.has('fast_sync_read'))) throw unsupported(dialect, op);
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
      return { id: op.id, instruction: INSTRUCTION.read, params: Uint8Array.of(op.address, op.length) };
    case 'write':
    case 'reg_write': {
      checkPacketId(op.id, what);
      checkByte(op.address, `${what}: address`, 0);
      checkData(op.data, what);
      checkFits(1 + op.data.length, what);
      const params = new Uint8Array(1 + op.data.length);
      params[0] = op.address;
      params.set(op.data, 1);
      return { id: op.id, instruction: INSTRUCTION[op.kind], params };
    }
    case 'sync_read': {
      checkByte(op.address, `${what}: address`, 0);
      checkByte(op.length, `${what}: length`, 1);
      checkFits(op.length, `${what}: each reply`);
      if (op.ids.length === 0) throw new Error(`${what}: no ids to read`);
      op.ids.forEach((id) => checkServoId(id, what));
      checkDistinct(op.ids, what);
      checkFits(2 + op.ids.length, what);
      const params = new Uint8Array(2 + op.ids.length);
      params[0] = op.address;
      params[1] = op.length;
      params.set(op.ids, 2);
      return { id: BROADCAST_ID, instruction: INSTRUCTION.sync_read, params };
    }
    case 'sync_write': {
      checkByte(op.address, `${what}: address`, 0);
      checkByte(op.length, `${what}: length`, 1);
      if (op.entries.length === 0) throw new Error(`${what}: no entries to write`);
      for (const e of op.entries) {
        checkServoId(e.id, what);
        if (!(e.data instanceof Uint8Array) || e.data.length !== op.length) {
          throw new Error(`${what}: data for id ${e.id} must be ${op.length} bytes, got ${e.data instanceof Uint8Array ? e.data.length : typeof e.data}`);
        }
      }
      checkDistinct(op.entries.map((e) => e.id), what);
      const stride = 1 + op.length;
      checkFits(2 + op.entries.length * stride, what);
      const params = new Uint8Array(2 + op.entries.length * stride);
      params[0] = op.address;
      params[1] = op.length;
      op.entries.forEach((e, i) => {
        params[2 + i * stride] = e.id;
        params.set(e.data, 3 + i * stride);
      });
      return { id: BROADCAST_ID, instruction: INSTRUCTION.sync_write, params };
    }
    case 'bulk_read':
    case 'bulk_write':
      throw unsupported(dialect, op);
    default: {
      const unknown: never = op;
      throw new Error(`${dialect.label}: unknown operation ${JSON.stringify(unknown)}`);
    }
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
    throw new MalformedInstructionError(`${dialect.label} ${describeInstruction(packet.instruction)} to id ${packet.id}: ${p.length} parameter bytes, expected ${expected}`);
  };
  switch (packet.instruction) {
    case INSTRUCTION.ping:
      if (p.length !== 0) malformed('none');
      return { kind: 'ping', id: packet.id };
    case INSTRUCTION.action:
      if (p.length !== 0) malformed('none');
      return { kind: 'action', id: packet.id };
    case INSTRUCTION.reboot:
      if (p.length !== 0) malformed('none');
      return { kind: 'reboot', id: packet.id };
    case INSTRUCTION.read:
      if (p.length !== 2) malformed('address and length (2)');
      return { kind: 'read', id: packet.id, address: p[0]!, length: p[1]! };
    case INSTRUCTION.write:
    case INSTRUCTION.reg_write:
      if (p.length < 2) malformed('an address and at least one data byte (≥ 2)');
      return { kind: packet.instruction === INSTRUCTION.write ? 'write' : 'reg_write', id: packet.id, address: p[0]!, data: p.slice(1) };
    case INSTRUCTION.sync_read:
      if (!dialect.supports.has('sync_read')) return undefined;
      if (p.length < 3 || p[1] === 0) malformed('address, a non-zero length and at least one id (≥ 3)');
      return { kind: 'sync_read', address: p[0]!, length: p[1]!, ids: [...p.subarray(2)] };
    case INSTRUCTION.sync_write: {
      const length = p.length >= 2 ? p[1]! : 0;
      if (p.length < 2 || length === 0 || p.length === 2 || (p.length - 2) % (1 + length) !== 0) {
        malformed(`address, length and whole (id + ${length || 'length'} bytes) entries`);
      }
      const entries: { id: number; data: Uint8Array }[] = [];
      for (let at = 2; at < p.length; at += 1 + length) entries.push({ id: p[at]!, data: p.slice(at + 1, at + 1 + length) });
      return { kind: 'sync_write', address: p[0]!, length, entries };
    }
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
        throw new Error(`${dialect.label} broadcast ping: every servo answers, from ids the host does not know yet; ExpectedReplies cannot express that, so ping the ids one by one`);
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
      throw unsupported(dialect, op);
    default: {
      const unknown: never = op;
      throw new Error(`${dialect.label}: unknown operation ${JSON.stringify(unknown)}`);
    }
  }
}
