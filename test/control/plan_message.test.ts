import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlanSource, planFields, stateNames } from '../../src/control/plan_message.js';
import type { FeedbackPolicy, SequencePolicy } from '../../src/control/policy.js';

// What the plan topic makes of a policy: a sequence plan's actions and no states; a feedback
// plan's nominal states and the open-loop action at them (û + k), never the gains; sizes that
// disagree with the controller's names, and non-finite entries, are reported (naming the entry),
// not sent; cost and iterations from the planner's figures; each policy object sent once.

const STATE_NAMES = ['q.cart_slide', 'q.pole_hinge', 'qd.cart_slide', 'qd.pole_hinge'];
const ACTIONS = ['cart_force'];

const sequence: SequencePolicy = {
  kind: 'sequence',
  nu: 1,
  startNs: 5_000_000_000n,
  stepNs: 20_000_000n,
  actions: Float64Array.from([0.5, -0.5, 1]),
  interpolation: 'linear',
};

function feedback(overrides: Partial<FeedbackPolicy> = {}): FeedbackPolicy {
  return {
    kind: 'feedback',
    nx: 4,
    nu: 1,
    startNs: 1_000_000n,
    stepNs: 10_000_000n,
    states: Float64Array.from([0, 0.1, 0, 0, 0.01, 0.05, 0.1, -0.2]),
    actions: Float64Array.from([2, 3]),
    feedforward: Float64Array.from([0.25, -1]),
    gains: new Float64Array(8).fill(7),
    ...overrides,
  };
}

const context = (status: Record<string, number | string> = {}) => ({
  planner: 'test planner',
  status,
  stateNames: STATE_NAMES,
  actionNames: ACTIONS,
});

test('state names: q then qd per dof; a ball joint has one name a dof', () => {
  assert.deepEqual(
    stateNames(
      [
        { name: 'cart_slide', type: 'slide', dofAdr: 0 },
        { name: 'pole_hinge', type: 'hinge', dofAdr: 1 },
      ],
      2,
    ),
    STATE_NAMES,
  );
  assert.deepEqual(stateNames([{ name: 'b', type: 'ball', dofAdr: 0 }], 3), [
    'q.b[0]',
    'q.b[1]',
    'q.b[2]',
    'qd.b[0]',
    'qd.b[1]',
    'qd.b[2]',
  ]);
});

test('a sequence plan: its actions, no states, its interpolation; best_cost and iterations from the status', () => {
  const out = planFields(sequence, context({ best_cost: 4.5, iterations: 3, mode: 'planning' }));
  assert.ok(out.ok, out.ok ? '' : out.problem);
  const p = out.plan;
  assert.equal(p.kind, 'sequence');
  assert.equal(p.interpolation, 'linear');
  assert.equal(p.steps, 3);
  assert.deepEqual(p.stateNames, []);
  assert.equal(p.states.length, 0);
  assert.deepEqual([...p.actions], [0.5, -0.5, 1]);
  assert.notEqual(p.actions, sequence.actions, 'a copy: the planner may reuse its buffers');
  assert.equal(p.startNs, 5_000_000_000n);
  assert.equal(p.stepNs, 20_000_000n);
  assert.equal(p.cost, 4.5);
  assert.equal(p.iterations, 3);
  assert.deepEqual(p.status, [
    { key: 'best_cost', value: '4.5' },
    { key: 'iterations', value: '3' },
    { key: 'mode', value: 'planning' },
  ]);
});

test('a feedback plan: nominal states and û + k (steps × nx, steps × nu); no gains; no cost: NaN, 0 iterations', () => {
  const out = planFields(feedback(), context({ goals: 1 }));
  assert.ok(out.ok, out.ok ? '' : out.problem);
  const p = out.plan;
  assert.equal(p.kind, 'feedback');
  assert.equal(p.interpolation, 'zero_order_hold');
  assert.equal(p.steps, 2);
  assert.deepEqual(p.stateNames, STATE_NAMES);
  assert.deepEqual(p.actionNames, ACTIONS);
  assert.equal(p.states.length, 2 * 4);
  assert.deepEqual([...p.states], [0, 0.1, 0, 0, 0.01, 0.05, 0.1, -0.2]);
  assert.deepEqual([...p.actions], [2.25, 2]);
  assert.ok(!('gains' in p));
  assert.ok(Number.isNaN(p.cost));
  assert.equal(p.iterations, 0);
  // a `cost` figure wins over best_cost; an iterations figure that is no count is 0
  const c = planFields(feedback(), context({ cost: 1.25, best_cost: 9, iterations: 2.5 }));
  assert.ok(c.ok);
  assert.equal(c.plan.cost, 1.25);
  assert.equal(c.plan.iterations, 0);
});

test('a non-finite entry is reported, naming it, not sent', () => {
  const nanState = planFields(
    feedback({ states: Float64Array.from([0, 0.1, 0, 0, 0.01, 0.05, Number.NaN, -0.2]) }),
    context(),
  );
  assert.deepEqual(nanState, { ok: false, problem: 'a non-finite plan: states[step 1, qd.cart_slide] is NaN' });
  const infFeedforward = planFields(feedback({ feedforward: Float64Array.from([Infinity, 0]) }), context());
  assert.deepEqual(infFeedforward, {
    ok: false,
    problem: 'a non-finite plan: actions[step 0, cart_force] is Infinity',
  });
  const seq = planFields({ ...sequence, actions: Float64Array.from([0, -Infinity, 0]) }, context());
  assert.deepEqual(seq, { ok: false, problem: 'a non-finite plan: actions[step 1, cart_force] is -Infinity' });
});

test('sizes that disagree with the controller are reported', () => {
  const wrongNu = planFields({ ...sequence, nu: 2, actions: new Float64Array(4) }, context());
  assert.deepEqual(wrongNu, { ok: false, problem: 'the plan has 2 actions a step, the controller 1 actuators' });
  const wrongNx = planFields(feedback({ nx: 2, states: new Float64Array(4), gains: new Float64Array(4) }), context());
  assert.deepEqual(wrongNx, { ok: false, problem: "the plan's states have 2 entries, the controller's 4" });
  const short = planFields(feedback({ states: new Float64Array(4) }), context());
  assert.equal(short.ok, false);
  const empty = planFields({ ...sequence, actions: new Float64Array(0) }, context());
  assert.equal(empty.ok, false);
});

test('PlanSource: each policy object once; nothing before the first; a rejected plan counted once', () => {
  const source = new PlanSource({ planner: 'p', stateNames: STATE_NAMES, actionNames: ACTIONS });
  let asked = 0;
  const status = () => (asked++, { iterations: 1 });
  assert.equal(source.next(undefined, status), undefined);
  const policy = feedback();
  assert.equal(source.next(policy, status)?.ok, true);
  assert.equal(source.next(policy, status), undefined, 'the same policy is not sent again');
  assert.equal(asked, 1, 'the status is read only for a plan that is sent');
  const bad = feedback({ actions: Float64Array.from([Number.NaN, 0]) });
  assert.equal(source.next(bad, status)?.ok, false);
  assert.equal(source.next(bad, status), undefined);
  assert.equal(source.rejected, 1);
  assert.equal(source.next(feedback(), status)?.ok, true, 'a new object is a new plan');
});
