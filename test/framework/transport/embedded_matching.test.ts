import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, type Worker } from 'node:worker_threads';
import { EmbeddedBus } from '../../../framework/transport/embedded/bus.js';
import { RemoteBus } from '../../../framework/transport/embedded/remote_bus.js';
import { WorkerHost } from '../../../framework/transport/embedded/worker_host.js';
import { Envelope } from '../../../framework/transport/embedded/envelope.js';
import { EmbeddedTransport } from '../../../framework/transport/embedded/transport.js';
import type { ToWorker } from '../../../framework/transport/embedded/worker_protocol.js';
import {
  QOS_DEFAULT,
  QOS_LATCHED,
  QOS_SENSOR_DATA,
  incompatibility,
  incompatibilityLine,
  type QoS,
  type QoSIncompatibility,
} from '../../../framework/transport/qos.js';
import { defineParams } from '../../../src/util/param_schema.js';
import { until } from '../../wait.js';

// Matching on the embedded bus as DDS matches: which publisher/subscription pairs deliver (the
// requested/offered rules), the one line said about a pair that does not, and the matched counts
// each side reads (a publisher's subscriptions, a subscription's publishers), on the main thread
// and across the remote bus of a worker.

const none = defineParams({});
const BEST_EFFORT_LATCHED: QoS = { ...QOS_LATCHED, reliability: 'best_effort' };

interface Said {
  topic: string;
  publisher: string;
  subscriber: string;
  why: QoSIncompatibility;
}

function bus(): { bus: EmbeddedBus; said: Said[] } {
  const said: Said[] = [];
  return {
    bus: new EmbeddedBus({
      events: {
        incompatibleQoS: (topic, publisher, subscriber, why) => said.push({ topic, publisher, subscriber, why }),
      },
    }),
    said,
  };
}

test('every reliability × durability pair delivers exactly where DDS does, and only an incompatible pair is warned about', async () => {
  const profiles: Record<string, QoS> = {
    'reliable volatile': QOS_DEFAULT,
    'best_effort volatile': QOS_SENSOR_DATA,
    'reliable transient_local': QOS_LATCHED,
    'best_effort transient_local': BEST_EFFORT_LATCHED,
  };
  for (const [pubName, pubQoS] of Object.entries(profiles)) {
    for (const [subName, subQoS] of Object.entries(profiles)) {
      const { bus: b, said } = bus();
      const got: unknown[] = [];
      const sub = b.subscribe('/t', 'std_msgs/msg/String', subQoS, '/reader', (e) => got.push(e.object));
      const pub = b.advertise('/t', 'std_msgs/msg/String', pubQoS, '/writer');
      b.publish(pub, new Envelope('std_msgs/msg/String', { data: 'x' }));
      await b.idle();
      const reliabilityOk = !(subQoS.reliability === 'reliable' && pubQoS.reliability === 'best_effort');
      const durabilityOk = !(subQoS.durability === 'transient_local' && pubQoS.durability === 'volatile');
      const ok = reliabilityOk && durabilityOk;
      const pair = `publisher ${pubName}, subscription ${subName}`;
      assert.equal(got.length, ok ? 1 : 0, `${pair}: delivered`);
      assert.equal(b.subscriptionCount(pub), ok ? 1 : 0, `${pair}: the publisher's matched count`);
      assert.equal(b.publisherCount(sub), ok ? 1 : 0, `${pair}: the subscription's matched count`);
      assert.equal(said.length, ok ? 0 : 1, `${pair}: warnings ${JSON.stringify(said)}`);
      if (!ok) {
        assert.equal(said[0]!.topic, '/t');
        assert.equal(said[0]!.publisher, '/writer');
        assert.equal(said[0]!.subscriber, '/reader');
        assert.equal(said[0]!.why.policy, reliabilityOk ? 'DURABILITY' : 'RELIABILITY');
      }
    }
  }
});

test('a transient-local publisher and a volatile subscription match, without history for the late joiner, and no warning', async () => {
  const { bus: b, said } = bus();
  const pub = b.advertise('/goal', 'std_msgs/msg/String', QOS_LATCHED, '/goal_sequencer');
  b.publish(pub, new Envelope('std_msgs/msg/String', { data: 'before' }));
  const got: string[] = [];
  const sub = b.subscribe('/goal', 'std_msgs/msg/String', QOS_DEFAULT, '/controller', (e) =>
    got.push((e.object as { data: string }).data),
  );
  b.publish(pub, new Envelope('std_msgs/msg/String', { data: 'after' }));
  await b.idle();
  assert.deepEqual(got, ['after']);
  assert.equal(b.publisherCount(sub), 1);
  assert.deepEqual(said, []);
});

