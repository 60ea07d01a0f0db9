import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import zstd from '@foxglove/wasm-zstd';
import { McapIndexedReader } from '@mcap/core';
import { BagWriter, type BagWriterOptions } from '../../../framework/bag/bag_writer.js';
import { codecFor } from '../../../framework/msgs/codec.js';
import type { JointState, StringMsg } from '../../../framework/msgs/types.js';

// What the bag tests share: a temporary folder per test, a sample bag of two topics written with
// the bag writer, and @mcap/core's own indexed reader over a file (so the tests check the files
// with a reader that is not ours).

export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-bag-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** no floor: the tests' temporary disk may be small */
export const NO_FLOOR = { diskSpace: { minFreeBytes: 0, minFreeFraction: 0 } } as const;

export const T0 = 1_700_000_000_000_000_000n;
export const MS = 1_000_000n;

export function jointState(i: number): JointState {
  return {
    header: { stamp: { sec: 1_700_000_000 + Math.floor(i / 100), nanosec: (i % 100) * 10_000_000 }, frame_id: 'base' },
    name: ['shoulder', 'elbow', 'wrist'],
    position: [i, i / 2, -i],
    velocity: [0.5, 0.25, 0],
    effort: [],
  };
}

export const stringMessage = (i: number): StringMsg => ({ data: `message ${i}` });

export interface SampleBag {
  readonly path: string;
  readonly jointStates: number;
  readonly strings: number;
}

/**
 * A bag of `n` JointStates on /joint_states every 10 ms of log time from T0 and a String on
 * /chatter every 5th of them.
 */
export async function writeSampleBag(path: string, n = 300, options: BagWriterOptions = {}): Promise<SampleBag> {
  const writer = await BagWriter.open(path, { ...NO_FLOOR, ...options });
  const js = codecFor('sensor_msgs/msg/JointState');
  const str = codecFor('std_msgs/msg/String');
  let strings = 0;
  for (let i = 0; i < n; i++) {
    const t = T0 + BigInt(i) * 10n * MS;
    writer.write('/joint_states', 'sensor_msgs/msg/JointState', t, js.encode(jointState(i)), t - MS);
    if (i % 5 === 0) {
      writer.write('/chatter', 'std_msgs/msg/String', t, str.encode(stringMessage(i)));
      strings++;
    }
  }
  writer.close();
  return { path, jointStates: n, strings };
}

/** @mcap/core's indexed reader over a file; close() releases it. */
export async function mcapIndexed(path: string): Promise<{ reader: McapIndexedReader; close: () => void }> {
  await zstd.isLoaded;
  const fd = openSync(path, 'r');
  const size = statSync(path).size;
  try {
    const reader = await McapIndexedReader.Initialize({
      readable: {
        size: () => Promise.resolve(BigInt(size)),
        read: (offset, length) => {
          const buffer = new Uint8Array(Number(length));
          readSync(fd, buffer, 0, buffer.byteLength, Number(offset));
          return Promise.resolve(buffer);
        },
      },
      decompressHandlers: { zstd: (data, n) => zstd.decompress(data, Number(n)) },
    });
    return { reader, close: () => closeSync(fd) };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}
