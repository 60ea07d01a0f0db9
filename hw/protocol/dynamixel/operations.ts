import { BROADCAST_ID, type ExpectedReplies, type InstructionPacket, type Operation } from '../types.js';
import { MalformedInstructionError } from '../errors.js';
import {
  checkData,
  checkDistinct,
  checkRange,
  checkServoId,
  checkSyncWriteEntries,
  ParamWriter,
  parseSyncWrite,
  parseUnicastOperation,
  readField,
  readParams,
  syncReadParams,
  syncWriteParams,
  unknownOperation,
  writeParams,
} from '../operation_params.js';
import { CLEAR_KEY, CLEAR_MULTI_TURN, describeInstruction, FACTORY_RESET_OPTION, INSTRUCTION } from './instructions.js';
import { checkPacketId, MAX_ID } from './packet.js';
import { hexByte } from '../bytes.js';

// Protocol-neutral operations as DYNAMIXEL Protocol 2.0 instruction packets and back (ROBOTIS
// e-manual "DYNAMIXEL Protocol 2.0", one page per instruction: Read, Write, Sync Read, Fast Sync
// Read, Bulk Read, …), and which status packets each one brings back.
// Parameter layouts (all 16-bit fields little-endian; the rows shared with Feetech are in
// ../operation_params.ts):
//   READ                     addr len            WRITE / REG_WRITE   addr data…
//   SYNC_READ / FAST_…       addr len id…        SYNC_WRITE          addr len (id data×len)…
//   BULK_READ / FAST_…       (id addr len)…      BULK_WRITE          (id addr len data×len)…
//   PING, ACTION, REBOOT     none                FACTORY_RESET       option (0xFF, 0x01, 0x02)
//   CLEAR                    option (0x01) 44 58 4C 22

/** DYNAMIXEL addresses and lengths are little-endian 16-bit words. */
const FIELD = 2;

const checkWord = (value: number, what: string, min: number): void => checkRange(value, what, min, 0xffff);

/** The instruction packet carrying `op`; throws naming the field that is out of range. */
export function instructionFor(op: Operation): InstructionPacket {
  const what = `DYNAMIXEL ${op.kind}`;
  switch (op.kind) {
    case 'ping':
    case 'action':
    case 'reboot':
      checkPacketId(op.id, what);
      return { id: op.id, instruction: INSTRUCTION[op.kind], params: new Uint8Array(0) };
    case 'factory_reset': {
      checkPacketId(op.id, what);
      if (!(Object.values(FACTORY_RESET_OPTION) as number[]).includes(op.option))
        throw new Error(
          `${what}: option must be 0xFF (all), 0x01 (all but the ID) or 0x02 (all but the ID and baud rate), got ${op.option}`,
        );
      return { id: op.id, instruction: INSTRUCTION.factory_reset, params: Uint8Array.of(op.option) };
    }
    case 'clear':
      checkPacketId(op.id, what);
      if (op.option !== CLEAR_MULTI_TURN)
        throw new Error(
          `${what}: option ${hexByte(op.option)} is reserved (0x01 = Present Position back within one turn)`,
        );
      return { id: op.id, instruction: INSTRUCTION.clear, params: Uint8Array.of(op.option, ...CLEAR_KEY) };
    case 'read':
      checkPacketId(op.id, what);
      checkWord(op.address, `${what}: address`, 0);
      checkWord(op.length, `${what}: length`, 1);
      return { id: op.id, instruction: INSTRUCTION.read, params: readParams(op.address, op.length, FIELD) };
    case 'write':
    case 'reg_write':
      checkPacketId(op.id, what);
      checkWord(op.address, `${what}: address`, 0);
      checkData(op.data, what);
      return { id: op.id, instruction: INSTRUCTION[op.kind], params: writeParams(op.address, op.data, FIELD) };
    case 'sync_read': {
      checkWord(op.address, `${what}: address`, 0);
      checkWord(op.length, `${what}: length`, 1);
      if (op.ids.length === 0) throw new Error(`${what}: no ids to read`);
      op.ids.forEach((id) => checkServoId(id, what, MAX_ID));
      checkDistinct(op.ids, what);
      return {
        id: BROADCAST_ID,
        instruction: op.fast ? INSTRUCTION.fast_sync_read : INSTRUCTION.sync_read,
        params: syncReadParams(op.address, op.length, op.ids, FIELD),
      };
    }
    case 'sync_write': {
      checkWord(op.address, `${what}: address`, 0);
      checkWord(op.length, `${what}: length`, 1);
      checkSyncWriteEntries(op.entries, op.length, what, MAX_ID);
      return {
        id: BROADCAST_ID,
        instruction: INSTRUCTION.sync_write,
        params: syncWriteParams(op.address, op.length, op.entries, FIELD),
      };
    }
    case 'bulk_read': {
      if (op.entries.length === 0) throw new Error(`${what}: no entries to read`);
      for (const e of op.entries) {
        checkServoId(e.id, what, MAX_ID);
        checkWord(e.address, `${what}: address for id ${e.id}`, 0);
        checkWord(e.length, `${what}: length for id ${e.id}`, 1);
      }
      checkDistinct(
        op.entries.map((e) => e.id),
        what,
      );
      const params = new ParamWriter(5 * op.entries.length, FIELD);
      for (const e of op.entries) params.byte(e.id).field(e.address).field(e.length);
      return {
        id: BROADCAST_ID,
        instruction: op.fast ? INSTRUCTION.fast_bulk_read : INSTRUCTION.bulk_read,
        params: params.bytes,
      };
    }
    case 'bulk_write': {
      if (op.entries.length === 0) throw new Error(`${what}: no entries to write`);
      let size = 0;
      for (const e of op.entries) {
        checkServoId(e.id, what, MAX_ID);
        checkWord(e.address, `${what}: address for id ${e.id}`, 0);
        checkData(e.data, `${what} for id ${e.id}`);
        checkWord(e.data.length, `${what}: data length for id ${e.id}`, 1);
        size += 5 + e.data.length;
      }
      checkDistinct(
        op.entries.map((e) => e.id),
        what,
      );
      const params = new ParamWriter(size, FIELD);
      for (const e of op.entries) params.byte(e.id).field(e.address).field(e.data.length).data(e.data);
      return { id: BROADCAST_ID, instruction: INSTRUCTION.bulk_write, params: params.bytes };
    }
    default:
      return unknownOperation('DYNAMIXEL', op);
  }
}

