import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MISSING_TICK_FACTOR,
  TransitionBuilder,
  type StateInput,
  type TransitionSample,
} from '../../src/data/transitions.js';
import { jointStateFields } from '../../framework/msgs/joint_state.js';
import { nsToTime } from '../../framework/time/time.js';

// Transitions from a state stream and a command stream at a 10 ms control period: pairing with the
// command held over the step, and the cases that must not pair (declared episode boundaries,
// missing ticks, stamps going back, duplicates, NaN).

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
  assert.equal(b.counts.missedTicks, 1);
  assert.deepEqual(
    ts.map((t) => t.episode),
    [0, 0, 0],
    'a missing tick is not a new episode',
  );
  assert.equal(b.counts.episodes, 1);
  // jitter within tolerance still pairs: 14 ms is under 1.5 periods
  const j = new TransitionBuilder({ periodNs: PERIOD });
  j.addState(state(0));
  j.addCommand(tick(0), [1]);
  assert.equal(j.addState(state(1, tick(0) + 14_000_000n)).status, 'transition');
  j.addCommand(tick(0) + 14_000_000n, [1]);
  assert.equal(j.addState(state(2, tick(0) + 30_000_000n)).status, 'missed_tick', '16 ms is over 1.5 periods');
  // the factor is the builder's, written once
  assert.equal(MISSING_TICK_FACTOR, 1.5);
});

test('transitions: a stamp going back (no event) resets the chain, counted, with no transition across it; not an episode', () => {
  const b = new TransitionBuilder({ periodNs: PERIOD });
  const ts = run(b, [0, 1, 2]);
  // a source restarts at t = 0 without saying so: state of tick 0 again, before any command after it
  const r = b.addState({ stampNs: 0n, names: ['j'], position: [50], velocity: [0] });
  assert.equal(r.status, 'reset');
  const r2 = b.addState({ stampNs: PERIOD, names: ['j'], position: [51], velocity: [0] });
  assert.equal(r2.status, 'no_command', 'the commands of the old time line are not carried across');
  b.addCommand(PERIOD, [7]);
  const r3 = b.addState({ stampNs: 2n * PERIOD, names: ['j'], position: [52], velocity: [0] });
  assert.equal(r3.status, 'transition');
  assert.deepEqual(
    [r3.transition.episode, r3.transition.state[0], r3.transition.action[0]],
    [0, 51, 7],
    'the same episode: only an event declares one',
  );
  assert.equal(ts.length, 2);
  assert.equal(b.counts.resets, 1);
  assert.equal(b.counts.episodes, 1);
});

/** An episode boundary as a sim bridge declares it: END at the last state's stamp, START at the next one's. */
function boundary(b: TransitionBuilder, lastTick: number, firstTick: number): void {
  b.endEpisode(tick(lastTick));
  b.startEpisode(tick(firstTick));
}

test('transitions: no pair across a declared episode boundary, even one period apart; episode and step restart', () => {
  const b = new TransitionBuilder({ periodNs: PERIOD });
  b.startEpisode(tick(0)); // episode 0 is declared before its first state
  const first = run(b, [0, 1, 2]);
  // the next episode follows with no dead time: only the events tell the states apart
  boundary(b, 2, 3);
  assert.equal(b.addState(state(3)).status, 'episode', 'the first state of the new episode starts a chain');
  b.addCommand(tick(3), [103]);
  const second = run(b, [4, 5]);
  assert.deepEqual(
    [...first, ...second].map((t) => [t.episode, t.step, t.state[0], t.nextState[0], t.action[0]]),
    [
      [0, 0, 0, 1, 100],
      [0, 1, 1, 2, 101],
      [1, 0, 3, 4, 103],
      [1, 1, 4, 5, 104],
    ],
  );
  assert.deepEqual([b.counts.episodes, b.counts.missedTicks, b.counts.resets, b.counts.lateEvents], [2, 0, 0, 0]);
  assert.equal(b.episode, 1);
});

test("transitions: the old episode's command does not pair with the new episode's first step", () => {
  const b = new TransitionBuilder({ periodNs: PERIOD });
  run(b, [0, 1, 2]); // the command of tick 2 is held over a step that was never taken
  boundary(b, 2, 3);
  assert.equal(b.addState(state(3)).status, 'episode');
  assert.equal(b.addState(state(4)).status, 'no_command', "tick 2's command is not the one held from tick 3");
});

test('transitions: events go by their stamps, whether they come before or after the states they separate', () => {
  // the states lag (a filter between the source and the builder): END and START come first
  const early = new TransitionBuilder({ periodNs: PERIOD });
  run(early, [0, 1]);
  boundary(early, 2, 5); // dead time between the episodes: tick 2 is the last, tick 5 the first
  const ts = run(early, [2, 5, 6]);
  assert.deepEqual(
    ts.map((t) => [t.episode, t.state[0], t.nextState[0]]),
    [
      [0, 1, 2],
      [1, 5, 6],
    ],
    'tick 2 still pairs (it is before the END), tick 5 does not',
  );
  assert.equal(early.counts.missedTicks, 0, 'a declared boundary is not a missing tick');

  // START comes after the new episode's first state, END before it: END alone separates them
  const late = new TransitionBuilder({ periodNs: PERIOD });
  run(late, [0, 1]);
  late.endEpisode(tick(1));
  assert.equal(late.addState(state(2)).status, 'episode');
  late.startEpisode(tick(2));
  assert.equal(late.counts.lateEvents, 0, 'a START behind its own first state is no news');

  // an END after states that it should have separated: those were paired; it is counted
  const tooLate = new TransitionBuilder({ periodNs: PERIOD });
  run(tooLate, [0, 1, 2, 3]);
  tooLate.endEpisode(tick(1));
  tooLate.startEpisode(tick(2));
  assert.equal(tooLate.counts.lateEvents, 2);
  assert.equal(tooLate.addState(state(4)).status, 'transition', 'a late event breaks nothing after it');
});

test('transitions: several boundaries crossed at once make one new episode; events before the first state are behind it', () => {
  const b = new TransitionBuilder({ periodNs: PERIOD });
  b.startEpisode(tick(0));
  assert.equal(b.addState(state(0)).status, 'first');
  b.addCommand(tick(0), [1]);
  // the states of a whole episode were lost between two boundaries
  boundary(b, 0, 3);
  boundary(b, 5, 8);
  assert.equal(b.addState(state(8)).status, 'episode');
  assert.equal(b.episode, 1);
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
  assert.equal(b.addState(state(2)).status, 'missed_tick', 'tick 0 does not pair with tick 2');
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
