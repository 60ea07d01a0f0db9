import { ProbabilisticEnsemble } from '../../src/dynamics/ensemble.js';
import { StateEncoding } from '../../src/dynamics/state_encoding.js';
import { initTensorBackend } from '../../src/tensor/backend.js';
import { Rng } from '../../src/util/random.js';
import {
  buildLearnedPlanner,
  planningTask,
  type LearnedPlanningSpec,
} from '../../src/control/planners/ensemble_mpc/spec.js';
import { samplingOptimizer } from '../../src/control/planners/registry.js';

// For planning tests: a cart-pole dynamics model blob as the dynamics learner publishes one (they
// need a model, not a good one: a small ensemble over [x, sin θ, cos θ, ẋ, θ̇], fitted for two
// epochs to random states moved on by a crude integrator), and a planning workload sized to this
// machine, so that a plan spans many periods on a fast one and a loaded one alike.

export async function cartpoleModelBlob(periodNs: bigint): Promise<{ metadataJson: string; data: Uint8Array }> {
  await initTensorBackend();
  const encoding = new StateEncoding(['cart_slide', 'pole_hinge'], ['pole_hinge']);
  const n = 256;
  const dt = Number(periodNs) / 1e9;
  const rng = new Rng(5);
  const states = new Float32Array(n * encoding.size);
  const nextStates = new Float32Array(n * encoding.size);
  const actions = Float32Array.from({ length: n }, () => 40 * rng.uniform() - 20);
  for (let i = 0; i < n; i++) {
    const raw = Float32Array.of(rng.normal(), 3 * rng.normal(), rng.normal(), 3 * rng.normal());
    encoding.encodeInto(raw, states, i * encoding.size);
    raw[2]! += dt * actions[i]!;
    raw[0]! += dt * raw[2]!;
    raw[1]! += dt * raw[3]!;
    encoding.encodeInto(raw, nextStates, i * encoding.size);
  }
  const ensemble = ProbabilisticEnsemble.create({
    stateSize: encoding.size,
    actionSize: 1,
    members: 3,
    elites: 3,
    hidden: [64, 64],
    seed: 2,
  });
  try {
    ensemble.train({ states, actions, nextStates, n }, { epochs: 2, batchSize: 64 });
    const { metadata, data } = ensemble.serialize();
    return {
      metadataJson: JSON.stringify({
        ...metadata,
        training: { ...encoding.toMetadata(), period_ns: Number(periodNs) },
      }),
      data,
    };
  } finally {
    ensemble.dispose();
  }
}

/**
 * A spec whose plans take about `targetMs` on this machine when it is not loaded: the fastest of five
 * plans timed on this thread (after a warm-up; load only ever makes a plan slower, so the fastest is
 * the one nearest the unloaded time) and the population scaled to match, within [1, 200]× the spec's,
 * so that plans span many control periods whichever ensemble engine runs them, and more under load.
 */
export async function specTakingAbout(
  spec: LearnedPlanningSpec,
  blob: { metadataJson: string; data: Uint8Array },
  targetMs: number,
): Promise<LearnedPlanningSpec> {
  await initTensorBackend();
  const planner = buildLearnedPlanner(
    { ...spec, explore: false },
    planningTask(spec, undefined),
    samplingOptimizer(spec.optimizer, spec.seed),
  );
  try {
    planner.setModel(blob.metadataJson, blob.data, 1);
    const state = new Float64Array(2 * spec.modelJoints.length);
    planner.optimize({ timeNs: 0n, state });
    const times = [1, 2, 3, 4, 5].map((k) => {
      const t0 = performance.now();
      planner.optimize({ timeNs: BigInt(k) * spec.stepNs, state });
      return performance.now() - t0;
    });
    const ms = Math.min(...times);
    const scale = Math.min(200, Math.max(1, targetMs / ms));
    const population = Number(spec.optimizer.values['sampling.population']);
    return {
      ...spec,
      optimizer: {
        ...spec.optimizer,
        values: { ...spec.optimizer.values, 'sampling.population': Math.round(population * scale) },
      },
    };
  } finally {
    planner.dispose();
  }
}
