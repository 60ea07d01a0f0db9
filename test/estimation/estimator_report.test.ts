import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EstimatorReporter,
  countFigures,
  estimatorHealth,
  estimatorMetrics,
  type EstimatorPeriod,
} from '../../src/estimation/estimator_report.js';
import { InnovationStats } from '../../src/estimation/innovation_stats.js';
import { JointStateEstimator, type EstimatorCounts } from '../../src/estimation/joint_state_estimator.js';

// The state estimator's /diagnostics report and launch figures: the level rules over one period
// (STALE, ERROR, WARN, OK), the message wording and the figures' keys, formats and order, and the
// reporter's bookkeeping between periods on times the test gives.

const MS = 1_000_000n;
const NAME = 'state_estimator: joint state estimation';

const ZERO: EstimatorCounts = {
  received: 0,
  accepted: 0,
  duplicates: 0,
  outOfOrder: 0,
  nonFinite: 0,
  badLayout: 0,
  resets: 0,
  outliers: 0,
  gateResets: 0,
  inputRejected: 0,
};

function period(
  previous: Partial<EstimatorCounts>,
  counts: Partial<EstimatorCounts>,
  extra: Partial<EstimatorPeriod> = {},
): EstimatorPeriod {
  return {
    name: NAME,
    previous: { ...ZERO, ...previous },
    counts: { ...ZERO, ...counts },
    periodS: 1,
    window: new Map(),
    lastError: '',
    ...extra,
  };
}

function stats(...innovations: [number, number][]): InnovationStats {
  const s = new InnovationStats();
  for (const [nu, nis] of innovations) s.add(nu, nis);
  return s;
}

test('estimator report: STALE while waiting for the first joint state, and when none came in the period', () => {
  const waiting = estimatorHealth(period({}, {}));
  assert.equal(waiting.level, 'stale');
  assert.equal(waiting.message, 'waiting for joint states');
  const quiet = estimatorHealth(period({ received: 40, accepted: 40 }, { received: 40, accepted: 40 }));
  assert.equal(quiet.level, 'stale');
  assert.equal(quiet.message, 'no joint states in the last period');
  assert.equal(quiet.values.rate_hz, '0.00');
});

test('estimator report: ERROR when joint states came but none was accepted, with the last reason', () => {
  const r = estimatorHealth(
    period(
      { received: 10, accepted: 10 },
      { received: 13, accepted: 10, badLayout: 3 },
      { lastError: 'bad_layout: no joint a' },
    ),
  );
  assert.equal(r.level, 'error');
  assert.equal(r.message, 'no joint state accepted: bad_layout: no joint a');
});

test('estimator report: WARN names what went wrong in the period, in a fixed order, with the last reason', () => {
  const r = estimatorHealth(
    period(
      { received: 100, accepted: 100, duplicates: 5 },
      {
        received: 160,
        accepted: 150,
        duplicates: 6,
        outOfOrder: 2,
        nonFinite: 1,
        inputRejected: 4,
        gateResets: 3, // not a problem of its own: the outliers that led to it are
      },
      { periodS: 0.5, lastError: 'non_finite: position of a is NaN' },
    ),
  );
  assert.equal(r.level, 'warn');
  assert.equal(
    r.message,
    '100.0 Hz; 1 duplicates, 2 out of order, 1 non finite, 4 input rejected (last: non_finite: position of a is NaN)',
  );
  const old = estimatorHealth(
    period({ received: 100, accepted: 90, duplicates: 10 }, { received: 150, accepted: 140, duplicates: 10 }),
  );
  assert.equal(old.level, 'ok', 'problems of earlier periods are not warned about again');
  assert.equal(old.message, '50.0 Hz');
});

