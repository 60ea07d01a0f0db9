import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TransitionBuilder, type StateInput, type TransitionSample } from '../../src/data/transitions.js';
import { jointStateFields } from '../../framework/msgs/joint_state.js';
import { nsToTime } from '../../framework/time/time.js';

// Transitions from a state stream and a command stream at a 10 ms control period: pairing with the
// command held over the step, and the cases that must not pair (gaps, resets, duplicates, NaN).

const PERIOD = 10_000_000n;
const tick = (k: number): bigint => 1_000_000_000n + BigInt(k) * PERIOD;
// one joint, position k and velocity -k at tick k, so that a transition shows which ticks it joins
const state = (k: number, stampNs = tick(k)): StateInput => ({ stampNs, names: ['j'], position: [k], velocity: [-k] });

/** lockstep order: the state of tick k, then the command computed from it, stamped with tick k */
function run(builder: TransitionBuilder, ticks: number[]): TransitionSample[] {
  const out: TransitionSample[] = [];
  for (const k of ticks) {
    const r = builder.addState(state(k));
    if (r.status === 'transition') out.push(r.transition);
    builder.addCommand(tick(k), [100 + k]);
  }
  return out;
}

test('transitions: state t, the command of tick t, state t+1; steps count within the episode', () => {
  const b = new TransitionBuilder({ periodNs: PERIOD });
  const ts = run(b, [0, 1, 2, 3]);
  assert.equal(ts.length, 3);
  assert.deepEqual(
    ts.map((t) => [Array.from(t.state), Array.from(t.action), Array.from(t.nextState)]),
    [
      [[0, -0], [100], [1, -1]],
      [[1, -1], [101], [2, -2]],
      [[2, -2], [102], [3, -3]],
    ],
  );
  assert.deepEqual(
    ts.map((t) => [t.episode, t.step, t.stampNs]),
    [
      [0, 0, tick(0)],
      [0, 1, tick(1)],
      [0, 2, tick(2)],
    ],
  );
  assert.deepEqual(b.joints, ['j']);
  assert.equal(b.stateSize, 2);
  assert.equal(b.actionSize, 1);
});

test('transitions: joint order from the options, whatever the message order; JointState and estimate messages', () => {
  const b = new TransitionBuilder({ periodNs: PERIOD, joints: ['b', 'a'] });
  const js = (k: number) => ({
    header: { stamp: nsToTime(tick(k)), frame_id: '' },
    name: ['a', 'b', 'c'],
    position: [1 + k, 2 + k, 9],
    velocity: [10, 20, 90],
    effort: [],
  });
  assert.equal(b.addState(jointStateFields(js(0))).status, 'first');
  b.addCommand(tick(0), [0.5, -0.5]);
  const r = b.addState(jointStateFields({ state: js(1), covariance: [] }));
  assert.equal(r.status, 'transition');
  assert.deepEqual(Array.from(r.transition.state), [2, 1, 20, 10]);
  assert.deepEqual(Array.from(r.transition.nextState), [3, 2, 20, 10]);
  const missing = b.addState({ stampNs: tick(2), names: ['a'], position: [0], velocity: [0] });
  assert.equal(missing.status, 'bad_layout');
  assert.match('reason' in missing ? missing.reason : '', /lacks joints b/);
  const noVelocity = b.addState({ stampNs: tick(2), names: ['a', 'b'], position: [0, 0], velocity: [] });
  assert.equal(noVelocity.status, 'bad_layout');
  assert.equal(b.counts.badLayout, 2);
});

test('transitions: no pair across a missing tick; the chain resumes after it', () => {
  const b = new TransitionBuilder({ periodNs: PERIOD });
  const ts = run(b, [0, 1, 3, 4, 5]);
  assert.deepEqual(
    ts.map((t) => [t.state[0], t.nextState[0], t.action[0]]),
    [
      [0, 1, 100],
      [3, 4, 103],
      [4, 5, 104],
    ],
  );
  assert.equal(b.counts.gaps, 1);
  assert.deepEqual(
    ts.map((t) => t.episode),
    [0, 0, 0],
    'a gap is not a new episode',
  );
  // jitter within tolerance still pairs: 14 ms is under 1.5 periods
  const j = new TransitionBuilder({ periodNs: PERIOD });
  j.addState(state(0));
  j.addCommand(tick(0), [1]);
  assert.equal(j.addState(state(1, tick(0) + 14_000_000n)).status, 'transition');
  j.addCommand(tick(0) + 14_000_000n, [1]);
  assert.equal(j.addState(state(2, tick(0) + 30_000_000n)).status, 'gap', '16 ms is over 1.5 periods');
});

