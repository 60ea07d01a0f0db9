import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Launcher } from '../../../framework/runtime/launcher.js';
import { summaryText } from '../../../framework/runtime/summary.js';
import { parseLaunchText } from '../../../framework/launch/parse.js';
import { packageRoot } from '../../../src/util/paths.js';
import type { NodeRegistry } from '../../../framework/runtime/registry.js';
import type { LaunchDescription, LaunchNode } from '../../../framework/launch/types.js';
import { EmbeddedTransport } from '../../../framework/transport/embedded/transport.js';
import { defineParams } from '../../../src/util/param_schema.js';
import { periodNsFromHz } from '../../../framework/time/time.js';

// The embedded launcher: nodes on the main thread and in workers, the report, launches that fail
// cleanly before anything runs (naming the launch file and line), parameters as ROS 2 types and
// scopes them, and a node that fails for good ending the launch.

const registry: NodeRegistry = {
  pkg: 'dynastack',
  modules: {
    demo_talker: new URL('../../../nodes/demo_talker.js', import.meta.url).href,
    demo_listener: new URL('../../../nodes/demo_listener.js', import.meta.url).href,
    latched_source: new URL('../../fixtures/nodes/latched_source.js', import.meta.url).href,
    latched_sink: new URL('../../fixtures/nodes/latched_sink.js', import.meta.url).href,
    failing_node: new URL('../../fixtures/nodes/failing_node.js', import.meta.url).href,
  },
};

const node = (exec: string, extra: Partial<LaunchNode> = {}): LaunchNode => ({
  pkg: 'dynastack',
  exec,
  namespace: '/',
  parameters: [],
  remaps: [],
  args: [],
  rosArgs: [],
  origin: `test: ${exec}`,
  ...extra,
});

function launcher(nodes: LaunchNode[]) {
  const description: LaunchDescription = { file: 'test', args: {}, nodes, warnings: [] };
  const transport = new EmbeddedTransport({ checkMessages: true });
  return {
    transport,
    launcher: new Launcher(description, { transport, registry, logLevelSpec: 'warn', checkMessages: true }),
  };
}

/** A launcher for a launch file's text, as if read from test/fixtures/launch/inline.launch.yaml. */
function launcherFor(text: string) {
  const cwd = join(packageRoot(), 'test/fixtures/launch');
  const description = parseLaunchText(
    text,
    join(cwd, 'inline.launch.yaml'),
    {},
    {
      findPackageShare: () => packageRoot(),
      cwd,
    },
  );
  return launcher(description.nodes);
}

/** Resolve once `ok()` holds, polling every 10 ms; reject after a generous deadline (a loaded machine is slow, not wrong). */
async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await ok())) {
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a node in a worker and a node on the main thread talk both ways; shutdown is clean', async () => {
  const { transport, launcher: l } = launcher([
    node('latched_source', { parameters: [{ kind: 'value', name: 'text', value: 'model-v7' }] }),
    node('latched_sink'),
  ]);
  await l.configure();
  assert.deepEqual(
    l.nodes.map((n) => n.thread),
    ['main', 'worker'],
  );
  await l.activate();
  // main → worker → main: an echo through the worker, 2000 messages in one burst, none lost
  const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
  const echoed: number[] = [];
  probe.createSubscription('std_msgs/msg/Float64', 'echo_out', (m) => echoed.push(m.data), {
    qos: { history: 'keep_all' },
  });
  const pub = probe.createPublisher('std_msgs/msg/Float64', 'echo_in', { history: 'keep_all' });
  // the worker's endpoints reach the bus before its configure returns (one port, in order): the
  // echo's subscription is there as soon as the probe publishes, however slow the worker thread is
  assert.equal(pub.subscriptionCount(), 1, "the worker's echo_in subscription is on the bus after configure");
  for (let i = 0; i < 2000; i++) pub.publish({ data: i });
  await until('the 2000 echoes', () => echoed.length >= 2000);
  assert.equal(echoed.length, 2000);
  assert.deepEqual(echoed.slice(0, 3), [0, 1, 2]);
  probe.destroy();

  await l.shutdown();
  const report = await l.report();
  const sink = report.nodes.find((n) => n.node === '/latched_sink')!;
  assert.equal(sink.thread, 'worker');
  // the latched message published on activate reached the late worker subscriber
  assert.equal(sink.metrics.heard, 'model-v7');
  assert.equal(sink.metrics.cleaned, 'true');
  assert.equal(sink.metrics.main_thread, 'false');
  assert.equal(sink.topics.find((t) => t.topic === '/echo_in')?.count, 2000);
  assert.deepEqual(
    l.nodes.map((n) => n.state),
    ['finalized', 'finalized'],
  );
  // nothing is left on the bus
  for (const topic of transport.bus.topics().values()) {
    assert.equal(topic.publishers.size + topic.subscriptions.size, 0, `${topic.name} still has endpoints`);
  }
});

