import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BagReader, type BagRecovery } from './bag_reader.js';

// What `dynastack bag info <bag>` shows: a structured summary of a bag, and a text in the layout
// of `ros2 bag info` (ros2bag's verb/info.py → rosbag2_py format_bag_meta_data,
// rosbag2_py/src/rosbag2_py/format_bag_metadata.cpp: two-column labels of 19 characters, the file
// size in B/KiB/MiB/GiB with one decimal, times in local time with nanoseconds), plus, for a file
// read without its index, a line saying what was recovered.

export interface BagTopicInfo {
  readonly name: string;
  readonly type: string;
  readonly count: number;
  readonly serializationFormat: string;
}

export interface BagInfo {
  readonly path: string;
  /** the .mcap files' names */
  readonly files: readonly string[];
  /** bytes of the bag's files (the folder's files for a bag folder, as ros2 bag info counts) */
  readonly bytes: number;
  readonly storageId: string;
  readonly rosDistro: string | undefined;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly durationNs: bigint;
  readonly messageCount: number;
  readonly topics: readonly BagTopicInfo[];
  readonly recovery: readonly BagRecovery[];
}

/** The summary of an open reader. */
export function bagInfoOf(reader: BagReader): BagInfo {
  const order = reader.metadata?.topics.map((t) => t.topic.name) ?? [];
  const rank = (name: string): number => {
    const i = order.indexOf(name);
    return i < 0 ? order.length : i;
  };
  const topics = [...reader.topics]
    .map((t, i) => ({ t, i }))
    .sort((a, b) => rank(a.t.name) - rank(b.t.name) || a.i - b.i)
    .map(({ t }) => ({
      name: t.name,
      type: t.type,
      count: t.messageCount,
      serializationFormat: t.serializationFormat,
    }));
  let bytes = reader.bytes;
  if (reader.files[0] !== reader.path) {
    bytes = 0;
    for (const entry of readdirSync(reader.path, { withFileTypes: true }))
      if (entry.isFile()) bytes += statSync(join(reader.path, entry.name)).size;
  }
  return {
    path: reader.path,
    files: reader.files.map((f) => basename(f)),
    bytes,
    storageId: 'mcap',
    rosDistro: reader.metadata?.rosDistro || undefined,
    startNs: reader.startNs,
    endNs: reader.endNs,
    durationNs: reader.endNs - reader.startNs,
    messageCount: reader.messageCount,
    topics,
    recovery: reader.recovery,
  };
}

/** Open, summarize and close a bag. */
export async function bagInfo(path: string): Promise<BagInfo> {
  const reader = await BagReader.open(path);
  try {
    return bagInfoOf(reader);
  } finally {
    reader.close();
  }
}

/** A size as rosbag2 prints it: bytes whole, larger units with one decimal. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let size = bytes;
  let i = 0;
  while (size >= 1024 && i < units.length - 1) {
    size /= 1024;
    i++;
  }
  return `${size.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** "Dec  7 2026 21:09:02.022153267 (1796677742.022153267)": local time, as ros2 bag info. */
export function formatTime(ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  const frac = pad(Number(ns % 1_000_000_000n), 9);
  const d = new Date(Number(sec) * 1000);
  const date = `${MONTHS[d.getMonth()]!} ${String(d.getDate()).padStart(2, ' ')} ${d.getFullYear()}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${date} ${time}.${frac} (${sec}.${frac})`;
}

/** "3.490966914s" */
export function formatDuration(ns: bigint): string {
  const sign = ns < 0n ? '-' : '';
  const a = ns < 0n ? -ns : ns;
  return `${sign}${a / 1_000_000_000n}.${pad(Number(a % 1_000_000_000n), 9)}s`;
}

const label = (name: string): string => `${name}:`.padEnd(19, ' ');
const continuation = ' '.repeat(19);

/** The summary in the layout of `ros2 bag info`. */
export function formatBagInfo(info: BagInfo): string {
  const lines: string[] = [];
  info.files.forEach((f, i) => lines.push((i === 0 ? label('Files') : continuation) + f));
  lines.push(label('Bag size') + formatSize(info.bytes));
  lines.push(label('Storage id') + info.storageId);
  if (info.rosDistro) lines.push(label('ROS Distro') + info.rosDistro);
  lines.push(label('Duration') + formatDuration(info.durationNs));
  lines.push(label('Start') + formatTime(info.startNs));
  lines.push(label('End') + formatTime(info.endNs));
  lines.push(label('Messages') + String(info.messageCount));
  if (info.topics.length === 0) lines.push('Topic information: ');
  info.topics.forEach((t, i) =>
    lines.push(
      (i === 0 ? 'Topic information: ' : continuation) +
        `Topic: ${t.name} | Type: ${t.type} | Count: ${t.count} | Serialization Format: ${t.serializationFormat}`,
    ),
  );
  lines.push(label('Service') + '0');
  lines.push('Service information: ');
  for (const r of info.recovery) {
    lines.push(
      label('Recovered') +
        `${basename(r.file)}: ${r.reason}; read without it: ${r.recoveredMessages} messages, ` +
        `${r.truncatedBytes} of ${r.fileBytes} bytes cut off at the end (a repair rewrites it indexed)`,
    );
  }
  return lines.join('\n') + '\n';
}