test('an incompatible pair is said once, however often the publisher publishes', async () => {
  const { bus: b, said } = bus();
  b.subscribe('/goal', 'std_msgs/msg/String', QOS_LATCHED, '/controller', () => {});
  const pub = b.advertise('/goal', 'std_msgs/msg/String', QOS_DEFAULT, '/goal_sequencer');
  for (let i = 0; i < 5; i++) b.publish(pub, new Envelope('std_msgs/msg/String', { data: String(i) }));
  await b.idle();
  assert.equal(said.length, 1);
});

test("the line names the topic, both nodes and the policy, worded as rclcpp's incompatible-QoS event", () => {
  const why = incompatibility(QOS_DEFAULT, QOS_LATCHED)!;
  assert.deepEqual(why, { policy: 'DURABILITY', offered: 'VOLATILE', requested: 'TRANSIENT_LOCAL' });
  assert.equal(
    incompatibilityLine('/arm/goal', '/arm/goal_sequencer', '/arm/controller', why),
    "New publisher discovered on topic '/arm/goal', offering incompatible QoS. No messages will be sent to it. " +
      'Last incompatible policy: DURABILITY (publisher of /arm/goal_sequencer offers VOLATILE, ' +
      'subscription of /arm/controller requests TRANSIENT_LOCAL)',
  );
  assert.equal(incompatibility(QOS_SENSOR_DATA, QOS_DEFAULT)?.policy, 'RELIABILITY');
  // history and depth are not requested/offered policies
  assert.equal(incompatibility({ ...QOS_DEFAULT, depth: 1 }, { ...QOS_DEFAULT, history: 'keep_all' }), undefined);
});

test("a subscription's publisherCount counts the compatible publishers on its topic, as they come and go", async () => {
  const transport = new EmbeddedTransport();
  const a = await transport.createNode({ name: 'a', parameters: none });
  const b = await transport.createNode({ name: 'b', parameters: none });
  const sub = b.createSubscription('std_msgs/msg/String', 'commands', () => {});
  assert.equal(sub.publisherCount(), 0);
  const p1 = a.createPublisher('std_msgs/msg/String', 'commands');
  assert.equal(sub.publisherCount(), 1);
  const p2 = a.createPublisher('std_msgs/msg/String', 'commands', QOS_SENSOR_DATA);
  assert.equal(sub.publisherCount(), 1, 'a best-effort publisher does not match a reliable subscription');
  p1.destroy();
  assert.equal(sub.publisherCount(), 0);
  p2.destroy();
  a.destroy();
  b.destroy();
});

/** A worker's remote bus and the main thread's host for it, joined by a message channel instead of a thread. */
function workerPair(mainBus: EmbeddedBus): { remote: RemoteBus; host: WorkerHost; close: () => void } {
  const { port1, port2 } = new MessageChannel();
  const remote = new RemoteBus(port2);
  port2.on('message', (m: ToWorker) => {
    if (m.op === 'data' || m.op === 'matched') remote.receive(m);
  });
  // the host needs a Worker's messages, events and terminate(); the channel's other port has the first two
  const fakeWorker = Object.assign(port1, { terminate: () => Promise.resolve(0) }) as unknown as Worker;
  const host = new WorkerHost(mainBus, fakeWorker);
  return {
    remote,
    host,
    close: () => {
      port1.close();
      port2.close();
    },
  };
}

test("in a worker, a subscription's and a publisher's matched counts follow the main thread's bus", async () => {
  const mainBus = new EmbeddedBus();
  const { remote, close } = workerPair(mainBus);
  try {
    // already there when the worker's endpoints come: their counts must not wait for a later change
    const mainSub = mainBus.subscribe('/state', 'std_msgs/msg/String', QOS_DEFAULT, '/estimator', () => {});
    const mainPub = mainBus.advertise('/cmd', 'std_msgs/msg/String', QOS_DEFAULT, '/controller');
    const workerPub = remote.advertise('/state', 'std_msgs/msg/String', QOS_DEFAULT, '/sim_bridge');
    const workerSub = remote.subscribe('/cmd', 'std_msgs/msg/String', QOS_DEFAULT, '/sim_bridge', () => {});
    await until('the worker to see its endpoints matched', () => {
      return remote.subscriptionCount(workerPub) === 1 && remote.publisherCount(workerSub) === 1;
    });
    mainBus.remove(mainPub);
    mainBus.remove(mainSub);
    await until('the worker to see them go', () => {
      return remote.subscriptionCount(workerPub) === 0 && remote.publisherCount(workerSub) === 0;
    });
  } finally {
    close();
  }
});
