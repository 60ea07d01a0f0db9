import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { bagInfo, formatBagInfo } from '../../framework/bag/bag_info.js';
import { BagReader } from '../../framework/bag/bag_reader.js';
import { BagWriter } from '../../framework/bag/bag_writer.js';
import { typeHashOf } from '../../framework/bag/type_hash.js';
import { codecFor } from '../../framework/msgs/codec.js';
import { bagDefinitionText } from '../../framework/msgs/schema_codec.js';
import { until } from '../wait.js';
import {
  ROS2_REQUIRED,
  ros2,
  rosEnv,
  rosTest,
  start,
  startDynastack,
  startPython,
  stopDaemon,
  type Child,
} from './ros_env.js';

// The bag library against ROS 2 Jazzy's own rosbag2 (MCAP plugin): `ros2 bag info` reads a bag we
// wrote (zstd chunks) and prints exactly what bag_info.ts prints for it; `ros2 bag play` of it
// reaches an rclpy subscriber, every message; and a bag `ros2 bag record -s mcap` made opens with
// our reader, with rosbag2's schema text byte for byte what bagDefinitionText gives, the same
// counts as `ros2 bag info`, and messages our codec decodes. These need the ros2 CLI and rclpy, not
// rclnodejs, so they check only that ROS 2 is sourced with loopback-only DDS. ROS_DOMAIN_ID 56 is
// this file's own; times print in UTC on both sides (TZ).

const DOMAIN = 56;
process.env.TZ = 'UTC';

function bagRosUnavailable(): string | undefined {
  if (!process.env.ROS_DISTRO)
    return 'ROS 2 is not sourced (ROS_DISTRO unset): run `npm run test:ros2` with ROS 2 sourced';
  if (!process.env.CYCLONEDDS_URI && !process.env.ROS_AUTOMATIC_DISCOVERY_RANGE)
    return 'ROS 2 is sourced without loopback-only DDS settings: source the env.sh that sets ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST';
  return undefined;
}

/** As ros_env.ts's rosTest, without its need of rclnodejs: skipped saying why, or failed under test:ros2. */
function bagTest(name: string, fn: (t: TestContext) => Promise<void>): void {
  const why = bagRosUnavailable();
  if (why === undefined) test(name, { timeout: 180_000 }, fn);
  else if (ROS2_REQUIRED)
    test(name, () => {
      throw new Error(`cannot run: ${why}`);
    });
  else test(`${name} — skipped: ${why}`, { skip: true }, fn);
}

function setUp(t: TestContext): { env: NodeJS.ProcessEnv; dir: string; children: Child[] } {
  const env = rosEnv(DOMAIN, { TZ: 'UTC' });
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-ros2-bag-'));
  const children: Child[] = [];
  t.after(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await stopDaemon(env);
    rmSync(dir, { recursive: true, force: true });
  });
  return { env, dir, children };
}

const N_JOINT_STATES = 300;
const N_STRINGS = 60;

/** A bag of JointStates (position[0] = index) and Strings ("message <index>") at 100 Hz of log time. */
async function writeOurBag(path: string): Promise<void> {
  const writer = await BagWriter.open(path, { diskSpace: { minFreeBytes: 0, minFreeFraction: 0 } });
  const js = codecFor('sensor_msgs/msg/JointState');
  const str = codecFor('std_msgs/msg/String');
  const t0 = BigInt(Date.now()) * 1_000_000n;
  for (let i = 0; i < N_JOINT_STATES; i++) {
    const t = t0 + BigInt(i) * 10_000_000n;
    const stamp = { sec: Number(t / 1_000_000_000n), nanosec: Number(t % 1_000_000_000n) };
    writer.write(
      '/joint_states',
      'sensor_msgs/msg/JointState',
      t,
      js.encode({ header: { stamp, frame_id: 'base' }, name: ['a', 'b'], position: [i, 0], velocity: [], effort: [] }),
    );
    if (i % 5 === 0) writer.write('/chatter', 'std_msgs/msg/String', t, str.encode({ data: `message ${i / 5}` }));
  }
  writer.close();
}

