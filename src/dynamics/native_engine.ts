import type { NativeKernels } from '../tensor/native_kernels.js';
import type { NamedArray } from '../tensor/weights.js';
import {
  ADAM,
  biasName,
  engineWeights,
  kernelName,
  layerWidths,
  type EngineSpec,
  type EnsembleEngine,
  type LossAndGradients,
} from './ensemble_engine.js';
import { LOGVAR_BOUND_PENALTY } from './loss.js';

// The ensemble's networks on the native kernels (native/, src/tensor/native_kernels.ts). The
// weights live here in one Float32Array, member after member, each member's layers in the TF.js
// engine's order and shapes ([in, out] kernels row-major, then biases), so weights() hands out
// plain slices and the saved format is the same whichever engine wrote it. Adam's moments live
// beside them, allocated at the first step; the step counter and β powers follow tf.train.adam
// exactly (float32 powers), so the two engines take the same steps.

export class NativeEngine implements EnsembleEngine {
  readonly name = 'native' as const;
  readonly description: string;
  readonly #spec: EngineSpec;
  readonly #kernels: NativeKernels;
  readonly #threads: number;
  readonly #widths: Int32Array;
  readonly #memberParams: number;
  /** offsets of each layer's kernel and bias inside a member */
  readonly #layout: { kernel: number; bias: number; shape: [number, number] }[];
  readonly #params: Float32Array;
  /** max_logvar then min_logvar (empty when deterministic) */
  readonly #bounds: Float32Array;
  readonly #decays: Float32Array;
  #adam: { m: Float32Array; v: Float32Array; boundsM: Float32Array; boundsV: Float32Array } | undefined;
  /** β₁ᵗ and β₂ᵗ as tfjs keeps them: float32 products */
  #accBeta1 = Math.fround(ADAM.beta1);
  #accBeta2 = Math.fround(ADAM.beta2);
  readonly #remembered = new Map<number, Float32Array>();
  #output = new Float32Array(0);
  #jacobianOutputs = new Float32Array(0);
  #jacobians = new Float32Array(0);

  constructor(spec: EngineSpec, weights: ReadonlyMap<string, NamedArray>, kernels: NativeKernels, threads: number) {
    if (!Number.isInteger(threads) || threads < 1 || threads > 64)
      throw new Error(`native engine: threads must be an integer in 1…64, not ${threads}`);
    this.#spec = spec;
    this.#kernels = kernels;
    this.#threads = threads;
    this.description = `native kernels (${kernels.info().active}), ${threads} thread${threads > 1 ? 's' : ''}`;
    const widths = layerWidths(spec);
    this.#widths = Int32Array.from(widths);
    this.#layout = [];
    let offset = 0;
    for (let l = 0; l + 1 < widths.length; l++) {
      const shape: [number, number] = [widths[l]!, widths[l + 1]!];
      this.#layout.push({ kernel: offset, bias: offset + shape[0] * shape[1], shape });
      offset += shape[0] * shape[1] + shape[1];
    }
    this.#memberParams = offset;
    const w = engineWeights(spec, weights);
    this.#params = new Float32Array(spec.members * offset);
    w.members.forEach((arrays, m) =>
      arrays.forEach((a, i) =>
        this.#params.set(
          a.values,
          m * offset + (i % 2 === 0 ? this.#layout[i >> 1]!.kernel : this.#layout[i >> 1]!.bias),
        ),
      ),
    );
    this.#bounds = new Float32Array(w.maxLogvar && w.minLogvar ? 2 * spec.stateSize : 0);
    if (w.maxLogvar && w.minLogvar) {
      this.#bounds.set(w.maxLogvar.values, 0);
      this.#bounds.set(w.minLogvar.values, spec.stateSize);
    }
    this.#decays = Float32Array.from(spec.weightDecay);
  }

