import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CODEBASE_VERSION,
  INFO_PATH,
  STATS_PATH,
  TASKS_PATH,
  formatPath,
  type FeatureSpec,
  type Features,
  type LeRobotInfo,
} from './format.js';
import { readParquet, type ColumnKind, type ParquetContents } from './parquet_io.js';
import type { DatasetStats } from './stats.js';

// A LeRobot v3.0 dataset read back: ours (writer.ts) or one LeRobot made. What is read and checked
// follows LeRobot's own loading (huggingface/lerobot at 7427f31: datasets/io_utils.py load_info,
// load_tasks, load_episodes, load_stats; datasets/dataset_reader.py, which finds an episode's rows
// by dataset_from_index/dataset_to_index over the data files' global `index`):
//   - meta/info.json: codebase_version must be "v3.0" (LeRobot refuses v2.x with a message to
//     convert); fps, features (dtype and shape), totals, data_path;
//   - meta/tasks.parquet: task_index → task, 0…total_tasks−1;
//   - meta/episodes/chunk-*/file-*.parquet: one row per episode, 0…total_episodes−1 in order, with
//     its tasks, length, data file, and global frame range; the ranges must tile 0…total_frames;
//   - meta/stats.json if present;
//   - the data files: each 1-D numeric feature (observation.state, action, …) as float32, checked
//     against info.json (Parquet type, values per row), and every episode's rows checked: the
//     global index runs through its range, episode_index is its own, frame_index counts 0….
// Features stored as video or images, strings, and features of more than one dimension are not
// read (listed in `unread`). Anything malformed fails with one line naming the file and the cause.

export interface LeRobotEpisodeMeta {
  readonly index: number;
  readonly tasks: readonly string[];
  readonly length: number;
  readonly dataChunk: number;
  readonly dataFile: number;
  /** global index of its first frame */
  readonly from: number;
  /** global index after its last frame */
  readonly to: number;
}

export interface LeRobotDatasetMeta {
  readonly dir: string;
  readonly info: LeRobotInfo;
  /** by task_index */
  readonly tasks: readonly string[];
  readonly episodes: readonly LeRobotEpisodeMeta[];
  /** meta/stats.json, if the dataset has one */
  readonly stats: DatasetStats | undefined;
}

export interface LeRobotEpisodeFrames {
  readonly episode: LeRobotEpisodeMeta;
  readonly length: number;
  readonly timestamp: Float32Array;
  readonly taskIndex: Int32Array;
  /** feature key → row-major length × size values */
  readonly values: ReadonlyMap<string, Float32Array>;
}

export interface LeRobotDataset extends LeRobotDatasetMeta {
  /** the 1-D numeric features read, with their sizes */
  readonly featureSizes: ReadonlyMap<string, number>;
  /** features not read (video, image, string, more than one dimension) */
  readonly unread: readonly string[];
  readonly frames: readonly LeRobotEpisodeFrames[];
}

const BOOKKEEPING = new Set(['timestamp', 'frame_index', 'episode_index', 'index', 'task_index']);

