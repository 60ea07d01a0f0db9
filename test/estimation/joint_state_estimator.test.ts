import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  JointStateEstimator,
  type JointMeasurement,
  type StepResult,
  type JointEstimate,
} from '../../src/estimation/joint_state_estimator.js';
import { gaussian } from './signals.js';

// The estimator over a joint state stream: initialisation, duplicates, out-of-order stamps,
// resets, effort input and layouts.

const MS = 1_000_000n;

function measure(
  stampMs: number,
  position: number[],
  names = ['a', 'b'],
  extra: Partial<JointMeasurement> = {},
): JointMeasurement {
  return { stampNs: BigInt(stampMs) * MS, names, position, velocity: [], effort: [], ...extra };
}

function estimateOf(result: StepResult): JointEstimate {
  assert.ok(
    'estimate' in result,
    `expected an estimate, got ${result.status}: ${'reason' in result ? result.reason : ''}`,
  );
  return result.estimate;
}

/** A run of `steps` measurements of joints a (moving at 0.5 rad/s) and b (still), every 10 ms. */
function warmed(estimator: JointStateEstimator, steps = 100): void {
  for (let k = 0; k < steps; k++) estimateOf(estimator.step(measure(10 * k, [0.005 * k, -0.2])));
}

test('the first measurement initialises: measured position, zero velocity, a large velocity variance', () => {
  const est = new JointStateEstimator({ positionVariance: 1e-6, initialVelocityVariance: 100 });
  assert.equal(est.joints, undefined);
  const result = est.step(measure(1000, [0.1, -0.2]));
  assert.equal(result.status, 'initialised');
  const e = estimateOf(result);
  assert.deepEqual(est.joints, ['a', 'b'], 'joints taken from the first message');
  assert.deepEqual([...e.position], [0.1, -0.2]);
  assert.deepEqual([...e.velocity], [0, 0]);
  assert.deepEqual([...e.covariance], [1e-6, 0, 0, 100, 1e-6, 0, 0, 100]);
  assert.equal(e.stampNs, 1000n * MS);
});

test('duplicates are ignored and counted; the state does not move', () => {
  const est = new JointStateEstimator();
  warmed(est, 50);
  const before = estimateOf(est.step(measure(500, [0.25, -0.2])));
  const dup = est.step(measure(500, [0.9, 0.9]));
  assert.equal(dup.status, 'duplicate');
  assert.equal(est.counts.duplicates, 1);
  const after = estimateOf(est.step(measure(510, [0.255, -0.2])));
  assert.ok(Math.abs(after.position[0]! - 0.255) < 1e-3, 'the duplicate with its wild values left no trace');
  assert.ok(after.position[0]! > before.position[0]!);
});

test('out-of-order measurements are rejected and counted, the filter is not rewound, and a later one uses the right dt', () => {
  const a = new JointStateEstimator();
  const b = new JointStateEstimator();
  warmed(a);
  warmed(b);
  const late = a.step(measure(950, [0.4, -0.2]));
  assert.equal(late.status, 'out_of_order');
  assert.match('reason' in late ? late.reason : '', /40 ms older than the last accepted one/);
  assert.equal(a.counts.outOfOrder, 1);
  assert.match(a.lastError, /^out_of_order:/);
  // the same next measurement gives the same estimate as if the late one had never come
  const next = measure(1000, [0.5, -0.2]);
  assert.deepEqual(estimateOf(a.step(next)), estimateOf(b.step(next)));
});

test('a stamp far in the past is a reset (a sim restarted at t = 0): re-initialise', () => {
  const est = new JointStateEstimator({ resetThresholdNs: 500n * MS });
  warmed(est);
  const result = est.step(measure(0, [1.5, 0.3]));
  assert.equal(result.status, 'reset');
  const e = estimateOf(result);
  assert.deepEqual([...e.position], [1.5, 0.3]);
  assert.deepEqual([...e.velocity], [0, 0]);
  assert.equal(est.counts.resets, 1);
  assert.equal(estimateOf(est.step(measure(10, [1.5, 0.3]))).stampNs, 10n * MS, 'and it runs on from the new time');
  assert.equal(est.counts.outOfOrder, 0);
});

test('a small step back that persists is a reset after reset_after_out_of_order rejections', () => {
  const est = new JointStateEstimator({ resetThresholdNs: 500n * MS, resetAfterOutOfOrder: 3 });
  warmed(est, 50); // last stamp 490 ms
  assert.equal(est.step(measure(300, [0, 0])).status, 'out_of_order');
  assert.equal(est.step(measure(310, [0, 0])).status, 'out_of_order');
  assert.equal(est.step(measure(320, [0, 0])).status, 'reset');
  assert.equal(est.step(measure(330, [0, 0])).status, 'updated');
  assert.deepEqual([est.counts.outOfOrder, est.counts.resets], [2, 1]);
});