  #outputWidth(): number {
    return this.#widths[this.#widths.length - 1]!;
  }

  #outputBuffer(values: number): Float32Array {
    if (this.#output.length < values) this.#output = new Float32Array(values);
    return this.#output.subarray(0, values);
  }

  forwardGrouped(inputs: Float32Array, offsets: Int32Array): Float32Array {
    const out = this.#outputBuffer(offsets[this.#spec.members]! * this.#outputWidth());
    this.#kernels.forward(this.#widths, this.#params, this.#spec.members, inputs, offsets, 0, out, this.#threads);
    return out;
  }

  forwardShared(inputs: Float32Array, rows: number): Float32Array {
    const out = this.#outputBuffer(this.#spec.members * rows * this.#outputWidth());
    this.#kernels.forward(this.#widths, this.#params, this.#spec.members, inputs, null, rows, out, this.#threads);
    return out;
  }

  forwardJacobian(
    inputs: Float32Array,
    rows: number,
    members: Int32Array,
  ): { outputs: Float32Array; jacobians: Float32Array } {
    if (typeof this.#kernels.forwardJacobian !== 'function')
      throw new Error(
        'native engine: this build of the addon has no forwardJacobian; rebuild it with `npm run build:native`',
      );
    const { stateSize: nx, actionSize: nu } = this.#spec;
    const values = members.length * rows * nx;
    if (this.#jacobianOutputs.length < values) this.#jacobianOutputs = new Float32Array(values);
    if (this.#jacobians.length < values * (nx + nu)) this.#jacobians = new Float32Array(values * (nx + nu));
    const outputs = this.#jacobianOutputs.subarray(0, values);
    const jacobians = this.#jacobians.subarray(0, values * (nx + nu));
    this.#kernels.forwardJacobian(
      this.#widths,
      this.#params,
      this.#spec.members,
      members,
      inputs,
      rows,
      nx,
      outputs,
      jacobians,
      this.#threads,
    );
    return { outputs, jacobians };
  }

  #args(x: Float32Array, y: Float32Array, rows: number) {
    const { probabilistic, members, stateSize } = this.#spec;
    return {
      widths: this.#widths,
      probabilistic,
      members,
      stateSize,
      params: this.#params,
      bounds: this.#bounds,
      x,
      y,
      rows,
      decays: this.#decays,
      boundPenalty: LOGVAR_BOUND_PENALTY,
      threads: this.#threads,
    };
  }

  trainStep(x: Float32Array, y: Float32Array, rows: number): number {
    const n = this.#params.length;
    this.#adam ??= {
      m: new Float32Array(n),
      v: new Float32Array(n),
      boundsM: new Float32Array(this.#bounds.length),
      boundsV: new Float32Array(this.#bounds.length),
    };
    const f = Math.fround;
    // tfjs: 1 − β computed in double then rounded; the bias corrections from float32 powers
    const adam = Float64Array.of(
      this.#spec.learningRate,
      ADAM.beta1,
      ADAM.beta2,
      1 - ADAM.beta1,
      1 - ADAM.beta2,
      ADAM.epsilon,
      f(1 - this.#accBeta1),
      f(1 - this.#accBeta2),
    );
    const { dataLoss } = this.#kernels.trainStep({
      ...this.#args(x, y, rows),
      adamM: this.#adam.m,
      adamV: this.#adam.v,
      boundsM: this.#adam.boundsM,
      boundsV: this.#adam.boundsV,
      adam,
      apply: true,
    });
    this.#accBeta1 = f(this.#accBeta1 * f(ADAM.beta1));
    this.#accBeta2 = f(this.#accBeta2 * f(ADAM.beta2));
    return dataLoss;
  }

  lossAndGradients(x: Float32Array, y: Float32Array, rows: number): LossAndGradients {
    const grads = new Float32Array(this.#params.length);
    const boundGrads = new Float32Array(this.#bounds.length);
    const { dataLoss, totalLoss } = this.#kernels.trainStep({
      ...this.#args(x, y, rows),
      apply: false,
      grads,
      boundGrads,
    });
    return { dataLoss, totalLoss, gradients: this.#named(grads, boundGrads) };
  }

  rememberMember(m: number): void {
    this.#remembered.set(m, this.#params.slice(m * this.#memberParams, (m + 1) * this.#memberParams));
  }

  restoreRemembered(): void {
    for (const [m, copy] of this.#remembered) this.#params.set(copy, m * this.#memberParams);
    this.forgetRemembered();
  }

  forgetRemembered(): void {
    this.#remembered.clear();
  }

  weights(): NamedArray[] {
    return this.#named(this.#params, this.#bounds);
  }

  /** copies of a member-major flat array (and bounds) as named weights */
  #named(flat: Float32Array, bounds: Float32Array): NamedArray[] {
    const arrays: NamedArray[] = [];
    for (let m = 0; m < this.#spec.members; m++) {
      const base = m * this.#memberParams;
      this.#layout.forEach(({ kernel, bias, shape }, l) => {
        arrays.push({
          name: kernelName(m, l),
          shape,
          values: flat.slice(base + kernel, base + kernel + shape[0] * shape[1]),
        });
        arrays.push({
          name: biasName(m, l),
          shape: [shape[1]],
          values: flat.slice(base + bias, base + bias + shape[1]),
        });
      });
    }
    if (bounds.length > 0) {
      const nx = this.#spec.stateSize;
      arrays.push({ name: 'max_logvar', shape: [nx], values: bounds.slice(0, nx) });
      arrays.push({ name: 'min_logvar', shape: [nx], values: bounds.slice(nx, 2 * nx) });
    }
    return arrays;
  }

  dispose(): void {
    this.#remembered.clear();
    this.#adam = undefined;
  }
}
