import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { McapTypes } from '@mcap/core';
import { codecFor } from '../msgs/codec.js';
import { bagDefinitionText, schemaDecoder } from '../msgs/schema_codec.js';
import { openMcap, type McapSource } from './mcap_source.js';
import { parseMetadataYaml, parseQos, type BagMetadata, type BagQos } from './metadata.js';

// Reads a rosbag2 bag: a bag folder (metadata.yaml and its .mcap files) or a bare .mcap file.
// Each file is read through its index, or, when its summary is missing or corrupt (the writer was
// killed), from start to end, recovering every complete record (mcap_source.ts): `recovery` then
// says how much was cut off, and repair.ts rewrites the file whole. Messages come in log-time
// order, filtered by topic and time range, as CDR bytes; decode() turns them into objects with
// this package's codec when the bag's schema is the one this package has, else with a decoder
// built from the bag's own schema text.

export interface BagTopic {
  readonly name: string;
  readonly type: string;
  readonly serializationFormat: string;
  readonly messageCount: number;
  readonly offeredQos: readonly BagQos[];
  readonly typeDescriptionHash: string;
  readonly schemaEncoding: string;
  readonly schemaText: string;
}

export interface BagMessage {
  readonly topic: string;
  readonly type: string;
  readonly logTimeNs: bigint;
  readonly publishTimeNs: bigint;
  /** CDR, with its 4-byte encapsulation header */
  readonly data: Uint8Array;
}

/** What a read without the index recovered from a file. */
export interface BagRecovery {
  readonly file: string;
  readonly reason: string;
  readonly recoveredMessages: number;
  readonly truncatedBytes: number;
  readonly fileBytes: number;
}

export interface MessageFilter {
  /** only these topics (default: all) */
  readonly topics?: readonly string[];
  /** from this log time, inclusive */
  readonly startNs?: bigint;
  /** up to this log time, inclusive */
  readonly endNs?: bigint;
}

interface FileTopic {
  channel: McapTypes.Channel;
  schema: McapTypes.Schema | undefined;
  count: number;
}

const text = new TextDecoder();

export class BagReader {
  readonly #sources: McapSource[];
  readonly #decoders = new Map<string, (bytes: ArrayBufferView) => unknown>();
  readonly #typeOf = new Map<string, string>();

  private constructor(
    /** the bag folder, or the .mcap file given */
    readonly path: string,
    /** the .mcap files, in order */
    readonly files: readonly string[],
    sources: McapSource[],
    /** metadata.yaml, when the bag has one */
    readonly metadata: BagMetadata | undefined,
    readonly topics: readonly BagTopic[],
    readonly messageCount: number,
    /** first and last log time (0n for a bag without messages) */
    readonly startNs: bigint,
    readonly endNs: bigint,
    /** the files read without their index, and what was recovered */
    readonly recovery: readonly BagRecovery[],
    /** bytes of all the files */
    readonly bytes: number,
  ) {
    this.#sources = sources;
    for (const t of topics) this.#typeOf.set(t.name, t.type);
  }

  /** Open a bag folder or a .mcap file; throws one line naming the file and the cause. */
  static async open(path: string): Promise<BagReader> {
    const target = resolve(path);
    if (!existsSync(target)) throw new Error(`no bag at ${path}`);
    let files: string[];
    let metadata: BagMetadata | undefined;
    if (statSync(target).isDirectory()) {
      const yamlPath = join(target, 'metadata.yaml');
      if (existsSync(yamlPath)) metadata = parseMetadataYaml(readFileSync(yamlPath, 'utf8'), yamlPath);
      const listed = (metadata?.files ?? []).map((f) => join(target, f.path)).filter((f) => existsSync(f));
      files = listed.length
        ? listed
        : readdirSync(target)
            .filter((f) => f.endsWith('.mcap'))
            .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
            .map((f) => join(target, f));
      if (files.length === 0) throw new Error(`${path} holds no .mcap file`);
      if (metadata && metadata.storageIdentifier !== 'mcap' && metadata.storageIdentifier !== '')
        throw new Error(`${path}: storage '${metadata.storageIdentifier}' is not supported (only mcap)`);
    } else files = [target];

    const sources: McapSource[] = [];
    try {
      for (const f of files) sources.push(await openMcap(f));
    } catch (err) {
      for (const s of sources) if (s.kind === 'indexed') s.close();
      throw err;
    }

    const topics = new Map<string, FileTopic[]>();
    const recovery: BagRecovery[] = [];
    let count = 0;
    let start: bigint | undefined;
    let end: bigint | undefined;
    const span = (a: bigint, b: bigint): void => {
      if (start === undefined || a < start) start = a;
      if (end === undefined || b > end) end = b;
    };
    let bytes = 0;
    sources.forEach((source, i) => {
      bytes += source.size;
      const add = (channel: McapTypes.Channel, schema: McapTypes.Schema | undefined, n: number): void => {
        const list = topics.get(channel.topic) ?? [];
        list.push({ channel, schema, count: n });
        topics.set(channel.topic, list);
      };
      if (source.kind === 'indexed') {
        const r = source.reader;
        const stats = r.statistics;
        for (const channel of r.channelsById.values()) {
          const n = Number(stats?.channelMessageCounts.get(channel.id) ?? 0n);
          add(channel, r.schemasById.get(channel.schemaId), n);
        }
        if (stats && stats.messageCount > 0n) {
          count += Number(stats.messageCount);
          span(stats.messageStartTime, stats.messageEndTime);
        } else if (!stats) {
          for (const c of r.chunkIndexes) span(c.messageStartTime, c.messageEndTime);
        }
      } else {
        const counts = new Map<number, number>();
        for (const m of source.messages) {
          counts.set(m.channelId, (counts.get(m.channelId) ?? 0) + 1);
          span(m.logTime, m.logTime);
        }
        for (const channel of source.channels.values())
          add(channel, source.schemas.get(channel.schemaId), counts.get(channel.id) ?? 0);
        count += source.messages.length;
        const reason = source.streamError
          ? `its index is unusable (${source.indexError}) and a record is corrupt (${source.streamError})`
          : `its index is unusable (${source.indexError})`;
        recovery.push({
          file: files[i]!,
          reason,
          recoveredMessages: source.messages.length,
          truncatedBytes: source.truncatedBytes,
          fileBytes: source.size,
        });
      }
    });

    const bagTopics: BagTopic[] = [];
    for (const [name, list] of topics) {
      const { channel, schema } = list[0]!;
      const qosText = channel.metadata.get('offered_qos_profiles') ?? '';
      let offeredQos: BagQos[] = [];
      try {
        offeredQos = parseQos(qosText);
      } catch {
        // a channel whose QoS text does not parse still has messages to read
      }
      bagTopics.push({
        name,
        type: schema?.name ?? metadata?.topics.find((t) => t.topic.name === name)?.topic.type ?? '',
        serializationFormat: channel.messageEncoding,
        messageCount: list.reduce((n, t) => n + t.count, 0),
        offeredQos,
        typeDescriptionHash: channel.metadata.get('topic_type_hash') ?? '',
        schemaEncoding: schema?.encoding ?? '',
        schemaText: schema ? text.decode(schema.data) : '',
      });
    }
    return new BagReader(target, files, sources, metadata, bagTopics, count, start ?? 0n, end ?? 0n, recovery, bytes);
  }