// What a loaded machine cannot change: the report's counts are the nodes' own, every message the
// worker published reached the main thread, the rate is the count over the active time, and the
// talker's timer fired at most once per period. How many messages flow in a given wall time (and so
// the rate's value) depends on the machine: the test waits for 40 to reach the listener instead.
test('talker in a worker, listener at 200 Hz: the report counts what flowed and rates it over the active time', async () => {
  const { transport, launcher: l } = launcher([
    node('demo_talker', {
      parameters: [
        { kind: 'value', name: 'rate_hz', value: 200.0 },
        { kind: 'value', name: 'embedded_thread', value: 'worker' },
      ],
    }),
    node('demo_listener', { parameters: [{ kind: 'value', name: 'expected_joints', value: 6 }] }),
  ]);
  // a probe that keeps every message (keep_all: a busy main thread cannot make it drop one)
  const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
  let heard = 0;
  probe.createSubscription('sensor_msgs/msg/JointState', 'joint_states', () => heard++, {
    qos: { history: 'keep_all' },
  });
  await l.configure();
  const listenerNode = l.nodes.find((n) => n.fullyQualifiedName === '/demo_listener')!;
  const startMs = performance.now();
  await l.activate();
  await until(
    '40 joint states at the listener',
    async () => Number((await listenerNode.report()).metrics.received) >= 40,
  );
  await l.shutdown();
  const windowNs = BigInt(Math.ceil((performance.now() - startMs) * 1e6));
  await transport.bus.idle();
  probe.destroy();
  const report = await l.report();
  const talker = report.nodes.find((n) => n.node === '/demo_talker')!;
  const listener = report.nodes.find((n) => n.node === '/demo_listener')!;
  assert.equal(talker.thread, 'worker');
  const sent = Number(talker.metrics.sent);
  const published = talker.topics.find((t) => t.topic === '/joint_states')!;
  assert.equal(published.count, sent, "the report's count is the talker's own");
  // the talker's deactivate returns after everything it published: all of it crossed to this thread
  assert.equal(heard, sent, `the probe heard ${heard} of the ${sent} the worker sent`);
  assert.ok(
    sent <= Number(windowNs / periodNsFromHz(200)) + 1,
    `${sent} sent in ${Number(windowNs) / 1e6} ms: more than one per 5 ms period`,
  );
  const received = Number(listener.metrics.received);
  assert.ok(received >= 40 && received <= sent, `listener got ${received} of ${sent}`);
  const subscribed = listener.topics.find((t) => t.topic === '/joint_states')!;
  assert.equal(subscribed.count, received, "the report's count is the listener's own");
  assert.equal(listener.metrics.wrong_joint_count, 0);
  assert.ok(report.wall_time_s > 0 && report.wall_time_s * 1e9 <= Number(windowNs));
  assert.equal(published.rate_hz, published.count / report.wall_time_s);
});

test('a bad parameter stops the launch before anything runs, naming node and parameter', async () => {
  const { launcher: l } = launcher([
    node('demo_talker'),
    node('demo_listener', { parameters: [{ kind: 'value', name: 'report_period_s', value: -1 }] }),
  ]);
  await assert.rejects(l.configure(), /node \/demo_listener: parameter 'report_period_s': -1 is outside the range/);
  assert.deepEqual(
    l.nodes.map((n) => n.state),
    ['finalized'],
  );
});

test('a worker whose configure fails (a topic used with two types) is reported and cleaned up', async () => {
  const { launcher: l } = launcher([
    node('latched_source'),
    node('latched_sink', { parameters: [{ kind: 'value', name: 'wrong_type', value: true }] }),
  ]);
  await assert.rejects(
    l.configure(),
    /\/latched_sink \(worker\): configure failed: topic \/latched carries std_msgs\/msg\/String/,
  );
  assert.deepEqual(
    l.nodes.map((n) => n.state),
    ['finalized', 'finalized'],
  );
});

test('an unknown executable names what the package has', async () => {
  const { launcher: l } = launcher([node('no_such_node')]);
  await assert.rejects(
    l.configure(),
    /package 'dynastack' has no executable 'no_such_node' \(it has: demo_listener, demo_talker, failing_node, latched_sink, latched_source\)/,
  );
});

test('errors for an unknown executable, a duplicate node name, a failed worker configure name the launch file and line', async () => {
  const unknown = launcherFor('launch:\n- node: {pkg: dynastack, exec: no_such_node}\n').launcher;
  await assert.rejects(
    unknown.configure(),
    /^Error: inline\.launch\.yaml:2: node #1 \(no_such_node\): package 'dynastack' has no executable 'no_such_node'/,
  );
  // one on the main thread, one in a worker: each transport alone would not see the clash
  const twins = launcherFor(
    'launch:\n- node: {pkg: dynastack, exec: latched_source, name: twin}\n- node: {pkg: dynastack, exec: latched_sink, name: twin}\n',
  ).launcher;
  await assert.rejects(
    twins.configure(),
    /^Error: inline\.launch\.yaml:3: node #2 \(twin\): a node named \/twin is already launched by inline\.launch\.yaml:2: node #1 \(twin\)$/,
  );
  assert.deepEqual(
    twins.nodes.map((n) => n.state),
    ['finalized'],
  );
  const wrong = launcherFor(
    'launch:\n- node: {pkg: dynastack, exec: latched_source}\n- node:\n    pkg: dynastack\n    exec: latched_sink\n    param: [{name: wrong_type, value: true}]\n',
  ).launcher;
  await assert.rejects(
    wrong.configure(),
    /^Error: inline\.launch\.yaml:3: node #2 \(latched_sink\): \/latched_sink \(worker\): configure failed: topic \/latched carries/,
  );
});

