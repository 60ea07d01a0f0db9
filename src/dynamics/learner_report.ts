import type { HealthReport } from '../util/health.js';
import type { TransitionCounts } from '../data/transitions.js';
import type { TrainingResult } from './training_client.js';
import type { TransitionCollector } from './transition_collector.js';
import type { RetrainingSchedule } from './retraining.js';

// What the dynamics learner says about itself: its health for /diagnostics, the line logged for
// each model, the end-of-run sentence and the figures of the launcher's report, all from one
// snapshot of its data and trainings. The training loss is the Gaussian NLL (or the MSE, for a
// deterministic ensemble); validation, the elites' MSE (both on normalised deltas), and per state
// dimension in its own units.

export interface LearnerFigures {
  readonly counts: Readonly<TransitionCounts>;
  readonly bufferSize: number;
  /** the newest model's version (a model loaded from an earlier run counts) */
  readonly version: number;
  /** models made in this run */
  readonly made: number;
  /** models made in this run and published (one may wait for activation) */
  readonly published: number;
  /** the version of the model loaded from an earlier run (0: none) */
  readonly loadedVersion: number;
  readonly failures: number;
  /** why the newest training failed, '' when it did not */
  readonly lastError: string;
  readonly last: TrainingResult | undefined;
  /** a training under way */
  readonly training: boolean;
  /** trainings merged into the one after them */
  readonly merged: number;
  /** the names of the model's state entries (empty until known) */
  readonly dimensions: readonly string[];
}

/** The figures now, from the learner's data and its trainings (`training`: a training is under way). */
export function learnerFigures(
  collector: TransitionCollector,
  schedule: RetrainingSchedule<TrainingResult, unknown>,
  training: boolean,
  loadedVersion = 0,
): LearnerFigures {
  return {
    counts: collector.counts,
    bufferSize: collector.buffer?.size ?? 0,
    version: schedule.version,
    made: schedule.made,
    published: schedule.published,
    loadedVersion,
    failures: schedule.failures,
    lastError: schedule.lastError,
    last: schedule.last,
    training,
    merged: schedule.merged,
    dimensions: collector.encoding?.names ?? [],
  };
}

export interface LearnerSettings {
  /** the ensemble predicts a Gaussian (its training loss is the NLL) or the mean only (MSE) */
  readonly probabilistic: boolean;
  /** transitions the first model needs */
  readonly firstModelAfter: number;
}

function lossName(settings: LearnerSettings): string {
  return settings.probabilistic ? 'nll' : 'mse';
}

/** The learner's health: what it is doing, its counts and the newest training's figures; an error after a failed training. */
export function learnerHealth(name: string, f: LearnerFigures, settings: LearnerSettings): HealthReport {
  const c = f.counts;
  const values: Record<string, string> = {
    transitions: String(c.transitions),
    buffer_size: String(f.bufferSize),
    episodes: String(c.episodes),
    missed_ticks: String(c.missedTicks),
    resets: String(c.resets),
    late_episode_events: String(c.lateEvents),
    unpaired: String(c.unpaired),
    non_finite: String(c.nonFinite),
    bad_commands: String(c.badCommands),
    model_version: String(f.version),
    training_failures: String(f.failures),
  };
  let message = f.version
    ? `model v${f.version}`
    : `collecting: ${f.bufferSize} of ${settings.firstModelAfter} transitions for the first model`;
  if (f.training) message += ', training';
  if (f.last) {
    const r = f.last.report;
    values[`train_${lossName(settings)}`] = r.trainLoss.toExponential(4);
    values.val_mse_normalised = r.valLoss.toExponential(4);
    f.dimensions.forEach((dim, i) => (values[`val_mse.${dim}`] = (r.valMsePerDim[i] ?? Number.NaN).toExponential(3)));
    values.data_size = String(f.last.transitions);
    values.training_time_s = f.last.seconds.toFixed(2);
    values.epochs = String(r.epochs);
    values.elites = r.elites.join(',');
    values.backend = f.last.backend;
  }
  const failed = f.lastError !== '';
  return {
    level: failed ? 'error' : 'ok',
    name,
    message: failed ? `training failed: ${f.lastError}` : message,
    hardwareId: '',
    values,
  };
}

/** The line logged when model `version`, from `result`, is published. */
export function modelLine(version: number, result: TrainingResult, settings: LearnerSettings): string {
  const r = result.report;
  return (
    `dynamics model v${version}: ${result.transitions} transitions, ${r.epochs} epochs, train ${lossName(settings)} ${r.trainLoss.toFixed(4)}, validation mse ${r.valLoss.toFixed(4)} (normalised), ` +
    `validation MSE [${r.valMsePerDim.map((x) => x.toExponential(2)).join(', ')}], ${result.seconds.toFixed(1)} s on ${result.backend}`
  );
}

/** The end-of-run sentence. */
export function learnerSummary(f: LearnerFigures): string {
  const c = f.counts;
  const model = f.last
    ? `, the last validated at mse ${f.last.report.valLoss.toFixed(4)} (normalised) on ${f.last.transitions} transitions`
    : '';
  const loaded = f.loadedVersion ? ` after v${f.loadedVersion} loaded` : '';
  return `${c.transitions} transitions in ${c.episodes} episodes${c.missedTicks ? ` (${c.missedTicks} missed ticks)` : ''}, ${f.made} dynamics models published${loaded}${model}${f.failures ? `, ${f.failures} trainings failed` : ''}`;
}

/** The figures of the launcher's report. */
export function learnerMetrics(f: LearnerFigures): Record<string, number | string> {
  const c = f.counts;
  return {
    transitions: c.transitions,
    buffer_size: f.bufferSize,
    episodes: c.episodes,
    missed_ticks: c.missedTicks,
    resets: c.resets,
    late_episode_events: c.lateEvents,
    duplicates: c.duplicates,
    non_finite: c.nonFinite,
    unpaired: c.unpaired,
    bad_commands: c.badCommands,
    models_published: f.published,
    ...(f.loadedVersion ? { model_loaded_version: f.loadedVersion } : {}),
    trainings_coalesced: f.merged,
    training_failures: f.failures,
    ...(f.last
      ? {
          last_train_loss: f.last.report.trainLoss,
          last_val_loss: f.last.report.valLoss,
          last_training_s: f.last.seconds,
          backend: f.last.backend,
        }
      : {}),
  };
}
