import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  frameCount,
  frameTimeNs,
  resampleEpisode,
  resampleStream,
  type StampedSample,
} from '../../../src/data/lerobot/resample.js';

// Stamped streams onto LeRobot's frame grid: the frame count and times, zero-order hold and linear
// interpolation of a 100 Hz stream at 30 fps, gaps reported where a stream goes silent, and one
// clear error for a bad stream.

const START = 1_700_000_000_123_456_789n; // an epoch stamp: arithmetic must stay in bigint
const MS = 1_000_000n;

/** a 100 Hz stream over [0, 1] s from START: sample i at i·10 ms, values [i, 100 − i] */
function stream100Hz(skip: (i: number) => boolean = () => false): StampedSample[] {
  const out: StampedSample[] = [];
  for (let i = 0; i <= 100; i++)
    if (!skip(i)) out.push({ stampNs: START + BigInt(i) * 10n * MS, values: [i, 100 - i] });
  return out;
}

const grid = { fps: 30, startNs: START, endNs: START + 1000n * MS };

test('frame grid: frame k at start + ⌊k·10⁹/fps⌋ ns, every frame up to and including the end', () => {
  assert.equal(frameCount(grid), 31);
  assert.equal(frameCount({ ...grid, endNs: START + 1000n * MS - 1n }), 30);
  assert.equal(frameCount({ ...grid, endNs: START }), 1);
  assert.equal(frameTimeNs(START, 30, 1), START + 33_333_333n);
  assert.equal(frameTimeNs(START, 30, 3), START + 100n * MS);
  assert.throws(() => frameCount({ ...grid, endNs: START - 1n }), /^Error: episode ends .* before it starts/);
  assert.throws(() => frameCount({ ...grid, fps: 29.97 }), /fps must be a positive integer, got 29\.97/);
});

test('hold: a 100 Hz stream at 30 fps gives 31 frames, each the latest sample at or before the frame', () => {
  const { values, gaps } = resampleStream('state', stream100Hz(), grid);
  assert.equal(values.length, 31);
  // frame k is at k/30 s; the latest 10 ms sample at or before it is ⌊k·100/30⌋
  const expected = Array.from({ length: 31 }, (_, k) => Math.floor((k * 10) / 3));
  assert.deepEqual(
    values.map((v) => v[0]),
    expected,
  );
  assert.deepEqual(
    values.slice(0, 5).map((v) => Array.from(v)),
    [
      [0, 100],
      [3, 97],
      [6, 94],
      [10, 90],
      [13, 87],
    ],
  );
  assert.ok(values.every((v) => v instanceof Float32Array));
  assert.deepEqual(gaps, []);
});

test('linear: frame k takes k·100/30 between the samples around it', () => {
  const { values } = resampleStream('state', stream100Hz(), { ...grid, method: 'linear' });
  assert.equal(values.length, 31);
  values.forEach((v, k) => {
    assert.ok(Math.abs(v[0]! - (k * 100) / 30) < 1e-5, `frame ${k}: ${v[0]} vs ${(k * 100) / 30}`);
    assert.ok(Math.abs(v[1]! - (100 - (k * 100) / 30)) < 1e-5);
  });
});

test('stamps as numbers or bigints and samples out of order give the same frames', () => {
  const base = 1_000_000_000; // a safe-integer number stamp
  const samples = stream100Hz().map((s) => ({ stampNs: Number(BigInt(s.stampNs) - START) + base, values: s.values }));
  const shuffled = [...samples].reverse();
  const g = { fps: 30, startNs: base, endNs: base + 1_000_000_000 };
  const a = resampleStream('state', samples, g);
  const b = resampleStream('state', shuffled, g);
  const c = resampleStream('state', stream100Hz(), grid);
  assert.deepEqual(a.values, c.values);
  assert.deepEqual(b.values, c.values);
});

test('a stream silent longer than maxGapFrames periods is reported with its frames, which hold the last sample', () => {
  // no state samples from 200 ms to 390 ms: silent from the 190 ms sample to the 400 ms one
  const state = stream100Hz((i) => i >= 20 && i < 40);
  // the action begins 250 ms late: frames 0…7 have none before them
  const action = stream100Hz((i) => i < 25);
  const { frames, gaps } = resampleEpisode({ state, action }, grid);
  assert.equal(frames.length, 31);
  assert.deepEqual(gaps, [
    { stream: 'action', fromNs: START, toNs: START + 250n * MS, firstFrame: 0, frames: 8 },
    { stream: 'state', fromNs: START + 190n * MS, toNs: START + 400n * MS, firstFrame: 6, frames: 6 },
  ]);
  // frames 6…11 (200 ms … 366.7 ms) hold sample 19; frame 12 (400 ms) has sample 40
  for (let k = 6; k <= 11; k++) assert.equal(frames[k]!.state[0], 19, `frame ${k}`);
  assert.equal(frames[12]!.state[0], 40);
  // before its first sample the action takes that first sample
  assert.equal(frames[0]!.action[0], 25);
  // a shorter silence (50 ms < 3 frames) is not a gap
  assert.deepEqual(
    resampleStream(
      'state',
      stream100Hz((i) => i >= 20 && i < 25),
      grid,
    ).gaps,
    [],
  );
  // but it is with a tighter limit
  assert.equal(
    resampleStream(
      'state',
      stream100Hz((i) => i >= 20 && i < 25),
      { ...grid, maxGapFrames: 1 },
    ).gaps.length,
    1,
  );
});

test('a bad stream fails with one line naming the stream, the sample and the cause', () => {
  const samples = stream100Hz();
  const oneLine = (re: RegExp) => (e: unknown) => e instanceof Error && !e.message.includes('\n') && re.test(e.message);
  assert.throws(() => resampleStream('state', [], grid), oneLine(/^stream 'state' has no samples$/));
  const short = samples.map((s, i) => (i === 7 ? { ...s, values: [1] } : s));
  assert.throws(
    () => resampleStream('state', short, grid),
    oneLine(/stream 'state' sample 7 has 1 values, the first has 2/),
  );
  const nan = samples.map((s, i) => (i === 4 ? { ...s, values: [NaN, 0] } : s));
  assert.throws(() => resampleStream('action', nan, grid), oneLine(/stream 'action' sample 4 .* is not finite/));
  const fractional = samples.map((s, i) => (i === 2 ? { ...s, stampNs: 1.5 } : s));
  assert.throws(
    () => resampleStream('state', fractional, grid),
    oneLine(/sample 2 stamp 1\.5 is not an integer number of nanoseconds/),
  );
  assert.throws(
    () => resampleStream('state', samples, { ...grid, method: 'cubic' as 'linear' }),
    oneLine(/method must be 'hold' or 'linear'/),
  );
});