bagTest('ros2 bag info reads a bag we wrote, and prints what bag_info prints', async (t) => {
  const { env, dir } = setUp(t);
  const path = join(dir, 'ours');
  await writeOurBag(path);
  const printed = await ros2(['bag', 'info', path], env);
  assert.match(
    printed,
    /Topic: \/joint_states \| Type: sensor_msgs\/msg\/JointState \| Count: 300 \| Serialization Format: cdr/,
  );
  assert.match(printed, /Topic: \/chatter \| Type: std_msgs\/msg\/String \| Count: 60 \| Serialization Format: cdr/);
  assert.match(printed, /Messages:\s+360\n/);
  assert.equal(formatBagInfo(await bagInfo(path)).trim(), printed.trim());
});

/** What COUNT_PEER counted once it had every message it waits for (its "result {…}" line). */
async function peerCounts(peer: Child, player: Child): Promise<unknown> {
  await until('the peer to have received every message', () => peer.output().includes('result '), {
    timeoutMs: 120_000,
    seen: () => `${peer.output().slice(-300)} | ${player.output().slice(-300)}`,
  });
  const line = peer
    .output()
    .split('\n')
    .find((l) => l.startsWith('result '))!;
  return JSON.parse(line.slice('result '.length));
}

const COUNT_PEER = `
import json, sys
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import String

# counts the distinct messages of a looping ros2 bag play; prints "result {...}" once all are in
want_js, want_str = int(sys.argv[1]), int(sys.argv[2])
rclpy.init()
node = Node("bag_count_peer")
js, st = set(), set()
printed = [False]
def check():
    if not printed[0] and len(js) >= want_js and len(st) >= want_str:
        printed[0] = True
        print("result " + json.dumps({"joint_states": len(js), "strings": len(st)}), flush=True)
node.create_subscription(JointState, "/joint_states", lambda m: (js.add(int(m.position[0])), check()), 100)
node.create_subscription(String, "/chatter", lambda m: (st.add(m.data), check()), 100)
print("ready", flush=True)
try:
    rclpy.spin(node)
except (KeyboardInterrupt, ExternalShutdownException):
    pass
`;

bagTest('ros2 bag play of a bag we wrote reaches an rclpy subscriber, every message', async (t) => {
  const { env, dir, children } = setUp(t);
  const path = join(dir, 'played');
  await writeOurBag(path);
  const peer = startPython(COUNT_PEER, [String(N_JOINT_STATES), String(N_STRINGS)], env);
  children.push(peer);
  await until('the rclpy peer to start', () => peer.output().includes('ready'), { seen: () => peer.output() });
  // played in a loop, so a message sent before discovery matched the peer comes round again
  const player = start('ros2', ['bag', 'play', '--loop', '--rate', '4', path], env);
  children.push(player);
  assert.deepEqual(await peerCounts(peer, player), { joint_states: N_JOINT_STATES, strings: N_STRINGS });
});

/** Publishes `n` JointStates (position[0] = index) and Strings ("message <index>") once a recorder has subscribed to both. */
const INDEXED_PUBLISHER = `
import sys, time
import rclpy
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import String
n = int(sys.argv[1])
rclpy.init()
node = Node("bag_indexed_publisher")
pj = node.create_publisher(JointState, "/joint_states", 100)
ps = node.create_publisher(String, "/chatter", 100)
while pj.get_subscription_count() < 1 or ps.get_subscription_count() < 1:
    time.sleep(0.05)
time.sleep(0.5)
for i in range(n):
    m = JointState(); m.name = ["a"]; m.position = [float(i)]
    pj.publish(m)
    s = String(); s.data = "message %d" % i
    ps.publish(s)
    time.sleep(0.01)
time.sleep(1.0)
print("published", flush=True)
node.destroy_node()
rclpy.shutdown()
`;

