import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../util/random.js';
import { trainableDense } from '../../tensor/dense.js';

// A small multilayer perceptron as TF.js variables, for soft actor-critic's actor and critics:
// ReLU hidden layers and a linear output, weights initialised as PyTorch's nn.Linear does (uniform
// in ±1/√fan_in, Kaiming-uniform with a = √5), from a seeded source so that runs repeat. Target
// networks follow their online copy by Polyak averaging (θ' ← (1 − τ) θ' + τ θ). Layers are the
// dense layer with its own untransposed backward pass (../../tensor/dense.ts: the wasm fast path).

export class Mlp {
  readonly widths: readonly number[];
  /** [W0, b0, W1, b1, …]; W_l is [in, out] */
  readonly variables: tf.Variable[];

  constructor(name: string, widths: readonly number[], seed: number, trainable = true) {
    if (widths.length < 2 || !widths.every((w) => Number.isInteger(w) && w > 0))
      throw new Error(`MLP ${name}: bad layer widths [${widths.join(', ')}]`);
    this.widths = [...widths];
    const rng = new Rng(seed);
    this.variables = [];
    for (let l = 0; l + 1 < widths.length; l++) {
      const [fanIn, fanOut] = [widths[l]!, widths[l + 1]!];
      const bound = 1 / Math.sqrt(fanIn);
      const w = Float32Array.from({ length: fanIn * fanOut }, () => (2 * rng.uniform() - 1) * bound);
      const b = Float32Array.from({ length: fanOut }, () => (2 * rng.uniform() - 1) * bound);
      this.variables.push(
        tf.tidy(() => tf.variable(tf.tensor2d(w, [fanIn, fanOut]), trainable, `${name}/dense${l}/kernel`)),
        tf.tidy(() => tf.variable(tf.tensor1d(b), trainable, `${name}/dense${l}/bias`)),
      );
    }
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
