import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { McapChunkBuilder, McapRecordBuilder, Opcode } from '@mcap/core';
import type { McapTypes } from '@mcap/core';

// One MCAP file written record by record (https://mcap.dev/spec), with the layout libmcap writes
// for rosbag2 (chunks, a message index per channel after each chunk, and a summary of schemas,
// channels, statistics, chunk and metadata indexes, with summary offsets), synchronously to a file
// descriptor. @mcap/core's McapWriter closes a chunk only when it is full; a recorder must also
// close one that has been open too long, so that a killed process loses at most that chunk: this
// writer closes a chunk when asked (flushChunk), and the bag writer asks on size and on age. Every
// closed chunk is handed to the OS at once (write(2)), so it survives the death of the process;
// fsync is left to close() (and to callers that want it per chunk), as it costs milliseconds.

export interface McapFileWriterOptions {
  readonly profile: string;
  readonly library: string;
  /** close a chunk once its uncompressed records exceed this many bytes */
  readonly chunkSize: number;
  /** compress a chunk's records; undefined: store them as they are */
  readonly compress?: { readonly name: string; readonly fn: (data: Uint8Array) => Uint8Array };
  /** fsync after every chunk (default false: write(2) only) */
  readonly syncEachChunk?: boolean;
}

export class McapFileWriter {
  readonly #fd: number;
  readonly #options: McapFileWriterOptions;
  readonly #records = new McapRecordBuilder();
  readonly #chunk = new McapChunkBuilder({ useMessageIndex: true });
  readonly #schemas = new Map<number, McapTypes.Schema>();
  readonly #channels = new Map<number, McapTypes.Channel>();
  readonly #inChunk = new Set<string>();
  readonly #chunkIndexes: McapTypes.ChunkIndex[] = [];
  readonly #metadataIndexes: McapTypes.MetadataIndex[] = [];
  readonly #channelCounts = new Map<number, bigint>();
  #position = 0n;
  #dataCrc = 0;
  #messageCount = 0n;
  #start = 0n;
  #end = 0n;
  #metadataCount = 0;
  #closed = false;
  /** bytes of compressed chunk data written so far */
  bytesWritten = 0;

  constructor(
    readonly path: string,
    options: McapFileWriterOptions,
  ) {
    this.#options = options;
    this.#fd = openSync(path, 'wx');
    this.#records.writeMagic();
    this.#records.writeHeader({ profile: options.profile, library: options.library });
    this.#emit(true);
  }

  /** The position in the file where the next record goes. */
  get position(): bigint {
    return this.#position;
  }

  get chunkMessages(): number {
    return this.#chunk.numMessages;
  }

  get chunkBytes(): number {
    return this.#chunk.byteLength;
  }

  get chunkStartTime(): bigint {
    return this.#chunk.messageStartTime;
  }

  get messageCount(): bigint {
    return this.#messageCount;
  }

  /** write what the record builder holds, as part of the data section (or not) */
  #emit(data: boolean): Uint8Array {
    const buffer = this.#records.buffer;
    for (let done = 0; done < buffer.byteLength;) done += writeSync(this.#fd, buffer, done, buffer.byteLength - done);
    if (data) this.#dataCrc = crc32(buffer, this.#dataCrc);
    this.#position += BigInt(buffer.byteLength);
    const copy = buffer.slice();
    this.#records.reset();
    return copy;
  }

  addSchema(name: string, encoding: string, data: Uint8Array): number {
    const id = this.#schemas.size + 1;
    this.#schemas.set(id, { id, name, encoding, data });
    return id;
  }

  addChannel(topic: string, schemaId: number, messageEncoding: string, metadata: ReadonlyMap<string, string>): number {
    const id = this.#channels.size + 1;
    this.#channels.set(id, { id, topic, schemaId, messageEncoding, metadata: new Map(metadata) });
    this.#channelCounts.set(id, 0n);
    return id;
  }

