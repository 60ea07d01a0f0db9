import * as tf from '@tensorflow/tfjs-core';
import { StateEncoding } from '../../dynamics/state_encoding.js';
import { nativeKernels, type NativeKernels } from '../../tensor/native_kernels.js';
import { fileHandler } from '../../tensor/file_io.js';
import { packFloat32, unpackFloat32, type NamedArray } from '../../tensor/weights.js';
import { Rng } from '../../util/random.js';
import { mlpForwardJs, mlpLayout, paramsFromNamed, type MlpLayout } from './mlp_layout.js';
import { LOG_STD_MAX, LOG_STD_MIN } from './sac.js';

// What the policy trainer publishes on /policy/model (a dynastack_msgs/ModelBlob, transient-local)
// and saves: soft actor-critic's actor, with the layout it reads and writes, so whoever runs it
// needs no settings of its own — as the dynamics model carries its layout:
//  - the observation is the state encoding of the learner (joints, angle_joints, state names);
//  - the actions are the named actuators with their box [low, high] (a = centre + half·tanh u);
//  - period_ns is the control period it acts at; version and the training's figures in `policy`.
// The payload is the actor's weights as TF.js weights (`actor/dense<l>/kernel|bias`); on disk a
// TF.js model folder (model.json + weights.bin, written atomically).
// PolicyActor runs it: the mean action (the policy planner's fast path) or samples (proposals for
// the sampling planners), on the native kernels where built, in plain JavaScript otherwise.

export const POLICY_MODEL_KIND = 'sac_policy';
export const POLICY_MODEL_FORMAT = 'dynastack-policy/1';

export interface PolicyModel {
  readonly kind: string;
  readonly version: number;
  readonly format: string;
  readonly metadataJson: string;
  readonly data: Uint8Array;
}

export interface PolicyLayout {
  readonly encoding: StateEncoding;
  readonly actuators: readonly string[];
  readonly low: readonly number[];
  readonly high: readonly number[];
  readonly periodNs: bigint;
  readonly hidden: readonly number[];
}

/** The actor's weights and layout as a policy model of version `version`; `training` goes into metadata.policy.training. */
export function policyModel(
  actorWeights: readonly NamedArray[],
  layout: PolicyLayout,
  version: number,
  training: Record<string, unknown> = {},
): PolicyModel {
  const { specs, data } = packFloat32(actorWeights);
  return {
    kind: POLICY_MODEL_KIND,
    version,
    format: POLICY_MODEL_FORMAT,
    metadataJson: JSON.stringify({
      weightSpecs: specs,
      policy: {
        ...layout.encoding.toMetadata(),
        actuators: [...layout.actuators],
        action_low: [...layout.low],
        action_high: [...layout.high],
        hidden: [...layout.hidden],
        period_ns: Number(layout.periodNs),
        training,
      },
    }),
    data,
  };
}

const numbers = (v: unknown, what: string): number[] => {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
    throw new Error(`policy model: ${what} is not a list of finite numbers`);
  return v as number[];
};

/** A policy model ready to act. */
export class PolicyActor {
  readonly version: number;
  readonly layout: PolicyLayout;
  /** policy.training.data_end_ns: the newest state it learned from (undefined when the trainer did not say) */
  readonly dataEndNs: bigint | undefined;
  readonly #net: MlpLayout;
  readonly #params: Float32Array;
  readonly #widths: Int32Array;
  readonly #kernels: NativeKernels | undefined;
  readonly #center: Float32Array;
  readonly #half: Float32Array;
  #activations = new Float32Array(0);

  /** throws one line naming what is wrong with the model */
  constructor(model: PolicyModel) {
    if (model.kind !== POLICY_MODEL_KIND || model.format !== POLICY_MODEL_FORMAT)
      throw new Error(
        `policy model: kind ${model.kind}, format ${model.format}; expected ${POLICY_MODEL_KIND}, ${POLICY_MODEL_FORMAT}`,
      );
    let meta: { weightSpecs?: unknown; policy?: Record<string, unknown> };
    try {
      meta = JSON.parse(model.metadataJson) as typeof meta;
    } catch (e) {
      throw new Error(`policy model v${model.version}: metadata is not JSON (${(e as Error).message})`, { cause: e });
    }
    const p = meta.policy;
    if (!p || !Array.isArray(meta.weightSpecs))
      throw new Error(`policy model v${model.version}: no policy layout or weightSpecs`);
    const encoding = StateEncoding.fromMetadata(p, `policy model v${model.version}`);
    const actuators = p['actuators'];
    if (!Array.isArray(actuators) || !actuators.every((a) => typeof a === 'string') || !actuators.length)
      throw new Error(`policy model v${model.version}: no actuator names`);
    const low = numbers(p['action_low'], 'action_low');
    const high = numbers(p['action_high'], 'action_high');
    if (low.length !== actuators.length || high.length !== actuators.length || low.some((l, i) => !(high[i]! > l)))
      throw new Error(`policy model v${model.version}: the action box does not fit ${actuators.length} actuators`);
    const hidden = numbers(p['hidden'], 'hidden');
    const period = p['period_ns'];
    if (typeof period !== 'number' || !(period > 0)) throw new Error(`policy model v${model.version}: no period_ns`);
    this.version = model.version;
    const training = p['training'] as Record<string, unknown> | undefined;
    const end = training?.['data_end_ns'];
    this.dataEndNs = typeof end === 'string' && /^\d+$/.test(end) ? BigInt(end) : undefined;
    this.layout = { encoding, actuators: actuators, low, high, periodNs: BigInt(period), hidden };
    this.#net = mlpLayout([encoding.size, ...hidden, 2 * actuators.length]);
    this.#params = paramsFromNamed(
      'actor',
      this.#net,
      unpackFloat32(meta.weightSpecs as tf.io.WeightsManifestEntry[], model.data),
    );
    if (!this.#params.every(Number.isFinite)) throw new Error(`policy model v${model.version}: non-finite weights`);
    this.#widths = Int32Array.from(this.#net.widths);
    this.#kernels = nativeKernels().kernels;
    this.#center = Float32Array.from(low, (l, i) => (l + high[i]!) / 2);
    this.#half = Float32Array.from(low, (l, i) => (high[i]! - l) / 2);
  }

