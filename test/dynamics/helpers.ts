import { Rng } from '../../src/util/random.js';
import { ProbabilisticEnsemble, type EnsembleConfig } from '../../src/dynamics/ensemble.js';
import type { TransitionData } from '../../src/data/transition_data.js';
import type { TrainingResult } from '../../src/dynamics/training_client.js';

// Shared by the dynamics tests: data from a known linear system, a model with fixed weights, and a
// training result as the worker gives it.

/** x' = A x + B u (+ Gaussian noise), states and actions uniform in [−1, 1] */
export function linearData(n: number, A: number[][], B: number[][], noise: number, seed: number): TransitionData {
  const rng = new Rng(seed);
  const nx = A.length;
  const nu = B[0]!.length;
  const states = Float32Array.from({ length: n * nx }, () => 2 * rng.uniform() - 1);
  const actions = Float32Array.from({ length: n * nu }, () => 2 * rng.uniform() - 1);
  const nextStates = new Float32Array(n * nx);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < nx; i++) {
      let v = noise * rng.normal();
      for (let j = 0; j < nx; j++) v += A[i]![j]! * states[r * nx + j]!;
      for (let j = 0; j < nu; j++) v += B[i]![j]! * actions[r * nu + j]!;
      nextStates[r * nx + i] = v;
    }
  }
  return { states, actions, nextStates, n };
}

/**
 * An ensemble whose every weight is zero (identity normalisation): it predicts a zero delta with
 * log-variance at its lower bound, so next state = state, the same for every member.
 */
export function standStillModel(config: EnsembleConfig): ProbabilisticEnsemble {
  const blob = ProbabilisticEnsemble.create(config).serialize();
  const specs = blob.metadata['weightSpecs'] as { name: string; shape: number[] }[];
  const values = new Float32Array(
    blob.data.buffer.slice(blob.data.byteOffset, blob.data.byteOffset + blob.data.byteLength),
  );
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((p, d) => p * d, 1);
    if (spec.name.includes('/dense')) values.fill(0, offset, offset + count);
    // the raw log-variance output is 0; squeeze the bounds so the noise is negligible
    if (spec.name === 'max_logvar') values.fill(-30, offset, offset + count);
    if (spec.name === 'min_logvar') values.fill(-40, offset, offset + count);
    offset += count;
  }
  return ProbabilisticEnsemble.deserialize(blob.metadata, new Uint8Array(values.buffer));
}

/** overwrite one named weight in a blob */
export function setWeight(
  blob: { metadata: Record<string, unknown>; data: Uint8Array },
  name: string,
  value: number,
): void {
  const specs = blob.metadata['weightSpecs'] as { name: string; shape: number[] }[];
  const view = new Float32Array(blob.data.buffer, blob.data.byteOffset, blob.data.byteLength / 4);
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((p, d) => p * d, 1);
    if (spec.name === name) {
      view.fill(value, offset, offset + count);
      return;
    }
    offset += count;
  }
  throw new Error(`no weight '${name}'`);
}

/** A training's result as the worker would give it, with figures easy to check (a 5-value state, 1 action). */
export const RESULT: TrainingResult = {
  report: {
    epochs: 7,
    updates: 70,
    trainLoss: -1.5,
    valLoss: 0.25,
    valMsePerDim: [1e-3, 2e-3, 3e-3, 4e-3, 5e-3],
    elites: [0, 2],
    memberSamplesPerSecond: 1e5,
  },
  metadata: { format: 'dynastack.ProbabilisticEnsemble', config: { stateSize: 5, actionSize: 1 } },
  data: Uint8Array.from([1, 2, 3]),
  backend: 'native kernels',
  backendWhy: 'fastest',
  seconds: 1.25,
  transitions: 397,
};
