import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  JointGoalJudge,
  ReachHoldJudge,
  jointGoalError,
  jointJudgeFromParams,
  shareVerdict,
  verdictLine,
  wrapAngle,
  type GoalError,
} from '../../src/tasks/task_judge.js';

// The task judges: reach and hold (reached in time and held; reached late; reached then lost;
// never reached; a run that ends before the deadline; several goals), joint errors wrapped for
// angles that go round, the controller's judge.* parameters, and shares of judged items.

const S = 1_000_000_000n;
const err = (ratio: number): GoalError => ({ ratio, text: `error ${ratio}` });
/** samples every 0.1 s from `fromS` to `toS` (inclusive), the ratio given by f(t) */
function feed(judge: ReachHoldJudge, fromS: number, toS: number, f: (t: number) => number): void {
  for (let k = Math.round(fromS * 10); k <= Math.round(toS * 10); k++)
    judge.sample((BigInt(k) * S) / 10n, err(f(k / 10)));
}
const judge = (reachWithinS?: number, from: 'goal' | 'start' = 'goal'): ReachHoldJudge =>
  new ReachHoldJudge({
    ...(reachWithinS !== undefined ? { reachWithinNs: BigInt(reachWithinS * 1e9) } : {}),
    from,
    what: 'pole_hinge',
    tolerance: '0.100 rad',
  });

test('reach and hold: reached within the deadline and held to the end is achieved', () => {
  const j = judge(3);
  j.goal(0n);
  feed(j, 0, 10, (t) => (t < 2 ? 5 : 0.5));
  const v = j.verdict();
  assert.equal(v.achieved, true);
  assert.match(
    v.detail,
    /pole_hinge within 0\.100 rad of the goal at t=2\.00 s \(due by t=3\.00 s\), held to t=10\.00 s/,
  );
  assert.match(verdictLine(v), /^task achieved: yes — /);
});

test('reach and hold: reached after the deadline is not achieved, saying when', () => {
  const j = judge(3);
  j.goal(0n);
  feed(j, 0, 10, (t) => (t < 4 ? 5 : 0.5));
  const v = j.verdict();
  assert.equal(v.achieved, false);
  assert.match(v.detail, /only at t=4\.00 s, after its deadline t=3\.00 s/);
  assert.match(verdictLine(v), /^task NOT achieved: pole_hinge: /);
});

test('reach and hold: reached, then lost, is not achieved, saying when and by how much', () => {
  // lost and never regained
  const j = judge(3);
  j.goal(0n);
  feed(j, 0, 10, (t) => (t < 1 || t > 6.05 ? 2 : 0.1));
  const v = j.verdict();
  assert.equal(v.achieved, false);
  assert.match(
    v.detail,
    /within 0\.100 rad at t=1\.00 s, lost at t=6\.10 s \(error 2\), and not at the end at t=10\.00 s/,
  );
  // lost after the deadline and regained: held only from after the deadline
  const back = judge(3);
  back.goal(0n);
  feed(back, 0, 10, (t) => (t < 1 || (t > 6.05 && t < 6.25) ? 2 : 0.1));
  assert.equal(back.verdict().achieved, false);
  assert.match(
    back.verdict().detail,
    /at t=1\.00 s, lost at t=6\.10 s \(error 2\), and held only from t=6\.30 s, after its deadline t=3\.00 s/,
  );
});

test('reach and hold: passing through the tolerance and settling before the deadline is achieved', () => {
  const j = judge(3);
  j.goal(0n);
  // an overshoot: within at 0.5 s, out again 0.8–1.2 s, settled from 1.3 s
  feed(j, 0, 10, (t) => (t < 0.45 || (t > 0.75 && t < 1.25) ? 1.5 : 0.5));
  assert.equal(j.verdict().achieved, true, j.verdict().detail);
  assert.match(j.verdict().detail, /at t=1\.30 s \(due by t=3\.00 s\)/);
});

