import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import { ParquetFile, readParquet } from 'parquet-wasm';
import { writeLeRobotDataset, type LeRobotEpisodeInput } from '../../../src/data/lerobot/writer.js';
import { readLeRobotDataset } from '../../../src/data/lerobot/reader.js';
import { leRobotTransitions } from '../../../src/data/lerobot/transitions.js';
import { addVideoFeature, jointFeatures } from '../../../src/data/lerobot/format.js';
import type { Logger } from '../../../src/util/log.js';

// The LeRobot v3.0 writer, checked with an independent Parquet reader: parquet-wasm (arrow-rs's
// parquet crate compiled to WebAssembly) decodes every file to Arrow, whose types arrow-rs derives
// from the Parquet schema (FLOAT → Float32, INT64 → Int64, a LIST group → List, UTF8 → Utf8), and
// apache-arrow reads the values. Three episodes of two tasks: column names, types and values, the
// row groups, the episodes' frame ranges against the data file's episode_index runs, info.json,
// stats against statistics computed here, then the reader and the transitions on top of it.

const quiet: Logger = { error() {}, warn() {}, info() {}, debug() {}, level: 'error' };

const STATE = ['shoulder.pos', 'elbow.pos', 'shoulder.vel', 'elbow.vel'];
const ACTIONS = ['shoulder.goal', 'elbow.goal', 'gripper.goal'];
const LENGTHS = [7, 5, 9];
const TASKS = ['pick the cube', 'open the drawer', 'pick the cube'];

/** state/action values of episode e, frame k: not float32-exact, so the float32 rounding shows */
const stateOf = (e: number, k: number) => STATE.map((_, j) => Math.sin(0.3 * k + e + j) * (j + 1) + 0.1 * e);
const actionOf = (e: number, k: number) => ACTIONS.map((_, j) => Math.cos(0.7 * k - e * j) / 3 + j);

const episodes: LeRobotEpisodeInput[] = LENGTHS.map((n, e) => ({
  task: TASKS[e]!,
  frames: Array.from({ length: n }, (_, k) => ({ state: stateOf(e, k), action: actionOf(e, k) })),
}));

function arrow(path: string): Table {
  return tableFromIPC(readParquet(readFileSync(path)).intoIPCStream());
}

const types = (t: Table) => t.schema.fields.map((f) => `${f.name}: ${String(f.type)}`);
const list = (t: Table, name: string) =>
  (t.getChild(name)!.toArray() as { toArray(): ArrayLike<number | bigint> }[]).map((v) =>
    Array.from(v.toArray(), Number),
  );
const ints = (t: Table, name: string) => Array.from(t.getChild(name)!.toArray() as BigInt64Array, Number);