  get obsSize(): number {
    return this.layout.encoding.size;
  }

  get actionSize(): number {
    return this.layout.actuators.length;
  }

  /** raw heads [rows × 2A]: μ then log σ (unclipped) */
  #heads(obs: Float32Array, rows: number): Float32Array {
    if (!this.#kernels) return mlpForwardJs(this.#net, this.#params, obs, rows);
    const need = this.#net.widths.slice(1).reduce((s, w) => s + rows * w, 0);
    if (this.#activations.length < need) this.#activations = new Float32Array(need);
    this.#kernels.mlpForward(this.#widths, this.#params, obs, rows, this.#activations);
    return this.#activations.subarray(need - rows * 2 * this.actionSize, need);
  }

  /**
   * Actions for `rows` encoded observations into out [rows × A] (actuator units): the mean's squash,
   * or, given a noise source, samples of the squashed Gaussian with σ scaled by `stdScale`.
   */
  act(obs: Float32Array, rows: number, out: Float32Array | Float64Array, rng?: Rng, stdScale = 1): void {
    const nu = this.actionSize;
    if (obs.length < rows * this.obsSize) throw new Error(`policy: ${obs.length} values for ${rows} observations`);
    const heads = this.#heads(obs, rows);
    for (let r = 0; r < rows; r++)
      for (let i = 0; i < nu; i++) {
        let u = heads[r * 2 * nu + i]!;
        if (rng) {
          const logStd = Math.min(LOG_STD_MAX, Math.max(LOG_STD_MIN, heads[r * 2 * nu + nu + i]!));
          u += stdScale * Math.exp(logStd) * rng.normal();
        }
        out[r * nu + i] = this.#center[i]! + this.#half[i]! * Math.tanh(u);
      }
  }
}

/** Save `model` in the folder `dir` (replacing the one there atomically). */
export async function savePolicyModel(dir: string, model: PolicyModel): Promise<void> {
  const { weightSpecs, ...metadata } = JSON.parse(model.metadataJson) as Record<string, unknown>;
  const data = model.data;
  await fileHandler(dir).save({
    modelTopology: { class: 'SacActor' },
    format: model.format,
    generatedBy: 'dynastack policy_trainer',
    convertedBy: null,
    weightSpecs: weightSpecs as tf.io.WeightsManifestEntry[],
    weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
    userDefinedMetadata: { ...metadata, blob: { kind: model.kind, version: model.version, format: model.format } },
  });
}

/** The policy saved in the folder `dir`; an error naming the folder when it holds none. */
export async function loadPolicyModel(dir: string): Promise<PolicyModel> {
  const artifacts = await fileHandler(dir).load();
  const { blob, ...metadata } = artifacts.userDefinedMetadata ?? {};
  const b = (blob ?? {}) as Partial<Record<'kind' | 'version' | 'format', unknown>>;
  if (b.kind !== POLICY_MODEL_KIND || b.format !== POLICY_MODEL_FORMAT || !Number.isSafeInteger(b.version))
    throw new Error(`policy folder ${dir}: not a ${POLICY_MODEL_KIND} model (${String(b.kind)}, ${String(b.format)})`);
  if (!artifacts.weightData) throw new Error(`policy folder ${dir}: no weights`);
  return {
    kind: POLICY_MODEL_KIND,
    version: b.version as number,
    format: POLICY_MODEL_FORMAT,
    metadataJson: JSON.stringify({ ...metadata, weightSpecs: artifacts.weightSpecs ?? [] }),
    data: new Uint8Array(new tf.io.CompositeArrayBuffer(artifacts.weightData).slice()),
  };
}
