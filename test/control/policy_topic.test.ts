import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linesOf, startController, type ControllerUnderTest } from './controller_node.js';
import { linearPolicyAction, linearPolicyModel, type LinearPolicy } from './policies.js';
import type { PolicyModel } from '../../src/rl/sac/policy_blob.js';

// The controller with planner policy: learned policies from policy_topic (dynastack_msgs/ModelBlob,
// latched), each swapped in between ticks and acting on the state estimate at every tick, through
// the safety layer; before the first, exploration (or the stop action, or in lockstep a hold after
// explore_ticks); a policy whose actuators or period do not fit refused in one error line with the
// one in use kept; and the sampling planners taking the same policies for their proposals when
// sampling.policy_share > 0 (inline; the planning worker says it cannot). The cart-pole model,
// lockstep: each tick's command from the state stamped at it.

const JOINTS = ['cart_slide', 'pole_hinge'];
const TOPIC = '/policy/model';
/** reads [sin θ, cos θ, x, θ̇, ẋ] (its joints in its own order); small gains, so the safety layer leaves the actions alone */
const POLICY: LinearPolicy = {
  joints: ['pole_hinge', 'cart_slide'],
  angleJoints: ['pole_hinge'],
  actuators: ['cart_force'],
  low: [-20],
  high: [20],
  periodNs: 10_000_000n,
  gains: [[0.3, 0, 0.1, 0.05, 0.02]],
};
const LOCKSTEP = { planner: 'policy', wait_for_state: true, goal_keyframe: 'upright' };

const blob = (model: PolicyModel): Parameters<ControllerUnderTest['modelBlob']>[1] => ({
  kind: model.kind,
  version: model.version,
  format: model.format,
  metadata_json: model.metadataJson,
  data: model.data,
});
const policy = (change: Partial<LinearPolicy> = {}): Parameters<ControllerUnderTest['modelBlob']>[1] =>
  blob(linearPolicyModel({ ...POLICY, ...change }));

/** the state at tick k: the pole swinging a little, the cart drifting */
const stateAt = (k: number): number[] => [0.01 * k, 0.1 * Math.sin(k / 5), 0.05, 0.2 * Math.cos(k / 5)];
/** what POLICY's mean action is at x = [x, θ, ẋ, θ̇] */
const actionAt = (p: LinearPolicy, x: readonly number[]): number =>
  linearPolicyAction(p, [Math.sin(x[1]!), Math.cos(x[1]!), x[0]!, x[3]!, x[2]!])[0]!;

test('planner policy: explores until the first policy, then acts with it at every tick; a misfit is refused in one line and the one in use acts on', async () => {
  const c = await startController(LOCKSTEP, JOINTS);
  try {
    for (let k = 0; k <= 5; k++) await c.tick(k, stateAt(k));
    assert.equal(c.commands.length, 5);
    const explored = c.commands.map((u) => u[0]!);
    assert.ok(
      explored.every((u) => u >= -20 && u <= 20) && new Set(explored).size === 5,
      `explored ${explored.join(', ')}`,
    );

    await c.modelBlob(TOPIC, policy());
    assert.deepEqual(
      linesOf(c.logs, 'info').filter((l) => l.startsWith('policy')),
      [
        'policy v1 in use: reads [sin.pole_hinge, cos.pole_hinge, q.cart_slide, qd.pole_hinge, qd.cart_slide], acts on [cart_force]',
      ],
    );
    for (let k = 6; k <= 10; k++) await c.tick(k, stateAt(k));
    const acted = c.commands.slice(5).map((u) => u[0]!);
    assert.equal(acted.length, 5);
    acted.forEach((u, i) => {
      const expected = actionAt(POLICY, stateAt(6 + i));
      assert.ok(Math.abs(u - expected) < 1e-4, `tick ${6 + i}: ${u} vs the policy's ${expected}`);
    });

    // a period and an actuator that do not fit: one error line each, and v1 acts on
    await c.modelBlob(TOPIC, policy({ version: 2, periodNs: 20_000_000n }));
    await c.modelBlob(TOPIC, policy({ version: 3, actuators: ['slider'] }));
    const errors = linesOf(c.logs, 'error');
    assert.deepEqual(errors, [
      `policy v2 on ${TOPIC} refused, still using v1: policy v2 acts every 20 ms, the control period is 10 ms`,
      `policy v3 on ${TOPIC} refused, still using v1: policy v3 acts on [slider], the controller commands [cart_force]`,
    ]);
    await c.tick(11, stateAt(11));
    assert.ok(Math.abs(c.commands.at(-1)![0]! - actionAt(POLICY, stateAt(11))) < 1e-4);

    // a blob that is no policy at all: refused, saying what it is
    await c.modelBlob(TOPIC, { ...policy({ version: 4 }), kind: 'dynamics_ensemble' });
    assert.match(
      linesOf(c.logs, 'error').at(-1)!,
      /^policy v4 on \/policy\/model refused, still using v1: policy model: kind dynamics_ensemble/,
    );

    // one that fits is swapped in between ticks
    const v5 = { ...POLICY, version: 5, bias: [0.2] };
    await c.modelBlob(TOPIC, blob(linearPolicyModel(v5)));
    await c.tick(12, stateAt(12));
    assert.ok(Math.abs(c.commands.at(-1)![0]! - actionAt(v5, stateAt(12))) < 1e-4);
    assert.match(linesOf(c.logs, 'info').at(-1)!, /^policy v5 in use \(was v1\)/);
    const metrics = c.lifecycle.metrics!();
    assert.equal(metrics['planner_policy_version'], 5);
    assert.equal(metrics['planner_policies_received'], 5);
    assert.equal(metrics['planner_policies_refused'], 3);
    assert.equal(metrics['safety_nan'], 0);
  } finally {
    await c.close();
  }
});

