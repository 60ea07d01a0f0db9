import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLeRobotDataset } from '../../../src/data/lerobot/writer.js';
import { readLeRobotDataset, readLeRobotMeta } from '../../../src/data/lerobot/reader.js';
import type { Logger } from '../../../src/util/log.js';

// The reader on malformed datasets: each breakage (no info.json, another codebase_version, a
// truncated Parquet file, a shape that does not match the data, episodes that do not tile the
// frames) fails with one error line that names the file and the cause.

const quiet: Logger = { error() {}, warn() {}, info() {}, debug() {}, level: 'error' };

async function withDataset(fn: (dir: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'lerobot-bad-'));
  try {
    const dir = join(root, 'ds');
    const frames = (n: number) => Array.from({ length: n }, (_, k) => ({ state: [k, -k], action: [0.5 * k] }));
    await writeLeRobotDataset(dir, {
      stateNames: ['q', 'qd'],
      actionNames: ['u'],
      episodes: [
        { task: 'a', frames: frames(4) },
        { task: 'b', frames: frames(6) },
      ],
      logger: quiet,
    });
    await fn(dir);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** the read fails with one line matching `re` */
async function failsWith(dir: string, re: RegExp): Promise<void> {
  await assert.rejects(readLeRobotDataset(dir), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.ok(!e.message.includes('\n'), `more than one line: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
}

const editJson = (path: string, edit: (j: Record<string, unknown>) => void) => {
  const j = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(j);
  writeFileSync(path, JSON.stringify(j));
};

test('the dataset as written reads back (the baseline of the breakages below)', () =>
  withDataset(async (dir) => {
    const meta = await readLeRobotMeta(dir);
    assert.deepEqual([meta.info.total_episodes, meta.info.total_frames, meta.tasks.length], [2, 10, 2]);
    assert.ok(meta.stats?.['observation.state']);
    assert.equal((await readLeRobotDataset(dir)).frames.length, 2);
  }));

test('no meta/info.json: not a LeRobot dataset', () =>
  withDataset(async (dir) => {
    unlinkSync(join(dir, 'meta/info.json'));
    await failsWith(dir, /ds: no meta\/info\.json: not a LeRobot dataset$/);
    await failsWith(join(dir, 'nowhere'), /nowhere: no meta\/info\.json/);
  }));

test('another codebase_version is refused, naming it', () =>
  withDataset(async (dir) => {
    editJson(join(dir, 'meta/info.json'), (j) => (j.codebase_version = 'v2.1'));
    await failsWith(dir, /meta\/info\.json: codebase_version is "v2\.1"; only v3\.0 is read/);
  }));

test('info.json that is not JSON, or lacks what a reader needs', () =>
  withDataset(async (dir) => {
    const info = join(dir, 'meta/info.json');
    const good = readFileSync(info, 'utf8');
    writeFileSync(info, good.slice(0, 40));
    await failsWith(dir, /meta\/info\.json is not valid JSON/);
    writeFileSync(info, good);
    editJson(info, (j) => delete (j.features as Record<string, unknown>).frame_index);
    await failsWith(dir, /meta\/info\.json: features has no 'frame_index'/);
    writeFileSync(info, good);
    editJson(info, (j) => (j.total_frames = 11));
    await failsWith(dir, /meta\/episodes: episodes hold 10 frames, but info\.json says total_frames 11/);
  }));

test('a truncated Parquet file: the data, the episodes or the tasks', async () => {
  for (const rel of [
    'data/chunk-000/file-000.parquet',
    'meta/episodes/chunk-000/file-000.parquet',
    'meta/tasks.parquet',
  ]) {
    await withDataset(async (dir) => {
      const path = join(dir, rel);
      truncateSync(path, Math.floor(statSync(path).size / 2));
      await failsWith(dir, new RegExp(`${rel.replace(/[./]/g, '\\$&')}: not a readable Parquet file \\(`));
    });
  }
});

test('a feature whose shape or dtype does not match the data file', () =>
  withDataset(async (dir) => {
    const info = join(dir, 'meta/info.json');
    const good = readFileSync(info, 'utf8');
    editJson(info, (j) => ((j.features as Record<string, { shape: number[] }>)['observation.state']!.shape = [3]));
    await failsWith(
      dir,
      /file-000\.parquet: episode 0: row 0 of observation\.state has 2 values, info\.json says shape \[3\]$/,
    );
    writeFileSync(info, good);
    editJson(info, (j) => ((j.features as Record<string, { dtype: string }>).action!.dtype = 'float64'));
    await failsWith(dir, /file-000\.parquet: column 'action' holds FLOAT, but info\.json says dtype float64$/);
    writeFileSync(info, good);
    editJson(
      info,
      (j) =>
        ((j.features as Record<string, unknown>)['observation.effort'] = { dtype: 'float32', shape: [2], names: null }),
    );
    await failsWith(dir, /file-000\.parquet: no column 'observation\.effort'/);
  }));
