import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BagWriter } from '../../framework/bag/bag_writer.js';
import { BagReader } from '../../framework/bag/bag_reader.js';
import { recordedStreams } from '../../framework/bag/recorded_streams.js';
import { codecFor } from '../../framework/msgs/codec.js';
import { EpisodeEventKind } from '../../framework/msgs/types.js';
import { nsToTime } from '../../framework/time/time.js';
import { datasetMain } from '../../cli/dataset.js';
import { readLeRobotDataset } from '../../src/data/lerobot/reader.js';

// A recorded teleop session as a bag — a 100 Hz joint state, forward commands, three episodes of
// which the second was discarded, a task for each — exported by `dynastack dataset export` as a
// LeRobot v3.0 dataset at 30 fps and read back: the kept episodes only, their tasks, their frame
// counts from the recorded stamps, and each frame's state and action the ones in force at its time.

const MS = 1_000_000n;
const JOINTS = ['shoulder', 'elbow'];

async function writeSession(path: string): Promise<void> {
  const writer = await BagWriter.open(path, { diskSpace: { minFreeBytes: 0, minFreeFraction: 0 } });
  const js = codecFor('sensor_msgs/msg/JointState');
  const arr = codecFor('std_msgs/msg/Float64MultiArray');
  const ev = codecFor('dynastack_msgs/msg/EpisodeEvent');
  const str = codecFor('std_msgs/msg/String');
  // episodes (ms): 0 over [100, 1100], 1 over [1500, 2000] discarded, 1 again over [2500, 3500]
  const episodes: [number, number, number, string, string][] = [
    [0, 100, 1100, 'exit_early', 'pick'],
    [1, 1500, 2000, 'discard', 'place'],
    [1, 2500, 3500, 'exit_early', 'place'],
  ];
  const boundary = (t: number): { kind: 'start' | 'end'; e: (typeof episodes)[number] } | undefined => {
    for (const e of episodes) {
      if (e[1] === t) return { kind: 'start', e };
      if (e[2] === t) return { kind: 'end', e };
    }
    return undefined;
  };
  for (let t = 0; t <= 3600; t += 10) {
    const stamp = BigInt(t) * MS;
    const b = boundary(t);
    if (b?.kind === 'start') {
      writer.write('/recorder/task', 'std_msgs/msg/String', stamp, str.encode({ data: b.e[4] }));
      writer.write(
        '/episode',
        'dynastack_msgs/msg/EpisodeEvent',
        stamp,
        ev.encode({
          header: { stamp: nsToTime(stamp), frame_id: '' },
          episode: b.e[0],
          event: EpisodeEventKind.START,
          reason: '',
        }),
      );
    }
    writer.write(
      '/joint_states',
      'sensor_msgs/msg/JointState',
      stamp + 2n * MS, // received 2 ms after its stamp
      js.encode({
        header: { stamp: nsToTime(stamp), frame_id: '' },
        name: [...JOINTS],
        position: [t / 1000, -t / 1000],
        velocity: [1, -1],
        effort: [],
      }),
    );
    writer.write(
      '/forward_command_controller/commands',
      'std_msgs/msg/Float64MultiArray',
      stamp + 3n * MS,
      arr.encode({ layout: { dim: [], data_offset: 0 }, data: [t, 2 * t] }),
    );
    if (b?.kind === 'end')
      writer.write(
        '/episode',
        'dynastack_msgs/msg/EpisodeEvent',
        stamp + 4n * MS,
        ev.encode({
          header: { stamp: nsToTime(stamp), frame_id: '' },
          episode: b.e[0],
          event: EpisodeEventKind.END,
          reason: b.e[3],
        }),
      );
  }
  writer.close();
}

test('a recorded session → LeRobot v3.0: kept episodes only, with their tasks, frames from the recorded stamps', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dynastack-export-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const bag = join(dir, 'session');
  await writeSession(bag);

  const reader = await BagReader.open(bag);
  try {
    const streams = await recordedStreams(reader);
    assert.deepEqual(streams.stateNames, ['shoulder.pos', 'elbow.pos', 'shoulder.vel', 'elbow.vel']);
    assert.deepEqual(streams.actionNames, ['u0', 'u1']);
    assert.equal(streams.state.length, 361);
    assert.deepEqual(
      streams.events.map((e) => `${e.kind} ${e.episode} ${e.task ?? ''}${e.discard ? ' discard' : ''}`),
      ['start 0 pick', 'end 0 ', 'start 1 place', 'end 1  discard', 'start 1 place', 'end 1 '],
    );
  } finally {
    reader.close();
  }

  const out = join(dir, 'dataset');
  assert.equal(
    await datasetMain(['export', bag, '--format', 'lerobot', out, '--fps', '30', '--robot-type', 'so101']),
    0,
  );
  const dataset = await readLeRobotDataset(out);
  assert.equal(dataset.info.codebase_version, 'v3.0');
  assert.equal(dataset.info.fps, 30);
  assert.equal(dataset.info.robot_type, 'so101');
  assert.equal(dataset.info.total_episodes, 2);
  // 1 s at 30 fps, both ends included: 31 frames each
  assert.deepEqual(
    dataset.episodes.map((e) => [e.length, e.tasks]),
    [
      [31, ['pick']],
      [31, ['place']],
    ],
  );
  const frames = dataset.frames[1]!;
  const state = frames.values.get('observation.state')!;
  const action = frames.values.get('action')!;
  // frame k of the episode from 2.5 s: the state stamped at or before 2.5 + k/30 s (held), and the
  // command received at or before it
  for (const k of [0, 1, 15, 30]) {
    const tMs = 2500 + Math.floor((k * 1000) / 30);
    const held = Math.floor(tMs / 10) * 10;
    assert.ok(Math.abs(state[k * 4]! - held / 1000) < 1e-6, `frame ${k} state ${state[k * 4]} for ${held} ms`);
    assert.equal(state[k * 4 + 2], 1);
    // a command received 3 ms after its tick: the one in force is the previous tick's unless ≥ 3 ms passed
    const heldCommand = tMs - held >= 3 ? held : held - 10;
    assert.equal(action[k * 2], heldCommand, `frame ${k} action for ${tMs} ms`);
  }
});

test('dataset export: a bag without the state topic fails in one line naming it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dynastack-export-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const bag = join(dir, 'empty');
  const writer = await BagWriter.open(bag, { diskSpace: { minFreeBytes: 0, minFreeFraction: 0 } });
  writer.write('/chatter', 'std_msgs/msg/String', 1n, codecFor('std_msgs/msg/String').encode({ data: 'hi' }));
  writer.close();
  await assert.rejects(
    datasetMain(['export', bag, '--out', join(dir, 'out')]),
    /the state topic \/joint_states is not in the bag \(topics: \/chatter\)/,
  );
});