  /** The bag's name: its folder's name, or the file's without .mcap. */
  get name(): string {
    return basename(this.path).replace(/\.mcap$/, '');
  }

  /** The folder holding the bag's files. */
  get folder(): string {
    return this.files.length && this.files[0] === this.path ? dirname(this.path) : this.path;
  }

  /** Messages in log-time order (file by file), filtered. */
  async *messages(filter: MessageFilter = {}): AsyncGenerator<BagMessage> {
    const wanted = filter.topics ? new Set(filter.topics) : undefined;
    for (const source of this.#sources) {
      if (source.kind === 'indexed') {
        const r = source.reader;
        for await (const m of r.readMessages({
          ...(filter.topics ? { topics: filter.topics } : {}),
          ...(filter.startNs !== undefined ? { startTime: filter.startNs } : {}),
          ...(filter.endNs !== undefined ? { endTime: filter.endNs } : {}),
        })) {
          const channel = r.channelsById.get(m.channelId)!;
          yield this.#message(channel.topic, m);
        }
      } else {
        const selected = source.messages.filter((m) => {
          const channel = source.channels.get(m.channelId);
          if (!channel || (wanted && !wanted.has(channel.topic))) return false;
          if (filter.startNs !== undefined && m.logTime < filter.startNs) return false;
          return filter.endNs === undefined || m.logTime <= filter.endNs;
        });
        // a stable sort keeps the recorded order of messages with the same log time
        selected.sort((a, b) => (a.logTime < b.logTime ? -1 : a.logTime > b.logTime ? 1 : 0));
        for (const m of selected) yield this.#message(source.channels.get(m.channelId)!.topic, m);
      }
    }
  }

  #message(topic: string, m: McapTypes.Message): BagMessage {
    return {
      topic,
      type: this.#typeOf.get(topic) ?? '',
      logTimeNs: m.logTime,
      publishTimeNs: m.publishTime,
      data: m.data,
    };
  }

  /**
   * Decode a message: with this package's codec when the bag's schema of the type is the text
   * this package would write, else from the bag's own schema. Throws one line naming the type.
   */
  decode(message: BagMessage): unknown {
    let decode = this.#decoders.get(message.topic);
    if (!decode) {
      const topic = this.topics.find((t) => t.name === message.topic);
      if (!topic) throw new Error(`bag ${this.path} has no topic ${message.topic}`);
      let ours = false;
      try {
        ours = topic.schemaText === '' || bagDefinitionText(topic.type) === topic.schemaText;
      } catch {
        // a type this package has no .msg for
      }
      if (ours) {
        const codec = codecFor(topic.type);
        decode = (bytes) => codec.decode(bytes);
      } else {
        const decoder = schemaDecoder(topic.type, topic.schemaEncoding, topic.schemaText);
        decode = (bytes) => decoder.decode(bytes);
      }
      this.#decoders.set(message.topic, decode);
    }
    return decode(message.data);
  }

  /** Release the files. */
  close(): void {
    for (const s of this.#sources) if (s.kind === 'indexed') s.close();
    this.#sources.length = 0;
  }
}
