import type { ProtocolName } from '../protocol/types.js';
import { decodeSignMagnitude, encodeSignMagnitude } from '../protocol/feetech/sign_magnitude.js';
import type { Register, RegisterName, ServoModel } from './control_table.js';

// Register values ↔ bytes and raw units ↔ SI, driven only by the control tables: the byte order
// comes from the model's protocol, the sign handling from the register's encoding (unsigned, two's
// complement, or Feetech sign-magnitude), the SI factor from its unit. Writes are checked against
// what the register's size and encoding can hold and against its documented range.

/**
 * Byte order of multi-byte registers per protocol (each ServoProtocol declares the same in its
 * `byteOrder`; kept here so the tables do not depend on the codecs).
 */
const BYTE_ORDER: Readonly<Record<ProtocolName, 'little' | 'big'>> = {
  dynamixel2: 'little',
  feetech_sts: 'little',
  feetech_scs: 'big',
};

export function byteOrderOf(protocol: ProtocolName): 'little' | 'big' {
  return BYTE_ORDER[protocol];
}

/** The register of that name, or an error naming the registers the model has. */
export function registerOf(model: ServoModel, name: RegisterName): Register {
  const register = model.registers[name];
  if (!register)
    throw new Error(
      `servo model ${model.name} has no register '${name}' (it has: ${Object.keys(model.registers).join(', ')})`,
    );
  return register;
}

