import type { MessageDefinition, MessageDefinitionField } from '@foxglove/message-definition';

// The CDR writer fills a missing field with its default and coerces wrong types silently, so a
// typo'd field name or a string where a number belongs would travel unnoticed. This checks a
// message against its definition first and names the first field that is wrong.

const INTEGER_RANGES: Record<string, [number, number]> = {
  int8: [-128, 127],
  uint8: [0, 255],
  byte: [0, 255],
  char: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (typeof value === 'string')
    return `string ${JSON.stringify(value.length > 20 ? value.slice(0, 20) + '…' : value)}`;
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- any value a caller put in a message can land here; String() is the description this error has always given
  return `${typeof value} ${String(value)}`;
}

function checkPrimitive(type: string, value: unknown): string | undefined {
  switch (type) {
    case 'bool':
      return typeof value === 'boolean' ? undefined : `expected bool, got ${describe(value)}`;
    case 'string':
    case 'wstring':
      return typeof value === 'string' ? undefined : `expected string, got ${describe(value)}`;
    case 'float32':
    case 'float64':
      return typeof value === 'number' ? undefined : `expected ${type}, got ${describe(value)}`;
    case 'int64':
    case 'uint64':
      if (typeof value === 'bigint') return undefined;
      return typeof value === 'number' && Number.isSafeInteger(value) && (type === 'int64' || value >= 0)
        ? undefined
        : `expected ${type}, got ${describe(value)}`;
    case 'time':
    case 'duration':
      return undefined; // checked as the nested builtin_interfaces struct by the caller
    default: {
      const range = INTEGER_RANGES[type];
      if (!range) return undefined;
      return typeof value === 'number' && Number.isInteger(value) && value >= range[0] && value <= range[1]
        ? undefined
        : `expected ${type}, got ${describe(value)}`;
    }
  }
}

function checkTime(value: unknown, path: string): string | undefined {
  if (typeof value !== 'object' || value === null)
    return `${path}: expected builtin_interfaces/Time, got ${describe(value)}`;
  const t = value as Record<string, unknown>;
  const keys = Object.keys(t).filter((k) => k !== 'sec' && k !== 'nanosec');
  if (keys.length) return `${path}: unknown field '${keys[0]}'`;
  return checkPrimitive('int32', t.sec)
    ? `${path}.sec: ${checkPrimitive('int32', t.sec)}`
    : checkPrimitive('uint32', t.nanosec)
      ? `${path}.nanosec: ${checkPrimitive('uint32', t.nanosec)}`
      : undefined;
}

export class MessageValidator {
  readonly #byName = new Map<string, MessageDefinition>();
  readonly #root: MessageDefinition;

  constructor(definitions: readonly MessageDefinition[]) {
    this.#root = definitions[0]!;
    for (const d of definitions) if (d.name) this.#byName.set(d.name, d);
  }

  /** The first problem found, as 'field.path: what is wrong', or undefined. */
  check(message: unknown): string | undefined {
    return this.#struct(this.#root, message, '');
  }

  #struct(def: MessageDefinition, value: unknown, path: string): string | undefined {
    const here = path || '(message)';
    if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value))
      return `${here}: expected ${def.name ?? 'a message'}, got ${describe(value)}`;
    const fields = def.definitions.filter((f) => !f.isConstant);
    const object = value as Record<string, unknown>;
    const known = new Set(fields.map((f) => f.name));
    for (const key of Object.keys(object)) {
      if (!known.has(key) && key !== 'structure_needs_at_least_one_member')
        return `${path ? path + '.' : ''}${key}: unknown field of ${def.name ?? 'the message'}`;
    }
    for (const field of fields) {
      if (field.name === 'structure_needs_at_least_one_member') continue;
      const problem = this.#field(field, object[field.name], path ? `${path}.${field.name}` : field.name);
      if (problem) return problem;
    }
    return undefined;
  }

  #field(field: MessageDefinitionField, value: unknown, path: string): string | undefined {
    if (value === undefined) return `${path}: missing`;
    if (field.isArray) {
      const isSeq = Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
      if (!isSeq) return `${path}: expected an array of ${field.type}, got ${describe(value)}`;
      const items = value as ArrayLike<unknown>;
      if (field.arrayLength !== undefined && items.length !== field.arrayLength)
        return `${path}: expected ${field.arrayLength} elements, got ${items.length}`;
      if (field.arrayUpperBound !== undefined && items.length > field.arrayUpperBound)
        return `${path}: at most ${field.arrayUpperBound} elements, got ${items.length}`;
      if (ArrayBuffer.isView(value)) return undefined; // a typed array holds numbers by construction
      for (let i = 0; i < items.length; i++) {
        const problem = this.#single(field, items[i], `${path}[${i}]`);
        if (problem) return problem;
      }
      return undefined;
    }
    return this.#single(field, value, path);
  }

  #single(field: MessageDefinitionField, value: unknown, path: string): string | undefined {
    if (field.type === 'time' || field.type === 'duration') return checkTime(value, path);
    if (field.isComplex) {
      const def = this.#byName.get(field.type);
      return def ? this.#struct(def, value, path) : undefined;
    }
    const problem = checkPrimitive(field.type, value);
    return problem ? `${path}: ${problem}` : undefined;
  }
}
