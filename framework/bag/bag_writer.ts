import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../src/util/atomic_file.js';
import { createLogger, type Logger } from '../../src/util/log.js';
import { bagDefinitionText } from '../msgs/schema_codec.js';
import { DEFAULT_ZSTD_LEVEL, loadCompression, zstdCompress } from './compression.js';
import { lowDiskSpace, type DiskSpaceLimits } from './disk_space.js';
import { McapFileWriter } from './mcap_file_writer.js';
import { typeHashOf } from './type_hash.js';
import {
  defaultQos,
  METADATA_VERSION,
  metadataYaml,
  NO_START_NS,
  qosYaml,
  serializeMetadataBody,
  type BagMetadata,
  type BagQos,
  type BagTopicMetadata,
} from './metadata.js';

// Records ROS 2 messages (already CDR-encoded) into a rosbag2 bag as ROS 2 Jazzy writes one with
// `ros2 bag record -s mcap`: a folder <bag>/ with <bag>_0.mcap and metadata.yaml. The MCAP file
// has the 'ros2' profile, a 'ros2msg' schema per type (the concatenated .msg text rosbag2 stores),
// 'cdr' channels whose metadata holds offered_qos_profiles and topic_type_hash
// (rosbag2_storage_mcap/src/mcap_storage.cpp, create_topic; the RIHS01 hash of type_hash.ts),
// 'rosbag2' metadata records with the
// serialized bag metadata at open and at close, zstd chunks of 786432 bytes (the chunk size of
// rosbag2_storage_mcap's presets) and a full summary.
//
// Crash safety: a chunk is closed and handed to the OS when it is full or when it has been open for
// maxChunkDurationMs, of message log time or of wall time (a timer closes an idle chunk), so a
// writer killed with SIGKILL loses at most the open chunk; bag_reader.ts reads such a file and
// repair.ts makes it whole. metadata.yaml is written (atomically) at open, and again with the
// counts at close. Free disk space is checked at open (refusal) and about once a second while
// writing (a clean stop: the bag is closed, one error line says why, write() returns false).

export const DEFAULT_CHUNK_SIZE = 786432;

function hashOrEmpty(type: string, text: string): string {
  try {
    return typeHashOf(type, text);
  } catch {
    return '';
  }
}
export const DEFAULT_MAX_CHUNK_DURATION_MS = 1000;

export interface BagWriterOptions {
  /** uncompressed bytes after which a chunk is closed (default 786432) */
  readonly chunkSize?: number;
  /** a chunk open this long (log time or wall time) is closed (default 1000 ms) */
  readonly maxChunkDurationMs?: number;
  /** chunk compression (default zstd) */
  readonly compression?: 'zstd' | 'none';
  readonly zstdLevel?: number;
  /** the free-space floor and how it is measured */
  readonly diskSpace?: DiskSpaceLimits;
  /** how often free space is checked while writing (default 1000 ms of wall time) */
  readonly diskCheckIntervalMs?: number;
  /** fsync every chunk (default false: chunks reach the OS, which survives the process, not a power cut) */
  readonly syncEachChunk?: boolean;
  readonly rosDistro?: string;
  readonly customData?: Readonly<Record<string, string>>;
  /** the schema text of a type (default: rosbag2's form from the .msg files this package knows) */
  readonly definitionText?: (type: string) => string;
  /** the RIHS01 type hash of a type (default: computed from its schema text; '' where that fails, which rosbag2 reads as unknown) */
  readonly typeHash?: (type: string) => string;
  readonly logger?: Logger;
  /** called once when the writer stops by itself (low disk space, a failed write) */
  readonly onStop?: (reason: string) => void;
}

export interface TopicOptions {
  /** the offered QoS profiles to record (default: rclcpp's default, keep last 10, reliable, volatile) */
  readonly qos?: readonly BagQos[];
  /** the schema text, when the type is not one this package has a .msg for */
  readonly definition?: string;
  readonly typeHash?: string;
}

interface TopicState {
  readonly metadata: BagTopicMetadata;
  readonly channelId: number;
  count: number;
}

export interface BagWriteSummary {
  readonly path: string;
  readonly messageCount: number;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly bytes: number;
  /** why the writer stopped by itself, if it did */
  readonly stopped?: string;
}

