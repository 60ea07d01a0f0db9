import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import definition from '../../nodes/foxglove_bridge.js';
import { Launcher } from '../../framework/runtime/launcher.js';
import type { NodeRegistry } from '../../framework/runtime/registry.js';
import type { LaunchNode } from '../../framework/launch/types.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { codecFor } from '../../framework/msgs/codec.js';
import { defineParams } from '../../src/util/param_schema.js';
import { until } from '../wait.js';
import { TestClient } from '../framework/foxglove/foxglove_client.js';

// The foxglove_bridge node as a launch runs it: in its worker thread (its definition's choice),
// on port 0, finding a topic published on the main thread (discovery from the graph the main
// thread sends the worker), passing its CDR bytes to a Foxglove client, listing its own
// parameters and those of a node on the main thread (until it goes); and refusing, in one line each, a capability that does not exist and a taken port.

const registry: NodeRegistry = {
  pkg: 'dynastack',
  modules: { foxglove_bridge: new URL('../../nodes/foxglove_bridge.js', import.meta.url).href },
};

const bridgeNode = (values: Record<string, unknown>): LaunchNode => ({
  pkg: 'dynastack',
  exec: 'foxglove_bridge',
  namespace: '/',
  parameters: Object.entries(values).map(([name, value]) => ({ kind: 'value' as const, name, value })),
  remaps: [],
  args: [],
  rosArgs: [],
  origin: 'test: foxglove_bridge',
});

test('in its worker, the bridge offers a topic of the main thread and passes its messages to a client', async (t) => {
  const transport = new EmbeddedTransport({ checkMessages: true });
  const launcher = new Launcher(
    { file: 'test', args: {}, nodes: [bridgeNode({ port: 0, max_update_ms: 20.0 })], warnings: [] },
    { transport, registry, logLevelSpec: 'warn', checkMessages: true },
  );
  t.after(async () => {
    await launcher.shutdown();
    await transport.shutdown();
  });
  await launcher.configure();
  await launcher.activate();
  assert.equal(launcher.nodes[0]!.thread, 'worker');
  const port = Number((await launcher.report()).nodes[0]!.metrics.port);
  assert.ok(port > 0, 'the bound port is in the metrics');

  const probe = await transport.createNode({
    name: 'probe',
    parameters: defineParams({
      gains: { type: 'double_array', default: [1, 2.5], description: 'a main-thread parameter' },
    }),
  });
  const states = probe.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
  const c = await TestClient.connect(port);
  t.after(() => c.close());
  assert.deepEqual(c.serverInfo!.capabilities, ['parameters', 'connectionGraph']);
  const channel = await c.channel('/joint_states');
  assert.equal(channel.schemaEncoding, 'ros2msg');
  const sub = c.client.subscribe(channel.id);
  const codec = codecFor('sensor_msgs/msg/JointState');
  let k = 0;
  await until('a joint state through the worker', () => {
    k++;
    states.publish({
      header: { stamp: { sec: k, nanosec: 0 }, frame_id: '' },
      name: ['j'],
      position: [k],
      velocity: [],
      effort: [],
    });
    return c.payloads(sub).length > 0;
  });
  const got = codec.decode(c.payloads(sub)[0]!);
  assert.deepEqual([...got.position], [got.header.stamp.sec]);

  c.client.getParameters(
    ['/foxglove_bridge.port', '/foxglove_bridge.max_update_ms', '/foxglove_bridge.capabilities'],
    'p',
  );
  await until('the parameter values', () => c.parameterValues.some((p) => p.id === 'p'));
  assert.deepEqual(c.parameterValues.find((p) => p.id === 'p')!.parameters, [
    { name: '/foxglove_bridge.port', value: 0 },
    { name: '/foxglove_bridge.capabilities', value: ['time', 'parameters', 'connectionGraph'] },
    { name: '/foxglove_bridge.max_update_ms', value: 20, type: 'float64' },
  ]);
  // every node's parameters, the main thread's too (sent to the worker with the graph)
  c.client.getParameters([], 'all');
  await until('all parameter values', () => c.parameterValues.some((p) => p.id === 'all'));
  const all = c.parameterValues.find((p) => p.id === 'all')!.parameters;
  assert.deepEqual(
    all.find((p) => p.name === '/probe.gains'),
    { name: '/probe.gains', value: [1, 2.5], type: 'float64_array' },
  );
  assert.ok(all.some((p) => p.name === '/foxglove_bridge.port'));
  // a node that goes takes its parameters with it
  probe.destroy();
  await until('the probe’s parameters gone', async () => {
    c.client.getParameters(['/probe.gains'], 'gone');
    await new Promise((r) => setTimeout(r, 20));
    const replies = c.parameterValues.filter((p) => p.id === 'gone');
    return replies.length > 0 && replies.at(-1)!.parameters.length === 0;
  });

  await launcher.shutdown();
  const report = await launcher.report();
  assert.ok(Number(report.nodes[0]!.metrics.messages_forwarded) >= 1);
  assert.ok(Number(report.nodes[0]!.metrics.connections) >= 1);
});

test('a capability that does not exist, a bad pattern and a taken port each fail configure with one line', async (t) => {
  const transport = new EmbeddedTransport();
  t.after(() => transport.shutdown());
  const configure = async (name: string, values: Record<string, unknown>) => {
    const node = await transport.createNode({
      name,
      parameters: definition.parameters,
      parameterSources: [{ origin: 'test', values, strict: true }],
    });
    node.logger.level = 'error';
    return definition.configure(node, node.params);
  };
  await assert.rejects(configure('a', { port: 0, capabilities: ['bogus'] }), /'bogus' is not a capability/);
  await assert.rejects(
    configure('b', { port: 0, topic_whitelist: ['(unclosed'] }),
    /parameter 'topic_whitelist': "\(unclosed" is not a regular expression/,
  );
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const taken = (blocker.address() as { port: number }).port;
  await assert.rejects(
    configure('c', { port: taken }),
    new RegExp(`cannot listen on 127\\.0\\.0\\.1:${taken}: .*EADDRINUSE`),
  );
});
