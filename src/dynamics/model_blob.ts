import type { StateEncoding } from './state_encoding.js';
import type { TrainingResult } from './training_client.js';

// What the dynamics learner publishes for each trained ensemble (the contents of a
// dynastack_msgs/ModelBlob; the node adds the header). The layout travels with the model, so whoever
// plans with it reads the layout from the model, not from its own settings: metadata.training
// holds the training's report and figures, the state layout (joints, angle_joints, state), the
// control period it predicts over (period_ns) and the stamp of the newest state it learned from
// (data_end_ns, a decimal string: a controller waits for the model of the last episode by it).
// The reader is src/control/planners/ensemble_mpc/planner.ts (modelLayout).

export const DYNAMICS_MODEL_KIND = 'dynamics_ensemble';
export const DYNAMICS_MODEL_FORMAT = 'dynastack-ensemble/1';

export interface DynamicsModel {
  readonly kind: string;
  /** from 1, one more for every model the learner makes */
  readonly version: number;
  readonly format: string;
  readonly metadataJson: string;
  /** the serialised ensemble */
  readonly data: Uint8Array;
}

/** The model's metadata: the ensemble's own, and what the training was and learned from. */
export function modelMetadata(
  result: TrainingResult,
  encoding: StateEncoding,
  periodNs: bigint,
  dataEndNs: bigint,
): Record<string, unknown> {
  return {
    ...result.metadata,
    training: {
      report: result.report,
      transitions: result.transitions,
      seconds: result.seconds,
      backend: result.backend,
      ...encoding.toMetadata(),
      period_ns: Number(periodNs),
      data_end_ns: String(dataEndNs),
    },
  };
}

/** A training's result as the model version `version`, trained through `dataEndNs`. */
export function dynamicsModel(
  result: TrainingResult,
  version: number,
  layout: { readonly encoding: StateEncoding; readonly periodNs: bigint },
  dataEndNs: bigint,
): DynamicsModel {
  return {
    kind: DYNAMICS_MODEL_KIND,
    version,
    format: DYNAMICS_MODEL_FORMAT,
    metadataJson: JSON.stringify(modelMetadata(result, layout.encoding, layout.periodNs, dataEndNs)),
    data: result.data,
  };
}
