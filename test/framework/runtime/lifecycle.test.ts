import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalNode } from '../../../framework/runtime/managed_node.js';
import { defineNode, type NodeLifecycle } from '../../../framework/runtime/node_definition.js';
import { EmbeddedTransport } from '../../../framework/transport/embedded/transport.js';
import type {
  LifecycleDriver,
  LifecycleEndpoint,
  LifecycleTransition,
  NodeHandle,
  NodeOptions,
  Transport,
} from '../../../framework/transport/types.js';
import type { ParamSchema } from '../../../src/util/param_schema.js';
import {
  requestedTransition,
  transitionDescriptions,
  type RclTransitionDescription,
} from '../../../framework/transport/ros2/lifecycle.js';

// The managed-node lifecycle without ROS 2: a LocalNode's transitions through the in-process state
// machine (the embedded transport), the work it serves to a transport's endpoint (what the ROS 2
// transport's rcl state machine calls for `ros2 lifecycle set`), error processing, and the pure
// mapping of lifecycle_msgs requests and answers (framework/transport/ros2/lifecycle.ts).

/** A node whose hooks record their calls in `calls`; `fail` names a hook that throws. */
function recordingNode(calls: string[], fail?: keyof NodeLifecycle | 'configure', gate?: Promise<void>) {
  const hook = (name: keyof NodeLifecycle) => async () => {
    calls.push(name);
    if (name === 'activate' && gate) await gate;
    if (fail === name) throw new Error(`${name} broke`);
  };
  return defineNode({
    name: 'recorder',
    description: 'records its lifecycle calls',
    parameters: {},
    configure() {
      calls.push('configure');
      if (fail === 'configure') throw new Error('configure broke');
      return { activate: hook('activate'), deactivate: hook('deactivate'), cleanup: hook('cleanup') };
    },
  });
}

const OPTIONS: NodeOptions<ParamSchema> = { name: 'recorder', parameters: {} };

function localNode(calls: string[], fail?: keyof NodeLifecycle | 'configure', transport?: Transport) {
  return new LocalNode(transport ?? new EmbeddedTransport(), recordingNode(calls, fail), OPTIONS, '/recorder');
}

test('embedded: configure, activate, deactivate, activate again, cleanup (shutdown from active deactivates first)', async () => {
  const calls: string[] = [];
  const node = localNode(calls);
  await node.configure();
  assert.equal(node.state, 'inactive');
  await node.activate();
  assert.equal(node.state, 'active');
  await node.deactivate();
  assert.equal(node.state, 'inactive');
  await node.activate();
  await node.cleanup();
  assert.equal(node.state, 'finalized');
  assert.deepEqual(calls, ['configure', 'activate', 'deactivate', 'activate', 'deactivate', 'cleanup']);
  await node.cleanup(); // once finalized, nothing more
  assert.equal(calls.length, 6);
});

test('embedded: a transition to the state the node is in does nothing; one not available from it is refused', async () => {
  const calls: string[] = [];
  const node = localNode(calls);
  await node.configure();
  await node.deactivate(); // inactive already
  await node.activate();
  await node.activate(); // active already
  assert.deepEqual(calls, ['configure', 'activate']);
  await node.cleanup();
  await assert.rejects(node.activate(), /\/recorder: cannot activate from state finalized/);
});

test('embedded: transitions asked for at once run one after another', async () => {
  const calls: string[] = [];
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  const node = new LocalNode(new EmbeddedTransport(), recordingNode(calls, undefined, gate), OPTIONS, '/recorder');
  await node.configure();
  const activated = node.activate();
  const deactivated = node.deactivate();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(calls, ['configure', 'activate'], 'deactivate waits for the activate under way');
  open();
  await Promise.all([activated, deactivated]);
  assert.deepEqual(calls, ['configure', 'activate', 'deactivate']);
  assert.equal(node.state, 'inactive');
  await node.cleanup();
});

test('embedded: an activate that throws goes through error processing (deactivate, cleanup) and ends finalized', async () => {
  const calls: string[] = [];
  const node = localNode(calls, 'activate');
  await node.configure();
  await assert.rejects(node.activate(), /activate broke/);
  assert.equal(node.state, 'finalized');
  assert.deepEqual(calls, ['configure', 'activate', 'deactivate', 'cleanup']);
  await node.cleanup(); // the run's end: nothing more to do, the transport's node is destroyed
  assert.deepEqual(calls, ['configure', 'activate', 'deactivate', 'cleanup']);
});

test('embedded: a configure that throws ends finalized; the end of the run then just releases the node', async () => {
  const calls: string[] = [];
  const transport = new EmbeddedTransport();
  const node = localNode(calls, 'configure', transport);
  await assert.rejects(node.configure(), /configure broke/);
  assert.equal(node.state, 'finalized');
  await node.cleanup();
  assert.deepEqual(calls, ['configure']);
  // the name is free again: the transport's node was destroyed
  const again = localNode([], undefined, transport);
  await again.configure();
  await again.cleanup();
});

