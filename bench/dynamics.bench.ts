import * as tf from '@tensorflow/tfjs-core';
import { initTensorBackend } from '../src/tensor/backend.js';
import { dense, silu } from '../src/tensor/dense.js';
import { ProbabilisticEnsemble, type EnsembleRuntimeOptions } from '../src/dynamics/ensemble.js';
import type { TransitionData } from '../src/data/transition_data.js';
import { nativeKernels } from '../src/tensor/native_kernels.js';
import { Rng } from '../src/util/random.js';
import { Figures, percentile, sortNumbers } from './report.js';

// The learned-dynamics figures (for comparison: an earlier measurement here, TF.js 4.22 on wasm,
// one thread, a 5-member 18→4×200→24 ensemble, gave ≈91k member-evals/s and ≈12.5k
// member-samples/s training at batch 256): a 7-member 4×200 ensemble,
// cart-pole-sized (4 + 1 → 8) and arm-sized (12 + 6 → 24), on each engine in the same run:
// the native kernels (native/, on 1 and 2 threads) and TF.js on wasm, with their ratio.
//  - ensemble evals/s: predictNext on 7 × 1000 rows (each member its own 1000), sampling on, so
//    normalisation, grouping and read-back are included; the unlabelled figure is the engine
//    ProbabilisticEnsemble picks by default. Beside the wasm one, the bare per-member forward on
//    a prebuilt tensor, and the stacked [E, in, out] rank-3 layout that the wasm backend runs on
//    its scalar loop (the alternative layout, kept only as a comparison);
//  - training member-samples/s: Adam steps at batch 256 per member, through train();
//  - the pure-JS cpu backend as the baseline for the cart-pole case (few iterations: it is slow).

const MEMBERS = 7;
const ROWS_PER_MEMBER = 1000;
const HIDDEN = [200, 200, 200, 200];

interface Size {
  readonly label: string;
  readonly nx: number;
  readonly nu: number;
}
const SIZES: readonly Size[] = [
  { label: 'cart-pole 4+1', nx: 4, nu: 1 },
  { label: 'arm 12+6', nx: 12, nu: 6 },
];

/** median seconds per call over at least `minIterations` calls and `minSeconds`, after warm-up */
function time(fn: () => void, minIterations: number, minSeconds: number, warmup = 2): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minIterations || performance.now() - start < minSeconds * 1000) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  return percentile(sortNumbers(times), 50);
}

function randomData(size: Size, n: number, seed: number): TransitionData {
  const rng = new Rng(seed);
  const states = Float32Array.from({ length: n * size.nx }, () => rng.normal());
  const actions = Float32Array.from({ length: n * size.nu }, () => rng.normal());
  const nextStates = Float32Array.from(
    states,
    (x, i) => 0.95 * x + 0.05 * actions[Math.floor(i / size.nx) * size.nu]! + 0.01 * rng.normal(),
  );
  return { states, actions, nextStates, n };
}

/** member-evals/s of predictNext for 7 × 1000 rows */
function predictRate(model: ProbabilisticEnsemble, size: Size, iterations: number, seconds: number): number {
  const rows = MEMBERS * ROWS_PER_MEMBER;
  const data = randomData(size, rows, 1);
  const members = Int32Array.from({ length: rows }, (_, r) => r % MEMBERS);
  const rng = new Rng(2);
  return (
    rows /
    time(
      () => void model.predictNext(data.states, data.actions, rows, members, true, () => rng.uniform()),
      iterations,
      seconds,
      iterations > 3 ? 2 : 1,
    )
  );
}