export class BagWriter {
  readonly #file: McapFileWriter;
  readonly #options: BagWriterOptions;
  readonly #log: Logger;
  readonly #topics = new Map<string, TopicState>();
  readonly #schemas = new Map<string, { readonly id: number; readonly text: string }>();
  readonly #maxChunkNs: bigint;
  readonly #maxChunkMs: number;
  readonly #fileName: string;
  #chunkOpenedAt = 0;
  #chunkTimer: NodeJS.Timeout | undefined;
  #lastDiskCheck = performance.now();
  #start = NO_START_NS;
  #end = 0n;
  #count = 0;
  #closed = false;
  #stopped: string | undefined;

  private constructor(
    readonly path: string,
    options: BagWriterOptions,
  ) {
    this.#options = options;
    this.#log = options.logger ?? createLogger('bag_writer');
    this.#maxChunkMs = options.maxChunkDurationMs ?? DEFAULT_MAX_CHUNK_DURATION_MS;
    this.#maxChunkNs = BigInt(Math.round(this.#maxChunkMs * 1e6));
    this.#fileName = `${basename(path)}_0.mcap`;
    const level = options.zstdLevel ?? DEFAULT_ZSTD_LEVEL;
    this.#file = new McapFileWriter(join(path, this.#fileName), {
      profile: 'ros2',
      library: 'dynastack framework/bag',
      chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
      compress: options.compression === 'none' ? undefined : { name: 'zstd', fn: (data) => zstdCompress(data, level) },
      syncEachChunk: options.syncEachChunk,
    });
    this.#writeMetadata(false);
  }

  /**
   * Open a new bag at folder `path` (it must not exist, or be empty). Refuses, with one line saying
   * why, when the disk has too little free space.
   */
  static async open(path: string, options: BagWriterOptions = {}): Promise<BagWriter> {
    const dir = resolve(path);
    if (existsSync(dir) && readdirSync(dir).length > 0)
      throw new Error(`cannot record to ${path}: the folder exists and is not empty`);
    mkdirSync(dir, { recursive: true });
    const low = lowDiskSpace(dir, options.diskSpace);
    if (low) throw new Error(`cannot record to ${path}: ${low}`);
    if (options.compression !== 'none') await loadCompression();
    return new BagWriter(dir, options);
  }

  /** Why the writer stopped by itself (undefined while it records). */
  get stopped(): string | undefined {
    return this.#stopped;
  }

  get messageCount(): number {
    return this.#count;
  }

  /** Register a topic with its type and QoS (write() registers unknown topics with defaults). */
  addTopic(topic: string, type: string, options: TopicOptions = {}): void {
    const known = this.#topics.get(topic);
    if (known) {
      if (known.metadata.type !== type)
        throw new Error(`bag ${this.path}: topic ${topic} is recorded as ${known.metadata.type}, not ${type}`);
      return;
    }
    let schema = this.#schemas.get(type);
    if (schema === undefined) {
      const text = options.definition ?? (this.#options.definitionText ?? bagDefinitionText)(type);
      schema = { id: this.#file.addSchema(type, 'ros2msg', new TextEncoder().encode(text)), text };
      this.#schemas.set(type, schema);
    }
    const metadata: BagTopicMetadata = {
      name: topic,
      type,
      serializationFormat: 'cdr',
      offeredQos: options.qos ?? [defaultQos()],
      typeDescriptionHash: options.typeHash ?? this.#options.typeHash?.(type) ?? hashOrEmpty(type, schema.text),
    };
    const channelMeta = new Map([
      ['offered_qos_profiles', qosYaml(metadata.offeredQos)],
      ['topic_type_hash', metadata.typeDescriptionHash],
    ]);
    const channelId = this.#file.addChannel(topic, schema.id, 'cdr', channelMeta);
    this.#topics.set(topic, { metadata, channelId, count: 0 });
  }

  /**
   * Record one CDR-encoded message. Returns false (and records nothing) once the writer has
   * stopped; throws on a closed writer or a topic recorded with another type.
   */
  write(topic: string, type: string, logTimeNs: bigint, cdr: Uint8Array, publishTimeNs = logTimeNs): boolean {
    if (this.#stopped !== undefined) return false;
    if (this.#closed) throw new Error(`bag ${this.path} is closed`);
    let state = this.#topics.get(topic);
    if (!state || state.metadata.type !== type) {
      this.addTopic(topic, type);
      state = this.#topics.get(topic)!;
    }
    const file = this.#file;
    try {
      if (file.chunkMessages > 0 && logTimeNs - file.chunkStartTime >= this.#maxChunkNs) this.#flush();
      file.addMessage(state.channelId, logTimeNs, publishTimeNs, cdr);
      state.count++;
      this.#count++;
      if (logTimeNs < this.#start) this.#start = logTimeNs;
      if (logTimeNs > this.#end) this.#end = logTimeNs;
      if (file.chunkMessages === 0) this.#afterFlush();
      else if (file.chunkMessages === 1) this.#chunkOpened();
      else if (performance.now() - this.#chunkOpenedAt >= this.#maxChunkMs) this.#flush();
    } catch (err) {
      this.#stop(`writing ${file.path} failed: ${(err as Error).message}`, false);
      return false;
    }
    return true;
  }

  /** Close the open chunk now (it reaches the OS). */
  flush(): void {
    if (!this.#closed) this.#flush();
  }

  #chunkOpened(): void {
    this.#chunkOpenedAt = performance.now();
    clearTimeout(this.#chunkTimer);
    // an idle chunk is closed by the clock, not by the next message
    this.#chunkTimer = setTimeout(() => {
      this.#chunkTimer = undefined;
      if (this.#closed || this.#file.chunkMessages === 0) return;
      try {
        this.#flush();
      } catch (err) {
        this.#stop(`writing ${this.#file.path} failed: ${(err as Error).message}`, false);
      }
    }, this.#maxChunkMs);
    this.#chunkTimer.unref();
  }

  #flush(): void {
    this.#file.flushChunk();
    this.#afterFlush();
  }

  #afterFlush(): void {
    clearTimeout(this.#chunkTimer);
    this.#chunkTimer = undefined;
    const now = performance.now();
    if (now - this.#lastDiskCheck < (this.#options.diskCheckIntervalMs ?? 1000)) return;
    this.#lastDiskCheck = now;
    const low = lowDiskSpace(this.path, this.#options.diskSpace);
    if (low) this.#stop(`recording to ${this.path} stopped: ${low}`, true);
  }

  #stop(reason: string, closeCleanly: boolean): void {
    if (this.#stopped !== undefined) return;
    this.#stopped = reason;
    this.#log.error(reason);
    try {
      if (closeCleanly) this.close();
      else this.#abandon();
    } catch (err) {
      this.#log.error(`closing ${this.path} failed: ${(err as Error).message}`);
    }
    this.#options.onStop?.(reason);
  }

  #abandon(): void {
    clearTimeout(this.#chunkTimer);
    this.#closed = true;
    this.#file.abandon();
  }

  #metadata(): BagMetadata {
    const empty = this.#count === 0;
    const start = empty ? NO_START_NS : this.#start;
    const duration = empty ? 0n : this.#end - this.#start;
    return {
      version: METADATA_VERSION,
      storageIdentifier: 'mcap',
      durationNs: duration,
      startingTimeNs: start,
      messageCount: this.#count,
      topics: [...this.#topics.values()].map((t) => ({ topic: t.metadata, messageCount: t.count })),
      compressionFormat: '',
      compressionMode: '',
      files: [{ path: this.#fileName, startingTimeNs: start, durationNs: duration, messageCount: this.#count }],
      customData: this.#options.customData ?? {},
      rosDistro: this.#options.rosDistro ?? 'jazzy',
    };
  }

  #writeMetadata(final: boolean): void {
    const metadata = this.#metadata();
    this.#file.addMetadata('rosbag2', new Map([['serialized_metadata', serializeMetadataBody(metadata)]]));
    writeFileAtomic(join(this.path, 'metadata.yaml'), metadataYaml(metadata));
    if (final) this.#log.debug(`closed ${this.path}: ${this.#count} messages`);
  }

  /** Close the bag: last chunk, metadata, summary, metadata.yaml with the counts. Idempotent. */
  close(): BagWriteSummary {
    if (!this.#closed) {
      this.#closed = true;
      clearTimeout(this.#chunkTimer);
      this.#file.flushChunk();
      this.#writeMetadata(true);
      this.#file.close();
    }
    return {
      path: this.path,
      messageCount: this.#count,
      startNs: this.#count ? this.#start : 0n,
      endNs: this.#end,
      bytes: Number(this.#file.position),
      ...(this.#stopped !== undefined ? { stopped: this.#stopped } : {}),
    };
  }
}