test('planner policy without exploration sends the stop action until the first policy; in lockstep with explore_ticks it holds for it', async () => {
  const still = await startController({ ...LOCKSTEP, explore_until_model: false }, JOINTS);
  try {
    for (let k = 0; k <= 3; k++) await still.tick(k, stateAt(k));
    assert.deepEqual(still.commands, [[0], [0], [0]], 'zero force: the stop action');
    await still.modelBlob(TOPIC, policy());
    await still.tick(4, stateAt(4));
    assert.ok(Math.abs(still.commands.at(-1)![0]! - actionAt(POLICY, stateAt(4))) < 1e-4);
  } finally {
    await still.close();
  }

  const held = await startController({ ...LOCKSTEP, explore_ticks: 3 }, JOINTS);
  try {
    for (let k = 0; k <= 6; k++) await held.tick(k, stateAt(k));
    assert.equal(held.commands.length, 3, 'three exploration ticks, then the next tick waits');
    assert.ok(
      linesOf(held.logs, 'info').includes(
        `explored 3 ticks: holding the next until the first policy arrives on ${TOPIC}`,
      ),
    );
    // the policy releases the held tick (the newest: tick 6), answered with the policy
    await held.modelBlob(TOPIC, policy());
    assert.equal(held.commands.length, 4);
    assert.ok(Math.abs(held.commands[3]![0]! - actionAt(POLICY, stateAt(6))) < 1e-4);
  } finally {
    await held.close();
  }
});

test('sampling planners take the policy for their proposals when sampling.policy_share > 0, and only then', async () => {
  const sampling = { planner: 'cem', wait_for_state: true, 'sampling.population': 20, 'sampling.horizon': 5 };
  const on = await startController({ ...sampling, 'sampling.policy_share': 0.25 }, JOINTS);
  try {
    await on.modelBlob(TOPIC, policy({ version: 2 }));
    assert.ok(linesOf(on.logs, 'info').some((l) => l.startsWith('policy v2 in use: reads')));
    await on.modelBlob(TOPIC, policy({ version: 3, periodNs: 5_000_000n }));
    assert.match(
      linesOf(on.logs, 'error').at(-1)!,
      /policy v3 on \/policy\/model refused, still using v2: policy v3 acts every 5 ms/,
    );
    assert.equal(on.lifecycle.metrics!()['planner_policy_version'], 2);
  } finally {
    await on.close();
  }
  const off = await startController(sampling, JOINTS);
  try {
    await off.modelBlob(TOPIC, policy());
    assert.ok(!off.logs.some((l) => l.message.startsWith('policy')), 'no policy_share: no subscription');
    assert.equal(off.lifecycle.metrics!()['planner_policy_version'], undefined);
  } finally {
    await off.close();
  }
  const worker = await startController(
    { ...sampling, planning_thread: 'worker', 'sampling.policy_share': 0.25 },
    JOINTS,
  );
  try {
    assert.ok(
      linesOf(worker.logs, 'warn').includes(
        "sampling.policy_share 0.25 ignored: policy proposals need planning inline (planning_thread 'inline'), the planning worker plans without them",
      ),
    );
  } finally {
    await worker.close();
  }
});
