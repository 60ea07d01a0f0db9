import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { FoxgloveBridge, type BridgeOptions } from '../../../framework/foxglove/bridge.js';
import { compilePatterns, subscriptionQos } from '../../../framework/foxglove/discovery.js';
import { codecFor } from '../../../framework/msgs/codec.js';
import { bagDefinitionText } from '../../../framework/msgs/schema_codec.js';
import { EmbeddedTransport } from '../../../framework/transport/embedded/transport.js';
import { QOS_CLOCK_PUBLISHER, QOS_LATCHED } from '../../../framework/transport/qos.js';
import type { NodeHandle } from '../../../framework/transport/types.js';
import { defineParams } from '../../../src/util/param_schema.js';
import { until } from '../../wait.js';
import { TestClient } from './foxglove_client.js';

// The Foxglove bridge library on the embedded transport, against @foxglove/ws-protocol's own
// FoxgloveClient over real WebSockets on 127.0.0.1 (an ephemeral port): topics offered as CDR
// channels with their ros2msg schema, subscriptions carrying the published bytes, time following
// /clock, parameters listed and not set, the connection graph, client publishing only where
// allowed and only well-formed, bad input answered without harm, and a client that never reads
// kept within its bounds while another keeps receiving. Every wait is for a condition.

const BRIDGE_PARAMS = defineParams({
  rate_hz: { type: 'double', default: 2, description: 'a double, to see its float64 mark' },
});

interface Setup {
  readonly transport: EmbeddedTransport;
  readonly node: NodeHandle;
  readonly probe: NodeHandle;
  readonly bridge: FoxgloveBridge;
  readonly port: number;
}

async function setup(
  t: TestContext,
  options: Partial<BridgeOptions> = {},
  values: Record<string, unknown> = {},
): Promise<Setup> {
  const transport = new EmbeddedTransport({ checkMessages: true });
  const node = await transport.createNode({
    name: 'foxglove_bridge',
    parameters: BRIDGE_PARAMS,
    parameterSources: [{ origin: 'test', values, strict: true }],
  });
  node.logger.level = 'warn';
  const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
  const bridge = await FoxgloveBridge.open(node, {
    address: '127.0.0.1',
    port: 0,
    capabilities: ['parameters', 'connectionGraph'],
    topicWhitelist: compilePatterns('topic_whitelist', ['.*']),
    clientTopicWhitelist: [],
    maxQosDepth: 25,
    sendBufferLimitBytes: 10_000_000,
    messageBacklog: 1024,
    maxIncomingBytes: 1 << 20,
    discoveryPeriodNs: 20_000_000n,
    ...options,
  });
  bridge.start();
  t.after(async () => {
    await bridge.close();
    await transport.shutdown();
  });
  return { transport, node, probe, bridge, port: bridge.port };
}

async function connect(t: TestContext, port: number): Promise<TestClient> {
  const c = await TestClient.connect(port);
  t.after(() => c.close());
  return c;
}

const jointState = (k: number) => ({
  header: { stamp: { sec: k, nanosec: 0 }, frame_id: 'base' },
  name: ['shoulder', 'elbow'],
  position: [k / 10, -k / 10],
  velocity: [0.5, 1],
  effort: [],
});

