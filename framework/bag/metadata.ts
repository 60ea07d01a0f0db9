import { parse } from 'yaml';

// A rosbag2 bag's metadata: what metadata.yaml holds and what the MCAP file repeats in its
// 'rosbag2' metadata records and channel metadata. Written here in the exact layout rosbag2 (Jazzy,
// metadata version 9) writes with yaml-cpp: rosbag2_storage/include/rosbag2_storage/yaml.hpp
// (convert<BagMetadata>, convert<TopicMetadata>, convert<rclcpp::QoS>) and
// rosbag2_storage/src/rosbag2_storage/metadata_io.cpp; key order, "~" for an empty map and ""
// for an empty string as yaml-cpp emits them. Read with the yaml package, any version ≥ 4.

export const METADATA_VERSION = 9;
/** rosbag2's stand-in for an infinite duration: rmw's RMW_DURATION_INFINITE in sec/nsec */
export const INFINITE_DURATION = { sec: 9223372036, nsec: 854775807 } as const;

export interface QosDuration {
  readonly sec: number;
  readonly nsec: number;
}

/** One offered QoS profile in rosbag2's spelling (rosbag2_storage/src/rosbag2_storage/qos.cpp). */
export interface BagQos {
  readonly history: 'keep_last' | 'keep_all' | 'system_default' | 'unknown';
  readonly depth: number;
  readonly reliability: 'reliable' | 'best_effort' | 'system_default' | 'best_available' | 'unknown';
  readonly durability: 'volatile' | 'transient_local' | 'system_default' | 'best_available' | 'unknown';
  readonly deadline: QosDuration;
  readonly lifespan: QosDuration;
  readonly liveliness: 'automatic' | 'manual_by_topic' | 'system_default' | 'best_available' | 'unknown';
  readonly livelinessLeaseDuration: QosDuration;
  readonly avoidRosNamespaceConventions: boolean;
}

/** rclcpp's default publisher QoS (keep last 10, reliable, volatile), as rosbag2 records it. */
export function defaultQos(overrides: Partial<BagQos> = {}): BagQos {
  return {
    history: 'keep_last',
    depth: 10,
    reliability: 'reliable',
    durability: 'volatile',
    deadline: INFINITE_DURATION,
    lifespan: INFINITE_DURATION,
    liveliness: 'automatic',
    livelinessLeaseDuration: INFINITE_DURATION,
    avoidRosNamespaceConventions: false,
    ...overrides,
  };
}

export interface BagTopicMetadata {
  readonly name: string;
  readonly type: string;
  readonly serializationFormat: string;
  readonly offeredQos: readonly BagQos[];
  /** RIHS01_… or '' when unknown (rosbag2 accepts '') */
  readonly typeDescriptionHash: string;
}

export interface BagFileInfo {
  readonly path: string;
  readonly startingTimeNs: bigint;
  readonly durationNs: bigint;
  readonly messageCount: number;
}

export interface BagMetadata {
  readonly version: number;
  readonly storageIdentifier: string;
  readonly durationNs: bigint;
  readonly startingTimeNs: bigint;
  readonly messageCount: number;
  readonly topics: readonly { readonly topic: BagTopicMetadata; readonly messageCount: number }[];
  readonly compressionFormat: string;
  readonly compressionMode: string;
  readonly files: readonly BagFileInfo[];
  readonly customData: Readonly<Record<string, string>>;
  readonly rosDistro: string;
}

/** int64 max: rosbag2's starting time of a bag with no message yet */
export const NO_START_NS = 9223372036854775807n;