test('reach and hold: never reached names the closest sample; a run that ends before its deadline says so', () => {
  const never = judge(3);
  never.goal(0n);
  feed(never, 0, 10, (t) => 3 - t / 10);
  assert.equal(never.verdict().achieved, false);
  assert.match(never.verdict().detail, /never within 0\.100 rad \(closest: error 2\)/);
  const short = judge(3);
  short.goal(0n);
  feed(short, 0, 1, () => 2);
  assert.match(short.verdict().detail, /not within 0\.100 rad by the end at t=1\.00 s/);
});

test('reach and hold: without a deadline any time will do; NaN is never within', () => {
  const j = judge();
  j.goal(0n);
  feed(j, 0, 10, (t) => (t < 9 ? Number.NaN : 0));
  assert.equal(j.verdict().achieved, true);
  const nan = judge();
  nan.goal(0n);
  feed(nan, 0, 1, () => Number.NaN);
  assert.equal(nan.verdict().achieved, false);
});

test('reach and hold: every goal judged from its own start; one missed goal fails the task, named', () => {
  const ok = judge(1);
  ok.goal(0n, 'target 1');
  feed(ok, 0, 2.9, (t) => (t < 0.5 ? 3 : 0.2));
  ok.goal(3n * S, 'target 2');
  feed(ok, 3, 6, (t) => (t < 3.5 ? 3 : 0.2));
  assert.equal(ok.verdict().achieved, true);
  assert.match(ok.verdict().detail, /reached all 2 goals within 0\.100 rad, each within 1\.00 s of its goal,/);

  const missed = judge(1);
  missed.goal(0n, 'target 1');
  feed(missed, 0, 2.9, (t) => (t < 0.5 ? 3 : 0.2));
  missed.goal(3n * S, 'target 2');
  feed(missed, 3, 6, (t) => (t < 4.5 ? 3 : 0.2)); // 1.5 s after its goal
  const v = missed.verdict();
  assert.equal(v.achieved, false);
  assert.match(
    v.detail,
    /1 of 2 goals missed: target 2 within 0\.100 rad only at t=4\.50 s, after its deadline t=4\.00 s/,
  );

  // from the start: the second goal's deadline is the first's
  const fromStart = judge(1, 'start');
  fromStart.goal(0n);
  feed(fromStart, 0, 2.9, () => 0.2);
  fromStart.goal(3n * S);
  feed(fromStart, 3, 6, () => 0.2);
  assert.match(fromStart.verdict().detail, /after its deadline t=1\.00 s/);
});

test('reach and hold: no goal, a goal with no sample, or a failure is not achieved', () => {
  assert.match(judge(1).verdict().detail, /no goal was set for pole_hinge/);
  const j = judge(1);
  j.goal(0n);
  feed(j, 0, 1, () => 0);
  j.goal(2n * S);
  assert.match(j.verdict().detail, /goal 2 had no sample after its goal at t=2\.00 s/);
  const failed = judge(1);
  failed.goal(0n);
  feed(failed, 0, 1, () => 0);
  failed.fail('the controller failed: tick threw');
  assert.deepEqual(failed.verdict(), { achieved: false, detail: 'the controller failed: tick threw' });
});

test('angles wrap to (−π, π]: an unlimited hinge 2π from its goal is at its goal', () => {
  assert.equal(wrapAngle(Math.PI), Math.PI);
  assert.equal(wrapAngle(-Math.PI), Math.PI);
  assert.ok(Math.abs(wrapAngle(2 * Math.PI + 0.05) - 0.05) < 1e-12);
  assert.ok(Math.abs(wrapAngle(-2 * Math.PI - 0.05) + 0.05) < 1e-12);
  assert.ok(Math.abs(wrapAngle((3 * Math.PI) / 2) + Math.PI / 2) < 1e-12);
  const pole = [{ name: 'pole_hinge', index: 1, tolerance: 0.1, wrap: true }];
  // the pole swung up through a full turn: −2π + 0.05 is 0.05 from upright
  assert.ok(Math.abs(jointGoalError(pole, [0, -2 * Math.PI + 0.05], [0, 0]).ratio - 0.5) < 1e-9);
  const noWrap = [{ ...pole[0]!, wrap: false }];
  assert.ok(jointGoalError(noWrap, [0, -2 * Math.PI + 0.05], [0, 0]).ratio > 60);
  // the worst joint, as a share of its tolerance, is named; a NaN joint is the worst of all
  const both = [{ name: 'cart_slide', index: 0, tolerance: 0.5, wrap: false }, ...pole];
  assert.match(jointGoalError(both, [0.4, 0.02], [0, 0]).text, /^cart_slide 0\.400 off$/);
  assert.ok(Number.isNaN(jointGoalError(both, [Number.NaN, 0.02], [0, 0]).ratio));
});

