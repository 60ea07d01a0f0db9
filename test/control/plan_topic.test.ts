import { test } from 'node:test';
import assert from 'node:assert/strict';
import definition from '../../nodes/controller.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { SteppedClock } from '../../framework/time/clock.js';
import { nsToTime, timeToNs } from '../../framework/time/time.js';
import { defineParams } from '../../src/util/param_schema.js';
import { LOG_LEVELS } from '../../src/util/log.js';
import { QOS_LATCHED } from '../../framework/transport/qos.js';
import { PlanKind, type Plan } from '../../framework/msgs/types.js';

// The controller's plan topic (plan_topic, default ~/plan): the newest policy its command loop
// evaluated, as dynastack_msgs/Plan, sent from a timer of its own when the policy changed, at most
// plan_rate_hz on the node's clock. A lockstep LQR cart-pole sends its one feedback law once
// (nominal state and action named, no gains), latched for a late subscriber; a sampling planner
// exploring hands the loop a new sequence every tick, and the topic carries at most plan_rate_hz of
// them; iLQR's feedback plans carry steps × nx nominal states, its cost and iterations;
// plan_topic '' has no publisher. The controller runs alone on the embedded transport with a
// stepped clock (each tick: the state stamped k periods, then the clock set to that time).

const PERIOD_NS = 10_000_000n;
const JOINTS = ['cart_slide', 'pole_hinge'];
const TILTED = [0, 0.1, 0, 0];

async function controller(values: Record<string, unknown>) {
  const clock = new SteppedClock('ros', true);
  const transport = new EmbeddedTransport({ checkMessages: true, rosClock: clock });
  const handle = await transport.createNode({
    name: 'controller',
    parameters: definition.parameters,
    parameterSources: [{ origin: 'test', values, strict: true }],
  });
  const logs: string[] = [];
  for (const level of LOG_LEVELS) handle.logger[level] = (m: string) => void logs.push(`${level}: ${m}`);
  const lifecycle = await definition.configure(handle, handle.params);
  const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
  const states = probe.createPublisher('dynastack_msgs/msg/JointStateEstimate', 'estimated_joint_states');
  const plans: Plan[] = [];
  const subscribe = (into: Plan[]) =>
    probe.createSubscription('dynastack_msgs/msg/Plan', '/controller/plan', (m) => void into.push(m), {
      qos: { ...QOS_LATCHED, history: 'keep_all' },
    });
  const plansSub = subscribe(plans);
  await lifecycle.activate?.();
  return {
    plans,
    logs,
    plansSub,
    subscribe,
    idle: () => transport.bus.idle(),
    async tick(k: number, x: readonly number[]) {
      states.publish({
        state: {
          header: { stamp: nsToTime(BigInt(k) * PERIOD_NS), frame_id: '' },
          name: [...JOINTS],
          position: Float64Array.from(x.slice(0, 2)),
          velocity: Float64Array.from(x.slice(2, 4)),
          effort: new Float64Array(2),
        },
        covariance: new Float64Array(0),
      });
      await transport.bus.idle();
      clock.set(BigInt(k) * PERIOD_NS);
      await transport.bus.idle();
    },
    async close() {
      await lifecycle.deactivate?.();
      await lifecycle.cleanup?.();
      probe.destroy();
      handle.destroy();
      await transport.shutdown();
    },
  };
}

