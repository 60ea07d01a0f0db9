import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BagReader } from '../framework/bag/bag_reader.js';
import { BagWriter } from '../framework/bag/bag_writer.js';
import { codecFor } from '../framework/msgs/codec.js';
import type { JointState } from '../framework/msgs/types.js';
import type { Figures } from './report.js';

// The bag library's throughput on this machine's disk: JointState messages of a 6-joint arm
// (≈ 290 bytes of CDR) written into a rosbag2 MCAP bag with zstd chunks of 786432 bytes (the
// recorder's defaults), then read back in log-time order (bytes only, and decoded), and the
// compression the chunks reach. The target is ≥ 100 000 messages/s written: a recorder of every
// topic of two arms at 1 kHz needs a few thousand.

const N = 400_000;

const jointState = (i: number): JointState => ({
  header: {
    stamp: { sec: 1_700_000_000 + Math.floor(i / 1000), nanosec: (i % 1000) * 1_000_000 },
    frame_id: 'base_link',
  },
  name: ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'],
  position: new Float64Array([0.1, -0.2 + i * 1e-6, 0.3, -0.4, 0.5, Math.sin(i / 100)]),
  velocity: new Float64Array([0.01, 0.02, 0.03, 0.04, 0.05, Math.cos(i / 100)]),
  effort: new Float64Array([1, 2, 3, 4, 5, 6]),
});

export async function bagBenchmarks(figures: Figures): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-bag-bench-'));
  try {
    const codec = codecFor('sensor_msgs/msg/JointState');
    // encoding is the publisher's work, not the recorder's: encode a set once and write it in turn
    const encoded = Array.from({ length: 1000 }, (_, i) => codec.encode(jointState(i)));
    const path = join(dir, 'bench');
    const writer = await BagWriter.open(path, { diskSpace: { minFreeBytes: 0, minFreeFraction: 0 } });
    const t0 = 1_700_000_000_000_000_000n;
    const start = performance.now();
    for (let i = 0; i < N; i++) {
      // 1 kHz of log time
      writer.write('/joint_states', 'sensor_msgs/msg/JointState', t0 + BigInt(i) * 1_000_000n, encoded[i % 1000]!);
    }
    const summary = writer.close();
    const writeSeconds = (performance.now() - start) / 1000;
    const raw = encoded.reduce((n, b) => n + b.byteLength, 0) / encoded.length;
    const fileBytes = statSync(join(path, 'bench_0.mcap')).size;
    figures.add(`bag write JointState(6) ${raw.toFixed(0)} B, zstd chunks msgs/s`, N / writeSeconds, 'msg/s');
    figures.add('  bag write throughput (CDR bytes)', (N * raw) / writeSeconds / 1e6, 'MB/s');
    figures.add('  bag file size / CDR bytes', fileBytes / (N * raw), 'ratio');
    // what recording the demo graph costs: its arm publishes 5 streams at 100 Hz (joint states,
    // estimates, commands, the end-effector pose, the plan), 500 messages/s, each as dear as these
    figures.add(
      '  recorder CPU share at 100 Hz × 5 topics (from the write cost)',
      (100 * 500) / (N / writeSeconds),
      '%',
    );
    if (summary.messageCount !== N) throw new Error(`wrote ${summary.messageCount} of ${N} messages`);

    const reader = await BagReader.open(path);
    let n = 0;
    let r0 = performance.now();
    for await (const m of reader.messages()) n += m.data.byteLength > 0 ? 1 : 0;
    const readRate = n / ((performance.now() - r0) / 1000);
    if (n !== N) throw new Error(`read ${n} of ${N} messages`);
    figures.add('bag read (log-time order, CDR bytes) msgs/s', readRate, 'msg/s');
    n = 0;
    r0 = performance.now();
    for await (const m of reader.messages({ endNs: t0 + 100_000n * 1_000_000n })) {
      reader.decode(m);
      n++;
    }
    figures.add('bag read and decode msgs/s', n / ((performance.now() - r0) / 1000), 'msg/s');
    reader.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
