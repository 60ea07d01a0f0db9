import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import zstd from '@foxglove/wasm-zstd';
import { McapStreamReader } from '@mcap/core';
import { BagWriter } from '../../../framework/bag/bag_writer.js';
import { parseMetadataYaml, parseQos } from '../../../framework/bag/metadata.js';
import { codecFor } from '../../../framework/msgs/codec.js';
import { bagDefinitionText } from '../../../framework/msgs/schema_codec.js';
import { until } from '../../wait.js';
import { jointState, mcapIndexed, MS, NO_FLOOR, stringMessage, T0, tempDir, writeSampleBag } from './fixtures.js';

// The bag writer's files checked with readers that are not ours: @mcap/core's indexed reader for
// the MCAP file (profile, schemas, channels and their metadata, statistics, zstd chunks, the bytes
// of a message) and the yaml package for metadata.yaml, in the layout of rosbag2 (Jazzy).

test('a written bag reads back with @mcap/core: ros2 profile, ros2msg schemas, cdr channels with QoS, counts, message bytes', async (t) => {
  const dir = join(tempDir(t), 'sample');
  const bag = await writeSampleBag(dir);
  const { reader, close } = await mcapIndexed(join(dir, 'sample_0.mcap'));
  t.after(close);
  assert.equal(reader.header.profile, 'ros2');
  const schemas = [...reader.schemasById.values()];
  assert.deepEqual(schemas.map((s) => [s.name, s.encoding]).sort(), [
    ['sensor_msgs/msg/JointState', 'ros2msg'],
    ['std_msgs/msg/String', 'ros2msg'],
  ]);
  for (const s of schemas) assert.equal(new TextDecoder().decode(s.data), bagDefinitionText(s.name));
  const channels = [...reader.channelsById.values()];
  assert.deepEqual(channels.map((c) => [c.topic, c.messageEncoding]).sort(), [
    ['/chatter', 'cdr'],
    ['/joint_states', 'cdr'],
  ]);
  for (const c of channels) {
    const qos = parseQos(c.metadata.get('offered_qos_profiles'));
    assert.equal(qos.length, 1);
    assert.equal(qos[0]!.reliability, 'reliable');
    assert.equal(qos[0]!.depth, 10);
    assert.ok(c.metadata.has('topic_type_hash'));
  }
  const stats = reader.statistics!;
  assert.equal(stats.messageCount, BigInt(bag.jointStates + bag.strings));
  const byTopic = new Map(channels.map((c) => [c.topic, stats.channelMessageCounts.get(c.id)]));
  assert.equal(byTopic.get('/joint_states'), BigInt(bag.jointStates));
  assert.equal(byTopic.get('/chatter'), BigInt(bag.strings));
  assert.equal(stats.messageStartTime, T0);
  assert.equal(stats.messageEndTime, T0 + BigInt(bag.jointStates - 1) * 10n * MS);
  assert.ok(reader.chunkIndexes.length > 0);
  for (const c of reader.chunkIndexes) assert.equal(c.compression, 'zstd');
  // the bytes of a message are those of the codec
  let checked = 0;
  for await (const m of reader.readMessages({
    topics: ['/joint_states'],
    startTime: T0 + 70n * MS,
    endTime: T0 + 70n * MS,
  })) {
    assert.deepEqual(m.data, codecFor('sensor_msgs/msg/JointState').encode(jointState(7)));
    assert.equal(m.publishTime, T0 + 69n * MS);
    checked++;
  }
  for await (const m of reader.readMessages({
    topics: ['/chatter'],
    startTime: T0 + 50n * MS,
    endTime: T0 + 50n * MS,
  })) {
    assert.deepEqual(m.data, codecFor('std_msgs/msg/String').encode(stringMessage(5)));
    checked++;
  }
  assert.equal(checked, 2);
  // rosbag2's 'rosbag2' metadata records: at open and at close
  const records = [];
  for await (const m of reader.readMetadata({ name: 'rosbag2' })) records.push(m.metadata.get('serialized_metadata')!);
  assert.equal(records.length, 2);
  assert.match(records[0]!, /^version: 9\n.*message_count: 0\n/s);
  assert.match(records[1]!, new RegExp(`message_count: ${bag.jointStates + bag.strings}\\n`));
});

