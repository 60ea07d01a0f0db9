import type { InstructionPacket, Operation } from './types.js';

// Parameter layouts that DYNAMIXEL Protocol 2.0 and Feetech SCS/STS share, and the field checks both
// make. The layouts of READ, WRITE/REG_WRITE, SYNC_READ and SYNC_WRITE coincide except for the width
// of an address or length field: a little-endian 16-bit word on DYNAMIXEL, one byte on Feetech:
//   READ          addr len                WRITE / REG_WRITE   addr data…
//   SYNC_READ     addr len id…            SYNC_WRITE          addr len (id data×len)…
// Each protocol's operations.ts keeps what is its own: id ranges, size limits, which instructions exist.

/** Bytes of an address or length field: 1 (Feetech) or 2 (DYNAMIXEL, little-endian). */
export type FieldBytes = 1 | 2;

/** Called with what the parameters should have held; throws the protocol's MalformedInstructionError. */
export type Malformed = (expected: string) => never;

/** Parameter writer over a precomputed size; multi-byte fields little-endian. */
export class ParamWriter {
  readonly bytes: Uint8Array;
  #at = 0;
  constructor(
    size: number,
    readonly fieldBytes: FieldBytes,
  ) {
    this.bytes = new Uint8Array(size);
  }
  byte(value: number): this {
    this.bytes[this.#at++] = value;
    return this;
  }
  /** an address or length field */
  field(value: number): this {
    this.bytes[this.#at++] = value & 0xff;
    if (this.fieldBytes === 2) this.bytes[this.#at++] = value >>> 8;
    return this;
  }
  data(values: Uint8Array): this {
    this.bytes.set(values, this.#at);
    this.#at += values.length;
    return this;
  }
}

/** The address or length field at `at`. */
export function readField(p: Uint8Array, at: number, fieldBytes: FieldBytes): number {
  return fieldBytes === 1 ? p[at]! : p[at]! | (p[at + 1]! << 8);
}

// ---- checks: each throws naming the operation (`what`) and the field out of range

export function checkServoId(id: number, what: string, maxId: number): void {
  if (!Number.isInteger(id) || id < 0 || id > maxId)
    throw new Error(`${what}: id ${id} is not a servo id (0–${maxId})`);
}

/** An integer field in min…max; `note` says why max is what it is, where that helps. */
export function checkRange(value: number, what: string, min: number, max: number, note = ''): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`${what} must be an integer in ${min}–${max}${note}, got ${value}`);
}

export function checkData(data: Uint8Array, what: string): void {
  if (!(data instanceof Uint8Array) || data.length === 0)
    throw new Error(`${what}: data must be a non-empty Uint8Array`);
}

export function checkDistinct(ids: readonly number[], what: string): void {
  const seen = new Set<number>();
  for (const id of ids) {
    if (seen.has(id)) throw new Error(`${what}: id ${id} is listed twice (each servo answers once)`);
    seen.add(id);
  }
}

/** SYNC_WRITE entries: at least one, servo ids, distinct, each with exactly `length` data bytes. */
export function checkSyncWriteEntries(
  entries: readonly { readonly id: number; readonly data: Uint8Array }[],
  length: number,
  what: string,
  maxId: number,
): void {
  if (entries.length === 0) throw new Error(`${what}: no entries to write`);
  for (const e of entries) {
    checkServoId(e.id, what, maxId);
    if (!(e.data instanceof Uint8Array) || e.data.length !== length) {
      throw new Error(
        `${what}: data for id ${e.id} must be ${length} bytes, got ${e.data instanceof Uint8Array ? e.data.length : typeof e.data}`,
      );
    }
  }
  checkDistinct(
    entries.map((e) => e.id),
    what,
  );
}

/** The error for an operation outside the `Operation` union (a caller that bypassed the types). */
export function unknownOperation(label: string, op: never): never {
  throw new Error(`${label}: unknown operation ${JSON.stringify(op)}`);
}

// ---- parameters of the shared layouts, checked by the caller

export function readParams(address: number, length: number, fieldBytes: FieldBytes): Uint8Array {
  return new ParamWriter(2 * fieldBytes, fieldBytes).field(address).field(length).bytes;
}

export function writeParams(address: number, data: Uint8Array, fieldBytes: FieldBytes): Uint8Array {
  return new ParamWriter(fieldBytes + data.length, fieldBytes).field(address).data(data).bytes;
}

export function syncReadParams(
  address: number,
  length: number,
  ids: readonly number[],
  fieldBytes: FieldBytes,
): Uint8Array {
  const params = new ParamWriter(2 * fieldBytes + ids.length, fieldBytes).field(address).field(length);
  for (const id of ids) params.byte(id);
  return params.bytes;
}

export function syncWriteParams(
  address: number,
  length: number,
  entries: readonly { readonly id: number; readonly data: Uint8Array }[],
  fieldBytes: FieldBytes,
): Uint8Array {
  const params = new ParamWriter(2 * fieldBytes + entries.length * (1 + length), fieldBytes)
    .field(address)
    .field(length);
  for (const e of entries) params.byte(e.id).data(e.data);
  return params.bytes;
}

// ---- the same layouts parsed back (a servo reading a request); `malformed` throws when they do not parse

/** Parameters that must be empty (PING, ACTION, REBOOT). */
export function expectNoParams(p: Uint8Array, malformed: Malformed): void {
  if (p.length !== 0) malformed('none');
}

export function parseRead(
  p: Uint8Array,
  fieldBytes: FieldBytes,
  malformed: Malformed,
): { address: number; length: number } {
  if (p.length !== 2 * fieldBytes) malformed(`address and length (${2 * fieldBytes})`);
  return { address: readField(p, 0, fieldBytes), length: readField(p, fieldBytes, fieldBytes) };
}

export function parseWrite(
  p: Uint8Array,
  fieldBytes: FieldBytes,
  malformed: Malformed,
): { address: number; data: Uint8Array } {
  if (p.length < fieldBytes + 1) malformed(`an address and at least one data byte (≥ ${fieldBytes + 1})`);
  return { address: readField(p, 0, fieldBytes), data: p.slice(fieldBytes) };
}

export function parseSyncWrite(
  p: Uint8Array,
  fieldBytes: FieldBytes,
  malformed: Malformed,
): { address: number; length: number; entries: { id: number; data: Uint8Array }[] } {
  const head = 2 * fieldBytes;
  const length = p.length >= head ? readField(p, fieldBytes, fieldBytes) : 0;
  if (p.length < head || length === 0 || p.length === head || (p.length - head) % (1 + length) !== 0) {
    malformed(`address, length and whole (id + ${length || 'length'} bytes) entries`);
  }
  const entries: { id: number; data: Uint8Array }[] = [];
  for (let at = head; at < p.length; at += 1 + length)
    entries.push({ id: p[at]!, data: p.slice(at + 1, at + 1 + length) });
  return { address: readField(p, 0, fieldBytes), length, entries };
}

/** The codes of the instructions whose layouts both protocols share. */
export interface UnicastCodes {
  readonly ping: number;
  readonly action: number;
  readonly reboot: number;
  readonly read: number;
  readonly write: number;
  readonly reg_write: number;
}

/**
 * PING, ACTION, REBOOT, READ, WRITE and REG_WRITE parsed from their parameters, or undefined when
 * the packet carries another instruction.
 */
export function parseUnicastOperation(
  packet: InstructionPacket,
  codes: UnicastCodes,
  fieldBytes: FieldBytes,
  malformed: Malformed,
): Operation | undefined {
  const p = packet.params;
  const id = packet.id;
  switch (packet.instruction) {
    case codes.ping:
      expectNoParams(p, malformed);
      return { kind: 'ping', id };
    case codes.action:
      expectNoParams(p, malformed);
      return { kind: 'action', id };
    case codes.reboot:
      expectNoParams(p, malformed);
      return { kind: 'reboot', id };
    case codes.read:
      return { kind: 'read', id, ...parseRead(p, fieldBytes, malformed) };
    case codes.write:
      return { kind: 'write', id, ...parseWrite(p, fieldBytes, malformed) };
    case codes.reg_write:
      return { kind: 'reg_write', id, ...parseWrite(p, fieldBytes, malformed) };
    default:
      return undefined;
  }
}