test('lockstep LQR cart-pole: its feedback law on ~/plan once, named and sized, latched for a late subscriber', async () => {
  const c = await controller({ goal_keyframe: 'upright', wait_for_state: true });
  try {
    for (let k = 0; k <= 40; k++) await c.tick(k, TILTED);
    assert.equal(c.plans.length, 1, `one plan: the LQR law does not change (${c.plans.length})`);
    const p = c.plans[0]!;
    assert.equal(p.kind, PlanKind.FEEDBACK);
    assert.match(p.planner, /LQR|lqr/);
    assert.deepEqual(p.state_names, ['q.cart_slide', 'q.pole_hinge', 'qd.cart_slide', 'qd.pole_hinge']);
    assert.deepEqual(p.action_names, ['cart_force']);
    assert.equal(p.steps, 1);
    assert.equal(p.states.length, 4);
    assert.equal(p.actions.length, 1);
    // the law is about the upright keyframe: the nominal state is upright and at rest
    assert.deepEqual([...p.states], [0, 0, 0, 0]);
    assert.ok(Number.isFinite(p.actions[0]!));
    assert.equal(timeToNs(p.step), PERIOD_NS);
    assert.equal(p.header.frame_id, '');
    assert.ok(
      p.status.some((kv) => kv.key === 'goals'),
      JSON.stringify(p.status),
    );
    assert.equal(p.iterations, 0);
    // latched: a subscriber that comes late still gets it
    const late: Plan[] = [];
    c.subscribe(late);
    await c.idle();
    assert.equal(late.length, 1);
    assert.deepEqual([...late[0]!.states], [...p.states]);
  } finally {
    await c.close();
  }
});

test('a sampling planner exploring: a new sequence each tick, at most plan_rate_hz of them on the topic', async () => {
  const c = await controller({
    planner: 'cem',
    planning_thread: 'inline',
    explore_until_model: true,
    plan_rate_hz: 10,
  });
  try {
    for (let k = 1; k <= 50; k++) await c.tick(k, TILTED);
    // 0.5 s of the node's clock at 10 Hz: at most 5, every one a sequence of cart_force actions
    assert.ok(c.plans.length >= 4 && c.plans.length <= 5, `plans: ${c.plans.length}`);
    const stamps = c.plans.map((p) => timeToNs(p.header.stamp));
    for (let i = 1; i < stamps.length; i++)
      assert.ok(stamps[i]! - stamps[i - 1]! >= 100_000_000n, `plans 100 ms apart at least: ${stamps.join(', ')}`);
    for (const p of c.plans) {
      assert.equal(p.kind, PlanKind.SEQUENCE);
      assert.deepEqual(p.state_names, []);
      assert.equal(p.states.length, 0);
      assert.deepEqual(p.action_names, ['cart_force']);
      assert.ok(p.steps >= 1);
      assert.equal(p.actions.length, p.steps);
      assert.ok([...p.actions].every((u) => Number.isFinite(u) && Math.abs(u) <= 20));
      assert.ok(
        p.status.some((kv) => kv.key === 'mode' && kv.value === 'exploring'),
        JSON.stringify(p.status),
      );
    }
  } finally {
    await c.close();
  }
});

test('lockstep iLQR cart-pole swing-up: a new feedback plan each tick, steps × nx states, its cost and iterations', async () => {
  const c = await controller({
    planner: 'ilqr',
    wait_for_state: true,
    task: 'cartpole_swingup',
    iterations_per_tick: 1,
    'ilqr.cost': 'task',
    'ilqr.horizon_s': 0.2,
  });
  try {
    for (let k = 0; k <= 30; k++) await c.tick(k, [0, Math.PI - 0.1, 0, 0]);
    assert.ok(c.plans.length >= 2 && c.plans.length <= 3, `plans: ${c.plans.length}`);
    for (const p of c.plans) {
      assert.equal(p.kind, PlanKind.FEEDBACK);
      assert.deepEqual(p.state_names, ['q.cart_slide', 'q.pole_hinge', 'qd.cart_slide', 'qd.pole_hinge']);
      assert.ok(p.steps >= 2, `steps: ${p.steps}`);
      assert.equal(p.states.length, p.steps * 4);
      assert.equal(p.actions.length, p.steps);
      assert.ok(Number.isFinite(p.cost), `cost: ${p.cost}`);
      assert.ok(p.iterations >= 1, `iterations: ${p.iterations}`);
    }
  } finally {
    await c.close();
  }
});

test("plan_topic '' publishes no plan", async () => {
  const c = await controller({ goal_keyframe: 'upright', plan_topic: '' });
  try {
    for (let k = 1; k <= 20; k++) await c.tick(k, TILTED);
    assert.equal(c.plansSub.publisherCount(), 0);
    assert.equal(c.plans.length, 0);
  } finally {
    await c.close();
  }
});
