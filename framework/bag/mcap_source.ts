import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { McapIndexedReader, McapStreamReader } from '@mcap/core';
import type { McapTypes } from '@mcap/core';
import { decompressHandlers, loadCompression } from './compression.js';

// Opening one MCAP file two ways: through its summary and indexes (McapIndexedReader, the normal
// case), and, when the summary or footer is missing or corrupt (a writer killed before close),
// record by record from the start (McapStreamReader), keeping every complete record and counting
// the bytes after the last one. https://mcap.dev/spec: a reader "may read a file from start to end
// without the summary", which is what makes a cut-short file recoverable.

/** An MCAP file read through its summary. */
export interface IndexedMcap {
  readonly kind: 'indexed';
  readonly reader: McapIndexedReader;
  readonly size: number;
  close(): void;
}

/** What a start-to-end read of a file without a usable summary recovered. */
export interface RecoveredMcap {
  readonly kind: 'recovered';
  readonly size: number;
  readonly header: McapTypes.Header | undefined;
  readonly schemas: ReadonlyMap<number, McapTypes.Schema>;
  readonly channels: ReadonlyMap<number, McapTypes.Channel>;
  /** in file order */
  readonly messages: readonly McapTypes.Message[];
  readonly metadata: readonly McapTypes.Metadata[];
  /** bytes after the last complete record */
  readonly truncatedBytes: number;
  /** why the index could not be used */
  readonly indexError: string;
  /** why the read stopped before the end of the file, when a record was corrupt (not just cut short) */
  readonly streamError?: string;
}

export type McapSource = IndexedMcap | RecoveredMcap;

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

/** Open `path`: indexed when its summary is whole, else recovered. Throws one line when nothing is readable. */
export async function openMcap(path: string): Promise<McapSource> {
  await loadCompression();
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new Error(`cannot open ${path}: ${firstLine(err)}`, { cause: err });
  }
  const size = fstatSync(fd).size;
  if (size === 0) {
    closeSync(fd);
    throw new Error(`${path} is empty: not an MCAP file`);
  }
  const readable: McapTypes.IReadable = {
    size: () => Promise.resolve(BigInt(size)),
    read: (offset, length) => {
      const buffer = new Uint8Array(Number(length));
      let done = 0;
      while (done < buffer.byteLength) {
        const n = readSync(fd, buffer, done, buffer.byteLength - done, Number(offset) + done);
        if (n === 0) return Promise.reject(new Error(`${path}: read past the end at ${Number(offset) + done}`));
        done += n;
      }
      return Promise.resolve(buffer);
    },
  };
  try {
    const reader = await McapIndexedReader.Initialize({ readable, decompressHandlers });
    return { kind: 'indexed', reader, size, close: () => closeSync(fd) };
  } catch (err) {
    try {
      return recover(fd, size, path, firstLine(err));
    } finally {
      closeSync(fd);
    }
  }
}

const PIECE = 8 * 1024 * 1024;

function recover(fd: number, size: number, path: string, indexError: string): RecoveredMcap {
  const stream = new McapStreamReader({ decompressHandlers, validateCrcs: true });
  const schemas = new Map<number, McapTypes.Schema>();
  const channels = new Map<number, McapTypes.Channel>();
  const messages: McapTypes.Message[] = [];
  const metadata: McapTypes.Metadata[] = [];
  let header: McapTypes.Header | undefined;
  let appended = 0;
  let consumed = 0;
  let streamError: string | undefined;
  let records = 0;
  outer: while (appended < size) {
    const piece = new Uint8Array(Math.min(PIECE, size - appended));
    const n = readSync(fd, piece, 0, piece.byteLength, appended);
    if (n === 0) break;
    stream.append(n === piece.byteLength ? piece : piece.subarray(0, n));
    appended += n;
    for (;;) {
      let record: McapTypes.TypedMcapRecord | undefined;
      try {
        record = stream.nextRecord();
      } catch (err) {
        streamError = firstLine(err);
        break outer;
      }
      if (!record) break;
      records++;
      consumed = appended - stream.bytesRemaining();
      switch (record.type) {
        case 'Header':
          header = record;
          break;
        case 'Schema':
          schemas.set(record.id, record);
          break;
        case 'Channel':
          channels.set(record.id, record);
          break;
        case 'Message':
          messages.push(record);
          break;
        case 'Metadata':
          metadata.push(record);
          break;
        default:
          break;
      }
    }
    if (stream.done()) break;
  }
  if (records === 0 && streamError !== undefined)
    throw new Error(`${path} is not a readable MCAP file: ${streamError}`);
  if (!header) throw new Error(`${path} is not a readable MCAP file: it has no complete header (${size} bytes)`);
  return {
    kind: 'recovered',
    size,
    header,
    schemas,
    channels,
    messages,
    metadata,
    truncatedBytes: size - consumed,
    indexError,
    ...(streamError !== undefined ? { streamError } : {}),
  };
}
