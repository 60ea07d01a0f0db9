import type { NamedArray } from '../tensor/weights.js';

// The seam between ProbabilisticEnsemble (normalisation, bootstrap, batching, early stopping,
// elites, persistence) and what runs its networks: the native kernels (./native_engine.ts) or
// TF.js (./tfjs_engine.ts). Both hold the same weights under the same names and shapes, in the
// same order, so a model saved by one loads in the other.

export type EnsembleEngineName = 'native' | 'tfjs';
/** 'auto': the native kernels when they are built, else TF.js */
export type EnsembleEngineChoice = 'auto' | EnsembleEngineName;

/** what an engine needs to know of the ensemble's configuration */
export interface EngineSpec {
  readonly stateSize: number;
  readonly actionSize: number;
  readonly members: number;
  readonly hidden: readonly number[];
  readonly probabilistic: boolean;
  readonly learningRate: number;
  /** per layer, on kernels only */
  readonly weightDecay: readonly number[];
}

export interface LossAndGradients {
  /** Σ over members of the data loss (Gaussian NLL or MSE) */
  readonly dataLoss: number;
  /** the objective: data loss + weight decay + bound penalty */
  readonly totalLoss: number;
  /** the objective's gradient for every weight, named and ordered as weights() */
  readonly gradients: NamedArray[];
}

export interface EnsembleEngine {
  readonly name: EnsembleEngineName;
  /** for logs, e.g. "native kernels (avx512), 1 thread" */
  readonly description: string;
  /** raw outputs [n, out] for inputs grouped by member: rows offsets[m] … offsets[m+1]−1 through member m. The array may be reused by the next call. */
  forwardGrouped(inputs: Float32Array, offsets: Int32Array): Float32Array;
  /** the same `rows` inputs through every member: [members, rows, out]. The array may be reused by the next call. */
  forwardShared(inputs: Float32Array, rows: number): Float32Array;
  /**
   * The same `rows` (normalised) inputs through each member listed (repeats allowed), with the
   * derivatives: outputs [members.length, rows, nx], the first nx raw outputs (the normalised delta
   * means); jacobians [members.length, rows, nx, nx + nu], ∂ output / ∂ normalised input, row-major.
   * Analytic (forward mode through the MLP), not finite differences. The arrays may be reused by
   * the next call.
   */
  forwardJacobian(
    inputs: Float32Array,
    rows: number,
    members: Int32Array,
  ): { outputs: Float32Array; jacobians: Float32Array };
  /** one Adam step on every member (member m on rows m·rows …); returns the summed data loss before the step */
  trainStep(x: Float32Array, y: Float32Array, rows: number): number;
  /** the objective and its gradients at the current weights, changing nothing (checks and tests) */
  lossAndGradients(x: Float32Array, y: Float32Array, rows: number): LossAndGradients;
  /** keep a copy of member m's weights (its best so far) */
  rememberMember(m: number): void;
  /** put the remembered copies back, then forget them */
  restoreRemembered(): void;
  forgetRemembered(): void;
  /** copies of every weight: per member [kernel, bias] per layer, then max_logvar and min_logvar if probabilistic */
  weights(): NamedArray[];
  dispose(): void;
}

export const layerWidths = (c: Pick<EngineSpec, 'stateSize' | 'actionSize' | 'hidden' | 'probabilistic'>): number[] => [
  c.stateSize + c.actionSize,
  ...c.hidden,
  c.probabilistic ? 2 * c.stateSize : c.stateSize,
];
export const kernelName = (m: number, l: number): string => `member${m}/dense${l}/kernel`;
export const biasName = (m: number, l: number): string => `member${m}/dense${l}/bias`;

/** the engine's weights, checked against the spec: per member [W0, b0, W1, b1, …], then the bounds */
export interface EngineWeights {
  readonly members: NamedArray[][];
  readonly maxLogvar: NamedArray | undefined;
  readonly minLogvar: NamedArray | undefined;
}

export function engineWeights(spec: EngineSpec, weights: ReadonlyMap<string, NamedArray>): EngineWeights {
  const get = (name: string, shape: readonly number[]): NamedArray => {
    const a = weights.get(name);
    if (!a) throw new Error(`ensemble: weight '${name}' is missing`);
    if (a.shape.length !== shape.length || a.shape.some((d, i) => d !== shape[i]))
      throw new Error(`ensemble: weight '${name}' has shape [${a.shape.join(',')}], expected [${shape.join(',')}]`);
    const count = shape.reduce((p, d) => p * d, 1);
    if (a.values.length !== count)
      throw new Error(`ensemble: weight '${name}' has ${a.values.length} values for shape [${shape.join(',')}]`);
    return a;
  };
  const widths = layerWidths(spec);
  const members = Array.from({ length: spec.members }, (_, m) =>
    widths.slice(1).flatMap((out, l) => [get(kernelName(m, l), [widths[l]!, out]), get(biasName(m, l), [out])]),
  );
  return {
    members,
    maxLogvar: spec.probabilistic ? get('max_logvar', [spec.stateSize]) : undefined,
    minLogvar: spec.probabilistic ? get('min_logvar', [spec.stateSize]) : undefined,
  };
}

/** tf.train.adam's defaults, which both engines use: β₁ 0.9, β₂ 0.999, ε the float32 backends' 1e-7 */
export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } as const;