test('estimator report: OK with the accepted rate; cumulative counts, then rate and innovations, per joint last', () => {
  const window = new Map([
    ['shoulder', stats([1e-3, 0.5], [-3e-3, 1.5])],
    ['elbow', stats([2e-3, 1])],
  ]);
  const r = estimatorHealth(
    period({ received: 10, accepted: 10 }, { received: 35, accepted: 35, gateResets: 1 }, { periodS: 0.25, window }),
  );
  assert.equal(r.level, 'ok');
  assert.equal(r.name, NAME);
  assert.equal(r.message, '100.0 Hz');
  assert.equal(r.hardwareId, '');
  assert.deepEqual(Object.keys(r.values), [
    'received',
    'accepted',
    'duplicates',
    'out_of_order',
    'non_finite',
    'bad_layout',
    'resets',
    'outliers',
    'gate_resets',
    'input_rejected',
    'rate_hz',
    'mean_abs_innovation',
    'max_abs_innovation',
    'mean_nis',
    'mean_abs_innovation.shoulder',
    'mean_abs_innovation.elbow',
  ]);
  assert.equal(r.values.received, 35);
  assert.equal(r.values.gate_resets, 1);
  assert.equal(r.values.rate_hz, '100.00');
  assert.equal(r.values.mean_abs_innovation, '2.000e-3');
  assert.equal(r.values.max_abs_innovation, '3.000e-3');
  assert.equal(r.values.mean_nis, '1.000');
  assert.equal(r.values['mean_abs_innovation.shoulder'], '2.000e-3');
  assert.equal(r.values['mean_abs_innovation.elbow'], '2.000e-3');
});

test('EstimatorReporter: each report covers the period since the previous one; activation restarts the clock only', () => {
  const estimator = new JointStateEstimator({ joints: ['a'] });
  const reporter = new EstimatorReporter(estimator, NAME, 0n);
  const feed = (fromMs: number, n: number): void => {
    for (let k = 0; k < n; k++)
      estimator.step({
        stampNs: BigInt(fromMs + 10 * k) * MS,
        names: ['a'],
        position: [0.001 * k],
        velocity: [],
        effort: [],
      });
  };
  feed(0, 5); // before activation: counted in the first period
  reporter.restartPeriod(1000n * MS);
  feed(50, 20);
  const first = reporter.report(1200n * MS);
  assert.equal(first.level, 'ok');
  assert.equal(first.message, '125.0 Hz', '25 accepted over the 0.2 s since activation');
  assert.equal(first.values.accepted, 25);
  assert.ok(Number(first.values['mean_abs_innovation.a']) > 0);

  const stale = reporter.report(1300n * MS);
  assert.equal(stale.level, 'stale');
  assert.equal(stale.message, 'no joint states in the last period');
  assert.equal(stale.values.mean_abs_innovation, '0.000e+0', 'the innovation window started anew');

  const last = { stampNs: 250n * MS, names: ['a'], position: [0.02], velocity: [], effort: [] };
  estimator.step(last);
  estimator.step(last); // a duplicate
  const warn = reporter.report(1400n * MS);
  assert.equal(warn.level, 'warn');
  assert.match(warn.message, /^10\.0 Hz; 1 duplicates \(last: duplicate: .+\)$/);
});

test('estimatorMetrics: cumulative counts, commands, the joints and the innovation totals', () => {
  const estimator = new JointStateEstimator();
  assert.deepEqual(estimatorMetrics(estimator, 0), {
    ...countFigures(ZERO),
    commands: 0,
    joints: '',
    mean_abs_innovation: 0,
    mean_nis: 0,
  });
  for (let k = 0; k < 10; k++)
    estimator.step({
      stampNs: BigInt(k) * 10n * MS,
      names: ['x', 'y'],
      position: [0.01 * k, 0],
      velocity: [],
      effort: [],
    });
  estimator.takeInnovationWindow(); // the totals are not the window
  const m = estimatorMetrics(estimator, 7);
  assert.equal(m.accepted, 10);
  assert.equal(m.received, 10);
  assert.equal(m.commands, 7);
  assert.equal(m.joints, 'x,y');
  assert.ok(Number(m.mean_abs_innovation) > 0);
  assert.ok(Number(m.mean_nis) > 0);
});