test('embedded: a cleanup hook that throws still finalizes and releases the node, and the error reaches the caller', async () => {
  const calls: string[] = [];
  const node = localNode(calls, 'cleanup');
  await node.configure();
  await node.activate();
  await assert.rejects(node.cleanup(), /cleanup broke/);
  assert.equal(node.state, 'finalized');
  assert.deepEqual(calls, ['configure', 'activate', 'deactivate', 'cleanup']);
});

/** A transport whose nodes offer a lifecycle endpoint that hands its driver to the test. */
class EndpointTransport implements Transport {
  readonly kind = 'ros2' as const;
  readonly inner = new EmbeddedTransport();
  driver: LifecycleDriver | undefined;
  readonly asked: LifecycleTransition[] = [];

  async createNode<S extends ParamSchema>(options: NodeOptions<S>): Promise<NodeHandle<S>> {
    const handle = await this.inner.createNode(options);
    const endpoint: LifecycleEndpoint = {
      serve: (driver) => (this.driver = driver),
      transition: async (t) => {
        this.asked.push(t);
        const outcome = await this.driver!.perform(t);
        if (!outcome.ok) throw new Error(outcome.reason);
      },
    };
    return Object.assign(handle, { lifecycle: endpoint });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

test("a transport's endpoint runs the runtime's transitions, and requests from outside do the same work", async () => {
  const calls: string[] = [];
  const transport = new EndpointTransport();
  const node = localNode(calls, undefined, transport);
  await node.configure();
  await node.activate();
  assert.deepEqual(transport.asked, ['configure', 'activate']);
  // what `ros2 lifecycle set /recorder deactivate` does: the driver's work, the runtime's state follows
  const driver = transport.driver!;
  assert.deepEqual(await driver.perform('deactivate'), { ok: true });
  assert.equal(node.state, 'inactive');
  assert.deepEqual(await driver.perform('activate'), { ok: true });
  assert.equal(node.state, 'active');
  assert.deepEqual(calls, ['configure', 'activate', 'deactivate', 'activate']);
  // cleanup to unconfigured is refused with a reason, and nothing runs
  const refused = await driver.perform('cleanup');
  assert.ok(!refused.ok);
  assert.match(refused.reason, /cleanup \(back to unconfigured\) is refused: .*configured once per process/);
  assert.equal(node.state, 'active');
  // a failure processed as rcl_lifecycle's ErrorProcessing: the driver says it cannot be configured again
  assert.equal(await driver.recover('activate', new Error('x')), false);
  assert.equal(node.state, 'finalized');
  assert.deepEqual(calls, ['configure', 'activate', 'deactivate', 'activate', 'deactivate', 'cleanup']);
  await node.cleanup();
  assert.deepEqual(transport.asked, ['configure', 'activate'], 'nothing left to do at the end');
  await transport.shutdown();
});

const state = (id: number, label: string) => ({ id, label });
const FROM_ACTIVE: RclTransitionDescription[] = [
  { transition: state(4, 'deactivate'), startState: state(3, 'active'), goalState: state(14, 'deactivating') },
  { transition: state(7, 'shutdown'), startState: state(3, 'active'), goalState: state(15, 'shuttingdown') },
];

test('a ChangeState request names its transition by label, else by id, among those available (as rclcpp_lifecycle)', () => {
  const active = state(3, 'active');
  assert.deepEqual(requestedTransition({ transition: { id: 0, label: 'deactivate' } }, FROM_ACTIVE, active), {
    transition: 'deactivate',
  });
  assert.deepEqual(requestedTransition({ transition: { id: 7, label: '' } }, FROM_ACTIVE, active), {
    transition: 'shutdown',
  });
  assert.deepEqual(requestedTransition({ transition: { id: 3, label: '' } }, FROM_ACTIVE, active), {
    refused: 'no transition id 3 from state active (available: deactivate, shutdown)',
  });
  assert.deepEqual(requestedTransition({ transition: { id: 0, label: 'configure' } }, FROM_ACTIVE, active), {
    refused: "no transition 'configure' from state active (available: deactivate, shutdown)",
  });
  const deactivating = state(14, 'deactivating');
  const under = [
    {
      transition: state(40, 'transition_success'),
      startState: deactivating,
      goalState: state(2, 'inactive'),
    },
  ];
  assert.match(
    (requestedTransition({ transition: { id: 40, label: '' } }, under, deactivating) as { refused: string }).refused,
    /the state machine's own: a transition is under way \(state deactivating\)/,
  );
});

test("rclnodejs's transition descriptions become lifecycle_msgs/msg/TransitionDescription (start_state, goal_state)", () => {
  assert.deepEqual(transitionDescriptions(FROM_ACTIVE.slice(0, 1)), [
    {
      transition: { id: 4, label: 'deactivate' },
      start_state: { id: 3, label: 'active' },
      goal_state: { id: 14, label: 'deactivating' },
    },
  ]);
});
