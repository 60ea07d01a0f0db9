import * as tf from '@tensorflow/tfjs-core';
import { dense, silu, trainableDense } from '../tensor/dense.js';
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
import { boundLogvar, boundPenalty, gaussianNll, weightDecayLoss } from './loss.js';

// The ensemble's networks on TF.js, the fallback when the native kernels are not built.
//
// Layout for the wasm backend's fast path (../tensor/dense.ts explains it; the rule is in
// tfjs-backend-wasm/src/cc/batch_mat_mul_impl.cc): every member has its own 2-D weights, each
// layer is one fused 2-D matMul with a rank-1 bias (the wasm _FusedMatMul kernel takes no other
// bias), SiLU follows as h·σ(h) (it is not among the wasm backend's fusable activations), and
// training uses the dense layer with an explicitly transposed backward pass. Rows are grouped by
// member so each member runs one contiguous matMul per layer, all in one tidy per call.

export class TfjsEngine implements EnsembleEngine {
  readonly name = 'tfjs' as const;
  readonly description: string;
  readonly #spec: EngineSpec;
  /** per member: [W0, b0, W1, b1, …], in a fixed order (Adam's moments are matched by position) */
  readonly #layers: tf.Variable[][];
  readonly #maxLogvar: tf.Variable | undefined;
  readonly #minLogvar: tf.Variable | undefined;
  readonly #kernels: tf.Variable[];
  readonly #decays: number[];
  #optimizer: tf.Optimizer | undefined;
  readonly #remembered = new Map<number, tf.Tensor[]>();

  constructor(spec: EngineSpec, weights: ReadonlyMap<string, NamedArray>) {
    this.#spec = spec;
    this.description = `tfjs (${tf.getBackend()} backend)`;
    const w = engineWeights(spec, weights);
    // tf.variable keeps its initial tensor alive, so build that inside a tidy
    const variable = (a: NamedArray): tf.Variable =>
      tf.tidy(() => tf.variable(tf.tensor(a.values, [...a.shape], 'float32'), true));
    this.#layers = w.members.map((arrays) => arrays.map(variable));
    this.#maxLogvar = w.maxLogvar && variable(w.maxLogvar);
    this.#minLogvar = w.minLogvar && variable(w.minLogvar);
    this.#kernels = this.#layers.flatMap((layers) => layers.filter((_, i) => i % 2 === 0));
    this.#decays = this.#layers.flatMap(() => [...spec.weightDecay]);
  }