test('reset() re-initialises on the next measurement and re-learns unconfigured joints', () => {
  const est = new JointStateEstimator();
  warmed(est);
  est.reset();
  assert.equal(est.joints, undefined);
  const result = est.step(measure(5, [0.7], ['c']));
  assert.equal(result.status, 'initialised', 'even with an older stamp');
  assert.deepEqual(est.joints, ['c']);
  assert.equal(est.counts.resets, 1);
  // re-learning a longer list from the same names the old joints were matched against
  const again = new JointStateEstimator();
  estimateOf(again.step(measure(0, [1], ['a'])));
  estimateOf(again.step(measure(10, [1, 2], ['a', 'b'])));
  again.reset();
  assert.deepEqual([...estimateOf(again.step(measure(20, [1, 2], ['a', 'b']))).position], [1, 2]);
});

test('NaN and Inf are rejected and counted, never propagated', () => {
  const est = new JointStateEstimator();
  assert.equal(est.step(measure(0, [Number.NaN, 0])).status, 'non_finite', 'not even as the first measurement');
  assert.equal(est.joints, undefined);
  warmed(est);
  const inf = est.step(measure(1000, [Number.POSITIVE_INFINITY, 0]));
  assert.equal(inf.status, 'non_finite');
  assert.match('reason' in inf ? inf.reason : '', /position of a is Infinity/);
  assert.equal(est.counts.nonFinite, 2);
  const e = estimateOf(est.step(measure(1010, [0.505, -0.2])));
  for (const x of [...e.position, ...e.velocity, ...e.covariance]) assert.ok(Number.isFinite(x));
  // a NaN velocity matters only when velocities are fused
  const fused = new JointStateEstimator({ useVelocity: true });
  assert.equal(fused.step(measure(0, [0, 0], ['a', 'b'], { velocity: [0, Number.NaN] })).status, 'non_finite');
  const positionOnly = new JointStateEstimator();
  assert.equal(positionOnly.step(measure(0, [0, 0], ['a', 'b'], { velocity: [0, Number.NaN] })).status, 'initialised');
});

test('wrong-length arrays and a changed joint list are rejected with a clear reason', () => {
  const est = new JointStateEstimator();
  warmed(est, 10);
  const cases: [JointMeasurement, RegExp][] = [
    [measure(200, [0.1]), /1 positions for 2 joint names/],
    [measure(200, [0.1, 0.2], ['a', 'b'], { velocity: [1] }), /1 velocities for 2 joint names/],
    [measure(200, [0.1, 0.2], ['a', 'b'], { effort: [1, 2, 3] }), /3 efforts for 2 joint names/],
    [
      measure(200, [0.1, 0.2], ['a', 'c']),
      /the joint list changed: it lacks b \(estimated since the first measurement: a, b\)/,
    ],
    [measure(200, [0.1, 0.2], ['a', 'a']), /names a joint twice/],
  ];
  for (const [m, reason] of cases) {
    const result = est.step(m);
    assert.equal(result.status, 'bad_layout');
    assert.match('reason' in result ? result.reason : '', reason);
  }
  assert.equal(est.counts.badLayout, cases.length);
  assert.equal(est.step(measure(200, [0.05, -0.2])).status, 'updated', 'a good message afterwards is used');
});

test('names are matched, not positions: another order or extra joints are fine', () => {
  const est = new JointStateEstimator({ joints: ['b', 'a'] });
  const first = estimateOf(est.step(measure(0, [0.1, 0.2, 9], ['a', 'gripper', 'b'])));
  assert.deepEqual(first.names, ['b', 'a']);
  assert.deepEqual([...first.position], [9, 0.1]);
  const second = estimateOf(est.step(measure(10, [9, 0.1], ['b', 'a'], { effort: [3, 4] })));
  assert.deepEqual([...second.position], [9, 0.1]);
  assert.deepEqual([...second.effort], [3, 4], 'the measured effort passes through in estimator order');
  assert.match(est.step(measure(20, [0.1], ['a'])).status, /bad_layout/);
  assert.match(est.lastError, /lacks b \(configured: b, a\)/);
});

