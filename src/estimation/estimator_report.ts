import type { HealthLevel, HealthReport } from '../util/health.js';
import { InnovationStats } from './innovation_stats.js';
import type { EstimatorCounts, JointStateEstimator } from './joint_state_estimator.js';

// What the state estimator says about itself: a HealthReport per diagnostics period, from what its
// counts did since the previous report and the innovations of that period, and the figures of the
// launch report. Levels: STALE when no measurement came in the period, ERROR when none was
// accepted, WARN when some were rejected (or the estimator re-initialised), else OK with the rate.

/** The counts under the names /diagnostics and the launch report show. */
export function countFigures(c: EstimatorCounts): Record<string, number> {
  return {
    received: c.received,
    accepted: c.accepted,
    duplicates: c.duplicates,
    out_of_order: c.outOfOrder,
    non_finite: c.nonFinite,
    bad_layout: c.badLayout,
    resets: c.resets,
    outliers: c.outliers,
    gate_resets: c.gateResets,
    input_rejected: c.inputRejected,
  };
}

/** Counts that, when they grew in a period, make it a WARN (in the order the message names them). */
const PROBLEMS = ['duplicates', 'out_of_order', 'non_finite', 'bad_layout', 'resets', 'outliers', 'input_rejected'];

/** Several joints' statistics as one. */
export function mergedStats(stats: Iterable<InnovationStats>): InnovationStats {
  const all = new InnovationStats();
  for (const s of stats) all.merge(s);
  return all;
}

/** One diagnostics period of the estimator. */
export interface EstimatorPeriod {
  /** what is reported on, e.g. "state_estimator: joint state estimation" */
  readonly name: string;
  /** the counts now and at the previous report */
  readonly counts: EstimatorCounts;
  readonly previous: EstimatorCounts;
  /** the period's length (s) */
  readonly periodS: number;
  /** innovation statistics of the period, per joint */
  readonly window: ReadonlyMap<string, InnovationStats>;
  /** why the last rejected measurement was rejected */
  readonly lastError: string;
}

export function estimatorHealth(period: EstimatorPeriod): HealthReport {
  const counts = countFigures(period.counts);
  const previous = countFigures(period.previous);
  const delta = (key: string): number => counts[key]! - previous[key]!;
  const all = mergedStats(period.window.values());
  const rate = period.periodS > 0 ? delta('accepted') / period.periodS : 0;
  const problems = PROBLEMS.filter((k) => delta(k) > 0).map((k) => `${delta(k)} ${k.replace(/_/g, ' ')}`);
  let level: HealthLevel = 'ok';
  let message = `${rate.toFixed(1)} Hz`;
  if (!delta('received')) {
    level = 'stale';
    message = counts.received ? 'no joint states in the last period' : 'waiting for joint states';
  } else if (!delta('accepted')) {
    level = 'error';
    message = `no joint state accepted: ${period.lastError}`;
  } else if (problems.length) {
    level = 'warn';
    message = `${message}; ${problems.join(', ')} (last: ${period.lastError})`;
  }
  const values: Record<string, string | number> = {
    ...counts,
    rate_hz: rate.toFixed(2),
    mean_abs_innovation: all.meanAbs.toExponential(3),
    max_abs_innovation: all.maxAbs.toExponential(3),
    mean_nis: all.meanNis.toFixed(3),
  };
  for (const [joint, s] of period.window) values[`mean_abs_innovation.${joint}`] = s.meanAbs.toExponential(3);
  return { level, name: period.name, message, hardwareId: '', values };
}

/** The estimator's reports, one per period: keeps the counts and the time of the previous one. */
export class EstimatorReporter {
  readonly #estimator: JointStateEstimator;
  readonly #name: string;
  #previous: EstimatorCounts;
  #previousNs: bigint;

  /** `nowNs` on the clock the periods are measured with (the node's steady clock) */
  constructor(estimator: JointStateEstimator, name: string, nowNs: bigint) {
    this.#estimator = estimator;
    this.#name = name;
    this.#previous = { ...estimator.counts };
    this.#previousNs = nowNs;
  }

  /** The period starts now (the counts still run from the previous report). */
  restartPeriod(nowNs: bigint): void {
    this.#previousNs = nowNs;
  }

  /** The report on the period that ends now; the next period starts. */
  report(nowNs: bigint): HealthReport {
    const counts = { ...this.#estimator.counts };
    const report = estimatorHealth({
      name: this.#name,
      counts,
      previous: this.#previous,
      periodS: Number(nowNs - this.#previousNs) / 1e9,
      window: this.#estimator.takeInnovationWindow(),
      lastError: this.#estimator.lastError,
    });
    this.#previous = counts;
    this.#previousNs = nowNs;
    return report;
  }
}

/** The launch report's figures: cumulative counts, commands taken, the joints and innovation totals. */
export function estimatorMetrics(estimator: JointStateEstimator, commands: number): Record<string, number | string> {
  const all = mergedStats(estimator.innovationTotals().values());
  return {
    ...countFigures(estimator.counts),
    commands,
    joints: estimator.joints?.join(',') ?? '',
    mean_abs_innovation: all.meanAbs,
    mean_nis: all.meanNis,
  };
}