const word = (p: Uint8Array, at: number): number => readField(p, at, FIELD);

/**
 * The operation an instruction packet carries, as a servo reads it; undefined for instructions
 * outside `Operation` (control table backup, …). Throws MalformedInstructionError when a known
 * instruction's parameters do not parse. FACTORY_RESET and CLEAR options the e-manual does not
 * define still parse: the servo decides what to answer.
 */
export function operationOf(packet: InstructionPacket): Operation | undefined {
  const p = packet.params;
  const malformed = (expected: string): never => {
    throw new MalformedInstructionError(
      `${describeInstruction(packet.instruction)} to id ${packet.id}: ${p.length} parameter bytes, expected ${expected}`,
    );
  };
  const unicast = parseUnicastOperation(packet, INSTRUCTION, FIELD, malformed);
  if (unicast) return unicast;
  switch (packet.instruction) {
    case INSTRUCTION.factory_reset:
      if (p.length !== 1) malformed('the reset option (1)');
      return { kind: 'factory_reset', id: packet.id, option: p[0]! };
    case INSTRUCTION.clear: {
      if (p.length === 0) malformed('an option (≥ 1)');
      const option = p[0]!;
      if (
        option === CLEAR_MULTI_TURN &&
        !(p.length === 1 + CLEAR_KEY.length && CLEAR_KEY.every((b, i) => p[1 + i] === b))
      )
        malformed(`0x01 and the fixed bytes 44 58 4C 22 (5)`);
      return { kind: 'clear', id: packet.id, option };
    }
    case INSTRUCTION.sync_read:
    case INSTRUCTION.fast_sync_read: {
      if (p.length < 5) malformed('address, length and at least one id (≥ 5)');
      const op = { kind: 'sync_read', address: word(p, 0), length: word(p, 2), ids: [...p.subarray(4)] } as const;
      return packet.instruction === INSTRUCTION.fast_sync_read ? { ...op, fast: true } : op;
    }
    case INSTRUCTION.sync_write:
      return { kind: 'sync_write', ...parseSyncWrite(p, FIELD, malformed) };
    case INSTRUCTION.bulk_read:
    case INSTRUCTION.fast_bulk_read: {
      if (p.length === 0 || p.length % 5 !== 0) malformed('whole (id, address, length) entries of 5 bytes');
      const entries: { id: number; address: number; length: number }[] = [];
      for (let at = 0; at < p.length; at += 5)
        entries.push({ id: p[at]!, address: word(p, at + 1), length: word(p, at + 3) });
      return packet.instruction === INSTRUCTION.fast_bulk_read
        ? { kind: 'bulk_read', entries, fast: true }
        : { kind: 'bulk_read', entries };
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
        throw new Error(
          'DYNAMIXEL broadcast ping: every servo answers, from ids the host does not know yet; ExpectedReplies cannot express that, so ping the ids one by one',
        );
      }
      return { kind: 'each', ids: [op.id] };
    case 'read':
    case 'write':
    case 'reg_write':
    case 'action':
    case 'reboot':
    case 'factory_reset':
    case 'clear':
      return op.id === BROADCAST_ID ? { kind: 'none' } : { kind: 'each', ids: [op.id] };
    case 'sync_read':
      return op.fast
        ? { kind: 'combined', ids: [...op.ids], lengths: op.ids.map(() => op.length) }
        : { kind: 'each', ids: [...op.ids] };
    case 'bulk_read': {
      const ids = op.entries.map((e) => e.id);
      return op.fast ? { kind: 'combined', ids, lengths: op.entries.map((e) => e.length) } : { kind: 'each', ids };
    }
    case 'sync_write':
    case 'bulk_write':
      return { kind: 'none' };
    default:
      return unknownOperation('DYNAMIXEL', op);
  }
}
