import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parse } from '@foxglove/rosmsg';
import { MessageReader } from '@foxglove/rosmsg2-serialization';
import { packageRoot } from '../../src/util/paths.js';
import { PRIMITIVES, splitTypeName } from './definitions.js';

// Message schemas as bags hold them (framework/bag/ reads and writes rosbag2 MCAP files and may
// not import @foxglove/ itself):
//  - bagDefinitionText: the schema text rosbag2 (Jazzy) stores for a type, which is not quite
//    definitionText's form: rosbag2_cpp/src/rosbag2_cpp/message_definitions/
//    local_message_definition_source.cpp (get_full_text) appends each .msg file verbatim, its
//    dependencies depth first in sorted order (a std::set), each once, and builtin_interfaces/Time
//    and Duration too, each after "\n" + 80 '=' + "\nMSG: pkg/Name\n";
//  - schemaDecoder: a decoder for a type built from a bag's own schema text, for types this
//    package has no .msg for.

const SEPARATOR = '='.repeat(80);

const require = createRequire(import.meta.url);
const standardRoot = join(dirname(require.resolve('@foxglove/rosmsg-msgs-common')), '..', 'msgdefs', 'ros2jazzy');
const fileText = new Map<string, string>();
const bagText = new Map<string, string>();

/** The .msg file of a type as ROS 2 installs it ('pkg/Name' key). */
function msgFile(key: string): string {
  const cached = fileText.get(key);
  if (cached !== undefined) return cached;
  const [pkg, name] = splitTypeName(key);
  const own = join(packageRoot(), 'interfaces', pkg, 'msg', `${name}.msg`);
  const standard = join(standardRoot, pkg, 'msg', `${name}.msg`);
  let text: string;
  if (existsSync(own)) text = readFileSync(own, 'utf8');
  else if (existsSync(standard)) {
    // the standard package's files carry their dependencies after "\n" + separator, and one
    // "\n" more at the end when they have none: without it, the installed .msg file byte for
    // byte (checked against ROS 2 Jazzy's share/ for 116 of the 119 files both have; the three
    // of rcl_interfaces differ in trailing spaces in comments)
    const full = readFileSync(standard, 'utf8');
    const cut = full.indexOf(`\n${SEPARATOR}\n`);
    text = cut >= 0 ? full.slice(0, cut) : full.endsWith('\n') ? full.slice(0, -1) : full;
  } else throw new Error(`no definition for message type '${key}' (looked in ${own}, ${standard})`);
  fileText.set(key, text);
  return text;
}

/** The complex types a .msg text names, as rosbag2 finds them: the first word of each line. */
function dependenciesOf(pkg: string, text: string): string[] {
  const deps = new Set<string>();
  for (const m of text.matchAll(/(?:^|\n)\s*([a-zA-Z0-9_/]+)(?:\[[^\]]*\])?\s+/g)) {
    const type = m[1]!;
    if (PRIMITIVES.has(type)) continue;
    deps.add(type.includes('/') ? type : `${pkg}/${type}`);
  }
  // std::set<std::string> orders by bytes, as does sort() on ASCII names
  return [...deps].sort();
}

/** The schema text rosbag2 (Jazzy) writes for a message type ('pkg/msg/Name' or 'pkg/Name'). */
export function bagDefinitionText(type: string): string {
  const [pkg, name] = splitTypeName(type);
  const root = `${pkg}/${name}`;
  const cached = bagText.get(root);
  if (cached !== undefined) return cached;
  const seen = new Set<string>();
  const append = (key: string, depth: number): string => {
    if (depth <= 0) throw new Error(`definition of '${type}' nests too deep (a cycle?)`);
    let text = msgFile(key);
    for (const dep of dependenciesOf(splitTypeName(key)[0], text)) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      text += `\n${SEPARATOR}\nMSG: ${dep}\n${append(dep, depth - 1)}`;
    }
    return text;
  };
  const text = append(root, 50);
  bagText.set(root, text);
  return text;
}

/** Decodes CDR bytes to a plain object. */
export interface SchemaDecoder {
  readonly type: string;
  decode(bytes: ArrayBufferView): unknown;
}

/**
 * A decoder built from a schema as a bag stores it (`ros2msg`: the concatenated .msg text), for
 * types without a .msg file here. Throws one line naming the type when the text does not parse.
 */
export function schemaDecoder(type: string, encoding: string, text: string): SchemaDecoder {
  if (encoding !== 'ros2msg')
    throw new Error(`cannot decode ${type}: schema encoding '${encoding}' is not supported (only ros2msg)`);
  let reader: MessageReader;
  try {
    reader = new MessageReader(parse(text, { ros2: true }));
  } catch (err) {
    throw new Error(`cannot decode ${type}: its schema does not parse: ${(err as Error).message}`, { cause: err });
  }
  return {
    type,
    decode(bytes: ArrayBufferView): unknown {
      try {
        return reader.readMessage(bytes);
      } catch (err) {
        throw new Error(`cannot decode ${type} from ${bytes.byteLength} bytes: ${(err as Error).message}`, {
          cause: err,
        });
      }
    },
  };
}
