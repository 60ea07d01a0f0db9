import { BROADCAST_ID, type ExpectedReplies, type InstructionPacket, type Operation } from '../types.js';
import { describeInstruction, INSTRUCTION } from './instructions.js';
import { checkPacketId, MAX_ID } from './packet.js';

// Protocol-neutral operations as DYNAMIXEL Protocol 2.0 instruction packets and back
// (shared/reference/servo-protocols.md §2.3), and which status packets each one brings back.
// Parameter layouts (all 16-bit fields little-endian):
//   READ                     addr len            WRITE / REG_WRITE   addr data…
//   SYNC_READ / FAST_…       addr len id…        SYNC_WRITE          addr len (id data×len)…
//   BULK_READ / FAST_…       (id addr len)…      BULK_WRITE          (id addr len data×len)…
//   PING, ACTION, REBOOT     none

/** A known instruction whose parameters do not parse (the emulator answers it with a data length error). */
export class MalformedInstructionError extends Error {
  override readonly name = 'MalformedInstructionError';
}

function checkServoId(id: number, what: string): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_ID) throw new Error(`${what}: id ${id} is not a servo id (0–${MAX_ID})`);
}

function checkWord(value: number, what: string, min: number): void {
  if (!Number.isInteger(value) || value < min || value > 0xffff) throw new Error(`${what} must be an integer in ${min}–65535, got ${value}`);
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

/** Little-endian parameter writer over a precomputed size. */
class Params {
  readonly bytes: Uint8Array;
  #at = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }
  byte(value: number): this {
    this.bytes[this.#at++] = value;
    return this;
  }
  word(value: number): this {
    this.bytes[this.#at++] = value & 0xff;
    this.bytes[this.#at++] = value >>> 8;
    return this;
  }
  data(values: Uint8Array): this {
    this.bytes.set(values, this.#at);
    this.#at += values.length;
    return this;
  }
}

/** The instruction packet carrying `op`; throws naming the field that is out of range. */
export function instructionFor(op: Operation): InstructionPacket {
  const what = `DYNAMIXEL ${op.kind}`;
  switch (op.kind) {
    case 'ping':
    case 'action':
    case 'reboot':
      checkPacketId(op.id, what);
      return { id: op.id, instruction: INSTRUCTION[op.kind], params: new Uint8Array(0) };
    case 'read':
      checkPacketId(op.id, what);
      checkWord(op.address, `${what}: address`, 0);
      checkWord(op.length, `${what}: length`, 1);
      return { id: op.id, instruction: INSTRUCTION.read, params: new Params(4).word(op.address).word(op.length).bytes };
    case 'write':
    case 'reg_write':
      checkPacketId(op.id, what);
      checkWord(op.address, `${what}: address`, 0);
      checkData(op.data, what);
      return { id: op.id, instruction: INSTRUCTION[op.kind], params: new Params(2 + op.data.length).word(op.address).data(op.data).bytes };
    case 'sync_read': {
      checkWord(op.address, `${what}: address`, 0);
      checkWord(op.length, `${what}: length`, 1);
      if (op.ids.length === 0) throw new Error(`${what}: no ids to read`);
      op.ids.forEach((id) => checkServoId(id, what));
      checkDistinct(op.ids, what);
      const params = new Params(4 + op.ids.length).word(op.address).word(op.length);
      for (const id of op.ids) params.byte(id);
      return { id: BROADCAST_ID, instruction: op.fast ? INSTRUCTION.fast_sync_read : INSTRUCTION.sync_read, params: params.bytes };
    }
    case 'sync_write': {
      checkWord(op.address, `${what}: address`, 0);
      checkWord(op.length, `${what}: length`, 1);
      if (op.entries.length === 0) throw new Error(`${what}: no entries to write`);
      for (const e of op.entries) {
        checkServoId(e.id, what);
        if (!(e.data instanceof Uint8Array) || e.data.length !== op.length) {
          throw new Error(`${what}: data for id ${e.id} must be ${op.length} bytes, got ${e.data instanceof Uint8Array ? e.data.length : typeof e.data}`);
        }
      }
      checkDistinct(op.entries.map((e) => e.id), what);
      const params = new Params(4 + op.entries.length * (1 + op.length)).word(op.address).word(op.length);
      for (const e of op.entries) params.byte(e.id).data(e.data);
      return { id: BROADCAST_ID, instruction: INSTRUCTION.sync_write, params: params.bytes };
    }
    case 'bulk_read': {
      if (op.entries.length === 0) throw new Error(`${what}: no entries to read`);
      for (const e of op.entries) {
        checkServoId(e.id, what);
        checkWord(e.address, `${what}: address for id ${e.id}`, 0);
        checkWord(e.length, `${what}: length for id ${e.id}`, 1);
      }
      checkDistinct(op.entries.map((e) => e.id), what);
      const params = new Params(5 * op.entries.length);
      for (const e of op.entries) params.byte(e.id).word(e.address).word(e.length);
      return { id: BROADCAST_ID, instruction: op.fast ? INSTRUCTION.fast_bulk_read : INSTRUCTION.bulk_read, params: params.bytes };
    }
    case 'bulk_write': {
      if (op.entries.length === 0) throw new Error(`${what}: no entries to write`);
      let size = 0;
      for (const e of op.entries) {
        checkServoId(e.id, what);
        checkWord(e.address, `${what}: address for id ${e.id}`, 0);
        checkData(e.data, `${what} for id ${e.id}`);
        checkWord(e.data.length, `${what}: data length for id ${e.id}`, 1);
        size += 5 + e.data.length;
      }
      checkDistinct(op.entries.map((e) => e.id), what);
      const params = new Params(size);
      for (const e of op.entries) params.byte(e.id).word(e.address).word(e.data.length).data(e.data);
      return { id: BROADCAST_ID, instruction: INSTRUCTION.bulk_write, params: params.bytes };
    }
    default: {
      const unknown: never = op;
      throw new Error(`DYNAMIXEL: unknown operation ${JSON.stringify(unknown)}`);
    }
  }
}

const word = (p: Uint8Array, at: number): number => p[at]! | (p[at + 1]! << 8);

/**
 * The operation an instruction packet carries, as a servo reads it; undefined for instructions
 * outside `Operation` (factory reset, clear, backup…). Throws MalformedInstructionError when a
 * known instruction's parameters do not parse.
 */
export function operationOf(packet: InstructionPacket): Operation | undefined {
  const p = packet.params;
  const malformed = (expected: string): never => {
    throw new MalformedInstructionError(`${describeInstruction(packet.instruction)} to id ${packet.id}: ${p.length} parameter bytes, expected ${expected}`);
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
      if (p.length !== 4) malformed('address and length (4)');
      return { kind: 'read', id: packet.id, address: word(p, 0), length: word(p, 2) };
    case INSTRUCTION.write:
    case INSTRUCTION.reg_write:
      if (p.length < 3) malformed('an address and at least one data byte (≥ 3)');
      return { kind: packet.instruction === INSTRUCTION.write ? 'write' : 'reg_write', id: packet.id, address: word(p, 0), data: p.slice(2) };
    case INSTRUCTION.sync_read:
    case INSTRUCTION.fast_sync_read: {
      if (p.length < 5) malformed('address, length and at least one id (≥ 5)');
      const op = { kind: 'sync_read', address: word(p, 0), length: word(p, 2), ids: [...p.subarray(4)] } as const;
      return packet.instruction === INSTRUCTION.fast_sync_read ? { ...op, fast: true } : op;
    }
    case INSTRUCTION.sync_write: {
      const length = p.length >= 4 ? word(p, 2) : 0;
      if (p.length < 4 || length === 0 || p.length === 4 || (p.length - 4) % (1 + length) !== 0) {
        malformed(`address, length and whole (id + ${length || 'length'} bytes) entries`);
      }
      const entries: { id: number; data: Uint8Array }[] = [];
      for (let at = 4; at < p.length; at += 1 + length) entries.push({ id: p[at]!, data: p.slice(at + 1, at + 1 + length) });
      return { kind: 'sync_write', address: word(p, 0), length, entries };
    }
    case INSTRUCTION.bulk_read:
    case INSTRUCTION.fast_bulk_read: {
      if (p.length === 0 || p.length % 5 !== 0) malformed('whole (id, address, length) entries of 5 bytes');
      const entries: { id: number; address: number; length: number }[] = [];
      for (let at = 0; at < p.length; at += 5) entries.push({ id: p[at]!, address: word(p, at + 1), length: word(p, at + 3) });
      return packet.instruction === INSTRUCTION.fast_bulk_read ? { kind: 'bulk_read', entries, fast: true } : { kind: 'bulk_read', entries };
    }
    case INSTRUCTION.bulk_write: {
      const entries: { id: number; address: number; data: Uint8Array }[] = [];
      let at = 0;
      while (at < p.length) {
        if (at + 5 > p.length) malformed('whole (id, address, length, data) entries');
        const length = word(p, at + 3);
        if (length === 0 || at + 5 + length > p.length) malformed('whole (id, address, length, data) entries');
        entries.push({ id: p[at]!, address: word(p, at + 1), data: p.slice(at + 5, at + 5 + length) });
        at += 5 + length;
      }
      if (entries.length === 0) malformed('at least one entry');
      return { kind: 'bulk_write', entries };
    }
    default:
      return undefined;
  }
}

/**
 * Which status packets answer `op`, assuming the factory Status Return Level 2 (every instruction
 * to one servo is answered). Writes, ACTION and REBOOT to the broadcast id, SYNC_WRITE and
 * BULK_WRITE get no answer; sync and bulk reads one status per servo in request order; the fast
 * variants one combined status.
 */
export function expectedReplies(op: Operation): ExpectedReplies {
  switch (op.kind) {
    case 'ping':
      if (op.id === BROADCAST_ID) {
        throw new Error('DYNAMIXEL broadcast ping: every servo answers, from ids the host does not know yet; ExpectedReplies cannot express that, so ping the ids one by one');
      }
      return { kind: 'each', ids: [op.id] };
    case 'read':
    case 'write':
    case 'reg_write':
    case 'action':
    case 'reboot':
      return op.id === BROADCAST_ID ? { kind: 'none' } : { kind: 'each', ids: [op.id] };
    case 'sync_read':
      return op.fast ? { kind: 'combined', ids: [...op.ids], lengths: op.ids.map(() => op.length) } : { kind: 'each', ids: [...op.ids] };
    case 'bulk_read': {
      const ids = op.entries.map((e) => e.id);
      return op.fast ? { kind: 'combined', ids, lengths: op.entries.map((e) => e.length) } : { kind: 'each', ids };
    }
    case 'sync_write':
    case 'bulk_write':
      return { kind: 'none' };
    default: {
      const unknown: never = op;
      throw new Error(`DYNAMIXEL: unknown operation ${JSON.stringify(unknown)}`);
    }
  }
}
