import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { removeStaleTemps, syncDir, tempPathFor, writeFileAtomic } from '../../src/util/atomic_file.js';
import { DEFAULT_CHUNK_SIZE } from './bag_writer.js';
import { DEFAULT_ZSTD_LEVEL, zstdCompress } from './compression.js';
import { McapFileWriter } from './mcap_file_writer.js';
import { openMcap, type RecoveredMcap } from './mcap_source.js';
import { METADATA_VERSION, metadataYaml, NO_START_NS, type BagMetadata } from './metadata.js';
import { BagReader } from './bag_reader.js';

// Makes a bag whose writer was killed whole again, as `ros2 bag reindex` does for rosbag2: every
// .mcap file without a usable summary is rewritten from the records that a start-to-end read
// recovers (chunked, zstd, indexed, with a summary) into a temporary file that then replaces it in
// one rename (src/util/atomic_file.ts), and metadata.yaml is rewritten with the real counts. A
// file that is already indexed is left as it is.

export interface RepairedFile {
  readonly file: string;
  /** false: it was indexed already and was left alone */
  readonly rewritten: boolean;
  readonly messages: number;
  readonly truncatedBytes: number;
}

export interface RepairResult {
  readonly path: string;
  readonly files: readonly RepairedFile[];
  /** metadata.yaml was rewritten (a bag folder) */
  readonly metadataWritten: boolean;
}

function rewrite(file: string, source: RecoveredMcap): void {
  const temp = tempPathFor(file);
  removeStaleTemps(file);
  try {
    const out = new McapFileWriter(temp, {
      profile: source.header?.profile ?? 'ros2',
      library: source.header?.library ?? 'dynastack framework/bag',
      chunkSize: DEFAULT_CHUNK_SIZE,
      compress: { name: 'zstd', fn: (data) => zstdCompress(data, DEFAULT_ZSTD_LEVEL) },
    });
    const schemaIds = new Map<number, number>();
    for (const s of source.schemas.values()) schemaIds.set(s.id, out.addSchema(s.name, s.encoding, s.data));
    const channelIds = new Map<number, number>();
    for (const c of source.channels.values())
      channelIds.set(c.id, out.addChannel(c.topic, schemaIds.get(c.schemaId) ?? 0, c.messageEncoding, c.metadata));
    for (const m of source.messages) {
      const id = channelIds.get(m.channelId);
      if (id !== undefined) out.addMessage(id, m.logTime, m.publishTime, m.data);
    }
    for (const md of source.metadata) out.addMetadata(md.name, md.metadata);
    out.close();
    renameSync(temp, file);
    syncDir(dirname(file));
  } catch (err) {
    rmSync(temp, { force: true });
    throw new Error(`cannot repair ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** The bag's metadata from what its files hold (for metadata.yaml after a repair). */
function metadataOf(reader: BagReader): BagMetadata {
  const empty = reader.messageCount === 0;
  const start = empty ? NO_START_NS : reader.startNs;
  const duration = empty ? 0n : reader.endNs - reader.startNs;
  const old = reader.metadata;
  return {
    version: METADATA_VERSION,
    storageIdentifier: 'mcap',
    durationNs: duration,
    startingTimeNs: start,
    messageCount: reader.messageCount,
    topics: reader.topics.map((t) => ({
      topic: {
        name: t.name,
        type: t.type,
        serializationFormat: t.serializationFormat,
        offeredQos: t.offeredQos,
        typeDescriptionHash: t.typeDescriptionHash,
      },
      messageCount: t.messageCount,
    })),
    compressionFormat: old?.compressionFormat ?? '',
    compressionMode: old?.compressionMode ?? '',
    // per-file figures: a bag of one file (what the writer makes) has the bag's
    files: reader.files.map((f) => ({
      path: basename(f),
      startingTimeNs: start,
      durationNs: duration,
      messageCount: reader.files.length === 1 ? reader.messageCount : 0,
    })),
    customData: old?.customData ?? {},
    rosDistro: old?.rosDistro ?? 'jazzy',
  };
}

/** Repair a bag folder or a .mcap file in place; throws one line when a file cannot be read at all. */
export async function repairBag(path: string): Promise<RepairResult> {
  const target = resolve(path);
  if (!existsSync(target)) throw new Error(`no bag at ${path}`);
  const before = await BagReader.open(target);
  const files = before.files;
  before.close();
  const repaired: RepairedFile[] = [];
  for (const file of files) {
    const source = await openMcap(file);
    if (source.kind === 'indexed') {
      const messages = Number(source.reader.statistics?.messageCount ?? 0n);
      source.close();
      repaired.push({ file, rewritten: false, messages, truncatedBytes: 0 });
      continue;
    }
    rewrite(file, source);
    repaired.push({ file, rewritten: true, messages: source.messages.length, truncatedBytes: source.truncatedBytes });
  }
  let metadataWritten = false;
  if (statSync(target).isDirectory() && repaired.some((r) => r.rewritten)) {
    const after = await BagReader.open(target);
    try {
      writeFileAtomic(join(target, 'metadata.yaml'), metadataYaml(metadataOf(after)));
      metadataWritten = true;
    } finally {
      after.close();
    }
  }
  return { path: target, files: repaired, metadataWritten };
}
