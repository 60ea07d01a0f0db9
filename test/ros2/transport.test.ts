// The ROS 2 transport against a real rcl (rclnodejs over ROS 2 Jazzy), with ROS 2's own tools and
// rclpy as the other side: pub/sub, QoS and latching, parameters of every type from files and -p
// (read by the node and by `ros2 param get`), /clock from a best-effort and a reliable rclpy
// publisher driving a use_sim_time node's ROS timer, log lines on /rosout (and not with
// --disable-rosout-logs), parameter events on /parameter_events, rclcpp's refusal for undeclared
// parameters, matched publisher/subscription counts, and `dynastack run`'s node name under a
// namespace remap. Every ROS 2 process here runs in
// ROS_DOMAIN_ID 51 (this file's own), with the loopback-only DDS settings of the sourced env.sh;
// the transports of this process too.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { codecFor } from '../../framework/msgs/codec.js';
import type { StringMsg } from '../../framework/msgs/types.js';
import type { TimerInfo } from '../../framework/time/clock.js';
import { QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA } from '../../framework/transport/qos.js';
import type { Transport } from '../../framework/transport/types.js';
import { defineParams } from '../../src/util/param_schema.js';
import { until } from '../wait.js';
import { ros2, rosEnv, rosTest, run, startDynastack, startPython, stopDaemon, type Child } from './ros_env.js';

const DOMAIN = 51;
const env = rosEnv(DOMAIN);
// the transports created in this process join the same domain as its child processes
process.env.ROS_DOMAIN_ID = String(DOMAIN);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function withTransport(argv: string[], fn: (t: Transport) => Promise<void>): Promise<void> {
  const { Ros2Transport } = await import('../../framework/transport/ros2/transport.js');
  const transport = await Ros2Transport.create({ argv: ['node', 'transport.test.js', ...argv] });
  try {
    await fn(transport);
  } finally {
    await transport.shutdown();
  }
}

const schema = defineParams({
  rate_hz: { type: 'double', default: 100, range: [0.5, 1000], description: 'command rate' },
  steps: { type: 'integer', default: 10, range: [1, 100], choices: [1, 10, 100], description: 'steps', readOnly: true },
  gains: { type: 'double_array', default: [1, 2, 3], length: 3, range: [-10, 10], description: 'gains' },
  mode: { type: 'string', default: 'lockstep', choices: ['lockstep', 'realtime'], description: 'sim mode' },
});

// one namespace per run, so parallel runs on one ROS domain do not hear each other
const ns = `/dynastack_test_${process.pid}`;

rosTest('pub/sub round trip over rcl with QoS; raw subscription gets the CDR bytes', async () => {
  await withTransport([], async (t) => {
    const talker = await t.createNode({ name: 'talker', namespace: ns, parameters: {} });
    const listener = await t.createNode({ name: 'listener', namespace: ns, parameters: {} });
    const got: string[] = [];
    const raw: Uint8Array[] = [];
    listener.createSubscription('std_msgs/msg/String', 'chatter', (m) => got.push(m.data), { qos: QOS_DEFAULT });
    listener.createRawSubscription('std_msgs/msg/String', 'chatter', (b) => raw.push(b));
    // a reliable reader does not match a best-effort writer (DDS request/offered)
    const mismatched: string[] = [];
    listener.createSubscription('std_msgs/msg/String', 'lossy', (m) => mismatched.push(m.data), {
      qos: { reliability: 'reliable' },
    });
    const pub = talker.createPublisher('std_msgs/msg/String', 'chatter', QOS_DEFAULT);
    const lossy = talker.createPublisher('std_msgs/msg/String', 'lossy', QOS_SENSOR_DATA);
    assert.equal(pub.topic, `${ns}/chatter`);
    await until('discovery', () => pub.subscriptionCount() >= 2);
    // publish until both readers have heard: a reader matched on the writer's side may not yet be
    // ready on its own, so the first samples can miss it
    let i = 0;
    await until('three messages and a raw one', () => {
      if (got.length >= 3 && raw.length >= 1) return true;
      pub.publish({ data: `hello ${i}` });
      lossy.publish({ data: `lossy ${i++}` });
      return false;
    });
    assert.match(got[0]!, /^hello \d+$/);
    assert.equal(codecFor('std_msgs/msg/String').decode(raw[0]!).data.startsWith('hello'), true);
    assert.deepEqual(mismatched, []);
    const stats = talker.stats().find((s) => s.topic === `${ns}/chatter`);
    assert.ok(stats && stats.count >= 3 && stats.direction === 'publish');
    // publishRaw sends our codec's bytes as they are
    const before = got.length;
    pub.publishRaw(codecFor('std_msgs/msg/String').encode({ data: 'raw' } satisfies StringMsg));
    await until('the raw message', () => got.length > before);
    assert.equal(got.at(-1), 'raw');
  });
});

