import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// The native kernels (native/, a C++ Node-API addon that `npm ci` builds with node-gyp): the
// ensemble's fused per-member MLP forward and training step, and soft actor-critic's small-MLP
// forward, backward and Adam, on Float32Arrays the caller owns. Optional by
// design: when the build failed (no compiler, no Node headers…) or the file does not load, callers
// fall back to TF.js and report why. Loaded lazily, once per thread (each worker_thread loads its
// own instance of the addon). DYNASTACK_NATIVE_ISA=avx2|portable picks a narrower kernel set.

export interface NativeKernelInfo {
  /** the instruction set in use: 'avx512', 'avx2' or 'portable' */
  readonly active: string;
  readonly vectorWidth: number;
  /** the sets this CPU can run, widest first */
  readonly available: readonly string[];
}

export interface NativeTrainStepArgs {
  /** input, hidden…, output */
  widths: Int32Array;
  probabilistic: boolean;
  members: number;
  stateSize: number;
  /** members × per-member parameters, each member [W0, b0, W1, b1, …] row-major */
  params: Float32Array;
  adamM?: Float32Array;
  adamV?: Float32Array;
  /** probabilistic: max_logvar then min_logvar */
  bounds?: Float32Array;
  boundsM?: Float32Array;
  boundsV?: Float32Array;
  /** member m's rows at m·rows…: inputs and targets */
  x: Float32Array;
  y: Float32Array;
  rows: number;
  /** per layer */
  decays: Float32Array;
  boundPenalty: number;
  /** [lr, β₁, β₂, 1−β₁, 1−β₂, ε, 1−β₁ᵗ, 1−β₂ᵗ], each rounded to float32 by the addon */
  adam?: Float64Array;
  /** false: loss (and gradients, if asked) only */
  apply: boolean;
  grads?: Float32Array;
  boundGrads?: Float32Array;
  threads: number;
}

export interface NativeKernels {
  info(): NativeKernelInfo;
  useKernels(name: string): void;
  /** raw outputs; with offsets, rows grouped by member; without, `sharedRows` rows through every member */
  forward(
    widths: Int32Array,
    params: Float32Array,
    members: number,
    input: Float32Array,
    offsets: Int32Array | null,
    sharedRows: number,
    output: Float32Array,
    threads: number,
  ): void;
  trainStep(args: NativeTrainStepArgs): { dataLoss: number; totalLoss: number };
  /**
   * the same `rows` inputs through each member in memberList, forward mode: outputs
   * [count, rows, stateSize] (the first stateSize raw outputs) and jacobians
   * [count, rows, stateSize, in] (∂ output / ∂ input), row-major
   */
  forwardJacobian(
    widths: Int32Array,
    params: Float32Array,
    members: number,
    memberList: Int32Array,
    input: Float32Array,
    rows: number,
    stateSize: number,
    outputs: Float32Array,
    jacobians: Float32Array,
    threads: number,
  ): void;
  /**
   * Small MLPs (ReLU hidden, linear output; native/src/mlp_ops.h): x [rows × in] forward, every
   * layer's output kept in activations, back to back
   */
  mlpForward(widths: Int32Array, params: Float32Array, x: Float32Array, rows: number, activations: Float32Array): void;
  /** back from dOut [rows × out]: parameter gradients into grads and/or the input's into dInput (null: not wanted) */
  mlpBackward(
    widths: Int32Array,
    params: Float32Array,
    x: Float32Array,
    activations: Float32Array,
    dOut: Float32Array,
    rows: number,
    grads: Float32Array | null,
    dInput: Float32Array | null,
  ): void;
  /** tf.train.adam's step on every value of params; adam as trainStep's */
  adamStep(params: Float32Array, m: Float32Array, v: Float32Array, grads: Float32Array, adam: Float64Array): void;
}

export type NativeKernelsStatus =
  { readonly kernels: NativeKernels; readonly why: string } | { readonly kernels: undefined; readonly why: string };

/** the package root: this file is dist/src/tensor/native_kernels.js */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const NATIVE_ADDON_PATH = `${ROOT}native/build/Release/dynastack_native.node`;
/** written by scripts/build-native.js when the build fails */
export const NATIVE_BUILD_FAILURE_PATH = `${ROOT}native/build-failure.txt`;

let status: NativeKernelsStatus | undefined;

/** the addon and a line saying what runs, or undefined and why not; looked up once */
export function nativeKernels(): NativeKernelsStatus {
  status ??= load();
  return status;
}

function load(): NativeKernelsStatus {
  if (!existsSync(NATIVE_ADDON_PATH)) {
    const failure = existsSync(NATIVE_BUILD_FAILURE_PATH)
      ? readFileSync(NATIVE_BUILD_FAILURE_PATH, 'utf8').trim().split('\n')[0]
      : undefined;
    return {
      kernels: undefined,
      why: `native addon not built${failure ? `: ${failure}` : ''} (\`npm run build:native\` builds it; expected ${NATIVE_ADDON_PATH})`,
    };
  }
  let kernels: NativeKernels;
  try {
    kernels = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeKernels;
  } catch (e) {
    return {
      kernels: undefined,
      why: `native addon did not load (${(e as Error).message.split('\n')[0]}); rebuild it with \`npm run build:native\``,
    };
  }
  const wanted = process.env.DYNASTACK_NATIVE_ISA;
  if (wanted) {
    try {
      kernels.useKernels(wanted);
    } catch (e) {
      return { kernels: undefined, why: `DYNASTACK_NATIVE_ISA=${wanted}: ${(e as Error).message}` };
    }
  }
  const info = kernels.info();
  return { kernels, why: `native kernels (${info.active}${wanted ? ', from DYNASTACK_NATIVE_ISA' : ''})` };
}
