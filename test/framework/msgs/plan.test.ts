import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecFor } from '../../../framework/msgs/codec.js';
import { definitionText } from '../../../framework/msgs/definitions.js';
import { planMessage, planTiming } from '../../../framework/msgs/plan.js';
import { PlanInterpolation, PlanKind, type Plan } from '../../../framework/msgs/types.js';

// dynastack_msgs/Plan on the embedded transport's CDR codec: its definition comes from the
// repo's .msg (with its constants and its dependencies: Header, Duration, KeyValue), a plan built
// from plain fields round-trips field for field (NaN cost included), and the codec's checks name
// a wrong field.

const feedback: Plan = planMessage({
  startNs: 12_345_000_000n,
  stepNs: 10_000_000n,
  planner: 'lqr',
  kind: 'feedback',
  interpolation: 'zero_order_hold',
  stateNames: ['q.cart_slide', 'q.pole_hinge', 'qd.cart_slide', 'qd.pole_hinge'],
  actionNames: ['cart_force'],
  steps: 2,
  states: Float64Array.from([0, 0.1, 0, 0, 0.01, 0.09, 0.2, -0.1]),
  actions: Float64Array.from([1.5, -0.5]),
  cost: Number.NaN,
  iterations: 7,
  status: [
    { key: 'goals', value: '1' },
    { key: 'solve_ms', value: '0.25' },
  ],
});

test('Plan comes from the .msg with its constants and dependencies', () => {
  const text = definitionText('dynastack_msgs/msg/Plan');
  assert.match(text, /^uint8 SEQUENCE=0$/m);
  assert.match(text, /^builtin_interfaces\/Duration step$/m);
  assert.match(text, /MSG: diagnostic_msgs\/KeyValue/);
  assert.match(text, /MSG: std_msgs\/Header/);
  assert.deepEqual(PlanKind, { SEQUENCE: 0, FEEDBACK: 1 });
  assert.deepEqual(PlanInterpolation, { ZERO_ORDER_HOLD: 0, LINEAR: 1 });
});

test('a feedback plan round-trips field for field; NaN cost stays NaN', () => {
  const codec = codecFor('dynastack_msgs/msg/Plan');
  const back = codec.decode(codec.encode(feedback));
  assert.ok(back.states instanceof Float64Array && back.actions instanceof Float64Array);
  assert.deepEqual(
    { ...back, states: [...back.states], actions: [...back.actions], cost: 0 },
    { ...feedback, states: [...feedback.states], actions: [...feedback.actions], cost: 0 },
  );
  assert.ok(Number.isNaN(back.cost));
  assert.equal(back.kind, PlanKind.FEEDBACK);
  assert.deepEqual(back.header.stamp, { sec: 12, nanosec: 345_000_000 });
  assert.deepEqual(back.step, { sec: 0, nanosec: 10_000_000 });
  assert.deepEqual(planTiming(back), { startNs: 12_345_000_000n, stepNs: 10_000_000n, nx: 4, nu: 1 });
});

test('a sequence plan (no states) round-trips; LINEAR interpolation', () => {
  const codec = codecFor('dynastack_msgs/msg/Plan');
  const seq = planMessage({
    startNs: 0n,
    stepNs: 20_000_000n,
    planner: 'cem over the learned model (cartpole_swingup)',
    kind: 'sequence',
    interpolation: 'linear',
    stateNames: [],
    actionNames: ['a', 'b'],
    steps: 3,
    states: new Float64Array(0),
    actions: Float64Array.from([1, 2, 3, 4, 5, 6]),
    cost: 12.5,
    iterations: 2,
    status: [],
  });
  const back = codec.decode(codec.encode(seq));
  assert.equal(back.kind, PlanKind.SEQUENCE);
  assert.equal(back.interpolation, PlanInterpolation.LINEAR);
  assert.equal(back.states.length, 0);
  assert.deepEqual([...back.actions], [1, 2, 3, 4, 5, 6]);
  assert.equal(back.cost, 12.5);
  assert.deepEqual(back.state_names, []);
});

test('encode names a wrong Plan field', () => {
  const codec = codecFor('dynastack_msgs/msg/Plan');
  assert.throws(
    () => codec.encode({ ...feedback, steps: -1 }),
    /cannot encode dynastack_msgs\/msg\/Plan: steps: expected uint32, got number -1/,
  );
  assert.throws(
    () => codec.encode({ ...feedback, step: { sec: 0, nanosec: 1.5 } }),
    /step\.nanosec: expected uint32, got number 1.5/,
  );
  assert.throws(
    () => codec.encode({ ...feedback, status: [{ key: 'k', value: 3 }] } as never),
    /status\[0\]\.value: expected string, got number 3/,
  );
});
