import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { removeStaleTemps, syncDirAsync, tempPathFor, writeFileAtomicAsync } from '../../util/atomic_file.js';
import { createLogger, type Logger } from '../../util/log.js';
import {
  ACTION,
  CODEBASE_VERSION,
  DATA_PATH_TEMPLATE,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_DATA_FILE_SIZE_IN_MB,
  DEFAULT_FPS,
  DEFAULT_VIDEO_FILE_SIZE_IN_MB,
  EPISODES_PATH_TEMPLATE,
  INFO_PATH,
  OBS_STATE,
  STATS_PATH,
  TASKS_PATH,
  VIDEO_PATH_TEMPLATE,
  formatPath,
  jointFeatures,
  type LeRobotInfo,
} from './format.js';
import { parquetTable, type ColumnToWrite } from './parquet_io.js';
import { STAT_KEYS, aggregateStats, featureStats, type DatasetStats } from './stats.js';

// A LeRobot v3.0 dataset of joint states and actions written from plain frames, the tree LeRobot's
// own recorder makes (huggingface/lerobot at 7427f31: datasets/dataset_writer.py save_episode and
// _save_episode_data, datasets/dataset_metadata.py save_episode and _save_episode_metadata,
// datasets/io_utils.py write_info/write_stats/write_tasks):
//
//   meta/info.json       DatasetInfo: fps, features, totals, chunk and file limits, path templates
//   meta/stats.json      the dataset's statistics per feature (stats.ts)
//   meta/tasks.parquet   task_index (int64) and task (string, pandas' index: LeRobot reads it with
//                        pd.read_parquet and looks tasks up by index, so the pandas metadata is kept)
//   meta/episodes/chunk-000/file-000.parquet
//                        one row per episode: episode_index, tasks (list of strings), length,
//                        data/chunk_index, data/file_index, dataset_from_index, dataset_to_index,
//                        stats/<feature>/<stat> for every feature and statistic,
//                        meta/episodes/chunk_index, meta/episodes/file_index
//   data/chunk-CCC/file-FFF.parquet
//                        one row per frame: action and observation.state (lists of float32),
//                        timestamp (float32, frame_index/fps), frame_index, episode_index, index,
//                        task_index (int64); one row group per episode
//
// Episodes are numbered 0… in the order given; tasks by first appearance. Episodes go into one
// data file until the next would take it past data_files_size_in_mb (estimated from the
// uncompressed bytes of a frame); a chunk holds chunks_size files (update_chunk_file_indices).
// No video is written: the feature schema has room for cameras (format.ts addVideoFeature), but
// the writer takes joint data only.
//
// The tree is written whole into a temporary folder beside `dir` (each file through
// src/util/atomic_file.ts, flushed), which is then renamed to `dir`: a reader sees no dataset or
// all of it. A non-empty `dir` is refused unless `overwrite`, and then replaced in two renames
// (the old one steps aside to a temporary name and is removed after).

export interface LeRobotFrame {
  readonly state: ArrayLike<number>;
  readonly action: ArrayLike<number>;
}

export interface LeRobotEpisodeInput {
  readonly task: string;
  readonly frames: readonly LeRobotFrame[];
}

export interface WriteLeRobotOptions {
  /** frames per second (default 30) */
  readonly fps?: number;
  readonly robotType?: string | null;
  /** names of observation.state's dimensions, in order */
  readonly stateNames: readonly string[];
  /** names of action's dimensions, in order */
  readonly actionNames: readonly string[];
  readonly episodes: readonly LeRobotEpisodeInput[];
  /** replace a non-empty `dir` (default: refuse) */
  readonly overwrite?: boolean;
  /** files per chunk folder (default 1000) */
  readonly chunksSize?: number;
  /** a data file's size limit in MB (default 100) */
  readonly dataFilesSizeInMb?: number;
  readonly logger?: Logger;
}

export interface WriteLeRobotResult {
  readonly dir: string;
  readonly info: LeRobotInfo;
  readonly stats: DatasetStats;
  /** the files written, relative to dir */
  readonly files: string[];
}

/** The bookkeeping columns' features, whose values the writer makes. */
const BOOKKEEPING = ['timestamp', 'frame_index', 'episode_index', 'index', 'task_index'] as const;