test('measured velocities are fused when asked: a better velocity from the start', () => {
  const noise = gaussian(3);
  const withV = new JointStateEstimator({ joints: ['a'], useVelocity: true, velocityVariance: 0.01 });
  const without = new JointStateEstimator({ joints: ['a'] });
  let ev = 0;
  let e = 0;
  for (let k = 0; k < 30; k++) {
    const m = measure(10 * k, [0.8 * 0.01 * k + 1e-3 * noise()], ['a'], { velocity: [0.8 + 0.1 * noise()] });
    ev = estimateOf(withV.step(m)).velocity[0]! - 0.8;
    e = estimateOf(without.step(m)).velocity[0]! - 0.8;
  }
  assert.ok(Math.abs(ev) < Math.abs(e) && Math.abs(ev) < 0.05, `fused ${ev}, position only ${e}`);
  // a message without velocities is still used, position only
  assert.equal(withV.step(measure(300, [0.24], ['a'])).status, 'updated');
});

test('the effort input: a known acceleration moves the prediction; a bad input is ignored and counted', () => {
  const est = new JointStateEstimator({ joints: ['a', 'b'], inertia: [2, 0], processNoise: 1e-6 });
  estimateOf(est.step(measure(0, [0, 0])));
  // 1 s later with effort 4 on a (inertia 2 → 2 rad/s²): predicted position 1, velocity 2
  const e = estimateOf(est.step(measure(1000, [1, 0]), [4, 100]));
  assert.ok(Math.abs(e.position[0]! - 1) < 1e-3, `position ${e.position[0]}`);
  assert.ok(Math.abs(e.velocity[0]! - 2) < 0.01, `velocity ${e.velocity[0]}: the input explains the motion`);
  const plain = new JointStateEstimator({ joints: ['a', 'b'], processNoise: 1e-6 });
  plain.step(measure(0, [0, 0]));
  assert.ok(
    Math.abs(estimateOf(plain.step(measure(1000, [1, 0]))).velocity[0]! - 1) < 0.01,
    'without it, the mean velocity (1 rad/s)',
  );
  assert.ok(Math.abs(e.position[1]!) < 1e-3, 'b has no inertia: its effort is not used');
  est.step(measure(2000, [1, 0]), [4]);
  est.step(measure(3000, [1, 0]), [Number.NaN, 0]);
  assert.equal(est.counts.inputRejected, 2);
  // the measured effort of the message itself as the input
  const measured = new JointStateEstimator({ joints: ['a'], inertia: [1], processNoise: 1e-6 });
  estimateOf(measured.step(measure(0, [0], ['a'])));
  const m = estimateOf(measured.step(measure(100, [0.005], ['a'], { effort: [1] }), 'measured'));
  assert.ok(m.velocity[0]! > 0.05, `velocity ${m.velocity[0]} follows the measured effort`);
});

test('the outlier gate rejects a spike, counts it, and re-initialises a joint that really moved', () => {
  const est = new JointStateEstimator({ outlierGate: 5, outlierMaxConsecutive: 3 });
  warmed(est);
  const spike = estimateOf(est.step(measure(1000, [0.5, 3])));
  assert.ok(Math.abs(spike.position[1]! + 0.2) < 1e-3, 'b ignores the spike');
  assert.ok(Math.abs(spike.position[0]! - 0.5) < 1e-3, 'a is updated as usual');
  assert.equal(est.counts.outliers, 1);
  est.step(measure(1010, [0.505, 3]));
  const moved = estimateOf(est.step(measure(1020, [0.51, 3])));
  assert.equal(est.counts.gateResets, 1);
  assert.equal(moved.position[1], 3);
  const stats = est.innovationTotals().get('b')!;
  assert.ok(stats.count > 90 && stats.maxAbs < 0.01, 'rejected innovations are not in the statistics');
});

test('innovation statistics: a window per call, totals since the start', () => {
  const est = new JointStateEstimator();
  warmed(est, 20);
  const first = est.takeInnovationWindow();
  assert.equal(first.get('a')!.count, 19);
  assert.equal(est.takeInnovationWindow().get('a')!.count, 0);
  assert.equal(est.innovationTotals().get('a')!.count, 19);
});

test('bad options are refused with the option named', () => {
  assert.throws(
    () => new JointStateEstimator({ joints: ['a', 'b'], inertia: [1] }),
    /inertia has 1 values for 2 joints/,
  );
  assert.throws(() => new JointStateEstimator({ processNoise: 0 }), /processNoise must be positive/);
  assert.throws(() => new JointStateEstimator({ joints: ['a', 'a'] }), /names a joint twice/);
  assert.throws(
    () => new JointStateEstimator({ joints: ['a'], damping: [-1] }),
    /damping must be finite and not negative/,
  );
});