/** Parquet physical types a feature dtype is stored as (pyarrow's mapping). */
const PHYSICAL: Readonly<Record<string, readonly string[]>> = {
  float32: ['FLOAT'],
  float64: ['DOUBLE'],
  int64: ['INT64'],
  int32: ['INT32'],
  int16: ['INT32'],
  int8: ['INT32'],
  uint8: ['INT32'],
  bool: ['BOOLEAN'],
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A JSON file of the dataset, or undefined if it is not there. */
async function readJson(dir: string, rel: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(join(dir, rel), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${join(dir, rel)} cannot be read (${(e as Error).message})`, { cause: e });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${join(dir, rel)} is not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

function parseInfo(path: string, raw: unknown): LeRobotInfo {
  const bad = (why: string): Error => new Error(`${path}: ${why}`);
  if (!isRecord(raw)) throw bad('not a JSON object');
  const version = raw.codebase_version;
  if (version !== CODEBASE_VERSION)
    throw bad(
      `codebase_version is ${JSON.stringify(version)}; only ${CODEBASE_VERSION} is read (LeRobot converts v2.1 datasets with lerobot.datasets.v30.convert_dataset_v21_to_v30)`,
    );
  if (typeof raw.fps !== 'number' || !(raw.fps > 0))
    throw bad(`fps must be a positive number, got ${JSON.stringify(raw.fps)}`);
  for (const key of ['total_episodes', 'total_frames', 'total_tasks'] as const)
    if (!isCount(raw[key])) throw bad(`${key} must be a non-negative integer, got ${JSON.stringify(raw[key])}`);
  if (typeof raw.data_path !== 'string' || !raw.data_path) throw bad('data_path is missing');
  if (!isRecord(raw.features)) throw bad('features is missing or not an object');
  const features: Record<string, FeatureSpec> = {};
  for (const [key, ft] of Object.entries(raw.features)) {
    if (!isRecord(ft) || typeof ft.dtype !== 'string') throw bad(`feature ${key} has no dtype`);
    if (!Array.isArray(ft.shape) || !ft.shape.length || !ft.shape.every((d) => isCount(d) && d > 0))
      throw bad(`feature ${key} has shape ${JSON.stringify(ft.shape)}, not a list of positive integers`);
    features[key] = ft as unknown as FeatureSpec;
  }
  for (const key of BOOKKEEPING) if (!(key in features)) throw bad(`features has no '${key}'`);
  return { ...(raw as unknown as LeRobotInfo), features };
}

/** A column's values as numbers (int64 comes as bigint), checked to be finite. */
function numbers(path: string, name: string, values: readonly unknown[]): number[] {
  return values.map((v, r) => {
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n))
      throw new Error(`${path}: row ${r} of ${name} is ${String(v)}, not a number`);
    return n;
  });
}

function column(path: string, table: ParquetContents, name: string): readonly unknown[] {
  const c = table.columns.get(name);
  if (!c) throw new Error(`${path}: no column '${name}'`);
  return c;
}

async function readTasks(dir: string, info: LeRobotInfo): Promise<string[]> {
  const path = join(dir, TASKS_PATH);
  const table = await readParquet(path, ['task_index', 'task']);
  const indices = numbers(path, 'task_index', column(path, table, 'task_index'));
  const names = column(path, table, 'task');
  const tasks: string[] = [];
  indices.forEach((i, r) => {
    const name = names[r];
    if (typeof name !== 'string') throw new Error(`${path}: row ${r} has no task string`);
    if (!Number.isSafeInteger(i) || i < 0 || i >= indices.length || tasks[i] !== undefined)
      throw new Error(`${path}: task_index ${i} (row ${r}) is out of 0…${indices.length - 1} or repeated`);
    tasks[i] = name;
  });
  if (tasks.length !== info.total_tasks)
    throw new Error(`${path}: ${tasks.length} tasks, but info.json says total_tasks ${info.total_tasks}`);
  return tasks;
}

async function readEpisodes(dir: string, info: LeRobotInfo): Promise<LeRobotEpisodeMeta[]> {
  const root = join(dir, 'meta/episodes');
  const files: string[] = [];
  try {
    for (const chunk of (await readdir(root)).filter((c) => /^chunk-\d+$/.test(c)).sort())
      for (const f of (await readdir(join(root, chunk))).filter((x) => /^file-\d+\.parquet$/.test(x)).sort())
        files.push(join(root, chunk, f));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (!files.length && info.total_episodes > 0) throw new Error(`${dir}: no episode files in meta/episodes/chunk-*/`);
  const names = [
    'episode_index',
    'tasks',
    'length',
    'data/chunk_index',
    'data/file_index',
    'dataset_from_index',
    'dataset_to_index',
  ];
  const episodes: LeRobotEpisodeMeta[] = [];
  for (const path of files) {
    const table = await readParquet(path, names);
    const num = (name: string): number[] => numbers(path, name, column(path, table, name));
    const [index, length, chunk, file, from, to] = [
      num('episode_index'),
      num('length'),
      num('data/chunk_index'),
      num('data/file_index'),
      num('dataset_from_index'),
      num('dataset_to_index'),
    ];
    const tasks = column(path, table, 'tasks');
    for (let r = 0; r < table.rows; r++) {
      const t = tasks[r];
      if (!Array.isArray(t) || !t.every((x) => typeof x === 'string'))
        throw new Error(`${path}: row ${r}: tasks is not a list of strings`);
      episodes.push({
        index: index[r]!,
        tasks: t,
        length: length[r]!,
        dataChunk: chunk[r]!,
        dataFile: file[r]!,
        from: from[r]!,
        to: to[r]!,
      });
    }
  }
  episodes.sort((a, b) => a.index - b.index);
  let next = 0;
  episodes.forEach((ep, i) => {
    const where = `${root}: episode ${ep.index}`;
    if (ep.index !== i)
      throw new Error(`${root}: episode indices are not 0…${episodes.length - 1} (found ${ep.index} at ${i})`);
    if (ep.length < 1 || ep.to - ep.from !== ep.length)
      throw new Error(`${where}: length ${ep.length} but frames ${ep.from} to ${ep.to}`);
    if (ep.from !== next) throw new Error(`${where}: starts at frame ${ep.from}, the episode before ends at ${next}`);
    next = ep.to;
  });
  if (episodes.length !== info.total_episodes)
    throw new Error(`${root}: ${episodes.length} episodes, but info.json says total_episodes ${info.total_episodes}`);
  if (next !== info.total_frames)
    throw new Error(`${root}: episodes hold ${next} frames, but info.json says total_frames ${info.total_frames}`);
  return episodes;
}

/** The dataset's metadata: info, tasks, episodes with their frame ranges, stats. */
export async function readLeRobotMeta(dir: string): Promise<LeRobotDatasetMeta> {
  const rawInfo = await readJson(dir, INFO_PATH);
  if (rawInfo === undefined) throw new Error(`${dir}: no ${INFO_PATH}: not a LeRobot dataset`);
  const info = parseInfo(join(dir, INFO_PATH), rawInfo);
  const tasks = await readTasks(dir, info);
  const episodes = await readEpisodes(dir, info);
  for (const ep of episodes)
    for (const t of ep.tasks)
      if (!tasks.includes(t))
        throw new Error(`${dir}: episode ${ep.index} has task '${t}', which is not in ${TASKS_PATH}`);
  const rawStats = await readJson(dir, STATS_PATH);
  if (rawStats !== undefined && !isRecord(rawStats)) throw new Error(`${join(dir, STATS_PATH)}: not a JSON object`);
  const stats = rawStats as DatasetStats | undefined;
  return { dir, info, tasks, episodes, stats };
}

/** The features read as frames: 1-D numeric ones but the bookkeeping columns. */
function readableFeatures(features: Features): { sizes: Map<string, number>; unread: string[] } {
  const sizes = new Map<string, number>();
  const unread: string[] = [];
  for (const [key, ft] of Object.entries(features)) {
    if (BOOKKEEPING.has(key)) continue;
    if (ft.dtype in PHYSICAL && ft.shape.length === 1) sizes.set(key, ft.shape[0]!);
    else unread.push(key);
  }
  return { sizes, unread };
}

function checkKind(path: string, key: string, ft: FeatureSpec, kind: ColumnKind | undefined): void {
  if (!kind) throw new Error(`${path}: no column '${key}', which info.json lists as a feature`);
  const physical = PHYSICAL[ft.dtype] ?? [];
  if (!physical.includes(kind.physical))
    throw new Error(`${path}: column '${key}' holds ${kind.physical}, but info.json says dtype ${ft.dtype}`);
  if (!kind.list && ft.shape[0] !== 1)
    throw new Error(
      `${path}: column '${key}' holds one value per row, but info.json says shape [${ft.shape.join(', ')}]`,
    );
}

/** Rows of one data file, by episode. */
function episodeFrames(
  path: string,
  table: ParquetContents,
  eps: readonly LeRobotEpisodeMeta[],
  features: Features,
  sizes: ReadonlyMap<string, number>,
): LeRobotEpisodeFrames[] {
  for (const key of BOOKKEEPING) checkKind(path, key, features[key]!, table.kinds.get(key));
  for (const key of sizes.keys()) checkKind(path, key, features[key]!, table.kinds.get(key));
  const index = numbers(path, 'index', column(path, table, 'index'));
  const episodeIndex = numbers(path, 'episode_index', column(path, table, 'episode_index'));
  const frameIndex = numbers(path, 'frame_index', column(path, table, 'frame_index'));
  const timestamp = numbers(path, 'timestamp', column(path, table, 'timestamp'));
  const taskIndex = numbers(path, 'task_index', column(path, table, 'task_index'));
  const first = index[0] ?? 0;
  index.forEach((v, r) => {
    if (v !== first + r)
      throw new Error(`${path}: row ${r} has index ${v}, expected ${first + r} (rows must follow the global index)`);
  });
  return eps.map((ep) => {
    const where = `${path}: episode ${ep.index}`;
    const r0 = ep.from - first;
    if (r0 < 0 || ep.to - first > table.rows)
      throw new Error(
        `${where}: frames ${ep.from} to ${ep.to} are not in this file (it holds ${first} to ${first + table.rows})`,
      );
    for (let k = 0; k < ep.length; k++) {
      if (episodeIndex[r0 + k] !== ep.index)
        throw new Error(`${where}: row ${r0 + k} (index ${ep.from + k}) has episode_index ${episodeIndex[r0 + k]}`);
      if (frameIndex[r0 + k] !== k)
        throw new Error(`${where}: row ${r0 + k} has frame_index ${frameIndex[r0 + k]}, expected ${k}`);
    }
    const values = new Map<string, Float32Array>();
    for (const [key, size] of sizes) {
      const col = column(path, table, key);
      const out = new Float32Array(ep.length * size);
      for (let k = 0; k < ep.length; k++) {
        const cell = col[r0 + k];
        const row: readonly unknown[] = Array.isArray(cell) ? cell : [cell];
        if (row.length !== size)
          throw new Error(`${where}: row ${r0 + k} of ${key} has ${row.length} values, info.json says shape [${size}]`);
        for (let j = 0; j < size; j++) {
          const v = row[j];
          const n = typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? Number(v) : v;
          if (typeof n !== 'number')
            throw new Error(`${where}: row ${r0 + k} of ${key} holds ${String(v)}, not a number`);
          out[k * size + j] = n;
        }
      }
      values.set(key, out);
    }
    return {
      episode: ep,
      length: ep.length,
      timestamp: Float32Array.from(timestamp.slice(r0, r0 + ep.length)),
      taskIndex: Int32Array.from(taskIndex.slice(r0, r0 + ep.length)),
      values,
    };
  });
}

/** The whole dataset: metadata and every episode's frames. */
export async function readLeRobotDataset(dir: string): Promise<LeRobotDataset> {
  const meta = await readLeRobotMeta(dir);
  const { sizes, unread } = readableFeatures(meta.info.features);
  const byFile = new Map<string, LeRobotEpisodeMeta[]>();
  for (const ep of meta.episodes) {
    const path = formatPath(meta.info.data_path, { chunk_index: ep.dataChunk, file_index: ep.dataFile });
    byFile.set(path, [...(byFile.get(path) ?? []), ep]);
  }
  const frames: LeRobotEpisodeFrames[] = [];
  for (const [rel, eps] of byFile) {
    const path = join(dir, rel);
    const table = await readParquet(path, [...BOOKKEEPING, ...sizes.keys()]);
    frames.push(...episodeFrames(path, table, eps, meta.info.features, sizes));
  }
  frames.sort((a, b) => a.episode.index - b.episode.index);
  return { ...meta, featureSizes: sizes, unread, frames };
}
