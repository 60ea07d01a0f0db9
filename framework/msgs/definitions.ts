import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { MessageDefinition } from '@foxglove/message-definition';
import { parse } from '@foxglove/rosmsg';
import { packageRoot } from '../../src/util/paths.js';

// Message definitions come from .msg text: the standard packages as shipped by
// @foxglove/rosmsg-msgs-common (ROS 2 Jazzy; identical wire layout to Humble for every type used
// here), and this repo's own interface package under interfaces/.
const STANDARD_DISTRO = 'ros2jazzy';
const SEPARATOR = '='.repeat(80);

const require = createRequire(import.meta.url);
const standardRoot = join(dirname(require.resolve('@foxglove/rosmsg-msgs-common')), '..', 'msgdefs', STANDARD_DISTRO);

const ownText = new Map<string, string>();
const fullText = new Map<string, string>();
const parsed = new Map<string, MessageDefinition[]>();

/** 'sensor_msgs/msg/JointState' or 'sensor_msgs/JointState' → ['sensor_msgs', 'JointState']. */
export function splitTypeName(type: string): [pkg: string, name: string] {
  const parts = type.split('/');
  if (parts.length === 3 && parts[1] === 'msg') return [parts[0]!, parts[2]!];
  if (parts.length === 2) return [parts[0]!, parts[1]!];
  throw new Error(`'${type}' is not a message type name (expected 'pkg/msg/Name')`);
}

/** The .msg text of one type, without its dependencies. */
function ownDefinition(type: string): string {
  const [pkg, name] = splitTypeName(type);
  const key = `${pkg}/${name}`;
  const cached = ownText.get(key);
  if (cached !== undefined) return cached;
  const candidates = [
    join(packageRoot(), 'interfaces', pkg, 'msg', `${name}.msg`),
    join(standardRoot, pkg, 'msg', `${name}.msg`),
  ];
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new Error(`no definition for message type '${type}' (looked in ${candidates.join(', ')})`);
  // standard files carry their dependencies after a separator line; keep only the type's own part
  const text = readFileSync(file, 'utf8').split(SEPARATOR)[0]!.trimEnd() + '\n';
  ownText.set(key, text);
  return text;
}

/** the .msg primitive types (ROS 2's, with ROS 1's time and duration) */
export const PRIMITIVES: ReadonlySet<string> = new Set([
  'bool',
  'byte',
  'char',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'float32',
  'float64',
  'string',
  'wstring',
  'time',
  'duration',
]);

/** The complex field types a .msg text refers to, fully qualified. */
function dependencies(pkg: string, text: string): string[] {
  const deps: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    // constants are always primitive, so skipping primitives skips them too
    let fieldType = line
      .split(/\s+/)[0]!
      .replace(/\[.*\]$/, '')
      .replace(/<=\d+$/, '');
    if (PRIMITIVES.has(fieldType)) continue;
    if (!fieldType.includes('/')) fieldType = `${pkg}/${fieldType}`;
    deps.push(fieldType.replace('/msg/', '/'));
  }
  return deps;
}

/**
 * The full definition text of a type in the ROS 2 concatenated form (the type's own text, then
 * each dependency after a separator and 'MSG: pkg/Name'): what rosbag2 and MCAP store as schema.
 */
export function definitionText(type: string): string {
  const [pkg, name] = splitTypeName(type);
  const key = `${pkg}/${name}`;
  const cached = fullText.get(key);
  if (cached !== undefined) return cached;
  const seen = new Set<string>([key]);
  const parts = [ownDefinition(key)];
  const queue = dependencies(pkg, parts[0]!);
  while (queue.length) {
    const dep = queue.shift()!;
    if (seen.has(dep) || dep === 'builtin_interfaces/Time' || dep === 'builtin_interfaces/Duration') continue;
    seen.add(dep);
    const text = ownDefinition(dep);
    parts.push(`${SEPARATOR}\nMSG: ${dep}\n${text}`);
    queue.push(...dependencies(splitTypeName(dep)[0], text));
  }
  const text = parts.join('\n');
  fullText.set(key, text);
  return text;
}

/** Parsed definitions (root first, named) ready for the CDR reader and writer. */
export function messageDefinitions(type: string): MessageDefinition[] {
  const [pkg, name] = splitTypeName(type);
  const key = `${pkg}/${name}`;
  const cached = parsed.get(key);
  if (cached) return cached;
  let defs: MessageDefinition[];
  if (key === 'builtin_interfaces/Time' || key === 'builtin_interfaces/Duration') {
    // the parser maps these to primitives; describe them as the two-field structs they are on the wire
    defs = [
      {
        name: key,
        definitions: [
          { name: 'sec', type: 'int32', isComplex: false, isArray: false },
          { name: 'nanosec', type: 'uint32', isComplex: false, isArray: false },
        ],
      },
    ];
  } else {
    defs = parse(definitionText(key), { ros2: true });
    defs[0]!.name = key;
  }
  for (const def of defs) {
    // rosidl gives every empty struct one uint8 member, so it is never zero bytes on the wire
    if (!def.definitions.some((f) => !f.isConstant)) {
      def.definitions.push({
        name: 'structure_needs_at_least_one_member',
        type: 'uint8',
        isComplex: false,
        isArray: false,
      });
    }
  }
  parsed.set(key, defs);
  return defs;
}