test('a JointState topic is offered as a cdr channel with its ros2msg schema; a subscription gets the published bytes, an unsubscription stops them', async (t) => {
  const s = await setup(t);
  const states = s.probe.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
  const sentinel = s.probe.createPublisher('std_msgs/msg/String', 'sentinel');
  const c = await connect(t, s.port);
  const channel = await c.channel('/joint_states');
  assert.equal(channel.encoding, 'cdr');
  assert.equal(channel.schemaEncoding, 'ros2msg');
  assert.equal(channel.schemaName, 'sensor_msgs/msg/JointState');
  assert.equal(channel.schema, bagDefinitionText('sensor_msgs/msg/JointState'));
  // the bridge's own endpoints never make a channel
  assert.ok(![...c.channels.values()].some((ch) => ch.topic === '/clock'));

  const codec = codecFor('sensor_msgs/msg/JointState');
  const sub = c.client.subscribe(channel.id);
  let k = 0;
  // the bridge subscribes when the request reaches it: publish until a message comes through
  await until('a joint state at the client', () => {
    states.publish(jointState(++k));
    return c.payloads(sub).length > 0;
  });
  const bytes = c.payloads(sub)[0]!;
  const got = codec.decode(bytes);
  const n = got.header.stamp.sec;
  assert.deepEqual(bytes, codec.encode(jointState(n)), 'the payload is the CDR of the published message');
  assert.deepEqual([...got.position], [n / 10, -n / 10]);
  assert.deepEqual(got.name, ['shoulder', 'elbow']);
  assert.ok(c.messages[0]!.timestamp > 0n, 'messages carry the ROS time');

  c.client.unsubscribe(sub);
  await until(
    "the bridge's subscription to /joint_states to go",
    () => (s.transport.bus.topics().get('/joint_states')?.subscriptions.size ?? 0) === 0,
  );
  // flush what was on its way, then see that nothing more comes for the old subscription
  const sentinelSub = c.client.subscribe((await c.channel('/sentinel')).id);
  await until('a first sentinel', () => {
    sentinel.publish({ data: 'flush' });
    return c.payloads(sentinelSub).length > 0;
  });
  const before = c.payloads(sub).length;
  for (let i = 0; i < 20; i++) states.publish(jointState(++k));
  sentinel.publish({ data: 'after' });
  const seen = c.payloads(sentinelSub).length;
  await until('the second sentinel', () => c.payloads(sentinelSub).length > seen);
  assert.equal(c.payloads(sub).length, before, 'no joint state after the unsubscription');

  // a topic that appears is advertised; one whose endpoints all went is unadvertised
  s.probe.createPublisher('std_msgs/msg/Float64', 'late');
  await c.channel('/late');
  states.destroy();
  await until('/joint_states to be unadvertised', () => c.unadvertised.includes(channel.id));
});

test('a latched topic reaches every client that subscribes, however late; a volatile one only what comes after', async (t) => {
  const s = await setup(t);
  // published before any client: a robot's scene (transient local, depth 1) and a sensor stream
  const scene = s.probe.createPublisher('std_msgs/msg/String', 'robot_scene', QOS_LATCHED);
  const states = s.probe.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
  scene.publish({ data: 'old scene' });
  scene.publish({ data: 'scene' });
  states.publish(jointState(1));
  const codec = codecFor('std_msgs/msg/String');
  const sceneSubs = new Map<TestClient, number>();
  const received = (c: TestClient): string[] => c.payloads(sceneSubs.get(c)!).map((b) => codec.decode(b).data);
  const scenes = async (c: TestClient): Promise<string[]> => {
    sceneSubs.set(c, c.client.subscribe((await c.channel('/robot_scene')).id));
    await until('the latched scene at the client', () => received(c).length > 0);
    return received(c);
  };
  const first = await connect(t, s.port);
  assert.deepEqual(await scenes(first), ['scene'], 'the first client: the newest (depth 1), from the transport');
  const statesSub = first.client.subscribe((await first.channel('/joint_states')).id);
  // a second client while the first is subscribed: from the bridge's own keeping
  const second = await connect(t, s.port);
  assert.deepEqual(await scenes(second), ['scene'], 'a later client: the same');
  // the volatile topic: nothing from before the subscription
  let k = 1;
  await until('a joint state after the subscription', () => {
    states.publish(jointState(++k));
    return first.payloads(statesSub).length > 0;
  });
  const got = first.payloads(statesSub).map((b) => codecFor('sensor_msgs/msg/JointState').decode(b).header.stamp.sec);
  assert.ok(!got.includes(1), `the joint state published before any subscription is not sent: ${got.join(', ')}`);
  // a new scene goes to both, once each
  scene.publish({ data: 'new scene' });
  for (const c of [first, second]) {
    await until('the new scene', () => received(c).includes('new scene'));
    assert.deepEqual(received(c), ['scene', 'new scene']);
  }
  // the bridge subscribed as the publisher offers: reliable and transient local
  const sub = [...s.transport.bus.topics().get('/robot_scene')!.subscriptions].find(
    (x) => x.owner === '/foxglove_bridge',
  );
  assert.ok(sub, "the bridge's subscription to /robot_scene");
  assert.equal(sub.qos.durability, 'transient_local');
  assert.equal(sub.qos.reliability, 'reliable');
});