/** the same network's weights as plain tensors, per member and stacked */
function rawLayouts(model: ProbabilisticEnsemble): { perMember: tf.Tensor2D[][]; stacked: tf.Tensor3D[] } {
  const { metadata, data } = model.serialize();
  const specs = metadata['weightSpecs'] as { name: string; shape: number[] }[];
  const values = new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
  const byName = new Map<string, tf.Tensor>();
  let offset = 0;
  for (const s of specs) {
    const count = s.shape.reduce((p, d) => p * d, 1);
    byName.set(s.name, tf.tensor(values.slice(offset, offset + count), s.shape));
    offset += count;
  }
  const layers = HIDDEN.length + 1;
  const perMember = Array.from({ length: MEMBERS }, (_, m) =>
    Array.from({ length: layers }, (_, l) => [
      byName.get(`member${m}/dense${l}/kernel`) as tf.Tensor2D,
      byName.get(`member${m}/dense${l}/bias`) as tf.Tensor2D,
    ]).flat(),
  );
  const stacked = Array.from({ length: layers }, (_, l) => [
    tf.stack(perMember.map((w) => w[2 * l]!)) as tf.Tensor3D,
    tf.expandDims<tf.Tensor3D>(tf.stack(perMember.map((w) => w[2 * l + 1]!)), 1),
  ]).flat();
  for (const t of byName.values()) if (!perMember.flat().includes(t as tf.Tensor2D)) t.dispose();
  return { perMember, stacked };
}

function forwardRates(model: ProbabilisticEnsemble, size: Size, figures: Figures, label: string): void {
  const { perMember, stacked } = rawLayouts(model);
  const width = size.nx + size.nu;
  const rows = MEMBERS * ROWS_PER_MEMBER;
  const x = tf.randomNormal<tf.Rank.R2>([ROWS_PER_MEMBER, width]);
  const x3 = tf.randomNormal<tf.Rank.R3>([MEMBERS, ROWS_PER_MEMBER, width]);
  const bare = time(
    () => {
      tf.tidy(() => {
        const outs = perMember.map((w) => {
          let h = x;
          for (let i = 0; i < w.length; i += 2) {
            const z = dense(h, w[i]!, w[i + 1] as unknown as tf.Tensor1D);
            h = i + 2 < w.length ? silu(z) : z;
          }
          return h;
        });
        return tf.concat(outs, 0).dataSync();
      });
    },
    10,
    1.5,
  );
  figures.add(`ensemble evals/s, ${label}, bare per-member forward (floor)`, rows / bare, 'member-evals/s');
  const rank3 = time(
    () => {
      tf.tidy(() => {
        let h: tf.Tensor3D = x3;
        for (let i = 0; i < stacked.length; i += 2) {
          const z = tf.add<tf.Tensor3D>(tf.matMul(h, stacked[i]!), stacked[i + 1]!);
          h = i + 2 < stacked.length ? silu(z) : z;
        }
        return h.dataSync();
      });
    },
    3,
    1,
    1,
  );
  figures.add(`ensemble evals/s, ${label}, stacked rank-3 layout (not used)`, rows / rank3, 'member-evals/s');
  tf.dispose([x, x3, ...perMember.flat(), ...stacked]);
}

/** member-samples/s of Adam steps at batch 256 (2080 training rows: 8 steps an epoch) */
function trainRate(model: ProbabilisticEnsemble, size: Size, updates: number): number {
  const data = randomData(size, 2600, 3);
  model.train(data, { epochs: 1, batchSize: 256, holdoutRatio: 0.2, maxUpdates: 1 }); // warm-up
  return model.train(data, {
    epochs: Math.ceil(updates / 8),
    patience: Infinity,
    batchSize: 256,
    holdoutRatio: 0.2,
    maxUpdates: updates,
  }).memberSamplesPerSecond;
}

interface EngineCase {
  readonly label: string;
  readonly runtime: EnsembleRuntimeOptions;
  /** optimiser steps timed: enough for a second or so */
  readonly updates: number;
}

const NATIVE_CASES: readonly EngineCase[] = [
  { label: 'native 1 thread', runtime: { engine: 'native', threads: 1 }, updates: 48 },
  { label: 'native 2 threads', runtime: { engine: 'native', threads: 2 }, updates: 64 },
];
const WASM_CASE: EngineCase = { label: 'wasm', runtime: { engine: 'tfjs' }, updates: 10 };

