import { createHash } from 'node:crypto';

// The RIHS01 type hash of a message type (REP 2011, "Evolving Message Types"), which rosbag2
// (Jazzy) records per topic as type_description_hash (metadata.yaml) and topic_type_hash (MCAP
// channel metadata). As rosidl_generator_type_description computes it: the type's description
// and those of every type it refers to (sorted by name), each a list of fields {name, type:
// {type_id, capacity, string_capacity, nested_type_name}} (no constants, comments or default
// values), serialized as Python's json.dumps with its default ', ' and ': ' separators, then
// SHA-256: "RIHS01_" + 64 hex digits. The field type ids are type_description_interfaces/msg/
// FieldType.msg's. Computed here from the concatenated .msg text rosbag2 stores (checked against
// the hashes ROS 2 Jazzy generated for std_msgs/String and sensor_msgs/JointState).

const SEPARATOR = '='.repeat(80);

const TYPE_IDS: Readonly<Record<string, number>> = {
  nested: 1,
  int8: 2,
  uint8: 3,
  int16: 4,
  uint16: 5,
  int32: 6,
  uint32: 7,
  int64: 8,
  uint64: 9,
  float32: 10,
  float64: 11,
  // .msg char is IDL uint8, byte is IDL octet (rosidl_adapter's MSG_TYPE_TO_IDL)
  char: 3,
  bool: 15,
  byte: 16,
  string: 17,
  wstring: 18,
};
const BOUNDED_STRING = 21;
const BOUNDED_WSTRING = 22;
const ARRAY = 48;
const BOUNDED_SEQUENCE = 96;
const UNBOUNDED_SEQUENCE = 144;

interface FieldDescription {
  name: string;
  type: { type_id: number; capacity: number; string_capacity: number; nested_type_name: string };
}

interface TypeDescription {
  type_name: string;
  fields: FieldDescription[];
}

/** 'pkg/Name' or 'pkg/msg/Name' → 'pkg/msg/Name'; a bare 'Name' is in `pkg`. */
function fullName(name: string, pkg: string): string {
  const parts = name.split('/');
  if (parts.length === 3) return name;
  if (parts.length === 2) return `${parts[0]!}/msg/${parts[1]!}`;
  return `${pkg}/msg/${name}`;
}

const BUILTIN: Readonly<Record<string, TypeDescription>> = {
  'builtin_interfaces/msg/Time': {
    type_name: 'builtin_interfaces/msg/Time',
    fields: [
      { name: 'sec', type: { type_id: 6, capacity: 0, string_capacity: 0, nested_type_name: '' } },
      { name: 'nanosec', type: { type_id: 7, capacity: 0, string_capacity: 0, nested_type_name: '' } },
    ],
  },
  'builtin_interfaces/msg/Duration': {
    type_name: 'builtin_interfaces/msg/Duration',
    fields: [
      { name: 'sec', type: { type_id: 6, capacity: 0, string_capacity: 0, nested_type_name: '' } },
      { name: 'nanosec', type: { type_id: 7, capacity: 0, string_capacity: 0, nested_type_name: '' } },
    ],
  },
};

/** The fields of one .msg text (constants skipped). */
function describe(typeName: string, text: string): TypeDescription {
  const pkg = typeName.split('/')[0]!;
  const fields: FieldDescription[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const m = /^(\S+)\s+([A-Za-z][A-Za-z0-9_]*)\s*(=)?/.exec(line);
    if (!m) throw new Error(`${typeName}: cannot read the field line '${line}'`);
    if (m[3] === '=') continue; // a constant
    let token = m[1]!;
    let kind = 0;
    let capacity = 0;
    const array = /\[(<=)?(\d*)\]$/.exec(token);
    if (array) {
      token = token.slice(0, array.index);
      if (array[2] === '') kind = UNBOUNDED_SEQUENCE;
      else {
        kind = array[1] ? BOUNDED_SEQUENCE : ARRAY;
        capacity = Number(array[2]);
      }
    }
    let stringCapacity = 0;
    let id: number;
    let nested = '';
    const bounded = /^(w?string)<=(\d+)$/.exec(token);
    if (bounded) {
      id = bounded[1] === 'string' ? BOUNDED_STRING : BOUNDED_WSTRING;
      stringCapacity = Number(bounded[2]);
    } else if (TYPE_IDS[token] !== undefined && token !== 'nested') id = TYPE_IDS[token]!;
    else {
      id = TYPE_IDS['nested']!;
      nested = fullName(token, pkg);
    }
    fields.push({
      name: m[2]!,
      type: { type_id: id + kind, capacity, string_capacity: stringCapacity, nested_type_name: nested },
    });
  }
  // rosidl gives an empty struct one member
  if (fields.length === 0)
    fields.push({
      name: 'structure_needs_at_least_one_member',
      type: { type_id: 3, capacity: 0, string_capacity: 0, nested_type_name: '' },
    });
  return { type_name: typeName, fields };
}

/**
 * The RIHS01 hash of `type` from its schema text as rosbag2 stores it ('ros2msg': the type's .msg
 * text, then each dependency after a separator and 'MSG: pkg/Name'). Throws one line when the text
 * lacks a type it refers to.
 */
export function typeHashOf(type: string, definitionText: string): string {
  const root = fullName(type, '');
  const sections = definitionText.split(`\n${SEPARATOR}\n`);
  const texts = new Map<string, string>([[root, sections[0]!]]);
  for (const section of sections.slice(1)) {
    const header = /^MSG: (\S+)\n?/.exec(section);
    if (header) texts.set(fullName(header[1]!, ''), section.slice(header[0].length));
  }
  const described = new Map<string, TypeDescription>();
  const visit = (name: string): TypeDescription => {
    const known = described.get(name);
    if (known) return known;
    const builtin = BUILTIN[name];
    const text = texts.get(name);
    if (!builtin && text === undefined) throw new Error(`cannot hash ${type}: its schema has no definition of ${name}`);
    const description = builtin ?? describe(name, text!);
    described.set(name, description);
    for (const f of description.fields) if (f.type.nested_type_name) visit(f.type.nested_type_name);
    return description;
  };
  const main = visit(root);
  const referenced = [...described.values()]
    .filter((d) => d !== main)
    .sort((a, b) => (a.type_name < b.type_name ? -1 : a.type_name > b.type_name ? 1 : 0));
  const json = pythonJson({ type_description: main, referenced_type_descriptions: referenced });
  return `RIHS01_${createHash('sha256').update(json).digest('hex')}`;
}

/** json.dumps(value) of Python: ', ' and ': ' separators, non-ASCII escaped. */
function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null)
    return `{${Object.entries(value)
      .map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`)
      .join(', ')}}`;
  if (typeof value === 'string')
    return JSON.stringify(value).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  return JSON.stringify(value);
}