  /** one member's raw output [B, out] in normalised units; inference path */
  #forward(m: number, x: tf.Tensor2D): tf.Tensor2D {
    const layers = this.#layers[m]!;
    let h = x;
    for (let i = 0; i < layers.length; i += 2) {
      const z = dense(h, layers[i] as tf.Tensor2D, layers[i + 1] as tf.Tensor1D);
      h = i + 2 < layers.length ? silu(z) : z;
    }
    return h;
  }

  /** the same through the custom-gradient dense, for training */
  #forwardTrainable(m: number, x: tf.Tensor2D): tf.Tensor2D {
    const layers = this.#layers[m]!;
    let h = x;
    for (let i = 0; i < layers.length; i += 2) {
      const z = trainableDense(h, layers[i] as tf.Tensor2D, layers[i + 1] as tf.Tensor1D);
      h = i + 2 < layers.length ? silu(z) : z;
    }
    return h;
  }

  forwardGrouped(inputs: Float32Array, offsets: Int32Array): Float32Array {
    const width = this.#spec.stateSize + this.#spec.actionSize;
    return tf.tidy(() => {
      const outs: tf.Tensor2D[] = [];
      for (let m = 0; m < this.#spec.members; m++) {
        const rows = offsets[m + 1]! - offsets[m]!;
        if (rows === 0) continue;
        const x = tf.tensor2d(inputs.subarray(offsets[m]! * width, offsets[m + 1]! * width), [rows, width]);
        outs.push(this.#forward(m, x));
      }
      if (outs.length === 0) return new Float32Array(0);
      const all = outs.length === 1 ? outs[0]! : tf.concat(outs, 0);
      return all.dataSync() as Float32Array;
    });
  }

  forwardShared(inputs: Float32Array, rows: number): Float32Array {
    const width = this.#spec.stateSize + this.#spec.actionSize;
    return tf.tidy(() => {
      const x = tf.tensor2d(inputs.subarray(0, rows * width), [rows, width]);
      return tf
        .concat(
          Array.from({ length: this.#spec.members }, (_, m) => this.#forward(m, x)),
          0,
        )
        .dataSync() as Float32Array;
    });
  }

  /** the objective over all members; `dataLoss` receives the kept data-loss scalar */
  #objective(x: Float32Array, y: Float32Array, rows: number, dataLoss: (t: tf.Scalar) => void): () => tf.Scalar {
    const { stateSize: nx, actionSize: nu, members } = this.#spec;
    const width = nx + nu;
    const xs = Array.from({ length: members }, (_, m) =>
      tf.tensor2d(x.subarray(m * rows * width, (m + 1) * rows * width), [rows, width]),
    );
    const ys = Array.from({ length: members }, (_, m) =>
      tf.tensor2d(y.subarray(m * rows * nx, (m + 1) * rows * nx), [rows, nx]),
    );
    return () => {
      const losses = xs.map((xm, m) => {
        const out = this.#forwardTrainable(m, xm);
        if (!this.#maxLogvar || !this.#minLogvar) return tf.mean<tf.Scalar>(tf.squaredDifference(out, ys[m]!));
        const mu = tf.slice(out, [0, 0], [rows, nx]);
        const logvar = boundLogvar(tf.slice(out, [0, nx], [rows, nx]), this.#maxLogvar, this.#minLogvar);
        return gaussianNll(mu, logvar, ys[m]!);
      });
      const data = tf.addN<tf.Scalar>(losses);
      dataLoss(tf.keep(data));
      let total = tf.add(data, weightDecayLoss(this.#kernels, this.#decays));
      if (this.#maxLogvar && this.#minLogvar) total = tf.add(total, boundPenalty(this.#maxLogvar, this.#minLogvar));
      return total as tf.Scalar;
    };
  }

  trainStep(x: Float32Array, y: Float32Array, rows: number): number {
    this.#optimizer ??= tf.train.adam(this.#spec.learningRate, ADAM.beta1, ADAM.beta2, ADAM.epsilon);
    let dataLoss: tf.Scalar | undefined;
    tf.tidy(() => {
      this.#optimizer!.minimize(
        this.#objective(x, y, rows, (t) => (dataLoss = t)),
        false,
        this.#variables(),
      );
    });
    const value = dataLoss!.dataSync()[0]!;
    dataLoss!.dispose();
    return value;
  }

  lossAndGradients(x: Float32Array, y: Float32Array, rows: number): LossAndGradients {
    let dataLoss: tf.Scalar | undefined;
    const variables = this.#variables();
    const { value, grads } = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        this.#objective(x, y, rows, (t) => (dataLoss = t)),
        variables,
      );
      return { value: tf.keep(value), grads: variables.map((v) => tf.keep(grads[v.name]!)) };
    });
    const names = this.weights().map((a) => ({ name: a.name, shape: a.shape }));
    const result = {
      dataLoss: dataLoss!.dataSync()[0]!,
      totalLoss: value.dataSync()[0]!,
      gradients: grads.map((g, i) => ({ ...names[i]!, values: g.dataSync() as Float32Array })),
    };
    tf.dispose([value, dataLoss!, ...grads]);
    return result;
  }

  rememberMember(m: number): void {
    this.#remembered.get(m)?.forEach((t) => t.dispose());
    this.#remembered.set(
      m,
      this.#layers[m]!.map((v) => tf.clone(v)),
    );
  }

  restoreRemembered(): void {
    for (const [m, snapshot] of this.#remembered) snapshot.forEach((t, i) => this.#layers[m]![i]!.assign(t));
    this.forgetRemembered();
  }

  forgetRemembered(): void {
    for (const snapshot of this.#remembered.values()) snapshot.forEach((t) => t.dispose());
    this.#remembered.clear();
  }

  weights(): NamedArray[] {
    const widths = layerWidths(this.#spec);
    const arrays: NamedArray[] = [];
    this.#layers.forEach((layers, m) =>
      layers.forEach((v, i) => {
        const l = i >> 1;
        const kernel = i % 2 === 0;
        arrays.push({
          name: kernel ? kernelName(m, l) : biasName(m, l),
          shape: kernel ? [widths[l]!, widths[l + 1]!] : [widths[l + 1]!],
          values: v.dataSync() as Float32Array,
        });
      }),
    );
    if (this.#maxLogvar && this.#minLogvar) {
      arrays.push({
        name: 'max_logvar',
        shape: [this.#spec.stateSize],
        values: this.#maxLogvar.dataSync() as Float32Array,
      });
      arrays.push({
        name: 'min_logvar',
        shape: [this.#spec.stateSize],
        values: this.#minLogvar.dataSync() as Float32Array,
      });
    }
    return arrays;
  }

  #variables(): tf.Variable[] {
    const bounds = this.#maxLogvar && this.#minLogvar ? [this.#maxLogvar, this.#minLogvar] : [];
    return [...this.#layers.flat(), ...bounds];
  }

  dispose(): void {
    this.forgetRemembered();
    tf.dispose(this.#variables());
    this.#optimizer?.dispose();
  }
}