export async function dynamicsBenchmarks(figures: Figures): Promise<void> {
  const chosen = await initTensorBackend({ force: 'wasm' });
  const native = nativeKernels();
  process.stdout.write(
    `  (${chosen.why}; ${native.why}; ${MEMBERS} members, ${HIDDEN.length}×${HIDDEN[0]}, SiLU, ${MEMBERS}×${ROWS_PER_MEMBER} rows)\n`,
  );
  const cases = [...(native.kernels ? NATIVE_CASES : []), WASM_CASE];
  let wasmCartPole = { evals: 0, train: 0 };
  for (const size of SIZES) {
    const config = { stateSize: size.nx, actionSize: size.nu, members: MEMBERS, hidden: HIDDEN, seed: 1 };
    // the engine the ensemble picks by default: the headline figures
    const chosenModel = ProbabilisticEnsemble.create(config);
    try {
      process.stdout.write(`  ${size.label}: default engine ${chosenModel.engineDescription}\n`);
      figures.add(
        `ensemble evals/s, ${size.label}, predictNext`,
        predictRate(chosenModel, size, 10, 2),
        'member-evals/s',
      );
      figures.add(
        `ensemble training, ${size.label}, batch 256`,
        trainRate(chosenModel, size, chosenModel.engine === 'native' ? 48 : 10),
        'member-samples/s',
      );
    } finally {
      chosenModel.dispose();
    }
    const rates = new Map<string, { evals: number; train: number }>();
    for (const c of cases) {
      const model = ProbabilisticEnsemble.create(config, c.runtime);
      try {
        const evals = predictRate(model, size, 10, 2);
        figures.add(`ensemble evals/s, ${size.label}, ${c.label}, predictNext`, evals, 'member-evals/s');
        if (c === WASM_CASE) forwardRates(model, size, figures, `${size.label}, wasm`);
        const train = trainRate(model, size, c.updates);
        figures.add(`ensemble training, ${size.label}, ${c.label}, batch 256`, train, 'member-samples/s');
        rates.set(c.label, { evals, train });
      } finally {
        model.dispose();
      }
    }
    const wasm = rates.get(WASM_CASE.label)!;
    for (const c of NATIVE_CASES) {
      const r = rates.get(c.label);
      if (!r) continue;
      figures.add(`ensemble evals/s, ${size.label}, ${c.label} ÷ wasm`, r.evals / wasm.evals, '×');
      figures.add(`ensemble training, ${size.label}, ${c.label} ÷ wasm`, r.train / wasm.train, '×');
    }
    if (size === SIZES[0]) wasmCartPole = wasm;
  }

  await initTensorBackend({ force: 'cpu' });
  try {
    const size = SIZES[0]!;
    const model = ProbabilisticEnsemble.create(
      { stateSize: size.nx, actionSize: size.nu, members: MEMBERS, hidden: HIDDEN, seed: 1 },
      { engine: 'tfjs' },
    );
    try {
      const evals = predictRate(model, size, 2, 0);
      figures.add(`ensemble evals/s, ${size.label}, cpu (pure JS), predictNext`, evals, 'member-evals/s');
      figures.add(`ensemble evals/s, ${size.label}, wasm ÷ cpu`, wasmCartPole.evals / evals, '×');
      const train = trainRate(model, size, 2);
      figures.add(`ensemble training, ${size.label}, cpu (pure JS), batch 256`, train, 'member-samples/s');
      figures.add(`ensemble training, ${size.label}, wasm ÷ cpu`, wasmCartPole.train / train, '×');
    } finally {
      model.dispose();
    }
  } finally {
    await initTensorBackend({ force: 'wasm' });
  }
}

// `node dist/bench/dynamics.bench.js`: this suite alone
if (import.meta.url === `file://${process.argv[1]}`) await dynamicsBenchmarks(new Figures());