function checkNames(what: string, names: readonly string[]): void {
  if (!names.length) throw new Error(`${what} names are empty: a feature needs at least one dimension`);
  const seen = new Set<string>();
  for (const n of names) {
    if (typeof n !== 'string' || !n) throw new Error(`${what} names must be non-empty strings`);
    if (seen.has(n)) throw new Error(`${what} name '${n}' is given twice`);
    seen.add(n);
  }
}

function checkPositiveInteger(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${what} must be a positive integer, got ${v}`);
}

/** A frame's values as float32, checked. */
function frameValues(what: string, values: ArrayLike<number>, size: number, where: string): Float32Array {
  if (values.length !== size) throw new Error(`${where}: ${what} has ${values.length} values, expected ${size}`);
  const out = Float32Array.from(values);
  for (let i = 0; i < size; i++)
    if (!Number.isFinite(out[i])) throw new Error(`${where}: ${what}[${i}] is ${values[i]} (not a finite float32)`);
  return out;
}

interface PreparedEpisode {
  readonly index: number;
  readonly task: string;
  readonly taskIndex: number;
  readonly length: number;
  /** row-major length × size, float32 values */
  readonly state: Float32Array;
  readonly action: Float32Array;
  /** global index of the first frame */
  readonly from: number;
  chunk: number;
  file: number;
}

/** Write the dataset into `dir` (see the header). */
export async function writeLeRobotDataset(dir: string, options: WriteLeRobotOptions): Promise<WriteLeRobotResult> {
  const own = options.logger ? undefined : createLogger('lerobot_writer');
  try {
    return await write(dir, options, options.logger ?? own!);
  } finally {
    own?.close();
  }
}

async function write(dir: string, options: WriteLeRobotOptions, log: Logger): Promise<WriteLeRobotResult> {
  const fps = options.fps ?? DEFAULT_FPS;
  checkPositiveInteger('fps', fps);
  const chunksSize = options.chunksSize ?? DEFAULT_CHUNK_SIZE;
  checkPositiveInteger('chunks size', chunksSize);
  const fileMb = options.dataFilesSizeInMb ?? DEFAULT_DATA_FILE_SIZE_IN_MB;
  if (!(fileMb > 0)) throw new Error(`data file size limit must be positive, got ${fileMb} MB`);
  checkNames('state', options.stateNames);
  checkNames('action', options.actionNames);
  const nx = options.stateNames.length;
  const nu = options.actionNames.length;
  if (!options.episodes.length) throw new Error('no episodes to write: a dataset needs at least one');

  // episodes, tasks and global frame indices
  const taskIndex = new Map<string, number>();
  let total = 0;
  const episodes: PreparedEpisode[] = options.episodes.map((ep, e) => {
    if (typeof ep.task !== 'string' || !ep.task.trim())
      throw new Error(`episode ${e}: task must be a non-empty string`);
    if (!ep.frames.length) throw new Error(`episode ${e}: no frames`);
    if (!taskIndex.has(ep.task)) taskIndex.set(ep.task, taskIndex.size);
    const length = ep.frames.length;
    const state = new Float32Array(length * nx);
    const action = new Float32Array(length * nu);
    ep.frames.forEach((f, k) => {
      state.set(frameValues(OBS_STATE, f.state, nx, `episode ${e} frame ${k}`), k * nx);
      action.set(frameValues(ACTION, f.action, nu, `episode ${e} frame ${k}`), k * nu);
    });
    const prepared = {
      index: e,
      task: ep.task,
      taskIndex: taskIndex.get(ep.task)!,
      length,
      state,
      action,
      from: total,
    };
    total += length;
    return { ...prepared, chunk: 0, file: 0 };
  });

  // episodes into data files by size
  const frameBytes = 4 * (nx + nu) + 2 * 8 + 4 + 4 * 8;
  const limitBytes = fileMb * 1024 * 1024;
  let chunk = 0;
  let file = 0;
  let bytes = 0;
  for (const ep of episodes) {
    const epBytes = ep.length * frameBytes;
    if (bytes > 0 && bytes + epBytes >= limitBytes) {
      file++;
      if (file >= chunksSize) {
        chunk++;
        file = 0;
      }
      bytes = 0;
    }
    ep.chunk = chunk;
    ep.file = file;
    bytes += epBytes;
  }

  const features = jointFeatures(options.stateNames, options.actionNames);
  const files = new Map<string, Uint8Array | string>();

  // data files
  const groups = new Map<string, PreparedEpisode[]>();
  for (const ep of episodes) {
    const path = formatPath(DATA_PATH_TEMPLATE, { chunk_index: ep.chunk, file_index: ep.file });
    groups.set(path, [...(groups.get(path) ?? []), ep]);
  }
  for (const [path, eps] of groups) files.set(path, dataFile(eps, nx, nu, fps));

  // per-episode statistics, and the dataset's
  const episodeStats = episodes.map((ep) => statsOf(ep, nx, nu, fps));
  const stats = aggregateStats(episodeStats);

  files.set(
    formatPath(EPISODES_PATH_TEMPLATE, { chunk_index: 0, file_index: 0 }),
    episodesFile(episodes, episodeStats),
  );
  files.set(TASKS_PATH, tasksFile([...taskIndex.keys()]));
  const info: LeRobotInfo = {
    codebase_version: CODEBASE_VERSION,
    fps,
    features,
    total_episodes: episodes.length,
    total_frames: total,
    total_tasks: taskIndex.size,
    chunks_size: chunksSize,
    data_files_size_in_mb: fileMb,
    video_files_size_in_mb: DEFAULT_VIDEO_FILE_SIZE_IN_MB,
    data_path: DATA_PATH_TEMPLATE,
    video_path: VIDEO_PATH_TEMPLATE,
    robot_type: options.robotType ?? null,
    splits: { train: `0:${episodes.length}` },
  };
  files.set(INFO_PATH, JSON.stringify(info, null, 4) + '\n');
  files.set(STATS_PATH, JSON.stringify(stats, null, 4) + '\n');

  await replaceFolder(dir, files, options.overwrite ?? false);
  log.info(`wrote LeRobot dataset ${dir}`, {
    episodes: episodes.length,
    frames: total,
    tasks: taskIndex.size,
    dataFiles: groups.size,
  });
  return { dir, info, stats, files: [...files.keys()].sort() };
}

function dataFile(eps: readonly PreparedEpisode[], nx: number, nu: number, fps: number): Uint8Array {
  const rows = (f: (ep: PreparedEpisode, k: number) => unknown): unknown[] =>
    eps.flatMap((ep) => Array.from({ length: ep.length }, (_, k) => f(ep, k)));
  const columns: ColumnToWrite[] = [
    { name: ACTION, type: 'float32[]', values: rows((ep, k) => Array.from(ep.action.subarray(k * nu, (k + 1) * nu))) },
    {
      name: OBS_STATE,
      type: 'float32[]',
      values: rows((ep, k) => Array.from(ep.state.subarray(k * nx, (k + 1) * nx))),
    },
    { name: 'timestamp', type: 'float32', values: rows((_, k) => Math.fround(k / fps)) },
    { name: 'frame_index', type: 'int64', values: rows((_, k) => BigInt(k)) },
    { name: 'episode_index', type: 'int64', values: rows((ep) => BigInt(ep.index)) },
    { name: 'index', type: 'int64', values: rows((ep, k) => BigInt(ep.from + k)) },
    { name: 'task_index', type: 'int64', values: rows((ep) => BigInt(ep.taskIndex)) },
  ];
  return parquetTable(columns, { rowGroupSizes: eps.map((ep) => ep.length) });
}

function statsOf(ep: PreparedEpisode, nx: number, nu: number, fps: number): DatasetStats {
  const n = ep.length;
  const scalar = (f: (k: number) => number): Float64Array => Float64Array.from({ length: n }, (_, k) => f(k));
  const bookkeeping: Record<(typeof BOOKKEEPING)[number], Float64Array> = {
    timestamp: scalar((k) => Math.fround(k / fps)),
    frame_index: scalar((k) => k),
    episode_index: scalar(() => ep.index),
    index: scalar((k) => ep.from + k),
    task_index: scalar(() => ep.taskIndex),
  };
  return {
    [ACTION]: featureStats(ep.action, n, nu),
    [OBS_STATE]: featureStats(ep.state, n, nx),
    ...Object.fromEntries(BOOKKEEPING.map((k) => [k, featureStats(bookkeeping[k], n, 1)])),
  };
}

function episodesFile(eps: readonly PreparedEpisode[], stats: readonly DatasetStats[]): Uint8Array {
  const int = (f: (ep: PreparedEpisode) => number): bigint[] => eps.map((ep) => BigInt(f(ep)));
  const columns: ColumnToWrite[] = [
    { name: 'episode_index', type: 'int64', values: int((ep) => ep.index) },
    { name: 'tasks', type: 'string[]', values: eps.map((ep) => [ep.task]) },
    { name: 'length', type: 'int64', values: int((ep) => ep.length) },
    { name: 'data/chunk_index', type: 'int64', values: int((ep) => ep.chunk) },
    { name: 'data/file_index', type: 'int64', values: int((ep) => ep.file) },
    { name: 'dataset_from_index', type: 'int64', values: int((ep) => ep.from) },
    { name: 'dataset_to_index', type: 'int64', values: int((ep) => ep.from + ep.length) },
  ];
  for (const feature of Object.keys(stats[0]!)) {
    for (const key of STAT_KEYS) {
      const values = stats.map((s) => s[feature]![key]);
      columns.push(
        key === 'count'
          ? { name: `stats/${feature}/${key}`, type: 'int64[]', values: values.map((v) => v.map((x) => BigInt(x))) }
          : { name: `stats/${feature}/${key}`, type: 'float64[]', values: values.map((v) => [...v]) },
      );
    }
  }
  columns.push(
    { name: 'meta/episodes/chunk_index', type: 'int64', values: int(() => 0) },
    { name: 'meta/episodes/file_index', type: 'int64', values: int(() => 0) },
  );
  return parquetTable(columns);
}

/**
 * tasks.parquet as pandas writes LeRobot's tasks DataFrame (task_index column, task index): the
 * index becomes the last column and the 'pandas' metadata names it, so pd.read_parquet restores it.
 */
function tasksFile(tasks: readonly string[]): Uint8Array {
  const pandas = {
    index_columns: ['task'],
    column_indexes: [
      { name: null, field_name: null, pandas_type: 'unicode', numpy_type: 'object', metadata: { encoding: 'UTF-8' } },
    ],
    columns: [
      { name: 'task_index', field_name: 'task_index', pandas_type: 'int64', numpy_type: 'int64', metadata: null },
      { name: 'task', field_name: 'task', pandas_type: 'unicode', numpy_type: 'object', metadata: null },
    ],
  };
  return parquetTable(
    [
      { name: 'task_index', type: 'int64', values: tasks.map((_, i) => BigInt(i)) },
      { name: 'task', type: 'string', values: [...tasks] },
    ],
    { metadata: { pandas: JSON.stringify(pandas) } },
  );
}

/** Whether a path is a folder with something in it (a missing path is not). */
async function nonEmptyFolder(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return false;
  if (!info.isDirectory()) throw new Error(`${path} exists and is not a folder: refusing to write a dataset there`);
  return (await readdir(path)).length > 0;
}

/** Write `files` (relative paths) into a fresh temporary folder, then rename it to `dir`. */
async function replaceFolder(
  dir: string,
  files: ReadonlyMap<string, Uint8Array | string>,
  overwrite: boolean,
): Promise<void> {
  const target = resolve(dir);
  if ((await nonEmptyFolder(target)) && !overwrite)
    throw new Error(`${dir} is not empty: refusing to overwrite it (pass overwrite to replace it)`);
  await mkdir(dirname(target), { recursive: true });
  removeStaleTemps(target);
  const temp = tempPathFor(target);
  try {
    await mkdir(temp);
    for (const [path, data] of files) await writeFileAtomicAsync(join(temp, path), data);
    await syncDirAsync(temp);
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    throw e;
  }
  // an empty folder, or one to replace, steps aside under a temporary name (a later write removes
  // it if this process dies before it does)
  const old = tempPathFor(target);
  const existed = await stat(target).then(
    () => true,
    () => false,
  );
  if (existed) await rename(target, old);
  try {
    await rename(temp, target);
  } catch (e) {
    if (existed) await rename(old, target).catch(() => undefined);
    await rm(temp, { recursive: true, force: true });
    throw e;
  }
  await syncDirAsync(dirname(target));
  if (existed) await rm(old, { recursive: true, force: true });
}
