import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TransitionCollector } from '../../src/dynamics/transition_collector.js';
import { ReplayBuffer } from '../../src/data/replay_buffer.js';
import { StateEncoding } from '../../src/dynamics/state_encoding.js';
import type { StateInput } from '../../src/data/transitions.js';

// The learner's data: transitions encoded as the model sees them into a buffer made with the first
// one, declared episodes respected, and an earlier run's transitions continued.

const PERIOD = 10_000_000n;
const state = (k: number, q = k): StateInput => ({
  stampNs: BigInt(k) * PERIOD,
  names: ['cart', 'hinge'],
  position: [0.1 * k, q],
  velocity: [1, 2],
});

test('collector: the buffer comes with the first transition, in the encoded state', () => {
  const c = new TransitionCollector({ periodNs: PERIOD, capacity: 10, joints: [], angleJoints: ['hinge'] });
  assert.equal(c.encoding, undefined, 'the joints are not known before a state');
  assert.deepEqual(c.addState(state(0, Math.PI / 2)), { outcome: { status: 'first' }, started: false });
  assert.equal(c.addCommand(0n, [0.5]), true);
  const { outcome, started } = c.addState(state(1, 0));
  assert.equal(outcome.status, 'transition');
  assert.equal(started, true);
  assert.equal(c.addState(state(2)).started, false);
  assert.equal(
    c.describe(),
    "collecting transitions of 2 joints (cart, hinge) and 1 command values; the model's state [q.cart, sin.hinge, cos.hinge, qd.cart, qd.hinge]",
  );
  const data = c.buffer!.toTransitionData();
  assert.equal(data.n, 2, 'the command of tick 0 is held over the step from tick 1 too');
  assert.deepEqual(
    Array.from(data.states.subarray(0, 5)).map((x) => Math.round(x * 1e6) / 1e6),
    [0, 1, 0, 1, 2],
    'q = π/2 as (sin, cos) = (1, 0)',
  );
  assert.deepEqual(Array.from(data.actions), [0.5, 0.5]);
  assert.deepEqual(c.buffer!.meta, {
    joints: ['cart', 'hinge'],
    angle_joints: ['hinge'],
    state: ['q.cart', 'sin.hinge', 'cos.hinge', 'qd.cart', 'qd.hinge'],
    period_ns: Number(PERIOD),
  });
  assert.equal(c.addCommand(PERIOD, [1, 2]), false, 'a command of the wrong size');
  assert.equal(c.counts.badCommands, 1);
});

test('collector: no transition across a declared episode boundary', () => {
  const c = new TransitionCollector({ periodNs: PERIOD, capacity: 10, joints: ['cart', 'hinge'], angleJoints: [] });
  for (const k of [0, 1]) {
    c.addState(state(k));
    c.addCommand(BigInt(k) * PERIOD, [k]);
  }
  c.endEpisode(PERIOD);
  c.startEpisode(2n * PERIOD);
  assert.equal(c.addState(state(2)).outcome.status, 'episode');
  assert.equal(c.buffer!.size, 1);
  assert.equal(c.counts.episodes, 2);
});

test("collector: an earlier run's transitions come first and fix the joints and the command size", () => {
  const encoding = new StateEncoding(['hinge']);
  const buffer = new ReplayBuffer({ capacity: 10, stateSize: 2, actionSize: 1, meta: encoding.toMetadata() });
  buffer.add({ state: [9, 9], action: [9], nextState: [9, 9] });
  const c = new TransitionCollector({
    periodNs: PERIOD,
    capacity: 10,
    joints: [],
    angleJoints: [],
    loaded: { buffer, encoding },
  });
  assert.equal(c.actionSize, 1);
  const hinge = (k: number): StateInput => ({
    stampNs: BigInt(k) * PERIOD,
    names: ['x', 'hinge'],
    position: [5, k],
    velocity: [5, 0],
  });
  c.addState(hinge(0));
  c.addCommand(0n, [3]);
  const r = c.addState(hinge(1));
  assert.deepEqual([r.outcome.status, r.started], ['transition', false]);
  assert.deepEqual(Array.from(c.buffer!.toTransitionData().states), [9, 9, 0, 0]);
});

test('collector: a bad angle_joints stops it at once', () => {
  assert.throws(
    () => new TransitionCollector({ periodNs: PERIOD, capacity: 10, joints: ['hinge'], angleJoints: ['other'] }),
    /parameter 'angle_joints'/,
  );
});
