import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SafetyLayer, type SafetyConfig } from '../../../src/control/safety.js';
import { RelativeTargetClip } from '../../../src/control/teleop/relative_target.js';
import { FollowSource } from '../../../src/control/teleop/follow_source.js';
import { TeleopStage } from '../../../src/control/teleop/teleop_stage.js';
import { EpisodeControl } from '../../../src/control/teleop/episode_control.js';

// The teleop stage's safety: a leader target that jumps is followed one bounded step a tick
// (max_relative_target, then the safety layer's rate limit), the e-stop latches and holds whatever
// the source says, and nothing non-finite from a source ever leaves the stage.

const PERIOD = 10_000_000n;
const N = 3;

function config(rateLimit: number): SafetyConfig {
  return {
    commandInterface: 'position',
    positionLower: [-2, -2, -2],
    positionUpper: [2, 2, 2],
    velocityLimit: [Infinity, Infinity, Infinity],
    effortLimit: [Infinity, Infinity, Infinity],
    rateLimit: [rateLimit, rateLimit, rateLimit],
    periodNs: PERIOD,
    watchdogTimeoutNs: 50_000_000n,
  };
}

/** A follower whose position is the command it was last sent; the leader read at every tick. */
function rig(rateLimit: number, bound: number[]) {
  const leader = new FollowSource('leader', N, 1_000_000_000n, () => 0n);
  const safety = new SafetyLayer(config(rateLimit));
  const stage = new TeleopStage(leader, safety, new RelativeTargetClip(bound, N));
  const measured = new Float64Array(N);
  let k = 0;
  const sent: number[][] = [];
  const last: { measured: number[] } = { measured: [] };
  return {
    leader,
    last,
    safety,
    stage,
    measured,
    sent,
    /** one tick: the state stamped now, the command applied to the follower */
    tick() {
      k++;
      const nowNs = BigInt(k) * PERIOD;
      last.measured = [...measured];
      const t = stage.tick(nowNs, { stampNs: nowNs, position: measured, velocity: new Float64Array(N) });
      if (t.publish) {
        sent.push([...t.command]);
        measured.set(t.command);
      }
      return t;
    },
  };
}

test('max_relative_target alone: a 90° jump goes out as the measured position + the bound, per joint, both ways', () => {
  const clip = new RelativeTargetClip([0.1], N);
  const out = new Float64Array(N);
  assert.equal(clip.clip([Math.PI / 2, -Math.PI / 2, 0.05], [0, 0, 0], out), 2);
  assert.deepEqual([...out], [0.1, -0.1, 0.05]);
  const perJoint = new RelativeTargetClip([0.1, 0.2, Infinity], N);
  perJoint.clip([1, 1, 1], [0, 0, 0], out);
  assert.deepEqual([...out], [0.1, 0.2, 1]);
  const none = new RelativeTargetClip([], N);
  assert.equal(none.clip([5, 5, 5], [0, 0, 0], out), 0);
  assert.throws(() => new RelativeTargetClip([0.1, 0.1], N), /2 values for 3 joints/);
  assert.throws(() => new RelativeTargetClip([-1], N), /must be ≥ 0/);
});

test('a leader jumping 90°: the follower goal is clipped by max_relative_target and rate-limited by the safety layer', () => {
  const r = rig(2, [0.1]); // 2 rad/s: 0.02 rad a tick, under the 0.1 rad bound
  r.leader.offer([Math.PI / 2, 0, 0]);
  const first = r.tick();
  assert.equal(first.clipped, 1, 'the goal was clipped by max_relative_target');
  assert.ok(first.verdict.limited, 'and rate-limited by the safety layer');
  assert.ok(Math.abs(first.command[0]! - 0.02) < 1e-9, `first step ${first.command[0]}`);
  let previous = first.command[0]!;
  for (let i = 0; i < 200; i++) {
    const before = r.measured[0]!;
    const t = r.tick();
    assert.ok(Math.abs(t.command[0]! - before) <= 0.1 + 1e-12, 'never more than max_relative_target ahead');
    assert.ok(Math.abs(t.command[0]! - previous) <= 0.02 + 1e-9, 'never faster than the rate limit');
    previous = t.command[0]!;
  }
  assert.ok(Math.abs(r.measured[0]! - Math.PI / 2) < 1e-9, `reached the leader: ${r.measured[0]}`);
  // without a rate limit, the clip alone bounds the step
  const fast = rig(Infinity, [0.1]);
  fast.leader.offer([Math.PI / 2, 0, 0]);
  assert.ok(Math.abs(fast.tick().command[0]! - 0.1) < 1e-12);
  assert.ok(Math.abs(fast.tick().command[0]! - 0.2) < 1e-12);
});

