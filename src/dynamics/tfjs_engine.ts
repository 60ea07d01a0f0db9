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

  /**
   * Forward mode through one member: with Z_l = H_l·W_l + b_l and H_{l+1} = silu(Z_l), the tangent
   * of input direction k, T_l^k = ∂H_l/∂x_k, goes T_{l+1}^k = (T_l^k·W_l) ∘ silu'(Z_l), where
   * silu'(z) = σ(z)·(1 + z·(1 − σ(z))). All directions are stacked as [in, rows, width] (T_0 is the
   * identity, so T_1 = W_0[k] ∘ silu'(Z_0)), multiplied as one plain 2-D matMul [in·rows, width]·W_l
   * (the wasm backend's fast path, see the header) and scaled by silu'(Z) broadcast over the
   * directions (measured on wasm: faster than repeating silu'(Z) by concat for a same-shape
   * multiply). The output layer's first nx columns give [in, rows, nx], transposed to
   * [rows, nx, in]. Returns [rows, nx] and [rows, nx, in].
   */
  #forwardJacobian(m: number, x: tf.Tensor2D): [tf.Tensor2D, tf.Tensor3D] {
    const layers = this.#layers[m]!;
    const { stateSize: nx, actionSize: nu } = this.#spec;
    const width = nx + nu;
    const rows = x.shape[0];
    let h = x;
    let t: tf.Tensor3D | undefined; // undefined: the identity
    for (let i = 0; i < layers.length; i += 2) {
      const w = layers[i] as tf.Tensor2D;
      const b = layers[i + 1] as tf.Tensor1D;
      const [fanIn, fanOut] = w.shape;
      if (i + 2 === layers.length) {
        const wMean = fanOut === nx ? w : tf.slice(w, [0, 0], [fanIn, nx]);
        const out = dense(h, wMean, fanOut === nx ? b : tf.slice(b, [0], [nx]));
        const jac = t
          ? tf.transpose(
              tf.reshape(tf.matMul(tf.reshape(t, [width * rows, fanIn]), wMean), [width, rows, nx]),
              [1, 2, 0],
            )
          : tf.tile(tf.reshape(tf.transpose(wMean), [1, nx, width]), [rows, 1, 1]);
        return [out, jac as tf.Tensor3D];
      }
      const z = dense(h, w, b);
      const s = tf.sigmoid(z);
      const dsilu = tf.reshape(tf.mul(s, tf.add(1, tf.mul(z, tf.sub(1, s)))), [1, rows, fanOut]);
      const linear = t
        ? tf.reshape(tf.matMul(tf.reshape(t, [width * rows, fanIn]), w), [width, rows, fanOut])
        : tf.reshape(w, [width, 1, fanOut]);
      t = tf.mul(linear, dsilu);
      h = tf.mul(z, s);
    }
    throw new Error('tfjs engine: a network without layers');
  }

  forwardJacobian(
    inputs: Float32Array,
    rows: number,
    members: Int32Array,
  ): { outputs: Float32Array; jacobians: Float32Array } {
    const width = this.#spec.stateSize + this.#spec.actionSize;
    const count = this.#spec.members;
    for (const m of members)
      if (!(m >= 0 && m < count)) throw new Error(`tfjs engine: member ${m} is not in 0…${count - 1}`);
    if (members.length === 0 || rows === 0) return { outputs: new Float32Array(0), jacobians: new Float32Array(0) };
    return tf.tidy(() => {
      const x = tf.tensor2d(inputs.subarray(0, rows * width), [rows, width]);
      const parts = Array.from(members, (m) => this.#forwardJacobian(m, x));
      const one = <T extends tf.Tensor>(ts: T[]): T => (ts.length === 1 ? ts[0]! : tf.concat(ts, 0));
      return {
        outputs: one(parts.map((p) => p[0])).dataSync() as Float32Array,
        jacobians: one(parts.map((p) => p[1])).dataSync() as Float32Array,
      };
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