function withDataset(fn: (dir: string, root: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const root = mkdtempSync(join(tmpdir(), 'lerobot-'));
    try {
      const dir = join(root, 'ds');
      await writeLeRobotDataset(dir, {
        fps: 30,
        robotType: 'so101_follower',
        stateNames: STATE,
        actionNames: ACTIONS,
        episodes,
        logger: quiet,
      });
      await fn(dir, root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
}

/** per-dimension statistics of rows, as the test computes them: population std */
function plainStats(rows: number[][]) {
  const dim = rows[0]!.length;
  const col = (j: number) => rows.map((r) => r[j]!);
  const mean = Array.from({ length: dim }, (_, j) => col(j).reduce((a, b) => a + b, 0) / rows.length);
  return {
    min: Array.from({ length: dim }, (_, j) => Math.min(...col(j))),
    max: Array.from({ length: dim }, (_, j) => Math.max(...col(j))),
    mean,
    std: Array.from({ length: dim }, (_, j) =>
      Math.sqrt(col(j).reduce((a, b) => a + (b - mean[j]!) ** 2, 0) / rows.length),
    ),
  };
}

const close = (a: readonly number[], b: readonly number[], tol: number, what: string) => {
  assert.equal(a.length, b.length, what);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= tol, `${what}[${i}]: ${v} vs ${b[i]}`));
};

test(
  'data file: the columns LeRobot writes, with Parquet types arrow-rs reads as List<Float32>, Float32, Int64, one row group per episode',
  withDataset(async (dir) => {
    const path = join(dir, 'data/chunk-000/file-000.parquet');
    const t = arrow(path);
    assert.deepEqual(types(t), [
      'action: List<Float32>',
      'observation.state: List<Float32>',
      'timestamp: Float32',
      'frame_index: Int64',
      'episode_index: Int64',
      'index: Int64',
      'task_index: Int64',
    ]);
    assert.equal(t.numRows, 21);
    const expected = (f: (e: number, k: number) => number[]) =>
      LENGTHS.flatMap((n, e) => Array.from({ length: n }, (_, k) => f(e, k).map(Math.fround)));
    assert.deepEqual(list(t, 'observation.state'), expected(stateOf));
    assert.deepEqual(list(t, 'action'), expected(actionOf));
    assert.deepEqual(
      Array.from(t.getChild('timestamp')!.toArray() as Float32Array),
      LENGTHS.flatMap((n) => Array.from({ length: n }, (_, k) => Math.fround(k / 30))),
    );
    assert.deepEqual(
      ints(t, 'frame_index'),
      LENGTHS.flatMap((n) => Array.from({ length: n }, (_, k) => k)),
    );
    assert.deepEqual(
      ints(t, 'episode_index'),
      LENGTHS.flatMap((n, e) => Array<number>(n).fill(e)),
    );
    assert.deepEqual(
      ints(t, 'index'),
      Array.from({ length: 21 }, (_, i) => i),
    );
    // tasks by first appearance: episodes 0 and 2 share task 0
    assert.deepEqual(
      ints(t, 'task_index'),
      LENGTHS.flatMap((n, e) => Array<number>(n).fill([0, 1, 0][e]!)),
    );
    const file = await ParquetFile.fromFile(new Blob([readFileSync(path)]));
    assert.deepEqual(
      file
        .metadata()
        .rowGroups()
        .map((g) => g.numRows()),
      LENGTHS,
    );
  }),
);

test(
  "episodes file: LeRobot v3 columns and types, frame ranges that match the data file's episode_index runs",
  withDataset((dir) => {
    const t = arrow(join(dir, 'meta/episodes/chunk-000/file-000.parquet'));
    const features = [
      'action',
      'observation.state',
      'timestamp',
      'frame_index',
      'episode_index',
      'index',
      'task_index',
    ];
    const stats = ['min', 'max', 'mean', 'std', 'count', 'q01', 'q10', 'q50', 'q90', 'q99'];
    assert.deepEqual(types(t), [
      'episode_index: Int64',
      'tasks: List<Utf8>',
      'length: Int64',
      'data/chunk_index: Int64',
      'data/file_index: Int64',
      'dataset_from_index: Int64',
      'dataset_to_index: Int64',
      ...features.flatMap((f) => stats.map((s) => `stats/${f}/${s}: List<${s === 'count' ? 'Int64' : 'Float64'}>`)),
      'meta/episodes/chunk_index: Int64',
      'meta/episodes/file_index: Int64',
    ]);
    assert.deepEqual(ints(t, 'episode_index'), [0, 1, 2]);
    assert.deepEqual(
      (t.getChild('tasks')!.toArray() as { toArray(): string[] }[]).map((v) => [...v.toArray()]),
      TASKS.map((x) => [x]),
    );
    assert.deepEqual(ints(t, 'length'), LENGTHS);
    assert.deepEqual(ints(t, 'data/chunk_index'), [0, 0, 0]);
    assert.deepEqual(ints(t, 'data/file_index'), [0, 0, 0]);
    // the data file's runs of episode_index, as [episode, first global index, index after]
    const data = arrow(join(dir, 'data/chunk-000/file-000.parquet'));
    const ep = ints(data, 'episode_index');
    const index = ints(data, 'index');
    const runs: [number, number, number][] = [];
    ep.forEach((e, r) => {
      if (r === 0 || ep[r - 1] !== e) runs.push([e, index[r]!, index[r]! + 1]);
      else runs.at(-1)![2] = index[r]! + 1;
    });
    const from = ints(t, 'dataset_from_index');
    const to = ints(t, 'dataset_to_index');
    assert.deepEqual(
      runs,
      [0, 1, 2].map((e) => [e, from[e], to[e]]),
    );
    assert.deepEqual(from, [0, 7, 12]);
    assert.deepEqual(
      list(t, 'stats/observation.state/count'),
      LENGTHS.map((n) => [n]),
    );
    // per-episode statistics against the frames
    LENGTHS.forEach((n, e) => {
      const rows = Array.from({ length: n }, (_, k) => stateOf(e, k).map(Math.fround));
      const s = plainStats(rows);
      close(list(t, 'stats/observation.state/min')[e]!, s.min, 0, `episode ${e} min`);
      close(list(t, 'stats/observation.state/max')[e]!, s.max, 0, `episode ${e} max`);
      close(list(t, 'stats/observation.state/mean')[e]!, s.mean, 1e-12, `episode ${e} mean`);
      close(list(t, 'stats/observation.state/std')[e]!, s.std, 1e-12, `episode ${e} std`);
      // a quantile is read off a 5000-bin histogram: within a bin of the ⌈q·n⌉-th smallest value
      for (const [key, q] of [
        ['q01', 0.01],
        ['q10', 0.1],
        ['q50', 0.5],
        ['q90', 0.9],
        ['q99', 0.99],
      ] as const) {
        const got = list(t, `stats/observation.state/${key}`)[e]!;
        got.forEach((v, j) => {
          const sorted = rows.map((r) => r[j]!).sort((a, b) => a - b);
          const bin = (sorted.at(-1)! - sorted[0]!) / 5000 + 1e-9;
          const want = sorted[Math.max(Math.ceil(q * n) - 1, 0)]!;
          assert.ok(Math.abs(v - want) <= bin, `episode ${e} ${key}[${j}] ${v} vs ${want}`);
        });
      }
      close(list(t, 'stats/frame_index/max')[e]!, [n - 1], 0, 'frame_index max');
    });
  }),
);

test(
  'tasks.parquet, info.json and stats.json: tasks by first appearance, the totals and features, and the dataset statistics',
  withDataset(async (dir) => {
    const tasks = arrow(join(dir, 'meta/tasks.parquet'));
    assert.deepEqual(types(tasks), ['task_index: Int64', 'task: Utf8']);
    assert.deepEqual(ints(tasks, 'task_index'), [0, 1]);
    assert.deepEqual([...(tasks.getChild('task')!.toArray() as string[])], ['pick the cube', 'open the drawer']);
    const file = await ParquetFile.fromFile(new Blob([readFileSync(join(dir, 'meta/tasks.parquet'))]));
    const pandas = JSON.parse(String(file.metadata().fileMetadata().keyValueMetadata().get('pandas'))) as {
      index_columns: string[];
    };
    assert.deepEqual(pandas.index_columns, ['task']);

    const info = JSON.parse(readFileSync(join(dir, 'meta/info.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(info, {
      codebase_version: 'v3.0',
      fps: 30,
      features: JSON.parse(JSON.stringify(jointFeatures(STATE, ACTIONS))) as unknown,
      total_episodes: 3,
      total_frames: 21,
      total_tasks: 2,
      chunks_size: 1000,
      data_files_size_in_mb: 100,
      video_files_size_in_mb: 200,
      data_path: 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet',
      video_path: 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4',
      robot_type: 'so101_follower',
      splits: { train: '0:3' },
    });
    const features = info.features as Record<string, { dtype: string; shape: number[]; names: string[] | null }>;
    assert.deepEqual(Object.keys(features), [
      'action',
      'observation.state',
      'timestamp',
      'frame_index',
      'episode_index',
      'index',
      'task_index',
    ]);
    assert.deepEqual(features['observation.state'], { dtype: 'float32', shape: [4], names: STATE });
    assert.deepEqual(features.timestamp, { dtype: 'float32', shape: [1], names: null });

    type Stats = Record<string, Record<string, number[]>>;
    const stats = JSON.parse(readFileSync(join(dir, 'meta/stats.json'), 'utf8')) as Stats;
    const all = LENGTHS.flatMap((n, e) => Array.from({ length: n }, (_, k) => stateOf(e, k).map(Math.fround)));
    const s = plainStats(all);
    const st = stats['observation.state']!;
    close(st.min!, s.min, 0, 'min');
    close(st.max!, s.max, 0, 'max');
    close(st.mean!, s.mean, 1e-12, 'mean');
    close(st.std!, s.std, 1e-12, 'std');
    assert.deepEqual(st.count, [21]);
    const a = plainStats(
      LENGTHS.flatMap((n, e) => Array.from({ length: n }, (_, k) => actionOf(e, k).map(Math.fround))),
    );
    close(stats.action!.mean!, a.mean, 1e-12, 'action mean');
    close(stats.action!.std!, a.std, 1e-12, 'action std');
    close(stats.index!.mean!, [10], 1e-12, 'index mean');
    close(stats.index!.std!, [Math.sqrt((21 * 21 - 1) / 12)], 1e-12, 'index std');
    // the dataset's quantiles are the episodes' envelope (LeRobot's aggregate_feature_stats)
    const ep = arrow(join(dir, 'meta/episodes/chunk-000/file-000.parquet'));
    const q01 = list(ep, 'stats/observation.state/q01');
    const q99 = list(ep, 'stats/observation.state/q99');
    close(
      st.q01!,
      STATE.map((_, j) => Math.min(...q01.map((r) => r[j]!))),
      0,
      'q01',
    );
    close(
      st.q99!,
      STATE.map((_, j) => Math.max(...q99.map((r) => r[j]!))),
      0,
      'q99',
    );
  }),
);

test(
  'reader: the dataset back as Float32Arrays with its tasks and episodes; transitions never cross an episode',
  withDataset(async (dir) => {
    const d = await readLeRobotDataset(dir);
    assert.deepEqual(d.tasks, ['pick the cube', 'open the drawer']);
    assert.deepEqual(
      d.episodes.map((e) => [e.index, e.tasks, e.length, e.from, e.to]),
      [
        [0, ['pick the cube'], 7, 0, 7],
        [1, ['open the drawer'], 5, 7, 12],
        [2, ['pick the cube'], 9, 12, 21],
      ],
    );
    assert.deepEqual(
      [...d.featureSizes],
      [
        ['action', 3],
        ['observation.state', 4],
      ],
    );
    assert.deepEqual(d.unread, []);
    d.frames.forEach((f, e) => {
      assert.ok(f.values.get('observation.state') instanceof Float32Array);
      assert.deepEqual(
        Array.from(f.values.get('observation.state')!),
        Array.from({ length: LENGTHS[e]! }, (_, k) => stateOf(e, k).map(Math.fround)).flat(),
      );
      assert.deepEqual(
        Array.from(f.values.get('action')!),
        Array.from({ length: LENGTHS[e]! }, (_, k) => actionOf(e, k).map(Math.fround)).flat(),
      );
      assert.deepEqual(Array.from(f.taskIndex), Array<number>(LENGTHS[e]!).fill([0, 1, 0][e]!));
    });
    const tr = leRobotTransitions(d);
    assert.equal(tr.data.n, 6 + 4 + 8);
    assert.equal(tr.stateSize, 4);
    assert.equal(tr.actionSize, 3);
    assert.deepEqual(tr.stateNames, STATE);
    // transition 6 is episode 1's first: (s₀, a₀, s₁) of episode 1, not episode 0's last frame paired with it
    assert.equal(tr.episodeOf[5], 0);
    assert.equal(tr.episodeOf[6], 1);
    assert.deepEqual(Array.from(tr.data.states.subarray(6 * 4, 7 * 4)), stateOf(1, 0).map(Math.fround));
    assert.deepEqual(Array.from(tr.data.actions.subarray(6 * 3, 7 * 3)), actionOf(1, 0).map(Math.fround));
    assert.deepEqual(Array.from(tr.data.nextStates.subarray(6 * 4, 7 * 4)), stateOf(1, 1).map(Math.fround));
    assert.deepEqual(Array.from(tr.data.nextStates.subarray(5 * 4, 6 * 4)), stateOf(0, 6).map(Math.fround));
    assert.throws(
      () => leRobotTransitions(d, { stateKey: 'observation.environment_state' }),
      /no numeric feature 'observation.environment_state' for the state/,
    );
  }),
);

test(
  'a non-empty folder is refused unless overwrite; then it is replaced whole, with no temporary left beside it',
  withDataset(async (dir, root) => {
    const one = [episodes[1]!];
    await assert.rejects(
      writeLeRobotDataset(dir, { stateNames: STATE, actionNames: ACTIONS, episodes: one, logger: quiet }),
      /ds is not empty: refusing to overwrite it \(pass overwrite to replace it\)$/,
    );
    assert.equal((await readLeRobotDataset(dir)).info.total_episodes, 3);
    await writeLeRobotDataset(dir, {
      stateNames: STATE,
      actionNames: ACTIONS,
      episodes: one,
      overwrite: true,
      logger: quiet,
    });
    const d = await readLeRobotDataset(dir);
    assert.deepEqual([d.info.total_episodes, d.info.total_frames, d.tasks], [1, 5, ['open the drawer']]);
    assert.deepEqual(readdirSync(root), ['ds']);
    // an empty folder is written into without asking
    const empty = join(root, 'empty');
    mkdirSync(empty);
    await writeLeRobotDataset(empty, { stateNames: STATE, actionNames: ACTIONS, episodes: one, logger: quiet });
    assert.equal((await readLeRobotDataset(empty)).info.total_frames, 5);
    // a file in the way is refused
    writeFileSync(join(root, 'file'), 'x');
    await assert.rejects(
      writeLeRobotDataset(join(root, 'file'), {
        stateNames: STATE,
        actionNames: ACTIONS,
        episodes: one,
        logger: quiet,
      }),
      /exists and is not a folder/,
    );
  }),
);

test('a size limit splits episodes over data files, which the reader follows', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lerobot-'));
  try {
    const dir = join(root, 'ds');
    // about 100 bytes a frame: a 600-byte limit takes one episode a file
    await writeLeRobotDataset(dir, {
      stateNames: STATE,
      actionNames: ACTIONS,
      episodes,
      dataFilesSizeInMb: 600 / 2 ** 20,
      chunksSize: 2,
      logger: quiet,
    });
    const data = readdirSync(join(dir, 'data'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.parquet'))
      .sort();
    assert.deepEqual(data, ['chunk-000/file-000.parquet', 'chunk-000/file-001.parquet', 'chunk-001/file-000.parquet']);
    const ep = arrow(join(dir, 'meta/episodes/chunk-000/file-000.parquet'));
    assert.deepEqual(ints(ep, 'data/chunk_index'), [0, 0, 1]);
    assert.deepEqual(ints(ep, 'data/file_index'), [0, 1, 0]);
    assert.deepEqual(ints(arrow(join(dir, 'data/chunk-000/file-001.parquet')), 'index'), [7, 8, 9, 10, 11]);
    const d = await readLeRobotDataset(dir);
    assert.deepEqual(Array.from(d.frames[2]!.values.get('action')!.subarray(0, 3)), actionOf(2, 0).map(Math.fround));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('bad input fails before anything is written, in one line naming the cause', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lerobot-'));
  try {
    const dir = join(root, 'ds');
    const write = (over: Partial<Parameters<typeof writeLeRobotDataset>[1]>) =>
      writeLeRobotDataset(dir, { stateNames: STATE, actionNames: ACTIONS, episodes, logger: quiet, ...over });
    const bad = (frame: number, state: number[]): LeRobotEpisodeInput[] => [
      { task: 'x', frames: episodes[0]!.frames.map((f, k) => (k === frame ? { ...f, state } : f)) },
    ];
    await assert.rejects(
      write({ episodes: bad(3, [1, 2]) }),
      /^Error: episode 0 frame 3: observation.state has 2 values, expected 4$/,
    );
    await assert.rejects(
      write({ episodes: bad(2, [1, 2, NaN, 4]) }),
      /episode 0 frame 2: observation.state\[2\] is NaN/,
    );
    await assert.rejects(
      write({ episodes: [{ task: '', frames: episodes[0]!.frames }] }),
      /episode 0: task must be a non-empty string/,
    );
    await assert.rejects(write({ episodes: [{ task: 'x', frames: [] }] }), /episode 0: no frames/);
    await assert.rejects(write({ fps: 0 }), /fps must be a positive integer, got 0/);
    await assert.rejects(write({ stateNames: ['a', 'a', 'b', 'c'] }), /state name 'a' is given twice/);
    await assert.rejects(write({ episodes: [] }), /no episodes to write/);
    assert.deepEqual(readdirSync(root), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('video features: the schema takes a camera as LeRobot describes one', () => {
  const f = addVideoFeature(jointFeatures(['q'], ['u']), 'front', { height: 480, width: 640 });
  assert.deepEqual(f['observation.images.front'], {
    dtype: 'video',
    shape: [480, 640, 3],
    names: ['height', 'width', 'channels'],
    info: { is_depth_map: false },
  });
  assert.deepEqual(
    addVideoFeature(f, 'depth', { height: 2, width: 3, channels: 1 })['observation.images.depth']!.info,
    { is_depth_map: true },
  );
  assert.throws(
    () => addVideoFeature(f, 'front', { height: 1, width: 1 }),
    /feature observation.images.front is already in the schema/,
  );
  assert.throws(
    () => addVideoFeature(f, 'wrist', { height: 0, width: 1 }),
    /camera wrist: height must be a positive integer/,
  );
});
