import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayBuffer } from '../../src/data/replay_buffer.js';
import { writeFileAtomic } from '../../src/util/atomic_file.js';
import { Rng } from '../../src/util/random.js';

// The replay buffer: a bounded FIFO of (s, a, s′) in Float32Arrays, uniform sampling, and its file:
// round trip, atomic replacement, and clear errors for files that are not what they should be.

/** transition i: s = [i, 2i], a = [−i], s′ = [i + 1, 2i + 1] */
const transition = (i: number) => ({ state: [i, 2 * i], action: [-i], nextState: [i + 1, 2 * i + 1] });

function filled(capacity: number, count: number): ReplayBuffer {
  const b = new ReplayBuffer({ capacity, stateSize: 2, actionSize: 1, meta: { joints: ['x'] } });
  for (let i = 0; i < count; i++) b.add(transition(i));
  return b;
}

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'replay-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('replay buffer: a bounded FIFO; toTransitionData gives the newest `capacity`, oldest first', () => {
  const b = filled(5, 8);
  assert.equal(b.size, 5);
  assert.equal(b.added, 8);
  const d = b.toTransitionData();
  assert.equal(d.n, 5);
  assert.deepEqual(Array.from(d.actions), [-3, -4, -5, -6, -7]);
  assert.deepEqual(Array.from(d.states.subarray(0, 4)), [3, 6, 4, 8]);
  assert.deepEqual(Array.from(d.nextStates.subarray(8)), [8, 15]);
  assert.ok(d.states instanceof Float32Array);
  assert.throws(
    () => b.add({ state: [1], action: [1], nextState: [1, 2] }),
    /does not fit a replay buffer of state size 2 and action size 1/,
  );
  assert.throws(
    () => new ReplayBuffer({ capacity: 0, stateSize: 2, actionSize: 1 }),
    /capacity must be a positive integer/,
  );
});

test('replay buffer: samples are whole transitions drawn uniformly from what is held', () => {
  const b = filled(100, 150); // holds 50..149
  const s = b.sample(4000, new Rng(3));
  assert.equal(s.n, 4000);
  const counts = new Map<number, number>();
  for (let i = 0; i < s.n; i++) {
    const k = -s.actions[i]!;
    assert.ok(k >= 50 && k <= 149, `transition ${k} was dropped`);
    assert.deepEqual(
      [s.states[2 * i], s.states[2 * i + 1], s.nextStates[2 * i], s.nextStates[2 * i + 1]],
      [k, 2 * k, k + 1, 2 * k + 1],
      'rows stay together',
    );
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  assert.equal(counts.size, 100, 'every held transition is drawn');
  assert.ok(Math.max(...counts.values()) < 80, 'about 40 each');
  assert.deepEqual(
    Array.from(b.sample(3, new Rng(9)).actions),
    Array.from(b.sample(3, new Rng(9)).actions),
    'seeded: repeatable',
  );
  assert.throws(() => new ReplayBuffer({ capacity: 2, stateSize: 1, actionSize: 1 }).sample(1, new Rng(0)), /empty/);
});

test('replay buffer: save and load round trip, with meta; a smaller capacity keeps the newest', () => {
  withDir((dir) => {
    const path = join(dir, 'buffer.bin');
    const b = filled(10, 13);
    b.add({ state: [0.1, 1e-7], action: [3.25], nextState: [-0.1, 1e7] });
    b.save(path);
    const back = ReplayBuffer.load(path);
    assert.deepEqual([back.capacity, back.stateSize, back.actionSize, back.size], [10, 2, 1, 10]);
    assert.deepEqual(back.meta, { joints: ['x'] });
    assert.deepEqual(back.toTransitionData(), b.toTransitionData());
    const small = ReplayBuffer.load(path, { capacity: 3 });
    assert.deepEqual(Array.from(small.toTransitionData().actions), [-11, -12, 3.25]);
    assert.deepEqual(readdirSync(dir), ['buffer.bin'], 'no temporary file left');
    // empty buffers too
    new ReplayBuffer({ capacity: 4, stateSize: 3, actionSize: 2 }).save(path);
    assert.equal(ReplayBuffer.load(path).size, 0);
  });
});

test('replay buffer: saved without blocking (saveAsync), the same file; the save of a snapshot taken when called', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'replay-'));
  try {
    const path = join(dir, 'buffer.bin');
    const b = filled(10, 13);
    const saving = b.saveAsync(path);
    b.add({ state: [1, 2], action: [3], nextState: [4, 5] }); // after the call: not in this save
    await saving;
    assert.deepEqual(ReplayBuffer.load(path).toTransitionData(), filled(10, 13).toTransitionData());
    b.save(join(dir, 'sync.bin'));
    await b.saveAsync(path);
    assert.deepEqual(readFileSync(path), readFileSync(join(dir, 'sync.bin')));
    assert.deepEqual(readdirSync(dir).sort(), ['buffer.bin', 'sync.bin'], 'no temporary file left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('replay buffer: an atomic write that fails leaves the old file as it was, and no temporary file', () => {
  withDir((dir) => {
    const path = join(dir, 'buffer.bin');
    filled(10, 10).save(path);
    const before = readFileSync(path);
    function* failing(): Generator<Uint8Array> {
      yield new Uint8Array(1000).fill(7);
      throw new Error('disk full');
    }
    assert.throws(() => writeFileAtomic(path, failing()), new RegExp(`cannot write ${path}: disk full`));
    assert.deepEqual(readFileSync(path), before);
    assert.deepEqual(readdirSync(dir), ['buffer.bin']);
    assert.equal(ReplayBuffer.load(path).size, 10);
    // a folder where the file should go: the rename fails, and the temporary file is removed
    mkdirSync(join(dir, 'target'));
    assert.throws(() => writeFileAtomic(join(dir, 'target'), [new Uint8Array(4)]), /cannot write .*target/);
    assert.deepEqual(readdirSync(dir).sort(), ['buffer.bin', 'target']);
  });
});

test('replay buffer: a corrupt, truncated or mismatched file is refused with the file and the problem named', () => {
  withDir((dir) => {
    const path = join(dir, 'buffer.bin');
    filled(10, 10).save(path);
    const good = readFileSync(path);
    const bad = (bytes: Uint8Array, message: RegExp, expect?: { stateSize?: number; actionSize?: number }): void => {
      writeFileSync(path, bytes);
      assert.throws(
        () => ReplayBuffer.load(path, expect),
        (e: Error) => e.message.includes(path) && message.test(e.message),
      );
    };
    bad(good.subarray(0, good.length - 4), /bytes of data, but 10 transitions .* take 200 \(truncated or corrupt\)/);
    bad(Buffer.from('hello world'), /not a replay buffer file/);
    const header = Buffer.from(good);
    header.write('{"format":"x"', 8, 'utf8');
    bad(header, /corrupt header/);
    const big = Buffer.from(good);
    big.writeUInt32LE(1e6, 4);
    bad(big, /truncated: the header says 1000000 bytes/);
    bad(good, /it holds states of size 2, expected 4/, { stateSize: 4 });
    bad(good, /it holds actions of size 1, expected 2/, { actionSize: 2 });
    assert.throws(() => ReplayBuffer.load(join(dir, 'absent.bin')), /replay buffer file .*absent\.bin: cannot read it/);
  });
});