test('a double for an integer parameter is refused in a launch file: param, typed param, substitution, set_parameter', async () => {
  const refused = [
    '- node: {pkg: dynastack, exec: demo_listener, param: [{name: expected_joints, value: 6.0}]}',
    '- node: {pkg: dynastack, exec: demo_listener, param: [{name: expected_joints, value: 6, type: float}]}',
    "- arg: {name: n, default: '6.0'}\n- node: {pkg: dynastack, exec: demo_listener, param: [{name: expected_joints, value: $(var n)}]}",
    "- set_parameter: {name: expected_joints, value: '6.0'}\n- node: {pkg: dynastack, exec: demo_listener}",
  ];
  for (const actions of refused) {
    const { launcher: l } = launcherFor(`launch:\n${actions}\n`);
    await assert.rejects(
      l.configure(),
      /node \/demo_listener: parameter 'expected_joints': expected integer, got double 6\.0$/,
      actions,
    );
  }
  // an integer, and an integer for a double, are accepted
  const { launcher: ok } = launcherFor(
    'launch:\n- node: {pkg: dynastack, exec: demo_listener, param: [{name: expected_joints, value: 6}, {name: report_period_s, value: 2}]}\n',
  );
  await ok.configure();
  await ok.shutdown();
});

test('set_parameter goes to every node in scope that declares the parameter; the others ignore it', async () => {
  // latched_source declares 'text', latched_sink (in a worker) does not
  const { launcher: l } = launcherFor(
    'launch:\n- set_parameter: {name: text, value: from-set-parameter}\n- node: {pkg: dynastack, exec: latched_source}\n- node: {pkg: dynastack, exec: latched_sink}\n',
  );
  await l.configure();
  await l.activate();
  const sink = l.nodes.find((n) => n.fullyQualifiedName === '/latched_sink')!;
  await until('the latched text at the sink', async () => (await sink.report()).metrics.heard === 'from-set-parameter');
  await l.shutdown();
  // a node that declares it still has the value checked
  const { launcher: bad } = launcherFor(
    "launch:\n- set_parameter: {name: text, value: '5'}\n- node: {pkg: dynastack, exec: latched_source}\n",
  );
  await assert.rejects(bad.configure(), /node \/latched_source: parameter 'text': expected string, got integer 5/);
});

for (const thread of ['main', 'worker'] as const) {
  test(`a node that fails after activation (${thread} thread) ends the launch: all shut down, the failure reported`, async () => {
    const { launcher: l } = launcher([
      node('failing_node', { parameters: [{ kind: 'value', name: 'embedded_thread', value: thread }] }),
      node('latched_sink'),
    ]);
    await l.configure();
    await l.activate();
    // resolves when the first node fails; the launch then shuts down
    assert.equal(await l.anyFailed(), '/failing_node failed: tick 3 threw: simulated fault');
    await l.shutdown();
    assert.deepEqual(
      l.nodes.map((n) => n.state),
      ['finalized', 'finalized'],
    );
    const report = await l.report();
    assert.deepEqual(report.failed, [{ node: '/failing_node', reason: 'tick 3 threw: simulated fault' }]);
    const failing = report.nodes.find((n) => n.node === '/failing_node')!;
    assert.equal(failing.thread, thread);
    assert.equal(failing.failed, 'tick 3 threw: simulated fault');
    assert.equal(failing.metrics.ticks, 3);
    const sink = report.nodes.find((n) => n.node === '/latched_sink')!;
    assert.equal(sink.failed, undefined);
    assert.equal(sink.metrics.cleaned, 'true');
    // the end-of-run summary says which node failed and why
    const summary = summaryText(report);
    assert.match(summary, /\/failing_node +ticked 3 times\n/);
    assert.match(summary, /\/failing_node +FAILED: tick 3 threw: simulated fault\n/);
  });
}

test('a launch whose nodes do not fail: no failure in the report, anyFailed never resolves', async () => {
  const { launcher: l } = launcher([node('latched_source')]);
  await l.configure();
  await l.activate();
  let failed = false;
  void l.anyFailed().then(() => (failed = true));
  await l.shutdown();
  await new Promise((r) => setImmediate(r));
  assert.equal(failed, false);
  const report = await l.report();
  assert.equal(report.failed, undefined);
  assert.equal(report.nodes[0]!.failed, undefined);
  assert.equal(summaryText(report), '');
});