// `dynastack bag play` publishes through rclnodejs, so this one needs the ROS 2 transport too
rosTest(
  'dynastack bag info and play on a bag ros2 bag record made: every message reaches an rclpy subscriber, with /clock',
  async (t) => {
    const { env, dir, children } = setUp(t);
    const N = 50;
    const path = join(dir, 'made_by_rosbag2');
    const recorder = start('ros2', ['bag', 'record', '-s', 'mcap', '-o', path, '/joint_states', '/chatter'], env);
    children.push(recorder);
    const publisher = startPython(INDEXED_PUBLISHER, [String(N)], env);
    children.push(publisher);
    assert.equal(await publisher.exited, 0, publisher.output());
    await recorder.stop();
    const info = startDynastack(['bag', 'info', path], env);
    children.push(info);
    await info.exited;
    assert.match(
      info.output(),
      /Topic: \/joint_states \| Type: sensor_msgs\/msg\/JointState \| Count: 50 /,
      info.output(),
    );
    assert.match(info.output(), /Topic: \/chatter \| Type: std_msgs\/msg\/String \| Count: 50 /);

    const peer = startPython(COUNT_PEER, [String(N), String(N)], env);
    children.push(peer);
    await until('the rclpy peer to start', () => peer.output().includes('ready'), { seen: () => peer.output() });
    // played in a loop, so a message sent before discovery matched the peer comes round again
    const player = startDynastack(
      ['bag', 'play', path, '--loop', '--rate', '4', '--clock', '50', '--transport', 'ros2'],
      env,
    );
    children.push(player);
    assert.deepEqual(await peerCounts(peer, player), { joint_states: N, strings: N });
    const clock = await ros2(['topic', 'echo', '--once', '/clock', 'rosgraph_msgs/msg/Clock'], env);
    assert.match(clock, /sec: \d+/, 'the player publishes /clock');
  },
);

bagTest('a bag ros2 bag record -s mcap made opens with our reader: rosbag2 schemas, counts, decoding', async (t) => {
  const { env, dir, children } = setUp(t);
  const path = join(dir, 'recorded');
  const recorder = start('ros2', ['bag', 'record', '-s', 'mcap', '-o', path, '/js', '/chatter'], env);
  children.push(recorder);
  // the publishers wait for the recorder's subscription, then publish a fixed number and exit
  const publishers = [
    start(
      'ros2',
      [
        'topic',
        'pub',
        '-w',
        '1',
        '-t',
        '40',
        '-r',
        '50',
        '/js',
        'sensor_msgs/msg/JointState',
        '{name: [a, b], position: [1.5, 2.5]}',
      ],
      env,
    ),
    start(
      'ros2',
      ['topic', 'pub', '-w', '1', '-t', '20', '-r', '50', '/chatter', 'std_msgs/msg/String', '{data: hello}'],
      env,
    ),
  ];
  children.push(...publishers);
  await Promise.all(publishers.map((p) => p.exited));
  await recorder.stop();
  const printed = await ros2(['bag', 'info', path], env);

  const reader = await BagReader.open(path);
  t.after(() => reader.close());
  assert.equal(reader.recovery.length, 0);
  const byName = new Map(reader.topics.map((x) => [x.name, x]));
  const js = byName.get('/js')!;
  const chatter = byName.get('/chatter')!;
  assert.equal(js.type, 'sensor_msgs/msg/JointState');
  assert.equal(chatter.type, 'std_msgs/msg/String');
  assert.equal(js.schemaText, bagDefinitionText('sensor_msgs/msg/JointState'));
  assert.equal(chatter.schemaText, bagDefinitionText('std_msgs/msg/String'));
  assert.equal(js.typeDescriptionHash, typeHashOf(js.type, js.schemaText));
  assert.equal(chatter.typeDescriptionHash, typeHashOf(chatter.type, chatter.schemaText));
  assert.equal(js.offeredQos[0]?.reliability, 'reliable');
  assert.ok(js.messageCount > 0 && chatter.messageCount > 0);
  assert.match(printed, new RegExp(`Topic: /js \\| Type: sensor_msgs/msg/JointState \\| Count: ${js.messageCount} `));
  assert.match(
    printed,
    new RegExp(`Topic: /chatter \\| Type: std_msgs/msg/String \\| Count: ${chatter.messageCount} `),
  );
  assert.equal(formatBagInfo(await bagInfo(path)).trim(), printed.trim());
  let previous = 0n;
  let decoded = 0;
  for await (const m of reader.messages({ topics: ['/js'] })) {
    assert.ok(m.logTimeNs >= previous);
    previous = m.logTimeNs;
    const state = reader.decode(m) as { name: string[]; position: Float64Array };
    assert.deepEqual(state.name, ['a', 'b']);
    assert.deepEqual([...state.position], [1.5, 2.5]);
    decoded++;
  }
  assert.equal(decoded, js.messageCount);
});