test('the e-stop latches and holds where the arm was, whatever the leader does, until it is reset', () => {
  const r = rig(2, [0.1]);
  r.leader.offer([1, -1, 0.5]);
  for (let i = 0; i < 10; i++) r.tick();
  // the e-stop holds the latest measurement the safety layer saw
  const hold = r.last.measured;
  r.safety.estop('test');
  for (let i = 0; i < 50; i++) {
    r.leader.offer([Math.PI / 2 - i * 0.01, 1.5, -1.5]);
    // the follower drifts (pushed by hand): the hold stays where the e-stop latched
    r.measured[2] = -0.3;
    const t = r.tick();
    assert.equal(t.verdict.ok, false);
    assert.deepEqual(t.verdict.reasons.includes('estop'), true);
    assert.deepEqual([...t.command], hold);
  }
  r.safety.resetEstop();
  const after = r.tick();
  assert.ok(after.verdict.ok);
  assert.ok(
    after.command.every((u, i) => Math.abs(u - hold[i]!) <= 0.02 + 1e-9),
    'released, it moves on rate-limited from the hold',
  );
});

test('NaN from a source never leaves the stage: that joint holds the measured position, the others follow', () => {
  const r = rig(2, [0.1]);
  r.measured.set([0.3, 0.2, 0.1]);
  r.leader.offer([Number.NaN, 0.21, Number.POSITIVE_INFINITY]);
  const t = r.tick();
  assert.ok(t.command.every(Number.isFinite), `command ${[...t.command].join(', ')}`);
  assert.equal(t.command[0], 0.3);
  assert.ok(Math.abs(t.command[1]! - 0.21) < 1e-9);
  assert.equal(t.command[2], 0.1);
  assert.ok(t.verdict.reasons.includes('nan'));
  // all NaN, many ticks: still finite, still holding
  r.leader.offer([Number.NaN, Number.NaN, Number.NaN]);
  for (let i = 0; i < 20; i++) assert.ok(r.tick().command.every(Number.isFinite));
  assert.ok(r.sent.flat().every(Number.isFinite));
});

test('no target (a leader that stopped answering) holds the measured position; no state sends nothing', () => {
  let now = 0n;
  const leader = new FollowSource('leader', N, 100_000_000n, () => now);
  const safety = new SafetyLayer(config(Infinity));
  const stage = new TeleopStage(leader, safety, new RelativeTargetClip([0.1], N));
  const none = stage.tick(0n, undefined);
  assert.equal(none.publish, false, 'nothing measured: nothing is safe to send');
  assert.ok(none.command.every(Number.isFinite) || !none.publish);
  leader.offer([0.05, 0.05, 0.05]);
  const state = { stampNs: 10_000_000n, position: [0, 0, 0], velocity: [0, 0, 0] };
  assert.deepEqual([...stage.tick(10_000_000n, state).command], [0.05, 0.05, 0.05]);
  now = 200_000_000n; // the reading is 0.2 s old
  const held = stage.tick(20_000_000n, { ...state, stampNs: 20_000_000n });
  assert.equal(held.held, true);
  assert.deepEqual([...held.command], [0, 0, 0]);
  assert.throws(
    () =>
      new TeleopStage(
        leader,
        new SafetyLayer({ ...config(1), commandInterface: 'effort' }),
        new RelativeTargetClip([], N),
      ),
    /teleop sends positions/,
  );
});

test("episode control: LeRobot's keys as START/END boundaries; commands that do not apply change nothing", () => {
  const e = new EpisodeControl(3);
  assert.deepEqual(e.apply('end').boundaries, []);
  assert.deepEqual(e.apply('start').boundaries, [{ kind: 'start', episode: 3, reason: '' }]);
  assert.deepEqual(e.apply('start').boundaries, [], 'one at a time');
  assert.deepEqual(e.apply('rerecord').boundaries, [
    { kind: 'end', episode: 3, reason: 'rerecord' },
    { kind: 'start', episode: 3, reason: 'rerecord' },
  ]);
  assert.deepEqual(e.apply('end').boundaries, [{ kind: 'end', episode: 3, reason: 'exit_early' }]);
  assert.deepEqual(e.apply('start').boundaries, [{ kind: 'start', episode: 4, reason: '' }]);
  assert.deepEqual(e.apply('discard').boundaries, [{ kind: 'end', episode: 4, reason: 'discard' }]);
  assert.deepEqual(
    e.apply('start').boundaries,
    [{ kind: 'start', episode: 4, reason: '' }],
    'a discarded number is used again',
  );
  assert.deepEqual(e.apply('stop').boundaries, [{ kind: 'end', episode: 4, reason: 'stop_recording' }]);
  assert.equal(e.recording, undefined);
  assert.match(e.apply('stop').say, /no episode was under way/);
});