test('transitions: a stamp going back is a new episode with no transition across it; old commands are dropped', () => {
  const b = new TransitionBuilder({ periodNs: PERIOD });
  const ts = run(b, [0, 1, 2]);
  // the sim restarts at t = 0: state of tick 0 again, before any command of the new episode
  const r = b.addState({ stampNs: 0n, names: ['j'], position: [50], velocity: [0] });
  assert.equal(r.status, 'reset');
  const r2 = b.addState({ stampNs: PERIOD, names: ['j'], position: [51], velocity: [0] });
  assert.equal(r2.status, 'no_command', 'the commands of the old episode are not carried across');
  b.addCommand(PERIOD, [7]);
  const r3 = b.addState({ stampNs: 2n * PERIOD, names: ['j'], position: [52], velocity: [0] });
  assert.equal(r3.status, 'transition');
  assert.deepEqual(
    [r3.transition.episode, r3.transition.step, r3.transition.state[0], r3.transition.action[0]],
    [1, 0, 51, 7],
  );
  assert.equal(ts.length, 2);
  assert.equal(b.counts.resets, 1);
  assert.equal(b.counts.episodes, 2);
});

test('transitions: states with no command yet, or only a stale one, do not pair', () => {
  const b = new TransitionBuilder({ periodNs: PERIOD });
  assert.equal(b.addState(state(0)).status, 'first');
  assert.equal(b.addState(state(1)).status, 'no_command');
  b.addCommand(tick(1), [1]);
  assert.equal(b.addState(state(2)).status, 'transition');
  // the controller stops: its last command (tick 1) is held, but is stale by the step from tick 3
  assert.equal(b.addState(state(3)).status, 'transition', 'a command one period old is still the one held');
  assert.equal(b.addState(state(4)).status, 'stale_command');
  // a command stamped after the next state belongs to the next step, not this one
  b.addCommand(tick(5) + 1n, [2]);
  assert.equal(b.addState(state(5)).status, 'stale_command');
  assert.equal(b.addState(state(6)).status, 'transition');
  assert.equal(b.counts.unpaired, 3);
});

test('transitions: duplicate stamps and states between control ticks are skipped', () => {
  const b = new TransitionBuilder({ periodNs: PERIOD });
  b.addState(state(0));
  b.addCommand(tick(0), [1]);
  const dup = b.addState(state(0));
  assert.equal(dup.status, 'duplicate');
  // a state stream at twice the control rate: the in-between states are thinned out
  assert.equal(b.addState(state(0, tick(0) + PERIOD / 2n)).status, 'too_soon');
  const r = b.addState(state(1));
  assert.equal(r.status, 'transition');
  assert.equal(b.addState(state(1)).status, 'duplicate');
  assert.deepEqual([b.counts.duplicates, b.counts.tooSoon, b.counts.transitions], [2, 1, 1]);
});

test('transitions: a NaN state is skipped (and breaks the chain); a NaN command spoils its step only', () => {
  const b = new TransitionBuilder({ periodNs: PERIOD });
  b.addState(state(0));
  b.addCommand(tick(0), [1]);
  const nan = b.addState({ stampNs: tick(1), names: ['j'], position: [Number.NaN], velocity: [0] });
  assert.equal(nan.status, 'non_finite');
  assert.equal(b.addState(state(2)).status, 'gap', 'tick 0 does not pair with tick 2');
  b.addCommand(tick(2), [Number.NaN]);
  assert.equal(b.addState(state(3)).status, 'bad_command');
  b.addCommand(tick(3), [1, 2]); // wrong length
  assert.equal(b.addState(state(4)).status, 'bad_command');
  b.addCommand(tick(4), [4]);
  const r = b.addState(state(5));
  assert.equal(r.status, 'transition');
  assert.deepEqual([r.transition.state[0], r.transition.action[0]], [4, 4]);
  assert.deepEqual([b.counts.nonFinite, b.counts.badCommands, b.counts.transitions], [1, 2, 1]);
});