test("joint judge: fixed targets from the first state (a swing-up's upright pole), the controller's goals ignored", () => {
  const j = new JointGoalJudge([{ name: 'pole_hinge', index: 1, tolerance: 0.1, wrap: true }], {
    reachWithinNs: 3n * S,
    targets: [0],
  });
  j.goal(Float64Array.of(0, Math.PI, 0, 0), 0n); // the controller holds hanging: not the task
  for (let k = 0; k <= 100; k++) {
    const t = k / 10;
    // hanging, swung up through −2π by 2.5 s, then kept there
    const theta = t < 2.5 ? Math.PI * (1 + t / 2.5) : 2 * Math.PI + 0.03 * Math.sin(t);
    j.sample((BigInt(k) * S) / 10n, [0, theta, 0, 0]);
  }
  const v = j.verdict();
  assert.equal(v.achieved, true, v.detail);
  assert.match(
    v.detail,
    /^pole_hinge within 0\.100 of the goal at t=2\.50 s \(due by t=3\.00 s\), held to t=10\.00 s$/,
  );
});

test('judge.* parameters: none judged without joints; each refusal names its parameter', () => {
  const model = [
    { name: 'cart_slide', wraps: false },
    { name: 'pole_hinge', wraps: true },
  ];
  const p = {
    'judge.joints': ['pole_hinge'],
    'judge.tolerances': [0.1],
    'judge.targets': [0],
    'judge.reach_within_s': 3,
    'judge.reach_from': 'start',
  };
  assert.equal(jointJudgeFromParams({ ...p, 'judge.joints': [] }, model), undefined);
  assert.ok(jointJudgeFromParams(p, model) instanceof JointGoalJudge);
  assert.throws(
    () => jointJudgeFromParams({ ...p, 'judge.joints': ['pole'] }, model),
    /'judge\.joints'.*no joint 'pole'/,
  );
  assert.throws(() => jointJudgeFromParams({ ...p, 'judge.tolerances': [] }, model), /'judge\.tolerances'/);
  assert.throws(() => jointJudgeFromParams({ ...p, 'judge.targets': [0, 1] }, model), /'judge\.targets'/);
});

test('shares: all expected items judged, at least the share of those after skip succeeded', () => {
  const o = { noun: 'episodes', criterion: 'with a return of at least 170' };
  assert.deepEqual(shareVerdict([true, true], o), {
    achieved: true,
    detail: '2 of 2 episodes with a return of at least 170',
  });
  assert.equal(shareVerdict([false, false, true, true], { ...o, skip: 2 }).achieved, true);
  const short = shareVerdict([true], { ...o, expected: 3 });
  assert.deepEqual(short, { achieved: false, detail: 'only 1 of 3 episodes were judged' });
  const some = shareVerdict([false, true, true, false, true], { ...o, share: 0.8 });
  assert.equal(some.achieved, false);
  assert.match(some.detail, /3 of 5 episodes with a return of at least 170 \(needed: 80 %\)/);
  assert.equal(shareVerdict([true, true, true, true, false], { ...o, share: 0.8 }).achieved, true);
  assert.match(shareVerdict([true], { ...o, skip: 1 }).detail, /no episodes after the first 1 were judged/);
});
