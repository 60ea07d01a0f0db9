import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedTransport } from '../../../framework/transport/embedded/transport.js';
import { QOS_LATCHED, QOS_SENSOR_DATA } from '../../../framework/transport/qos.js';
import { defineParams } from '../../../src/util/param_schema.js';
import type { StringMsg } from '../../../framework/msgs/types.js';

// The embedded bus keeps ROS 2's semantics: keep-last and keep-all queues, transient local, QoS
// matching, one type per topic, throwing callbacks.

const none = defineParams({});
const text = (data: string): StringMsg => ({ data });

async function setup(checkMessages = false) {
  const transport = new EmbeddedTransport({ checkMessages });
  const a = await transport.createNode({ name: 'a', parameters: none });
  const b = await transport.createNode({ name: 'b', parameters: none });
  return { transport, a, b, idle: () => transport.bus.idle() };
}

test('a burst larger than the subscription depth keeps only the newest (keep_last)', async () => {
  const { a, b, idle } = await setup();
  const got: string[] = [];
  b.createSubscription('std_msgs/msg/String', 'chatter', (m) => got.push(m.data), { qos: { depth: 5 } });
  const pub = a.createPublisher('std_msgs/msg/String', 'chatter');
  for (let i = 0; i < 20; i++) pub.publish(text(`m${i}`));
  await idle();
  assert.deepEqual(got, ['m15', 'm16', 'm17', 'm18', 'm19']);
  const stats = b.stats().find((s) => s.topic === '/chatter')!;
  assert.equal(stats.count, 5);
  assert.equal(stats.dropped, 15);
});

test('keep_all delivers the whole burst, in order', async () => {
  const { a, b, idle } = await setup();
  const got: string[] = [];
  b.createSubscription('std_msgs/msg/String', 'chatter', (m) => got.push(m.data), { qos: { history: 'keep_all' } });
  const pub = a.createPublisher('std_msgs/msg/String', 'chatter');
  for (let i = 0; i < 500; i++) pub.publish(text(String(i)));
  await idle();
  assert.equal(got.length, 500);
  assert.deepEqual(got.slice(0, 3), ['0', '1', '2']);
  assert.equal(got.at(-1), '499');
});

test('transient-local publishers replay their last depth messages to late transient-local subscribers only', async () => {
  const { a, b, idle } = await setup();
  const pub = a.createPublisher('std_msgs/msg/String', 'model', { ...QOS_LATCHED, depth: 2 });
  for (const m of ['v1', 'v2', 'v3']) pub.publish(text(m));
  const late: string[] = [];
  const volatileLate: string[] = [];
  b.createSubscription('std_msgs/msg/String', 'model', (m) => late.push(m.data), {
    qos: { ...QOS_LATCHED, depth: 10 },
  });
  b.createSubscription('std_msgs/msg/String', 'model', (m) => volatileLate.push(m.data));
  await idle();
  assert.deepEqual(late, ['v2', 'v3']);
  assert.deepEqual(volatileLate, []);
  pub.publish(text('v4'));
  await idle();
  assert.deepEqual(late, ['v2', 'v3', 'v4']);
  assert.deepEqual(volatileLate, ['v4']);
});

test('QoS matching follows DDS: reliable reader ✗ best-effort writer, transient-local reader ✗ volatile writer', async () => {
  const { a, b, idle } = await setup();
  const reliableReader: string[] = [];
  const bestEffortReader: string[] = [];
  b.createSubscription('std_msgs/msg/String', 'scan', (m) => reliableReader.push(m.data));
  b.createSubscription('std_msgs/msg/String', 'scan', (m) => bestEffortReader.push(m.data), { qos: QOS_SENSOR_DATA });
  const bestEffortWriter = a.createPublisher('std_msgs/msg/String', 'scan', QOS_SENSOR_DATA);
  assert.equal(bestEffortWriter.subscriptionCount(), 1);
  bestEffortWriter.publish(text('x'));
  const latchedReader: string[] = [];
  b.createSubscription('std_msgs/msg/String', 'status', (m) => latchedReader.push(m.data), { qos: QOS_LATCHED });
  a.createPublisher('std_msgs/msg/String', 'status').publish(text('y'));
  const reliableWriter = a.createPublisher('std_msgs/msg/String', 'scan');
  reliableWriter.publish(text('z'));
  await idle();
  assert.deepEqual(reliableReader, ['z']);
  assert.deepEqual(bestEffortReader, ['x', 'z']);
  assert.deepEqual(latchedReader, []);
});

