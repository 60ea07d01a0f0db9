import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from '@foxglove/rosmsg';
import { MessageWriter } from '@foxglove/rosmsg2-serialization';
import { BagReader, type BagMessage } from '../../../framework/bag/bag_reader.js';
import { BagWriter } from '../../../framework/bag/bag_writer.js';
import { codecFor } from '../../../framework/msgs/codec.js';
import { jointState, MS, NO_FLOOR, T0, tempDir, writeSampleBag } from './fixtures.js';

// The bag reader on whole bags: topics and counts, messages in log-time order with topic and time
// filters, decoding with this package's codecs and, for a type it has no .msg for, from the bag's
// own schema; a bare .mcap file; and files that are not bags give one line saying so.

async function collect(reader: BagReader, filter = {}): Promise<BagMessage[]> {
  const out: BagMessage[] = [];
  for await (const m of reader.messages(filter)) out.push(m);
  return out;
}

test('reader: topics, counts and time range of a bag folder; messages in log-time order, filtered', async (t) => {
  const dir = join(tempDir(t), 'bag');
  const bag = await writeSampleBag(dir);
  const reader = await BagReader.open(dir);
  t.after(() => reader.close());
  assert.equal(reader.recovery.length, 0);
  assert.equal(reader.messageCount, bag.jointStates + bag.strings);
  assert.deepEqual(
    reader.topics.map((x) => [x.name, x.type, x.messageCount, x.serializationFormat]),
    [
      ['/joint_states', 'sensor_msgs/msg/JointState', bag.jointStates, 'cdr'],
      ['/chatter', 'std_msgs/msg/String', bag.strings, 'cdr'],
    ],
  );
  assert.equal(reader.startNs, T0);
  assert.equal(reader.metadata?.rosDistro, 'jazzy');
  const all = await collect(reader);
  assert.equal(all.length, reader.messageCount);
  for (let i = 1; i < all.length; i++) assert.ok(all[i]!.logTimeNs >= all[i - 1]!.logTimeNs);
  const some = await collect(reader, { topics: ['/chatter'], startNs: T0 + 100n * MS, endNs: T0 + 200n * MS });
  assert.deepEqual(
    some.map((m) => (reader.decode(m) as { data: string }).data),
    ['message 10', 'message 15', 'message 20'],
  );
  const js = (await collect(reader, { topics: ['/joint_states'], startNs: T0 + 30n * MS, endNs: T0 + 30n * MS }))[0]!;
  const decoded = reader.decode(js) as { position: Float64Array; name: string[] };
  assert.deepEqual(decoded.name, jointState(3).name);
  assert.deepEqual([...decoded.position], [3, 1.5, -3]);
});

test('reader: messages written out of log-time order come out in order; a bare .mcap file opens too', async (t) => {
  const dir = join(tempDir(t), 'order');
  const writer = await BagWriter.open(dir, NO_FLOOR);
  const codec = codecFor('std_msgs/msg/String');
  for (const ms of [30, 10, 20, 50, 40])
    writer.write('/a', 'std_msgs/msg/String', T0 + BigInt(ms) * MS, codec.encode({ data: String(ms) }));
  writer.close();
  const reader = await BagReader.open(join(dir, 'order_0.mcap'));
  t.after(() => reader.close());
  assert.equal(reader.metadata, undefined);
  assert.deepEqual(
    (await collect(reader)).map((m) => (reader.decode(m) as { data: string }).data),
    ['10', '20', '30', '40', '50'],
  );
});

test('reader: a type this package has no .msg for is decoded from the bag schema text', async (t) => {
  const dir = join(tempDir(t), 'custom');
  const definition = 'float64 x\nstring label\nint32[] counts\n';
  const writer = await BagWriter.open(dir, NO_FLOOR);
  writer.addTopic('/thing', 'my_pkg/msg/Thing', { definition });
  const encoder = new MessageWriter(parse(definition, { ros2: true }));
  const bytes = encoder.writeMessage({ x: 2.5, label: 'hi', counts: [1, 2, 3] });
  writer.write('/thing', 'my_pkg/msg/Thing', T0, bytes);
  writer.close();
  const reader = await BagReader.open(dir);
  t.after(() => reader.close());
  const [m] = await collect(reader);
  const thing = reader.decode(m!) as { x: number; label: string; counts: Int32Array };
  assert.equal(thing.x, 2.5);
  assert.equal(thing.label, 'hi');
  assert.deepEqual([...thing.counts], [1, 2, 3]);
  assert.equal(reader.topics[0]!.schemaText, definition);
});

test('reader: files that are not bags give one line naming the file and the cause', async (t) => {
  const dir = tempDir(t);
  const lineOnly = (err: unknown, pattern: RegExp): boolean => {
    const message = (err as Error).message;
    assert.ok(!message.includes('\n'), `one line: ${message}`);
    assert.match(message, pattern);
    return true;
  };
  await assert.rejects(BagReader.open(join(dir, 'nothing')), (e) => lineOnly(e, /no bag at .*nothing/));
  const empty = join(dir, 'empty.mcap');
  writeFileSync(empty, '');
  await assert.rejects(BagReader.open(empty), (e) => lineOnly(e, /empty\.mcap is empty: not an MCAP file/));
  const text = join(dir, 'text.mcap');
  writeFileSync(text, 'this is not an MCAP file at all, just some words\n'.repeat(20));
  await assert.rejects(BagReader.open(text), (e) => lineOnly(e, /text\.mcap is not a readable MCAP file/));
  // the magic and then garbage
  const bag = await writeSampleBag(join(dir, 'good'), 50);
  const good = readFileSync(join(bag.path, 'good_0.mcap'));
  const bad = join(dir, 'bad.mcap');
  writeFileSync(bad, Buffer.concat([good.subarray(0, 8), Buffer.alloc(5000, 0xab)]));
  await assert.rejects(BagReader.open(bad), (e) => lineOnly(e, /bad\.mcap is not a readable MCAP file/));
  // a folder without .mcap files, and a broken metadata.yaml
  const folder = join(dir, 'folder');
  mkdirSync(folder);
  writeFileSync(join(folder, 'notes.txt'), 'no bag here');
  await assert.rejects(BagReader.open(folder), (e) => lineOnly(e, /folder holds no \.mcap file/));
  writeFileSync(join(bag.path, 'metadata.yaml'), 'rosbag2_bagfile_information: [unclosed');
  await assert.rejects(BagReader.open(bag.path), (e) => lineOnly(e, /metadata\.yaml is not YAML/));
});
