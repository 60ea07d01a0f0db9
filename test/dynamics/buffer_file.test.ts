import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { learnerEncoding, loadBufferFile, type BufferFileExpectation } from '../../src/dynamics/buffer_file.js';
import { ReplayBuffer } from '../../src/data/replay_buffer.js';
import { StateEncoding } from '../../src/dynamics/state_encoding.js';

// An earlier run's transitions for the learner: loaded when the file is there, and refused, with
// the disagreeing parameter named, when its joints or angle joints are not this run's; another
// control period only warns.

const PERIOD = 10_000_000n;

function withFile(meta: Record<string, unknown>, stateSize: number, run: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'buffer-file-'));
  try {
    const path = join(dir, 'transitions.bin');
    const buffer = new ReplayBuffer({ capacity: 10, stateSize, actionSize: 1, meta });
    for (let i = 0; i < 4; i++)
      buffer.add({ state: new Float64Array(stateSize).fill(i), action: [i], nextState: new Float64Array(stateSize) });
    buffer.save(path);
    run(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const HINGE = new StateEncoding(['hinge'], ['hinge']);
const expect = (over: Partial<BufferFileExpectation> = {}): BufferFileExpectation => ({
  capacity: 100,
  joints: [],
  angleJoints: ['hinge'],
  periodNs: PERIOD,
  ...over,
});

test('buffer file: none there is no error; one that fits is loaded with its encoding', () => {
  assert.equal(loadBufferFile(join(tmpdir(), 'no-such-buffer-file.bin'), expect()), undefined);
  withFile({ ...HINGE.toMetadata(), period_ns: Number(PERIOD) }, 3, (path) => {
    const loaded = loadBufferFile(path, expect({ joints: ['hinge'], capacity: 3 }))!;
    assert.equal(loaded.buffer.size, 3, 'the newest within the capacity');
    assert.equal(loaded.encoding.describe(), '[sin.hinge, cos.hinge, qd.hinge]');
    assert.equal(loaded.warning, undefined);
  });
});

test('buffer file: other joints or angle joints are refused naming the parameter; another period warns', () => {
  withFile({ ...HINGE.toMetadata(), period_ns: 20_000_000 }, 3, (path) => {
    assert.throws(
      () => loadBufferFile(path, expect({ joints: ['other'] })),
      /parameter 'joints': \[other\] differs from the joints of buffer_file .*: \[hinge\]/,
    );
    assert.throws(
      () => loadBufferFile(path, expect({ angleJoints: [] })),
      /parameter 'angle_joints': \[\] differs from the angle joints of buffer_file .*: \[hinge\]/,
    );
    assert.match(
      loadBufferFile(path, expect())!.warning ?? '',
      /recorded at a period of 20000000 ns, rate_hz gives 10000000 ns: its transitions are kept/,
    );
  });
  // a header whose layout does not fit its own states
  withFile({ ...HINGE.toMetadata() }, 2, (path) => {
    assert.throws(() => loadBufferFile(path, expect()), /its header's state .* has 3 values, its states 2/);
  });
});

test('learner encoding: a bad angle_joints is named', () => {
  assert.equal(learnerEncoding(['a', 'b'], ['b']).size, 5);
  assert.throws(
    () => learnerEncoding(['a'], ['b']),
    /^Error: parameter 'angle_joints': state encoding: angle joints \[b\]/,
  );
});