// yaml-cpp writes a string plain unless it would read back as something else
function scalar(s: string): string {
  if (s === '') return '""';
  const plainSafe =
    /^[A-Za-z0-9_./][A-Za-z0-9_./ :-]*$/.test(s) &&
    !/[: ]$/.test(s) &&
    !s.includes(': ') &&
    !/^(~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N)$/.test(
      s,
    ) &&
    !/^[-+]?(\.?[0-9][0-9_.]*([eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|0o[0-7]+|\.inf|\.nan)$/i.test(s);
  return plainSafe ? s : JSON.stringify(s);
}

const indent = (text: string, by: number): string =>
  text
    .split('\n')
    .map((l) => ' '.repeat(by) + l)
    .join('\n');

/** A QoS list as yaml-cpp writes it at column 0 (each profile a '- ' item). */
export function qosYaml(profiles: readonly BagQos[]): string {
  if (profiles.length === 0) return '[]';
  const duration = (name: string, d: QosDuration): string => `${name}:\n  sec: ${d.sec}\n  nsec: ${d.nsec}`;
  return profiles
    .map((q) =>
      [
        `history: ${q.history}`,
        `depth: ${q.depth}`,
        `reliability: ${q.reliability}`,
        `durability: ${q.durability}`,
        duration('deadline', q.deadline),
        duration('lifespan', q.lifespan),
        `liveliness: ${q.liveliness}`,
        duration('liveliness_lease_duration', q.livelinessLeaseDuration),
        `avoid_ros_namespace_conventions: ${q.avoidRosNamespaceConventions}`,
      ]
        .join('\n')
        .split('\n')
        .map((l, i) => (i === 0 ? '- ' : '  ') + l)
        .join('\n'),
    )
    .join('\n');
}

function topicYaml(t: BagTopicMetadata, count: number): string {
  const body = [
    `name: ${scalar(t.name)}`,
    `type: ${scalar(t.type)}`,
    `serialization_format: ${scalar(t.serializationFormat)}`,
    t.offeredQos.length ? `offered_qos_profiles:\n${indent(qosYaml(t.offeredQos), 2)}` : 'offered_qos_profiles: []',
    `type_description_hash: ${scalar(t.typeDescriptionHash)}`,
  ].join('\n');
  return `- topic_metadata:\n${indent(body, 4)}\n  message_count: ${count}`;
}

/**
 * The metadata as rosbag2 serializes it, without the top-level 'rosbag2_bagfile_information' key
 * and without a final newline: the form of the MCAP 'serialized_metadata' entry.
 */
export function serializeMetadataBody(m: BagMetadata): string {
  const custom = Object.entries(m.customData);
  return [
    `version: ${m.version}`,
    `storage_identifier: ${scalar(m.storageIdentifier)}`,
    `duration:\n  nanoseconds: ${m.durationNs}`,
    `starting_time:\n  nanoseconds_since_epoch: ${m.startingTimeNs}`,
    `message_count: ${m.messageCount}`,
    m.topics.length
      ? `topics_with_message_count:\n${indent(m.topics.map((t) => topicYaml(t.topic, t.messageCount)).join('\n'), 2)}`
      : 'topics_with_message_count:\n  []',
    `compression_format: ${scalar(m.compressionFormat)}`,
    `compression_mode: ${scalar(m.compressionMode)}`,
    m.files.length
      ? `relative_file_paths:\n${m.files.map((f) => `  - ${scalar(f.path)}`).join('\n')}`
      : 'relative_file_paths:\n  []',
    m.files.length
      ? `files:\n${m.files
          .map(
            (f) =>
              `  - path: ${scalar(f.path)}\n    starting_time:\n      nanoseconds_since_epoch: ${f.startingTimeNs}\n` +
              `    duration:\n      nanoseconds: ${f.durationNs}\n    message_count: ${f.messageCount}`,
          )
          .join('\n')}`
      : 'files:\n  []',
    custom.length
      ? `custom_data:\n${custom.map(([k, v]) => `  ${scalar(k)}: ${scalar(v)}`).join('\n')}`
      : 'custom_data: ~',
    `ros_distro: ${scalar(m.rosDistro)}`,
  ].join('\n');
}

/** metadata.yaml as rosbag2 writes it (metadata_io.cpp: the body under one top-level key, no final newline). */
export function metadataYaml(m: BagMetadata): string {
  return `rosbag2_bagfile_information:\n${indent(serializeMetadataBody(m), 2)}`;
}

// ---- reading ----

type Node = Record<string, unknown>;

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

function field(node: Node, key: string, where: string): unknown {
  if (!(key in node)) throw new Error(`${where}: no '${key}'`);
  return node[key];
}

function nodeOf(v: unknown, where: string): Node {
  if (!isNode(v)) throw new Error(`${where}: expected a map`);
  return v;
}

function bigintOf(v: unknown, where: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  throw new Error(`${where}: '${String(v)}' is not an integer`);
}

const numberOf = (v: unknown, where: string): number => Number(bigintOf(v, where));
const stringOf = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' ? String(v) : '';

function durationOf(v: unknown, where: string): QosDuration {
  const n = nodeOf(v, where);
  return { sec: numberOf(n['sec'], `${where}.sec`), nsec: numberOf(n['nsec'], `${where}.nsec`) };
}

/** QoS profiles from their YAML form (a list; rosbag2 before version 9 kept it as a YAML string). */
export function parseQos(v: unknown, where = 'offered_qos_profiles'): BagQos[] {
  if (typeof v === 'string') v = v.trim() === '' ? [] : (parse(v, { intAsBigInt: true }) as unknown);
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new Error(`${where}: expected a list`);
  return v.map((item, i) => {
    const q = nodeOf(item, `${where}[${i}]`);
    const d = (k: string): QosDuration =>
      q[k] === undefined ? INFINITE_DURATION : durationOf(q[k], `${where}[${i}].${k}`);
    return {
      history: stringOf(q['history']) as BagQos['history'],
      depth: q['depth'] === undefined ? 0 : numberOf(q['depth'], `${where}[${i}].depth`),
      reliability: stringOf(q['reliability']) as BagQos['reliability'],
      durability: stringOf(q['durability']) as BagQos['durability'],
      deadline: d('deadline'),
      lifespan: d('lifespan'),
      liveliness: stringOf(q['liveliness']) as BagQos['liveliness'],
      livelinessLeaseDuration: d('liveliness_lease_duration'),
      avoidRosNamespaceConventions: q['avoid_ros_namespace_conventions'] === true,
    };
  });
}

/** Parse metadata.yaml text; throws one line naming what is wrong. */
export function parseMetadataYaml(text: string, source = 'metadata.yaml'): BagMetadata {
  let doc: unknown;
  try {
    doc = parse(text, { intAsBigInt: true });
  } catch (err) {
    throw new Error(`${source} is not YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const root = nodeOf(isNode(doc) ? (doc['rosbag2_bagfile_information'] ?? doc) : doc, source);
  const version = numberOf(field(root, 'version', source), `${source}: version`);
  const topicsRaw = root['topics_with_message_count'] ?? [];
  if (!Array.isArray(topicsRaw)) throw new Error(`${source}: topics_with_message_count is not a list`);
  const topics = topicsRaw.map((item, i) => {
    const where = `${source}: topics_with_message_count[${i}]`;
    const entry = nodeOf(item, where);
    const t = nodeOf(field(entry, 'topic_metadata', where), where);
    return {
      topic: {
        name: stringOf(field(t, 'name', where)),
        type: stringOf(field(t, 'type', where)),
        serializationFormat: stringOf(t['serialization_format']),
        offeredQos: parseQos(t['offered_qos_profiles'], `${where}.offered_qos_profiles`),
        typeDescriptionHash: stringOf(t['type_description_hash']),
      },
      messageCount: numberOf(entry['message_count'] ?? 0, `${where}.message_count`),
    };
  });
  const filesRaw = root['files'] ?? [];
  const files = Array.isArray(filesRaw)
    ? filesRaw.map((item, i) => {
        const where = `${source}: files[${i}]`;
        const f = nodeOf(item, where);
        return {
          path: stringOf(field(f, 'path', where)),
          startingTimeNs: bigintOf(
            nodeOf(f['starting_time'], where)['nanoseconds_since_epoch'],
            `${where}.starting_time`,
          ),
          durationNs: bigintOf(nodeOf(f['duration'], where)['nanoseconds'], `${where}.duration`),
          messageCount: numberOf(f['message_count'] ?? 0, `${where}.message_count`),
        };
      })
    : [];
  const relative = root['relative_file_paths'];
  const filePaths =
    files.length === 0 && Array.isArray(relative)
      ? relative.map((p) => ({ path: stringOf(p), startingTimeNs: 0n, durationNs: 0n, messageCount: 0 }))
      : files;
  const custom = isNode(root['custom_data']) ? root['custom_data'] : {};
  return {
    version,
    storageIdentifier: stringOf(root['storage_identifier']),
    durationNs: bigintOf(nodeOf(field(root, 'duration', source), source)['nanoseconds'], `${source}: duration`),
    startingTimeNs: bigintOf(
      nodeOf(field(root, 'starting_time', source), source)['nanoseconds_since_epoch'],
      `${source}: starting_time`,
    ),
    messageCount: numberOf(field(root, 'message_count', source), `${source}: message_count`),
    topics,
    compressionFormat: stringOf(root['compression_format']),
    compressionMode: stringOf(root['compression_mode']),
    files: filePaths,
    customData: Object.fromEntries(Object.entries(custom).map(([k, v]) => [k, stringOf(v)])),
    rosDistro: stringOf(root['ros_distro']),
  };
}