rosTest('a transient-local subscriber that joins late gets the latched message', async () => {
  await withTransport([], async (t) => {
    const a = await t.createNode({ name: 'latcher', namespace: ns, parameters: {} });
    const pub = a.createPublisher('std_msgs/msg/String', 'model', QOS_LATCHED);
    pub.publish({ data: 'v1' });
    pub.publish({ data: 'v2' });
    await sleep(500);
    const b = await t.createNode({ name: 'late', namespace: ns, parameters: {} });
    const got: string[] = [];
    b.createSubscription('std_msgs/msg/String', 'model', (m) => got.push(m.data), { qos: QOS_LATCHED });
    await until('the latched message', () => got.length > 0);
    assert.deepEqual(got, ['v2']); // depth 1 keeps the newest
  });
});

rosTest('parameters from --params-file and -p are validated, declared, and bad ones stop the node', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-params-'));
  try {
    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      `/**:\n  ros__parameters:\n    rate_hz: 250\n${ns}/tuned:\n  ros__parameters:\n    steps: 100\n    gains: [0.5, 0.5, 0.5]\n`,
    );
    await withTransport(['--ros-args', '--params-file', good, '-p', 'mode:=realtime'], async (t) => {
      const node = await t.createNode({ name: 'tuned', namespace: ns, parameters: schema });
      assert.equal(node.params.rate_hz, 250);
      assert.equal(node.params.steps, 100);
      assert.deepEqual(node.params.gains, [0.5, 0.5, 0.5]);
      assert.equal(node.params.mode, 'realtime');
      assert.equal(node.params.use_sim_time, false);
      assert.equal(node.clock.isSimTime, false);
    });
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, `${ns}/tuned:\n  ros__parameters:\n    steps: 1000\n`);
    await withTransport(['--ros-args', '--params-file', bad], async (t) => {
      await assert.rejects(
        t.createNode({ name: 'tuned', namespace: ns, parameters: schema }),
        /bad\.yaml .*node .*\/tuned: parameter 'steps': 1000 is outside the range \[1, 100\]/,
      );
    });
    // use_sim_time from a file switches the ROS clock to /clock (0 until a /clock message arrives)
    await withTransport(['--ros-args', '-p', 'use_sim_time:=true'], async (t) => {
      const node = await t.createNode({ name: 'simmed', namespace: ns, parameters: {} });
      assert.equal(node.params.use_sim_time, true);
      assert.equal(node.clock.isSimTime, true);
      assert.equal(node.clock.now(), 0n);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// What rcl's timer guarantees on a loaded machine, not a rate or a lateness: it keeps firing, at most
// once per period (rcl skips missed periods rather than bunching them), never before it is due, and
// not after cancel.
rosTest(
  'a 100 Hz timer on the steady clock: at most once per period, never early, none after cancel; the ROS clock reads system time',
  async () => {
    await withTransport([], async (t) => {
      const node = await t.createNode({ name: 'ticker', namespace: ns, parameters: {} });
      const periodNs = 10_000_000n;
      const infos: TimerInfo[] = [];
      const start = node.steadyClock.now();
      const timer = node.createTimer(periodNs, (info) => infos.push(info), node.steadyClock);
      await until('30 timer calls', () => infos.length >= 30);
      timer.cancel();
      const canceledNs = node.steadyClock.now();
      const count = infos.length;
      assert.ok(
        BigInt(count) <= (canceledNs - start) / periodNs + 1n,
        `${count} calls in ${Number(canceledNs - start) / 1e6} ms: more than one per 10 ms period`,
      );
      // (on Humble the expected time is derived from the next deadline, so it is not compared across calls)
      for (const [i, info] of infos.entries())
        assert.ok(info.expectedNs <= info.actualNs, `call ${i} ran before it was due`);
      // a call left armed would be due within a period: three periods on another timer come after it
      let probe = 0;
      const probeTimer = node.createTimer(periodNs, () => probe++, node.steadyClock);
      await until('three periods after cancel', () => probe >= 3);
      probeTimer.cancel();
      assert.equal(infos.length, count, 'no call after cancel');
      // the ROS clock (no use_sim_time) is the system clock: bracketed by two reads of it
      const before = BigInt(Date.now()) * 1_000_000n;
      const ros = node.clock.now();
      const after = BigInt(Date.now() + 1) * 1_000_000n;
      assert.ok(ros >= before - 1_000_000_000n && ros <= after + 1_000_000_000n, `ROS time ${ros}, system ${before}`);
    });
  },
);

// ---- an rclpy peer that reports the graph and /rosout ----------------------------------------------

/**
 * rclpy: prints every /rosout line it hears ("LOG <name> <level> <msg>") and, every 100 ms, the
 * nodes publishing on each topic given ("PUBS <topic> <fqn,fqn>"), in the order given.
 */
const GRAPH_PEER = `
import sys, rclpy
from rclpy.node import Node
from rcl_interfaces.msg import Log
rclpy.init()
node = Node('graph_peer')
node.create_subscription(Log, '/rosout', lambda m: print('LOG', m.name, m.level, m.msg, flush=True), 100)
def report():
    for topic in sys.argv[1:]:
        infos = node.get_publishers_info_by_topic(topic)
        names = sorted(i.node_namespace.rstrip('/') + '/' + i.node_name for i in infos)
        print('PUBS', topic, ','.join(names), flush=True)
node.create_timer(0.1, report)
try:
    rclpy.spin(node)
except BaseException:
    pass
`;

/** The publishers of every topic in the peer's first report where `topic`'s satisfy `ok`. */
async function graphWhere(
  peer: Child,
  topic: string,
  ok: (nodes: string[]) => boolean,
): Promise<Map<string, string[]>> {
  let found: Map<string, string[]> | undefined;
  await until(
    `the graph peer to see ${topic}'s publishers change`,
    () => {
      let report = new Map<string, string[]>();
      for (const line of peer.output().split('\n')) {
        const m = /^PUBS (\S+) ?(\S*)$/.exec(line);
        if (!m) continue;
        if (report.has(m[1]!)) report = new Map(); // a new report begins
        report.set(m[1]!, m[2] ? m[2].split(',') : []);
        if (m[1] === topic && ok(report.get(topic)!)) found = report;
      }
      return found !== undefined;
    },
    { seen: () => peer.output().split('\n').slice(-5).join(' | ') },
  );
  return found!;
}

// ---- parameters of every type (integer arrays stopped every node: rcl got the -p/--params-file) ----

const everyType = defineParams({
  an_int: { type: 'integer', default: 0, description: 'an integer' },
  a_double: { type: 'double', default: 0, description: 'a double' },
  a_bool: { type: 'bool', default: false, description: 'a bool' },
  a_string: { type: 'string', default: '', description: 'a string' },
  ints: { type: 'integer_array', default: [0], description: 'integers' },
  doubles: { type: 'double_array', default: [0], description: 'doubles' },
  bools: { type: 'bool_array', default: [false], description: 'bools' },
  strings: { type: 'string_array', default: [''], description: 'strings' },
});

rosTest(
  'parameters of every type from files (own, wildcard and other nodes’ sections) and -p reach the node and `ros2 param get`',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dynastack-params-'));
    try {
      const file = join(dir, 'typed.yaml');
      writeFileSync(
        file,
        [
          '/**:',
          '  ros__parameters:',
          '    a_double: 2.5',
          `${ns}/typed:`,
          '  ros__parameters:',
          '    an_int: 7',
          '    a_string: hello',
          '    ints: [1, 2, 3]',
          '    doubles: [0.5, -1.5]',
          '    bools: [true, false, true]',
          '    strings: [a, b c]',
          // another node's section, integer arrays and all: it must not stop this node
          `${ns}/other:`,
          '  ros__parameters:',
          '    ensemble:',
          '      hidden: [200, 200]',
          '    initial_positions: [0, 1]',
          '    flags: [true]',
          '    names: [x]',
          '    gain: 1.0',
        ].join('\n') + '\n',
      );
      const argv = [
        '--ros-args',
        '--params-file',
        file,
        '-p',
        'a_bool:=true', // every node of the process
        '-p',
        'typed:ints:=[4, 5]', // this node by name, after the file: wins
        '-p',
        'other:more_ints:=[9, 8]', // another node's integer array on the command line
      ];
      await withTransport(argv, async (t) => {
        const node = await t.createNode({ name: 'typed', namespace: ns, parameters: everyType });
        assert.deepEqual(
          { ...node.params },
          {
            use_sim_time: false,
            embedded_thread: '',
            an_int: 7,
            a_double: 2.5,
            a_bool: true,
            a_string: 'hello',
            ints: [4, 5],
            doubles: [0.5, -1.5],
            bools: [true, false, true],
            strings: ['a', 'b c'],
          },
        );
        // as ROS 2's own tools read them from the node's parameter services: every value with
        // `ros2 param dump`, and `ros2 param get` of the arrays (one process each: a few seconds)
        const me = `${ns}/typed`;
        const [dump, ints, doubles, bools, strings] = await Promise.all([
          ros2(['param', 'dump', '--no-daemon', me], env),
          ...['ints', 'doubles', 'bools', 'strings'].map((name) =>
            ros2(['param', 'get', '--no-daemon', me, name], env),
          ),
        ]);
        const dumped = (parseYaml(dump) as Record<string, { ros__parameters: Record<string, unknown> }>)[me];
        for (const name of Object.keys(everyType))
          assert.deepEqual(
            dumped?.ros__parameters[name],
            (node.params as Record<string, unknown>)[name],
            `ros2 param dump: ${name}`,
          );
        assert.equal(dumped?.ros__parameters.use_sim_time, false);
        assert.equal(ints!.trim(), 'Integer values are: [4, 5]');
        assert.equal(doubles!.trim(), 'Double values are: [0.5, -1.5]');
        assert.equal(bools!.trim(), 'Boolean values are: [True, False, True]');
        assert.equal(strings!.trim(), "String values are: ['a', 'b c']");
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await stopDaemon(env);
    }
  },
);

rosTest(
  'parameter events go to /parameter_events as rclcpp’s; an undeclared parameter is refused with rclcpp’s reason',
  async () => {
    const topics = ['/parameter_events', `${ns}/parameter_events`, `${ns}/marker`];
    const peer = startPython(GRAPH_PEER, topics, env);
    try {
      await withTransport([], async (t) => {
        const node = await t.createNode({ name: 'evented', namespace: ns, parameters: everyType });
        node.createPublisher('std_msgs/msg/String', 'marker');
        const me = `${ns}/evented`;
        // the marker publisher was created after the node's parameter-events publisher, by the
        // same participant: once the peer's graph has it, it has the other one too
        const graph = await graphWhere(peer, `${ns}/marker`, (nodes) => nodes.includes(me));
        assert.ok(graph.get('/parameter_events')?.includes(me), `not a /parameter_events publisher: ${peer.output()}`);
        assert.ok(!graph.get(`${ns}/parameter_events`)?.includes(me), `${me} publishes on ${ns}/parameter_events`);
        // ros2 param set prints a refusal on stderr
        const [refused, ours] = await Promise.all([
          run('ros2', ['param', 'set', '--no-daemon', me, 'not_declared', '1'], env),
          run('ros2', ['param', 'set', '--no-daemon', me, 'an_int', '3'], env),
        ]);
        assert.equal(
          (refused.stdout + refused.stderr).trim(),
          "Setting parameter failed: parameter 'not_declared' cannot be set because it was not declared",
        );
        assert.match(ours.stdout + ours.stderr, /Setting parameter failed: .*evented reads 'an_int' once, at start-up/);
      });
    } finally {
      await peer.stop();
      await stopDaemon(env);
    }
  },
);

// ---- /clock: best-effort (rclcpp ClockQoS, `ros2 bag play --clock`) and reliable publishers ------

/** rclpy publishing /clock from 100 s on, 10 ms of sim time every 10 ms, at the reliability given. */
const CLOCK_PEER = `
import sys, rclpy
from rclpy.node import Node
from rclpy.qos import QoSProfile, HistoryPolicy, ReliabilityPolicy
from rosgraph_msgs.msg import Clock
rclpy.init()
node = Node('clock_peer')
reliability = ReliabilityPolicy.BEST_EFFORT if sys.argv[1] == 'best_effort' else ReliabilityPolicy.RELIABLE
pub = node.create_publisher(Clock, '/clock', QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=reliability))
now = [100 * 10**9]
def tick():
    now[0] += 10**7
    msg = Clock()
    msg.clock.sec = now[0] // 10**9
    msg.clock.nanosec = now[0] % 10**9
    pub.publish(msg)
node.create_timer(0.01, tick)
print('publishing /clock', sys.argv[1], flush=True)
try:
    rclpy.spin(node)
except BaseException:
    pass
`;

for (const reliability of ['best_effort', 'reliable'] as const) {
  rosTest(
    `a use_sim_time node follows /clock from a ${reliability} rclpy publisher: its ROS timer fires on sim time`,
    async () => {
      const peer = startPython(CLOCK_PEER, [reliability], env);
      try {
        await withTransport(['--ros-args', '-p', 'use_sim_time:=true'], async (t) => {
          const node = await t.createNode({ name: `sim_${reliability}`, namespace: ns, parameters: {} });
          assert.equal(node.clock.isSimTime, true);
          const fired: bigint[] = [];
          // 100 ms of sim time: the timer fires only as /clock advances
          const timer = node.createTimer(100_000_000n, () => fired.push(node.clock.now()));
          await until('three calls of a timer on sim time', () => fired.length >= 3, {
            seen: () => `${fired.length} calls, clock ${node.clock.now()} ns; peer: ${peer.output().trim()}`,
          });
          timer.cancel();
          for (const at of fired) assert.ok(at > 100_000_000_000n, `the timer ran at ${at} ns, before /clock's time`);
          assert.ok(node.clock.now() > 100_000_000_000n);
        });
      } finally {
        await peer.stop();
      }
    },
  );
}

// ---- /rosout -------------------------------------------------------------------------------------

rosTest(
  'log lines reach /rosout by default with the node’s logger name; --disable-rosout-logs keeps them off',
  async () => {
    const topics = ['/rosout', `${ns}/marker`];
    const peer = startPython(GRAPH_PEER, topics, env);
    try {
      await withTransport([], async (t) => {
        const node = await t.createNode({ name: 'loud', namespace: ns, parameters: {} });
        const name = `${ns.slice(1)}.loud`; // rcl's logger name: the namespace and name joined with dots
        let i = 0;
        await until(
          'an rclpy subscriber of /rosout to hear the node',
          () => {
            node.logger.info(`rosout probe ${i++}`);
            return new RegExp(`^LOG ${name} 20 rosout probe \\d+$`, 'm').test(peer.output());
          },
          { intervalMs: 100, seen: () => peer.output().split('\n').slice(-3).join(' | ') },
        );
      });
      await withTransport(['--ros-args', '--disable-rosout-logs'], async (t) => {
        const node = await t.createNode({ name: 'quiet', namespace: ns, parameters: {} });
        node.logger.info('not for /rosout');
        node.createPublisher('std_msgs/msg/String', 'marker');
        const me = `${ns}/quiet`;
        // the marker publisher comes after the logger's would-be /rosout publisher, from the same participant
        const graph = await graphWhere(peer, `${ns}/marker`, (nodes) => nodes.includes(me));
        assert.ok(
          !graph.get('/rosout')?.includes(me),
          `${me} publishes on /rosout: ${graph.get('/rosout')?.join(',')}`,
        );
      });
      assert.doesNotMatch(peer.output(), /not for \/rosout/);
    } finally {
      await peer.stop();
    }
  },
);

// ---- matched counts --------------------------------------------------------------------------------

/** rclpy: a reliable publisher on <ns>/from_py (one message every 100 ms) and a subscriber on <ns>/to_py. */
const COUNT_PEER = `
import sys, rclpy
from rclpy.node import Node
from std_msgs.msg import String
rclpy.init()
node = Node('count_peer', namespace=sys.argv[1])
pub = node.create_publisher(String, 'from_py', 10)
node.create_subscription(String, 'to_py', lambda m: print('GOT', m.data, flush=True), 10)
node.create_timer(0.1, lambda: pub.publish(String(data='from rclpy')))
print('ready', flush=True)
try:
    rclpy.spin(node)
except BaseException:
    pass
`;

rosTest(
  'Subscription.publisherCount and Publisher.subscriptionCount count an rclpy peer, QoS-compatible ones only',
  async () => {
    await withTransport([], async (t) => {
      const node = await t.createNode({ name: 'counter', namespace: ns, parameters: {} });
      const heard: string[] = [];
      const sub = node.createSubscription('std_msgs/msg/String', 'from_py', (m) => heard.push(m.data));
      // a transient-local reader does not match the peer's volatile writer (DDS request/offered)
      const latchedSub = node.createSubscription('std_msgs/msg/String', 'from_py', () => undefined, {
        qos: QOS_LATCHED,
      });
      const pub = node.createPublisher('std_msgs/msg/String', 'to_py');
      assert.equal(sub.publisherCount(), 0);
      assert.equal(pub.subscriptionCount(), 0);
      const peer = startPython(COUNT_PEER, [ns], env);
      try {
        await until('the peer matched both ways', () => sub.publisherCount() === 1 && pub.subscriptionCount() === 1, {
          seen: () => `publisherCount ${sub.publisherCount()}, subscriptionCount ${pub.subscriptionCount()}`,
        });
        await until('a message from the peer', () => heard.length > 0);
        await until('the peer to hear us', () => {
          pub.publish({ data: 'to rclpy' });
          return peer.output().includes('GOT to rclpy');
        });
        assert.equal(latchedSub.publisherCount(), 0, 'an incompatible publisher is not counted');
      } finally {
        await peer.stop();
      }
      await until(
        'the counts to drop when the peer is gone',
        () => sub.publisherCount() === 0 && pub.subscriptionCount() === 0,
      );
      sub.destroy();
      assert.equal(sub.publisherCount(), 0);
    });
  },
);
// ---- dynastack run under a namespace remap -------------------------------------------------------

rosTest('`dynastack run --transport ros2` with -r __ns:=/x logs the node’s remapped name', async () => {
  const child = startDynastack(
    ['run', 'demo_talker', '--transport', 'ros2', '--duration', '1', '--ros-args', '-r', `__ns:=${ns}/remapped`],
    env,
  );
  try {
    const code = await child.exited;
    const out = child.output();
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`${ns}/remapped/demo_talker: stopping`));
    assert.doesNotMatch(out, /\] \/demo_talker/, 'a line names the node without its namespace');
  } finally {
    await child.stop();
  }
});
