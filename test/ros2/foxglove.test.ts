// The Foxglove bridge node on the ROS 2 transport, as a robot runs it (`dynastack run
// foxglove_bridge --transport ros2`), against an rclpy peer (peers/foxglove_peer.py) and
// @foxglove/ws-protocol's own client: the peer's topics found through rcl's graph and advertised with
// their ros2msg schemas, the peer's best-effort JointState reaching a client and decoding to what
// rclpy published, its latched String reaching a first client and a later one, the connection graph
// naming the rclpy node, the rclpy node's parameters (from its parameter services), and a whitelisted client publish (std_msgs/Bool) reaching rclpy. Runs in
// ROS_DOMAIN_ID 58 (this file's own) with the loopback-only DDS settings of the sourced env.sh.

import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { Level } from '../../framework/foxglove/protocol.js';
import { codecFor } from '../../framework/msgs/codec.js';
import { packageRoot } from '../../src/util/paths.js';
import { until } from '../wait.js';
import { TestClient } from '../framework/foxglove/foxglove_client.js';
import { rosEnv, rosTest, start, startDynastack, type Child } from './ros_env.js';

const DOMAIN = 58;
const PEERS = join(packageRoot(), 'test', 'ros2', 'peers');
const PREFIX = `/fg_${process.pid}`;

function children(t: TestContext): Child[] {
  const list: Child[] = [];
  t.after(async () => {
    await Promise.all(list.map((c) => c.stop()));
  });
  return list;
}

rosTest(
  "foxglove_bridge on ROS 2: an rclpy node's topics to a Foxglove client, latched ones to every client, a whitelisted client publish to rclpy",
  async (t) => {
    const env = rosEnv(DOMAIN);
    const running = children(t);
    const peer = start('python3', [join(PEERS, 'foxglove_peer.py'), PREFIX], env);
    running.push(peer);
    await until('the rclpy peer', () => peer.output().includes('peer ready') || peer.process.exitCode !== null, {
      timeoutMs: 60_000,
      seen: () => peer.output(),
    });
    const bridge = startDynastack(
      [
        'run',
        'foxglove_bridge',
        '--transport',
        'ros2',
        '--duration',
        '170',
        '--ros-args',
        '-p',
        'port:=0',
        '-p',
        `topic_whitelist:=['^${PREFIX}/.*']`,
        '-p',
        "capabilities:=['parameters', 'connectionGraph', 'clientPublish']",
        '-p',
        `client_topic_whitelist:=['^${PREFIX}/emergency_stop$']`,
        '-p',
        'max_update_ms:=200.0',
      ],
      env,
    );
    running.push(bridge);
    let port = 0;
    await until(
      'the bridge listening',
      () => (port = Number(/listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(bridge.output())?.[1] ?? 0)) > 0,
      { timeoutMs: 60_000, seen: () => bridge.output() },
    );

    const first = await TestClient.connect(port);
    t.after(() => first.close());
    // found through rcl's graph, with the schema foxglove_bridge would send
    const states = await first.channel(`${PREFIX}/joint_states`);
    assert.equal(states.schemaName, 'sensor_msgs/msg/JointState');
    assert.equal(states.encoding, 'cdr');
    assert.equal(states.schemaEncoding, 'ros2msg');
    assert.match(states.schema, /^std_msgs\/Header header/m);
    const statesSub = first.client.subscribe(states.id);
    const jointState = codecFor('sensor_msgs/msg/JointState');
    await until('joint states from rclpy at the client', () => first.payloads(statesSub).length >= 5, {
      timeoutMs: 60_000,
    });
    for (const bytes of first.payloads(statesSub)) {
      const m = jointState.decode(bytes);
      assert.deepEqual(m.name, ['a', 'b']);
      const k = Math.round(m.position[0]! * 100);
      assert.ok(k >= 1);
      assert.ok(Math.abs(m.position[1]! + k / 100) < 1e-12, `position ${[...m.position].join(', ')}`);
    }

    // the latched scene, published once before any client: to the first client, and to a later one
    const text = codecFor('std_msgs/msg/String');
    const latched = async (c: TestClient): Promise<string[]> => {
      const sub = c.client.subscribe((await c.channel(`${PREFIX}/scene`)).id);
      await until('the latched scene', () => c.payloads(sub).length > 0, { timeoutMs: 30_000 });
      return c.payloads(sub).map((b) => text.decode(b).data);
    };
    assert.deepEqual(await latched(first), ['scene from rclpy']);
    const second = await TestClient.connect(port);
    t.after(() => second.close());
    assert.deepEqual(await latched(second), ['scene from rclpy']);

    // the connection graph names the rclpy node as the publisher
    second.client.subscribeConnectionGraph();
    await until('the rclpy node in the connection graph', () =>
      second.graph.some((g) =>
        g.publishedTopics.some((p) => p.name === `${PREFIX}/joint_states` && p.publisherIds.includes('/foxglove_peer')),
      ),
    );

    // the rclpy node's parameters, from its parameter services, beside the bridge's own
    await until(
      "the rclpy node's parameters",
      async () => {
        second.client.getParameters([], 'all');
        await new Promise((r) => setTimeout(r, 200));
        const all = second.parameterValues.at(-1)?.parameters ?? [];
        return all.some((p) => p.name === '/foxglove_peer.gain');
      },
      { timeoutMs: 30_000 },
    );
    const all = second.parameterValues.at(-1)!.parameters;
    assert.deepEqual(
      all.find((p) => p.name === '/foxglove_peer.gain'),
      { name: '/foxglove_peer.gain', value: 2.5, type: 'float64' },
    );
    assert.deepEqual(
      all.find((p) => p.name === '/foxglove_peer.joints'),
      { name: '/foxglove_peer.joints', value: ['a', 'b'] },
    );
    assert.deepEqual(
      all.find((p) => p.name === '/foxglove_bridge.port'),
      { name: '/foxglove_bridge.port', value: 0 },
    );

    // a whitelisted client publish reaches rclpy (the bridge's publisher matches the peer's
    // subscription some time after the advertise: send until the peer prints it)
    const channel = first.client.advertise({
      topic: `${PREFIX}/emergency_stop`,
      encoding: 'cdr',
      schemaName: 'std_msgs/msg/Bool',
    });
    const bytes = codecFor('std_msgs/msg/Bool').encode({ data: true });
    await until(
      'the e-stop at the rclpy peer',
      () => {
        first.client.sendMessage(channel, bytes);
        return peer.output().includes('estop true');
      },
      { timeoutMs: 60_000, seen: () => peer.output().slice(-400) },
    );
    assert.equal(first.statuses.filter((s) => s.level === Level.error).length, 0, JSON.stringify(first.statuses));
  },
);