test('metadata.yaml is rosbag2 version 9: counts per topic, the file, QoS, ros_distro', async (t) => {
  const dir = join(tempDir(t), 'meta');
  const bag = await writeSampleBag(dir);
  const text = readFileSync(join(dir, 'metadata.yaml'), 'utf8');
  const doc = parse(text, { intAsBigInt: true }) as { rosbag2_bagfile_information: Record<string, unknown> };
  const info = doc.rosbag2_bagfile_information;
  assert.equal(info['version'], 9n);
  assert.equal(info['storage_identifier'], 'mcap');
  assert.equal(info['message_count'], BigInt(bag.jointStates + bag.strings));
  assert.deepEqual(info['starting_time'], { nanoseconds_since_epoch: T0 });
  assert.deepEqual(info['duration'], { nanoseconds: BigInt(bag.jointStates - 1) * 10n * MS });
  assert.deepEqual(info['relative_file_paths'], ['meta_0.mcap']);
  assert.equal(info['compression_format'], '');
  assert.equal(info['ros_distro'], 'jazzy');
  assert.equal(info['custom_data'], null);
  const topics = info['topics_with_message_count'] as {
    topic_metadata: Record<string, unknown>;
    message_count: bigint;
  }[];
  assert.deepEqual(
    topics.map((x) => [x.topic_metadata['name'], x.topic_metadata['type'], x.message_count]),
    [
      ['/joint_states', 'sensor_msgs/msg/JointState', BigInt(bag.jointStates)],
      ['/chatter', 'std_msgs/msg/String', BigInt(bag.strings)],
    ],
  );
  const qos = (topics[0]!.topic_metadata['offered_qos_profiles'] as Record<string, unknown>[])[0]!;
  assert.equal(qos['history'], 'keep_last');
  assert.deepEqual(qos['deadline'], { sec: 9223372036n, nsec: 854775807n });
  // and our own parser agrees
  const parsed = parseMetadataYaml(text);
  assert.equal(parsed.messageCount, bag.jointStates + bag.strings);
  assert.equal(parsed.files[0]!.messageCount, bag.jointStates + bag.strings);
});

test('metadata.yaml exists from the open, before any message; a second open of the folder is refused', async (t) => {
  const dir = join(tempDir(t), 'early');
  const writer = await BagWriter.open(dir, NO_FLOOR);
  const early = parseMetadataYaml(readFileSync(join(dir, 'metadata.yaml'), 'utf8'));
  assert.equal(early.messageCount, 0);
  assert.deepEqual(
    early.files.map((f) => f.path),
    ['early_0.mcap'],
  );
  await assert.rejects(BagWriter.open(dir, NO_FLOOR), /cannot record to .*early: the folder exists and is not empty/);
  writer.close();
});

test('chunks close after maxChunkDurationMs of log time, whatever their size', async (t) => {
  const dir = join(tempDir(t), 'span');
  // 350 messages 10 ms apart: 3.5 s of log time in chunks far from full
  await writeSampleBag(dir, 350, { maxChunkDurationMs: 1000 });
  const { reader, close } = await mcapIndexed(join(dir, 'span_0.mcap'));
  t.after(close);
  assert.ok(reader.chunkIndexes.length >= 4, `${reader.chunkIndexes.length} chunks`);
  for (const c of reader.chunkIndexes) assert.ok(c.messageEndTime - c.messageStartTime < 1000n * MS);
});

test('chunks close when full (chunkSize), and write() refuses a topic under a second type', async (t) => {
  const dir = join(tempDir(t), 'full');
  const writer = await BagWriter.open(dir, { ...NO_FLOOR, chunkSize: 4096 });
  const js = codecFor('sensor_msgs/msg/JointState');
  for (let i = 0; i < 200; i++)
    writer.write('/js', 'sensor_msgs/msg/JointState', T0 + BigInt(i), js.encode(jointState(i)));
  assert.throws(
    () => writer.write('/js', 'std_msgs/msg/String', T0, new Uint8Array(8)),
    /topic \/js is recorded as sensor_msgs\/msg\/JointState, not std_msgs\/msg\/String/,
  );
  writer.close();
  const { reader, close } = await mcapIndexed(join(dir, 'full_0.mcap'));
  t.after(close);
  assert.ok(reader.chunkIndexes.length >= 5, `${reader.chunkIndexes.length} chunks`);
  for (const c of reader.chunkIndexes.slice(0, -1)) assert.ok(c.uncompressedSize >= 4096n);
});

test('an idle open chunk reaches the file without another write or a close (the chunk timer)', async (t) => {
  const dir = join(tempDir(t), 'idle');
  const writer = await BagWriter.open(dir, { ...NO_FLOOR, maxChunkDurationMs: 20 });
  t.after(() => writer.close());
  const file = join(dir, 'idle_0.mcap');
  const before = statSync(file).size;
  writer.write('/chatter', 'std_msgs/msg/String', T0, codecFor('std_msgs/msg/String').encode(stringMessage(1)));
  assert.equal(statSync(file).size, before, 'the message waits in the open chunk');
  await until('the idle chunk to be written', () => statSync(file).size > before);
  // the file as it is now (no summary) streams to that message
  const stream = new McapStreamReader({ decompressHandlers: { zstd: (d, n) => zstd.decompress(d, Number(n)) } });
  stream.append(readFileSync(file));
  const messages = [];
  for (let r = stream.nextRecord(); r; r = stream.nextRecord()) if (r.type === 'Message') messages.push(r);
  assert.equal(messages.length, 1);
});