test('a topic has one type', async () => {
  const { a, b } = await setup();
  a.createPublisher('std_msgs/msg/String', 'chatter');
  assert.throws(
    () => b.createSubscription('std_msgs/msg/Bool', 'chatter', () => {}),
    /topic \/chatter carries std_msgs\/msg\/String; \/b cannot use it as std_msgs\/msg\/Bool/,
  );
});

test('a throwing callback is reported and does not stop delivery to others', async () => {
  const { a, b, idle } = await setup();
  const got: string[] = [];
  b.createSubscription('std_msgs/msg/String', 'chatter', () => {
    throw new Error('boom');
  });
  b.createSubscription('std_msgs/msg/String', 'chatter', (m) => got.push(m.data));
  const pub = a.createPublisher('std_msgs/msg/String', 'chatter');
  pub.publish(text('1'));
  pub.publish(text('2'));
  await idle();
  assert.deepEqual(got, ['1', '2']);
});

test('names: namespace, private names and remaps resolve as rcl does', async () => {
  const transport = new EmbeddedTransport();
  const node = await transport.createNode({
    name: 'controller',
    namespace: 'arm',
    parameters: none,
    remaps: [
      { from: 'commands', to: '/forward_position_controller/commands' },
      { from: '__node', to: 'ctl' },
    ],
  });
  assert.equal(node.fullyQualifiedName, '/arm/ctl');
  assert.equal(node.resolveTopicName('joint_states'), '/arm/joint_states');
  assert.equal(node.resolveTopicName('/clock'), '/clock');
  assert.equal(node.resolveTopicName('~/plan'), '/arm/ctl/plan');
  assert.equal(node.resolveTopicName('commands'), '/forward_position_controller/commands');
  assert.throws(() => node.resolveTopicName('bad name'), /invalid topic name/);
  await assert.rejects(transport.createNode({ name: 'ctl', namespace: '/arm', parameters: none }), /already exists/);
  // the refused one took nothing of the node with the name: refused again, its parameters still listed
  await assert.rejects(transport.createNode({ name: 'ctl', namespace: '/arm', parameters: none }), /already exists/);
  assert.ok((await node.graphParameters()).some((p) => p.node === '/arm/ctl' && p.name === 'use_sim_time'));
  node.destroy();
  assert.ok(!transport.bus.graphParameters().some((p) => p.node === '/arm/ctl'), 'gone with the node');
});

test('with checkMessages a message that breaks its schema fails at publish', async () => {
  const { a } = await setup(true);
  const pub = a.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
  assert.throws(
    () => pub.publish({ name: [], position: [1], velocity: [], effort: [] } as never),
    /cannot encode sensor_msgs\/msg\/JointState/,
  );
});

test('raw publish and raw subscribe carry the CDR bytes unchanged', async () => {
  const { a, b, idle } = await setup();
  const objects: string[] = [];
  const raws: Uint8Array[] = [];
  b.createSubscription('std_msgs/msg/String', 'chatter', (m) => objects.push(m.data));
  b.createRawSubscription('std_msgs/msg/String', 'chatter', (bytes) => raws.push(bytes));
  const pub = a.createPublisher('std_msgs/msg/String', 'chatter');
  pub.publishRaw(Uint8Array.from([0, 1, 0, 0, 3, 0, 0, 0, 0x68, 0x69, 0]));
  pub.publish(text('yo'));
  await idle();
  assert.deepEqual(objects, ['hi', 'yo']);
  assert.deepEqual([...raws[0]!], [0, 1, 0, 0, 3, 0, 0, 0, 0x68, 0x69, 0]);
  assert.equal(raws.length, 2);
});

test('a destroyed node stops receiving and its timers stop', async () => {
  const { a, b, idle } = await setup();
  const got: string[] = [];
  b.createSubscription('std_msgs/msg/String', 'chatter', (m) => got.push(m.data));
  const pub = a.createPublisher('std_msgs/msg/String', 'chatter');
  pub.publish(text('1'));
  b.destroy();
  pub.publish(text('2'));
  await idle();
  assert.deepEqual(got, []);
  assert.equal(pub.subscriptionCount(), 0);
  assert.throws(() => b.createPublisher('std_msgs/msg/String', 'x'), /was destroyed/);
});
