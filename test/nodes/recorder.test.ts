import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import definition, { parseTopicSpec } from '../../nodes/recorder.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { SteppedClock } from '../../framework/time/clock.js';
import { nsToTime, timeToNs } from '../../framework/time/time.js';
import { codecFor } from '../../framework/msgs/codec.js';
import { defineParams } from '../../src/util/param_schema.js';
import { LOG_LEVELS, type LogLevel } from '../../src/util/log.js';
import { BagReader } from '../../framework/bag/bag_reader.js';
import { EpisodeEventKind } from '../../framework/msgs/types.js';

// The recorder node on the embedded transport with a stepped clock: a 100 Hz joint-state stream
// and commands recorded into a rosbag2 bag, episodes on its own schedule with a task each (one
// changed on the task topic between episodes), the cadence of each episode reported (one stall
// seen as such), the bag read back with the bag reader: every message, the same bytes as sent,
// the episode events and tasks at their places.

const PERIOD = 10_000_000n;
const JOINTS = ['a', 'b'];

test('recorder node: two scheduled episodes with their tasks and cadence, every message in the bag', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dynastack-recorder-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const bag = join(dir, 'session');
  const clock = new SteppedClock('ros', true);
  const transport = new EmbeddedTransport({ checkMessages: true, rosClock: clock });
  const handle = await transport.createNode({
    name: 'recorder',
    parameters: definition.parameters,
    parameterSources: [
      {
        origin: 'test',
        values: {
          bag,
          episodes: 'auto',
          episode_s: 0.5,
          reset_s: 0.2,
          num_episodes: 2,
          task: 'pick the cube',
          cadence_hz: 100,
          min_free_mb: 0,
        },
        strict: true,
      },
    ],
  });
  const logs: { level: LogLevel; message: string }[] = [];
  for (const level of LOG_LEVELS) handle.logger[level] = (message: string) => void logs.push({ level, message });
  const lifecycle = await definition.configure(handle, handle.params);
  const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
  const states = probe.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
  const commands = probe.createPublisher('std_msgs/msg/Float64MultiArray', 'forward_command_controller/commands');
  const tasks = probe.createPublisher('std_msgs/msg/String', 'recorder/set_task');
  let finished = '';
  void lifecycle.finished?.then((s) => (finished = s));
  const sentStates: Uint8Array[] = [];
  const codec = codecFor('sensor_msgs/msg/JointState');
  await lifecycle.activate?.();
  let k = 0;
  // 1.5 s of sim time: episode 0 over [0, 0.5], reset, episode 1 over [0.7, 1.2]
  while (k < 150 && !finished) {
    k++;
    // a stall of 50 ms in the first episode: ticks 20–24 send nothing
    if (k < 20 || k > 24) {
      const m = {
        header: { stamp: nsToTime(BigInt(k) * PERIOD), frame_id: '' },
        name: [...JOINTS],
        position: [k / 100, -k / 100],
        velocity: [1, -1],
        effort: [],
      };
      sentStates.push(codec.encode(m));
      states.publish(m);
      commands.publish({ layout: { dim: [], data_offset: 0 }, data: [k, 2 * k] });
    }
    if (k === 60) tasks.publish({ data: 'place the cube' });
    await transport.bus.idle();
    clock.set(BigInt(k) * PERIOD);
    await transport.bus.idle();
  }
  assert.match(finished, /^2 episodes recorded to /);
  await lifecycle.deactivate?.();
  await lifecycle.cleanup?.();
  probe.destroy();
  handle.destroy();
  await transport.shutdown();

  const cadence = logs.filter((l) => /cadence on joint_states/.test(l.message)).map((l) => l.message);
  assert.equal(cadence.length, 2, logs.map((l) => l.message).join('\n'));
  assert.match(
    cadence[0]!,
    /episode 0 recorded: 0\.5 s, task 'pick the cube'.* 1 over, longest gap 60\.0 ms, 5 ticks missed, 0 dropped/,
  );
  assert.match(cadence[1]!, /episode 1 recorded: 0\.5 s, task 'place the cube'.* 0 over, .* 0 ticks missed/);

  const reader = await BagReader.open(bag);
  try {
    const count = new Map(reader.topics.map((topic) => [topic.name, topic.messageCount]));
    assert.equal(count.get('/joint_states'), k - 5);
    assert.equal(count.get('/forward_command_controller/commands'), k - 5);
    assert.equal(count.get('/episode'), 4);
    assert.equal(count.get('/recorder/task'), 2);
    const recordedStates: Uint8Array[] = [];
    const events: string[] = [];
    const taskTexts: string[] = [];
    for await (const m of reader.messages()) {
      if (m.topic === '/joint_states') recordedStates.push(m.data);
      if (m.topic === '/episode') {
        const e = codecFor('dynastack_msgs/msg/EpisodeEvent').decode(m.data);
        events.push(
          `${e.event === EpisodeEventKind.START ? 'start' : 'end'} ${e.episode} @${timeToNs(e.header.stamp) / PERIOD}`,
        );
      }
      if (m.topic === '/recorder/task') taskTexts.push(codecFor('std_msgs/msg/String').decode(m.data).data);
    }
    assert.deepEqual(
      recordedStates.map((b) => Buffer.from(b).toString('hex')),
      sentStates.map((b) => Buffer.from(b).toString('hex')),
    );
    assert.deepEqual(events, ['start 0 @0', 'end 0 @50', 'start 1 @70', 'end 1 @120']);
    assert.deepEqual(taskTexts, ['pick the cube', 'place the cube']);
  } finally {
    reader.close();
  }
  const episodes = JSON.parse(await readFile(join(bag, 'episodes.json'), 'utf8')) as { task: string; kept: boolean }[];
  assert.deepEqual(
    episodes.map((e) => [e.task, e.kept]),
    [
      ['pick the cube', true],
      ['place the cube', true],
    ],
  );
});

test('recorder: a topic spec with an unknown type or QoS is refused in one line', () => {
  assert.deepEqual(parseTopicSpec('joint_states:sensor_msgs/msg/JointState').type, 'sensor_msgs/msg/JointState');
  assert.equal(parseTopicSpec('/x:std_msgs/msg/Bool:best_effort').qos.reliability, 'best_effort');
  assert.throws(() => parseTopicSpec('joint_states'), /must be 'topic:package\/msg\/Type'/);
  assert.throws(() => parseTopicSpec('x:foo_msgs/msg/Nope'), /type this package cannot carry/);
  assert.throws(() => parseTopicSpec('x:std_msgs/msg/Bool:fast'), /QoS 'fast' is not reliable/);
});
