import * as tf from '@tensorflow/tfjs-core';
import { fileHandler } from '../tensor/file_io.js';
import type { StateEncoding } from './state_encoding.js';
import type { TrainingResult } from './training_client.js';

// What the dynamics learner publishes for each trained ensemble (the contents of a
// dynastack_msgs/ModelBlob; the node adds the header). The layout travels with the model, so whoever
// plans with it reads the layout from the model, not from its own settings: metadata.training
// holds the training's report and figures, the state layout (joints, angle_joints, state), the
// control period it predicts over (period_ns) and the stamp of the newest state it learned from
// (data_end_ns, a decimal string: a controller waits for the model of the last episode by it).
// The reader is src/control/planners/ensemble_mpc/planner.ts (modelLayout).
// On disk a model is a TF.js model folder (model.json + weights.bin, src/tensor/file_io.ts, saved
// atomically): the weights with their manifest, and all of the metadata above in
// userDefinedMetadata, with the message's kind, version and format under `blob`; it loads back as
// the same model, and as an ensemble (ProbabilisticEnsemble.load).

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

/** Save `model` in the folder `dir` (replacing the one there atomically). */
export async function saveDynamicsModel(dir: string, model: DynamicsModel): Promise<void> {
  const { weightSpecs, ...metadata } = JSON.parse(model.metadataJson) as Record<string, unknown>;
  if (!Array.isArray(weightSpecs)) throw new Error(`dynamics model v${model.version}: its metadata has no weightSpecs`);
  const data = model.data;
  await fileHandler(dir).save({
    modelTopology: { class: 'ProbabilisticEnsemble' },
    format: typeof metadata['format'] === 'string' ? metadata['format'] : model.format,
    generatedBy: 'dynastack dynamics_learner',
    convertedBy: null,
    weightSpecs: weightSpecs as tf.io.WeightsManifestEntry[],
    weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
    userDefinedMetadata: { ...metadata, blob: { kind: model.kind, version: model.version, format: model.format } },
  });
}

/** The model saved in the folder `dir`; an error naming the folder when it holds none. */
export async function loadDynamicsModel(dir: string): Promise<DynamicsModel> {
  const artifacts = await fileHandler(dir).load();
  const fail = (what: string): Error => new Error(`model folder ${dir}: ${what}`);
  const { blob, ...metadata } = artifacts.userDefinedMetadata ?? {};
  const b = (blob ?? {}) as Partial<Record<'kind' | 'version' | 'format', unknown>>;
  if (typeof b.kind !== 'string' || typeof b.format !== 'string' || !Number.isSafeInteger(b.version))
    throw fail('not a dynamics model (model.json has no userDefinedMetadata.blob with its kind, version and format)');
  if (b.kind !== DYNAMICS_MODEL_KIND || b.format !== DYNAMICS_MODEL_FORMAT)
    throw fail(
      `a model of kind ${b.kind}, format ${b.format}; expected ${DYNAMICS_MODEL_KIND}, ${DYNAMICS_MODEL_FORMAT}`,
    );
  if (!artifacts.weightData) throw fail('no weights');
  return {
    kind: b.kind,
    version: b.version as number,
    format: b.format,
    metadataJson: JSON.stringify({ ...metadata, weightSpecs: artifacts.weightSpecs ?? [] }),
    data: new Uint8Array(new tf.io.CompositeArrayBuffer(artifacts.weightData).slice()),
  };
}

/**
 * A model of an earlier run as a resumed run publishes it: the new run's clock starts anew, so the
 * model learned from none of its states (training.data_end_ns '0', and a controller waiting for a
 * model trained through an episode of this run waits for the next); training.resumed_from says
 * where it came from.
 */
export function resumedModel(model: DynamicsModel, from: string): DynamicsModel {
  const metadata = JSON.parse(model.metadataJson) as Record<string, unknown> & { training?: Record<string, unknown> };
  const training = { ...metadata.training, data_end_ns: '0', resumed_from: from };
  return { ...model, metadataJson: JSON.stringify({ ...metadata, training }) };
}
