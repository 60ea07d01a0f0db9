import type { NativeKernels } from '../../tensor/native_kernels.js';
import { Adam } from './adam.js';
import { initialParams, mlpLayout, type MlpLayout } from './mlp_layout.js';

// One small MLP on the native kernels (native/src/mlp_ops.h): its parameters in the layout of
// ./mlp_layout.ts, a forward pass that keeps the activations of its last call, the backward pass
// from the output's gradient, Adam, and the target network's Polyak average. Buffers grow to the
// largest batch seen and are reused: an update allocates nothing.

export class NativeMlp {
  readonly layout: MlpLayout;
  readonly params: Float32Array;
  readonly grads: Float32Array;
  readonly #widths: Int32Array;
  #adam: Adam | undefined;
  #activations = new Float32Array(0);
  #input = new Float32Array(0);
  #dInput = new Float32Array(0);
  #rows = 0;

  constructor(
    private readonly kernels: NativeKernels,
    widths: readonly number[],
    seed: number,
  ) {
    this.layout = mlpLayout(widths);
    this.#widths = Int32Array.from(widths);
    this.params = initialParams(this.layout, seed);
    this.grads = new Float32Array(this.layout.size);
  }

  get inputWidth(): number {
    return this.layout.widths[0]!;
  }

  get outputWidth(): number {
    return this.layout.widths[this.layout.widths.length - 1]!;
  }

  /** x [rows × in] → the output [rows × out], a view valid until the next forward */
  forward(x: Float32Array, rows: number): Float32Array {
    const need = this.layout.widths.slice(1).reduce((s, w) => s + rows * w, 0);
    if (this.#activations.length < need) this.#activations = new Float32Array(need);
    // the input stays for backward: callers reuse their buffers
    if (this.#input.length < rows * this.inputWidth) this.#input = new Float32Array(rows * this.inputWidth);
    this.#input.set(x.subarray(0, rows * this.inputWidth));
    this.kernels.mlpForward(this.#widths, this.params, this.#input, rows, this.#activations);
    this.#rows = rows;
    const out = rows * this.outputWidth;
    return this.#activations.subarray(need - out, need);
  }

  /**
   * Back from dOut [rows × out] of the last forward: ∂/∂θ into grads when `parameters`, and the
   * input's gradient [rows × in] returned (a view valid until the next call) when `input`.
   */
  backward(dOut: Float32Array, parameters: boolean, input: boolean): Float32Array | undefined {
    const rows = this.#rows;
    if (input && this.#dInput.length < rows * this.inputWidth) this.#dInput = new Float32Array(rows * this.inputWidth);
    this.kernels.mlpBackward(
      this.#widths,
      this.params,
      this.#input,
      this.#activations,
      dOut,
      rows,
      parameters ? this.grads : null,
      input ? this.#dInput : null,
    );
    return input ? this.#dInput.subarray(0, rows * this.inputWidth) : undefined;
  }

  /** one Adam step on grads */
  step(learningRate: number): void {
    this.#adam ??= new Adam(this.kernels, this.layout.size, learningRate);
    this.#adam.learningRate = learningRate; // `adam` (restore, snapshot) may have made it first, with none
    this.#adam.step(this.params, this.grads);
  }

  get adam(): Adam {
    this.#adam ??= new Adam(this.kernels, this.layout.size, 0);
    return this.#adam;
  }

  /** θ ← (1 − τ) θ + τ θ_other */
  polyak(other: NativeMlp, tau: number): void {
    const p = this.params;
    const q = other.params;
    const keep = 1 - tau;
    for (let i = 0; i < p.length; i++) p[i] = keep * p[i]! + tau * q[i]!;
  }
}