/** The integers the register's size and encoding can hold. */
export function representableRange(register: Register): readonly [number, number] {
  const bits = 8 * register.size;
  switch (register.encoding.kind) {
    case 'unsigned':
      return [0, 2 ** bits - 1];
    case 'twos_complement':
      return [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
    case 'sign_magnitude': {
      const signBit = register.encoding.signBit;
      if (signBit >= bits)
        throw new Error(`register '${register.name}': sign bit ${signBit} does not fit in ${register.size} byte(s)`);
      const max = 2 ** signBit - 1;
      return [-max, max];
    }
  }
}

/** The range a write must respect: the documented one when there is one, else what the bytes hold. */
export function writableRange(register: Register): readonly [number, number] {
  return register.range ?? representableRange(register);
}

function checkWritable(model: ServoModel, register: Register, value: number, shown: string): void {
  if (!Number.isInteger(value))
    throw new RangeError(`${model.name} ${register.name}: ${shown} is not an integer raw value`);
  const [lo, hi] = representableRange(register);
  if (value < lo || value > hi) {
    throw new RangeError(
      `${model.name} ${register.name}: ${shown} does not fit its ${register.size}-byte ${register.encoding.kind.replace('_', ' ')} encoding [${lo}, ${hi}]`,
    );
  }
  if (register.range) {
    const [min, max] = register.range;
    if (value < min || value > max)
      throw new RangeError(
        `${model.name} ${register.name}: ${shown} is outside its documented range [${min}, ${max}] (${register.unit.raw} units)`,
      );
  }
}

/** The raw value as the register's unsigned field. */
function toField(register: Register, value: number): number {
  switch (register.encoding.kind) {
    case 'unsigned':
      return value;
    case 'twos_complement':
      return value < 0 ? value + 2 ** (8 * register.size) : value;
    case 'sign_magnitude':
      return encodeSignMagnitude(value, register.encoding.signBit);
  }
}

/** The register's unsigned field as its raw value. */
function fromField(register: Register, field: number): number {
  switch (register.encoding.kind) {
    case 'unsigned':
      return field;
    case 'twos_complement': {
      const bits = 8 * register.size;
      return field >= 2 ** (bits - 1) ? field - 2 ** bits : field;
    }
    case 'sign_magnitude':
      return decodeSignMagnitude(field, register.encoding.signBit);
  }
}

/** The bytes of `value` (raw units) for register `name`, in the model's byte order; throws on a value it cannot hold. */
export function encodeRegister(model: ServoModel, name: RegisterName, value: number): Uint8Array {
  const register = registerOf(model, name);
  checkWritable(model, register, value, String(value));
  const field = toField(register, value);
  const out = new Uint8Array(register.size);
  const big = byteOrderOf(model.protocol) === 'big';
  let rest = field;
  for (let i = 0; i < register.size; i++) {
    out[big ? register.size - 1 - i : i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return out;
}

/** The raw value register `name` holds in `bytes` (exactly its size, in the model's byte order). */
export function decodeRegister(model: ServoModel, name: RegisterName, bytes: Uint8Array): number {
  const register = registerOf(model, name);
  if (!(bytes instanceof Uint8Array) || bytes.length !== register.size) {
    throw new Error(
      `${model.name} ${name}: expected ${register.size} byte(s), got ${bytes instanceof Uint8Array ? bytes.length : typeof bytes}`,
    );
  }
  return fromField(register, readField(bytes, 0, register.size, byteOrderOf(model.protocol)));
}

function readField(bytes: Uint8Array, at: number, size: number, order: 'little' | 'big'): number {
  let field = 0;
  for (let i = 0; i < size; i++) {
    const byte = bytes[order === 'big' ? at + i : at + size - 1 - i]!;
    field = field * 256 + byte;
  }
  return field;
}

/**
 * Every register that lies wholly inside a block of bytes read from `address` on (a READ or a sync
 * read's data), by name — e.g. STS3215 address 56, 8 bytes: position, velocity, load, voltage and
 * temperature.
 */
export function decodeBlock(
  model: ServoModel,
  address: number,
  bytes: Uint8Array,
): Partial<Record<RegisterName, number>> {
  if (!Number.isInteger(address) || address < 0)
    throw new Error(`${model.name}: block address ${address} is not a non-negative integer`);
  const order = byteOrderOf(model.protocol);
  const out: Partial<Record<RegisterName, number>> = {};
  for (const register of Object.values(model.registers)) {
    const at = register.address - address;
    if (at < 0 || at + register.size > bytes.length) continue;
    out[register.name] = fromField(register, readField(bytes, at, register.size, order));
  }
  return out;
}

/** The SI value (rad, rad/s, rad/s², A, fraction, V, °C, s) of a raw value of register `name`; registers without a unit return it unchanged. */
export function toSI(model: ServoModel, name: RegisterName, raw: number): number {
  const register = registerOf(model, name);
  if (!Number.isFinite(raw)) throw new RangeError(`${model.name} ${name}: raw value ${raw} is not a finite number`);
  return raw * register.unit.scale;
}

/** The raw value nearest to an SI value for register `name`, checked as a write would be. */
export function fromSI(model: ServoModel, name: RegisterName, si: number): number {
  const register = registerOf(model, name);
  if (!Number.isFinite(si)) throw new RangeError(`${model.name} ${name}: ${si} is not a finite number`);
  const raw = Math.round(si / register.unit.scale) || 0;
  const symbol = SI_SYMBOL[register.unit.quantity];
  checkWritable(
    model,
    register,
    raw,
    register.unit.quantity === 'none' ? String(raw) : `${si} ${symbol} (${raw} × ${register.unit.raw})`,
  );
  return raw;
}

const SI_SYMBOL: Record<Register['unit']['quantity'], string> = {
  angle: 'rad',
  angular_velocity: 'rad/s',
  angular_acceleration: 'rad/s²',
  current: 'A',
  load_ratio: '(fraction of max torque)',
  voltage: 'V',
  temperature: '°C',
  time: 's',
  none: '',
};

/** The names of the hardware error bits set in `value` (Dynamixel register 70, Feetech status/error byte); unknown bits as `undefined_bit_N`. */
export function hardwareErrorNames(model: ServoModel, value: number): string[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xff)
    throw new RangeError(`${model.name}: hardware error value ${value} is not a byte`);
  const names: string[] = [];
  let rest = value;
  for (const [mask, name] of model.hardwareErrorBits) {
    if (value & mask) names.push(name);
    rest &= ~mask;
  }
  for (let bit = 0; bit < 8; bit++) if (rest & (1 << bit)) names.push(`undefined_bit_${bit}`);
  return names;
}