test('subscriptionQos: what every publisher offers, the depths summed within 1…max', () => {
  const latched = { reliability: 'reliable', durability: 'transient_local', depth: 1 } as const;
  const sensor = { reliability: 'best_effort', durability: 'volatile', depth: 5 } as const;
  assert.deepEqual(subscriptionQos([latched], 25), { ...latched, history: 'keep_last' });
  assert.deepEqual(subscriptionQos([latched, sensor], 25), { ...sensor, depth: 6, history: 'keep_last' });
  assert.deepEqual(subscriptionQos([latched, { ...latched, depth: 100 }], 25), {
    ...latched,
    depth: 25,
    history: 'keep_last',
  });
  assert.deepEqual(subscriptionQos([], 25), {
    reliability: 'best_effort',
    durability: 'volatile',
    depth: 1,
    history: 'keep_last',
  });
});

test('with use_sim_time, time messages follow /clock and messages carry /clock time', async (t) => {
  const s = await setup(t, { capabilities: ['time'] }, { use_sim_time: true });
  const clock = s.probe.createPublisher('rosgraph_msgs/msg/Clock', '/clock', QOS_CLOCK_PUBLISHER);
  const states = s.probe.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
  const c = await connect(t, s.port);
  assert.deepEqual(c.serverInfo!.capabilities, ['time']);
  // one at a time: a /clock subscription keeps only the last message (depth 1)
  for (const sec of [5, 6, 7]) {
    clock.publish({ clock: { sec, nanosec: 0 } });
    await until(`the time message of ${sec} s`, () => c.times.length >= sec - 4, { seen: () => c.times.join(', ') });
  }
  assert.deepEqual(c.times, [5_000_000_000n, 6_000_000_000n, 7_000_000_000n]);
  const sub = c.client.subscribe((await c.channel('/joint_states')).id);
  let k = 0;
  await until('a joint state at the client', () => {
    states.publish(jointState(++k));
    return c.payloads(sub).length > 0;
  });
  assert.equal(c.messages[0]!.timestamp, 7_000_000_000n, 'a message carries the ROS time of /clock');
});

test("parameters: every node's are listed, setting them is refused; the connection graph names each topic's nodes", async (t) => {
  const s = await setup(t);
  s.probe.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
  const c = await connect(t, s.port);
  assert.deepEqual(c.serverInfo!.capabilities, ['parameters', 'connectionGraph']);
  c.client.getParameters([], 'all');
  await until('the parameter values', () => c.parameterValues.some((p) => p.id === 'all'));
  const all = c.parameterValues.find((p) => p.id === 'all')!.parameters;
  assert.deepEqual(
    all.find((p) => p.name === '/foxglove_bridge.rate_hz'),
    {
      name: '/foxglove_bridge.rate_hz',
      value: 2,
      type: 'float64',
    },
  );
  assert.ok(
    all.some((p) => p.name === '/probe.use_sim_time'),
    "another node's too",
  );
  assert.deepEqual(
    all.find((p) => p.name === '/foxglove_bridge.use_sim_time'),
    {
      name: '/foxglove_bridge.use_sim_time',
      value: false,
    },
  );
  c.client.setParameters([{ name: '/foxglove_bridge.rate_hz', value: 5 }], 'set');
  await c.statusMatching(/does not let clients set parameters/);
  await until('the values after the refused set', () => c.parameterValues.some((p) => p.id === 'set'));
  assert.deepEqual(c.parameterValues.find((p) => p.id === 'set')!.parameters, [
    { name: '/foxglove_bridge.rate_hz', value: 2, type: 'float64' },
  ]);

  c.client.subscribeConnectionGraph();
  await until('the connection graph', () => c.graph.length > 0);
  assert.deepEqual(
    c.graph[0]!.publishedTopics.find((x) => x.name === '/joint_states'),
    { name: '/joint_states', publisherIds: ['/probe'] },
    "the graph names the publisher's node, not the bridge",
  );
  const viewer = await s.transport.createNode({ name: 'viewer', parameters: defineParams({}) });
  viewer.createSubscription('sensor_msgs/msg/JointState', 'joint_states', () => {});
  await until('an update with the new subscriber', () =>
    c.graph.some((g) =>
      g.subscribedTopics.some((x) => x.name === '/joint_states' && x.subscriberIds.includes('/viewer')),
    ),
  );
});

test('client publishing is refused without clientPublish', async (t) => {
  const s = await setup(t);
  const c = await connect(t, s.port);
  assert.ok(!c.serverInfo!.capabilities.includes('clientPublish'));
  c.client.advertise({ topic: '/emergency_stop', encoding: 'cdr', schemaName: 'std_msgs/msg/Bool' });
  await c.statusMatching(/advertise needs the capability 'clientPublish'/);
  assert.equal(s.transport.bus.topics().get('/emergency_stop'), undefined, 'no publisher was made');
});