  addMessage(channelId: number, logTime: bigint, publishTime: bigint, data: Uint8Array): void {
    const channel = this.#channels.get(channelId);
    if (!channel) throw new Error(`MCAP writer: no channel ${channelId}`);
    // each chunk carries the schema and channel of its messages, so that a chunk read alone (a
    // file cut short, read without its summary) can be decoded
    if (!this.#inChunk.has(`c${channelId}`)) {
      const schema = this.#schemas.get(channel.schemaId);
      if (schema && !this.#inChunk.has(`s${schema.id}`)) {
        this.#chunk.addSchema(schema);
        this.#inChunk.add(`s${schema.id}`);
      }
      this.#chunk.addChannel(channel);
      this.#inChunk.add(`c${channelId}`);
    }
    const sequence = Number(this.#channelCounts.get(channelId)! & 0xffffffffn);
    this.#chunk.addMessage({ channelId, sequence, logTime, publishTime, data });
    this.#channelCounts.set(channelId, this.#channelCounts.get(channelId)! + 1n);
    if (this.#messageCount === 0n || logTime < this.#start) this.#start = logTime;
    if (this.#messageCount === 0n || logTime > this.#end) this.#end = logTime;
    this.#messageCount++;
    if (this.#chunk.byteLength >= this.#options.chunkSize) this.flushChunk();
  }

  /** Close the open chunk (if it holds a message) and hand it to the OS. */
  flushChunk(): void {
    if (this.#chunk.numMessages === 0) return;
    const records = this.#chunk.buffer;
    const compressed = this.#options.compress ? this.#options.compress.fn(records) : records;
    const chunk: McapTypes.Chunk = {
      messageStartTime: this.#chunk.messageStartTime,
      messageEndTime: this.#chunk.messageEndTime,
      uncompressedSize: BigInt(records.byteLength),
      uncompressedCrc: crc32(records),
      compression: this.#options.compress?.name ?? '',
      records: compressed,
    };
    const chunkStartOffset = this.#position;
    const chunkLength = this.#records.writeChunk(chunk);
    this.#emit(true);
    const indexStart = this.#position;
    const messageIndexOffsets = new Map<number, bigint>();
    let messageIndexLength = 0n;
    for (const index of this.#chunk.indices) {
      if (index.records.length === 0) continue;
      messageIndexOffsets.set(index.channelId, indexStart + messageIndexLength);
      messageIndexLength += this.#records.writeMessageIndex(index);
    }
    this.#emit(true);
    this.#chunkIndexes.push({
      messageStartTime: chunk.messageStartTime,
      messageEndTime: chunk.messageEndTime,
      chunkStartOffset,
      chunkLength,
      messageIndexOffsets,
      messageIndexLength,
      compression: chunk.compression,
      compressedSize: BigInt(compressed.byteLength),
      uncompressedSize: chunk.uncompressedSize,
    });
    this.bytesWritten += compressed.byteLength;
    this.#chunk.reset();
    this.#inChunk.clear();
    if (this.#options.syncEachChunk) fsyncSync(this.#fd);
  }

  /** A metadata record (name → string map) in the data section, indexed in the summary. */
  addMetadata(name: string, metadata: ReadonlyMap<string, string>): void {
    const offset = this.#position;
    const length = this.#records.writeMetadata({ name, metadata: new Map(metadata) });
    this.#emit(true);
    this.#metadataIndexes.push({ offset, length, name });
    this.#metadataCount++;
  }

  /** Close the last chunk, write the summary and footer, flush to disk and close the file. */
  close(): void {
    if (this.#closed) return;
    this.flushChunk();
    this.#records.writeDataEnd({ dataSectionCrc: this.#dataCrc >>> 0 });
    this.#emit(false);
    const summaryStart = this.#position;
    const summary: Uint8Array[] = [];
    const offsets: McapTypes.SummaryOffset[] = [];
    const group = (opcode: Opcode, write: () => bigint): void => {
      const groupStart = this.#position;
      const groupLength = write();
      if (groupLength === 0n) return;
      summary.push(this.#emit(false));
      offsets.push({ groupOpcode: opcode, groupStart, groupLength });
    };
    const each =
      <T>(items: Iterable<T>, write: (item: T) => bigint) =>
      (): bigint => {
        let n = 0n;
        for (const item of items) n += write(item);
        return n;
      };
    group(
      Opcode.SCHEMA,
      each(this.#schemas.values(), (s) => this.#records.writeSchema(s)),
    );
    group(
      Opcode.CHANNEL,
      each(this.#channels.values(), (c) => this.#records.writeChannel(c)),
    );
    group(Opcode.STATISTICS, () =>
      this.#records.writeStatistics({
        messageCount: this.#messageCount,
        schemaCount: this.#schemas.size,
        channelCount: this.#channels.size,
        attachmentCount: 0,
        metadataCount: this.#metadataCount,
        chunkCount: this.#chunkIndexes.length,
        messageStartTime: this.#start,
        messageEndTime: this.#end,
        channelMessageCounts: this.#channelCounts,
      }),
    );
    group(
      Opcode.CHUNK_INDEX,
      each(this.#chunkIndexes, (c) => this.#records.writeChunkIndex(c)),
    );
    group(
      Opcode.METADATA_INDEX,
      each(this.#metadataIndexes, (m) => this.#records.writeMetadataIndex(m)),
    );
    const summaryOffsetStart = this.#position;
    for (const o of offsets) this.#records.writeSummaryOffset(o);
    if (offsets.length) summary.push(this.#emit(false));
    // summary_crc covers the summary section and the footer up to its own field (https://mcap.dev/spec#footer-op0x02)
    const probe = new McapRecordBuilder();
    probe.writeFooter({ summaryStart, summaryOffsetStart, summaryCrc: 0 });
    let crc = 0;
    for (const part of summary) crc = crc32(part, crc);
    crc = crc32(probe.buffer.subarray(0, probe.buffer.byteLength - 4), crc);
    this.#records.writeFooter({ summaryStart, summaryOffsetStart, summaryCrc: crc >>> 0 });
    this.#records.writeMagic();
    this.#emit(false);
    fsyncSync(this.#fd);
    closeSync(this.#fd);
    this.#closed = true;
  }

  /** Close the file without a summary (the writer gave up); what was written stays readable. */
  abandon(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}
