import type { NativeKernels } from '../../tensor/native_kernels.js';
import { ADAM } from '../../dynamics/ensemble_engine.js';

// Adam (Kingma & Ba 2015) on one flat parameter array, on the native kernels, stepping exactly as
// tf.train.adam does (β₁ 0.9, β₂ 0.999, ε 1e-7; the bias corrections 1 − βᵗ from float32 running
// powers), so the native and TF.js engines take the same steps.

const f = Math.fround;

export class Adam {
  readonly m: Float32Array;
  readonly v: Float32Array;
  #accBeta1 = f(ADAM.beta1);
  #accBeta2 = f(ADAM.beta2);
  #steps = 0;

  constructor(
    private readonly kernels: NativeKernels,
    size: number,
    public learningRate: number,
  ) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  get steps(): number {
    return this.#steps;
  }

  /** params ← params − lr · m̂ / (√v̂ + ε) with the moments updated by grads */
  step(params: Float32Array, grads: Float32Array): void {
    const hyper = Float64Array.of(
      this.learningRate,
      ADAM.beta1,
      ADAM.beta2,
      1 - ADAM.beta1,
      1 - ADAM.beta2,
      ADAM.epsilon,
      f(1 - this.#accBeta1),
      f(1 - this.#accBeta2),
    );
    this.kernels.adamStep(params, this.m, this.v, grads, hyper);
    this.#accBeta1 = f(this.#accBeta1 * f(ADAM.beta1));
    this.#accBeta2 = f(this.#accBeta2 * f(ADAM.beta2));
    this.#steps++;
  }

  /** the state a checkpoint keeps: moments and the step count (the powers follow from it) */
  restore(m: Float32Array, v: Float32Array, steps: number): void {
    this.m.set(m);
    this.v.set(v);
    this.#steps = steps;
    this.#accBeta1 = f(ADAM.beta1);
    this.#accBeta2 = f(ADAM.beta2);
    for (let i = 0; i < steps; i++) {
      this.#accBeta1 = f(this.#accBeta1 * f(ADAM.beta1));
      this.#accBeta2 = f(this.#accBeta2 * f(ADAM.beta2));
    }
  }
}