test('with clientPublish, only whitelisted topics of known types are published, and a malformed payload is dropped and counted', async (t) => {
  const s = await setup(t, {
    capabilities: ['clientPublish'],
    clientTopicWhitelist: compilePatterns('client_topic_whitelist', ['^/emergency_stop$', '^/goal$']),
  });
  const estop: boolean[] = [];
  const other: boolean[] = [];
  s.probe.createSubscription('std_msgs/msg/Bool', 'emergency_stop', (m) => estop.push(m.data));
  s.probe.createSubscription('std_msgs/msg/Bool', 'cmd_enable', (m) => other.push(m.data));
  const c = await connect(t, s.port);
  assert.deepEqual(c.serverInfo!.supportedEncodings, ['cdr']);
  const bool = codecFor('std_msgs/msg/Bool');
  const good = c.client.advertise({ topic: '/emergency_stop', encoding: 'cdr', schemaName: 'std_msgs/msg/Bool' });
  const refused = c.client.advertise({ topic: '/cmd_enable', encoding: 'cdr', schemaName: 'std_msgs/msg/Bool' });
  c.client.advertise({ topic: '/goal', encoding: 'cdr', schemaName: 'no_such_pkg/msg/Nothing' });
  c.client.advertise({ topic: '/goal', encoding: 'json', schemaName: 'std_msgs/msg/Bool' });
  c.client.sendMessage(good, bool.encode({ data: true }));
  c.client.sendMessage(refused, bool.encode({ data: true }));
  c.client.sendMessage(good, new Uint8Array([0, 1]));
  c.client.sendMessage(good, bool.encode({ data: false }));
  await until('both good messages at the subscriber', () => estop.length >= 2);
  assert.deepEqual(estop, [true, false]);
  assert.deepEqual(other, [], 'a topic outside client_topic_whitelist gets nothing');
  await c.statusMatching(/topic \/cmd_enable is not in client_topic_whitelist/);
  await c.statusMatching(/client channel 2, which was not advertised/);
  await c.statusMatching(/unknown type/);
  await c.statusMatching(/encoding 'json' is not supported/);
  await c.statusMatching(/dropped a malformed message on \/emergency_stop/);
  const f = s.bridge.figures();
  assert.equal(f.client_messages_published, 2);
  assert.equal(f.client_messages_malformed, 1);
  assert.ok(s.bridge.clientStats()[0]!.refused >= 5);
});

test('bad input is answered with status messages or a close, and the server serves the next client', async (t) => {
  const s = await setup(t, { maxIncomingBytes: 4096 });
  const states = s.probe.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
  const raw = new WebSocket(`ws://127.0.0.1:${s.port}`, ['foxglove.websocket.v1']);
  t.after(() => raw.terminate());
  const statuses: string[] = [];
  let closeCode = 0;
  raw.on('message', (data, isBinary) => {
    if (isBinary) return;
    const m = JSON.parse((data as Buffer).toString()) as { op: string; message?: string };
    if (m.op === 'status') statuses.push(m.message!);
  });
  raw.on('close', (code) => (closeCode = code));
  raw.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    raw.once('open', () => resolve());
    raw.once('error', reject);
  });
  const bad: [string | Buffer, RegExp][] = [
    ['not json', /malformed JSON/],
    ['[1,2,3]', /must be a JSON object/],
    ['{"op":"bogus"}', /unknown op "bogus"/],
    [JSON.stringify({ op: 'subscribe', subscriptions: 'all' }), /'subscriptions' must be an array/],
    [
      JSON.stringify({ op: 'subscribe', subscriptions: [{ id: 1, channelId: 999_999 }] }),
      /channel 999999 is not available/,
    ],
    [JSON.stringify({ op: 'subscribe', subscriptions: [{ id: -1, channelId: 1 }] }), /unsigned 32-bit/],
    [JSON.stringify({ op: 'unsubscribe', subscriptionIds: [42] }), /subscription id 42 does not exist/],
    [JSON.stringify({ op: 'fetchAsset', uri: 'package://x/y.urdf', requestId: 1 }), /needs the capability 'assets'/],
    [Buffer.from([9, 0, 0]), /unknown binary opcode 9/],
    [Buffer.alloc(0), /empty binary message/],
    [Buffer.from([1, 7, 0, 0, 0, 1]), /needs the capability 'clientPublish'/],
  ];
  for (const [frame] of bad) raw.send(frame);
  await until('a status for each bad message', () => statuses.length >= bad.length, {
    seen: () => statuses.join(' | '),
  });
  for (const [frame, pattern] of bad)
    assert.ok(
      statuses.some((m) => pattern.test(m)),
      `no status matching ${pattern} for ${String(frame)}: ${statuses.join(' | ')}`,
    );
  // a frame over the limit ends that connection (1009 Message Too Big), and only that one
  raw.send(Buffer.alloc(8192));
  await until('the oversized frame to close the connection', () => closeCode !== 0);
  assert.equal(closeCode, 1009);

  const c = await connect(t, s.port);
  const sub = c.client.subscribe((await c.channel('/joint_states')).id);
  let k = 0;
  await until('a joint state at the next client', () => {
    states.publish(jointState(++k));
    return c.payloads(sub).length > 0;
  });
});

