import * as tf from '@tensorflow/tfjs-core';
import { trainableDense } from '../../tensor/dense.js';
import { initialParams, mlpLayout, namedParams, type MlpLayout } from './mlp_layout.js';

// A small multilayer perceptron as TF.js variables, for soft actor-critic's TF.js engine: ReLU
// hidden layers and a linear output, initialised as ./mlp_layout.ts says (the native engine starts
// from the same values). Target networks follow their online copy by Polyak averaging
// (θ' ← (1 − τ) θ' + τ θ). Layers are the dense layer with its own untransposed backward pass
// (../../tensor/dense.ts: the wasm fast path). TF.js registers variables by name, globally: each
// instance's get a unique prefix, and weights() names them by the layout.

let instances = 0;

export class Mlp {
  readonly layout: MlpLayout;
  /** [W0, b0, W1, b1, …]; W_l is [in, out] */
  readonly variables: tf.Variable[];

  constructor(
    readonly name: string,
    widths: readonly number[],
    seed: number,
    trainable = true,
  ) {
    this.layout = mlpLayout(widths);
    const params = initialParams(this.layout, seed);
    const prefix = `sac${instances++}/${name}`;
    this.variables = this.layout.layers.flatMap(({ kernel, bias, shape }, l) => [
      tf.tidy(() =>
        tf.variable(
          tf.tensor2d(params.subarray(kernel, kernel + shape[0] * shape[1]), [...shape]),
          trainable,
          `${prefix}/dense${l}/kernel`,
        ),
      ),
      tf.tidy(() =>
        tf.variable(tf.tensor1d(params.subarray(bias, bias + shape[1])), trainable, `${prefix}/dense${l}/bias`),
      ),
    ]);
  }

  get widths(): readonly number[] {
    return this.layout.widths;
  }

  /** The network's output for a batch [B, in] (call inside a tidy). */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    let h = x;
    const layers = this.variables.length / 2;
    for (let l = 0; l < layers; l++) {
      const z = trainableDense(h, this.variables[2 * l] as tf.Tensor2D, this.variables[2 * l + 1] as tf.Tensor1D);
      h = l + 1 < layers ? tf.relu(z) : z;
    }
    return h;
  }

  /** The parameters in the layout's one flat array. */
  params(): Float32Array {
    const out = new Float32Array(this.layout.size);
    this.layout.layers.forEach(({ kernel, bias }, l) => {
      out.set(this.variables[2 * l]!.dataSync(), kernel);
      out.set(this.variables[2 * l + 1]!.dataSync(), bias);
    });
    return out;
  }

  /** Set the parameters from the layout's flat array. */
  setParams(params: Float32Array): void {
    if (params.length !== this.layout.size)
      throw new Error(`MLP ${this.name}: ${params.length} parameters, the network has ${this.layout.size}`);
    this.layout.layers.forEach(({ kernel, bias, shape }, l) => {
      tf.tidy(() => {
        this.variables[2 * l]!.assign(tf.tensor2d(params.subarray(kernel, kernel + shape[0] * shape[1]), [...shape]));
        this.variables[2 * l + 1]!.assign(tf.tensor1d(params.subarray(bias, bias + shape[1])));
      });
    });
  }

  weights(name = this.name) {
    return namedParams(name, this.layout, this.params());
  }

  /** Copy another network's weights (same widths). */
  copyFrom(other: Mlp): void {
    this.#check(other);
    this.variables.forEach((v, i) => v.assign(other.variables[i]!));
  }

  /** θ ← (1 − τ) θ + τ θ_other. */
  polyak(other: Mlp, tau: number): void {
    this.#check(other);
    tf.tidy(() =>
      this.variables.forEach((v, i) => v.assign(tf.add(tf.mul(v, 1 - tau), tf.mul(other.variables[i]!, tau)))),
    );
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }

  #check(other: Mlp): void {
    if (other.widths.join(',') !== this.widths.join(','))
      throw new Error(`MLP: widths [${other.widths.join(', ')}] do not match [${this.widths.join(', ')}]`);
  }
}
