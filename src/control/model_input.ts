import type { LearnedPlanning } from './planner.js';

// A dynamics model blob offered to the planner over the learned model (the dynamics learner's
// latched model topic), and the log line that says what became of it: not an ensemble (ignored),
// the same model again (kept), swapped in (or handed to the planning worker), or refused because
// it does not fit the controller (the model in use stays).

export interface ModelBlobFields {
  readonly kind: string;
  readonly metadataJson: string;
  readonly data: Uint8Array;
  readonly version: number;
}

export interface ModelLogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  /** log it at most once in a while under this key */
  readonly throttleKey?: string;
}

/** What taking a blob did: `offered` when the planner was given it (its model may have changed). */
export interface ModelOutcome {
  readonly offered: boolean;
  readonly log: ModelLogLine;
}

/** Offer a blob from `topic` to the planner; `inWorker`: the planner plans in a worker thread. */
export function offerModel(
  planner: LearnedPlanning,
  blob: ModelBlobFields,
  options: { readonly topic: string; readonly inWorker: boolean },
): ModelOutcome {
  const { topic, inWorker } = options;
  const { kind, version } = blob;
  if (kind !== 'dynamics_ensemble')
    return {
      offered: false,
      log: {
        level: 'warn',
        message: `model on ${topic} ignored: kind '${kind}', expected 'dynamics_ensemble'`,
        throttleKey: 'model',
      },
    };
  const before = planner.modelVersion;
  try {
    const { layout, repeated } = planner.setModel(blob.metadataJson, blob.data, version);
    const state = layout.encoding.describe();
    if (repeated)
      return { offered: true, log: { level: 'debug', message: `dynamics model v${version} repeats v${before}: kept` } };
    if (inWorker)
      return {
        offered: true,
        log: { level: 'info', message: `dynamics model v${version} handed to the planning worker: state ${state}` },
      };
    return {
      offered: true,
      log: {
        level: 'info',
        message: `dynamics model v${version} in use${before ? ` (was v${before})` : ', planning from now on'}: state ${state}`,
      },
    };
  } catch (err) {
    return {
      offered: true,
      log: {
        level: 'error',
        message: `dynamics model v${version} on ${topic} refused${before ? `, still planning with v${before}` : ''}: ${(err as Error).message}`,
      },
    };
  }
}