test('a client that never reads stays within its bounds, its drops counted, while another keeps receiving', async (t) => {
  const limit = 64 * 1024;
  const backlog = 8;
  const s = await setup(t, { sendBufferLimitBytes: limit, messageBacklog: backlog });
  const big = s.probe.createPublisher('std_msgs/msg/Float64MultiArray', 'big');
  const message = (marker: number) => {
    const data = new Float64Array(32 * 1024);
    data[0] = marker;
    return { layout: { dim: [], data_offset: 0 }, data };
  };
  const frameBytes = 13 + codecFor('std_msgs/msg/Float64MultiArray').encode(message(0)).byteLength;

  // the slow client connects first (clientStats lists clients in order), subscribes, then stops reading
  const slow = new WebSocket(`ws://127.0.0.1:${s.port}`, ['foxglove.websocket.v1']);
  t.after(() => slow.terminate());
  slow.on('error', () => {});
  let bigChannel: number | undefined;
  slow.on('message', (data, isBinary) => {
    if (isBinary) return;
    const m = JSON.parse((data as Buffer).toString()) as { op: string; channels?: { id: number; topic: string }[] };
    if (m.op === 'advertise') bigChannel ??= m.channels!.find((ch) => ch.topic === '/big')?.id;
  });
  await until('the slow client to see /big', () => bigChannel !== undefined);
  slow.send(JSON.stringify({ op: 'subscribe', subscriptions: [{ id: 1, channelId: bigChannel }] }));
  await until(
    'the bridge to subscribe /big',
    () => (s.transport.bus.topics().get('/big')?.subscriptions.size ?? 0) > 0,
  );
  slow.pause();

  const fast = await connect(t, s.port);
  const fastSub = fast.client.subscribe((await fast.channel('/big')).id);
  await until('the fast client to be subscribed', () => s.bridge.clientStats()[1]?.subscriptions === 1);

  let worst = { queued: 0, queuedBytes: 0, bufferedBytes: 0 };
  let marker = 0;
  await until(
    'the slow client to drop messages',
    () => {
      for (let i = 0; i < 4; i++) big.publish(message(++marker));
      const slowStats = s.bridge.clientStats()[0]!;
      worst = {
        queued: Math.max(worst.queued, slowStats.queued),
        queuedBytes: Math.max(worst.queuedBytes, slowStats.queuedBytes),
        bufferedBytes: Math.max(worst.bufferedBytes, slowStats.bufferedBytes),
      };
      fast.messages.splice(0, Math.max(0, fast.messages.length - 1)); // keep the test's own memory flat
      return slowStats.dropped > 0;
    },
    { seen: () => JSON.stringify(s.bridge.clientStats()) },
  );
  // the marker after the last burst reaches the client that reads
  big.publish(message(-1));
  const codec = codecFor('std_msgs/msg/Float64MultiArray');
  await until('the last message at the fast client', () => {
    const last = fast.payloads(fastSub).at(-1);
    return last !== undefined && codec.decode(last).data[0] === -1;
  });
  const slowStats = s.bridge.clientStats()[0]!;
  assert.ok(slowStats.dropped > 0);
  assert.ok(worst.queued <= backlog, `queued ${worst.queued} > ${backlog}`);
  assert.ok(worst.queuedBytes <= Math.max(limit, frameBytes), `queued bytes ${worst.queuedBytes}`);
  // under the limit one more frame may go: its payload and ws's frame header (at most 14 bytes)
  assert.ok(worst.bufferedBytes <= limit + frameBytes + 14, `buffered bytes ${worst.bufferedBytes}`);
  assert.ok(s.bridge.figures().messages_dropped >= slowStats.dropped);
});
