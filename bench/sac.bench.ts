import * as tf from '@tensorflow/tfjs-core';
import { initTensorBackend } from '../src/tensor/backend.js';
import { nativeKernels } from '../src/tensor/native_kernels.js';
import { StateEncoding } from '../src/dynamics/state_encoding.js';
import { createSac, type SacEngineChoice } from '../src/rl/sac/create.js';
import { mlpForwardJs, mlpLayout, paramsFromNamed } from '../src/rl/sac/mlp_layout.js';
import { policyModel, PolicyActor } from '../src/rl/sac/policy_blob.js';
import type { SacBatch, SacConfig, SoftActorCritic } from '../src/rl/sac/sac.js';
import { Rng } from '../src/util/random.js';
import { Figures, percentile, sortNumbers } from './report.js';

// Soft actor-critic's cost on the cart-pole's sizes (observation x, sin θ, cos θ, ẋ, θ̇; one force):
//  - learning: SAC updates/s (critics, actor, temperature and targets on one batch of 256) with
//    two hidden layers of 256 (SAC's default) and of 64, on the native kernels and on TF.js (the
//    backend initTensorBackend picks, wasm here), and native ÷ TF.js;
//  - acting, in the command loop: one observation through PolicyActor (the published policy's
//    mean action, as the policy planner runs it: native kernels where built) and through the
//    learner's sac.act on each engine, p50 and p99 in µs and the p50's rate in kHz (the command
//    loop's target: ≥ 1 kHz), beside the plain-JS forward pass PolicyActor falls back to without
//    the addon ("plain-JS fallback"). Every act figure is the mean action of one row.
// Every figure is a median (or a percentile) of calls timed one by one, after warm-up.

const OBS = 5;
const BATCH = 256;
const HIDDENS: readonly (readonly number[])[] = [
  [256, 256],
  [64, 64],
];

const config = (hidden: readonly number[]): SacConfig => ({
  obsSize: OBS,
  actionLow: [-3],
  actionHigh: [3],
  hidden,
  seed: 1,
});

/** seconds per call, one per call timed, over at least `minIterations` calls and `minSeconds`, after warm-up */
function timeCalls(fn: () => void, minIterations: number, minSeconds: number, warmup: number): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minIterations || performance.now() - start < minSeconds * 1000) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  return sortNumbers(times);
}

function randomBatches(count: number): SacBatch[] {
  const rng = new Rng(7);
  return Array.from({ length: count }, () => ({
    size: BATCH,
    obs: Float32Array.from({ length: BATCH * OBS }, () => rng.normal()),
    actions: Float32Array.from({ length: BATCH }, () => 6 * rng.uniform() - 3),
    rewards: Float32Array.from({ length: BATCH }, () => rng.normal()),
    nextObs: Float32Array.from({ length: BATCH * OBS }, () => rng.normal()),
    dones: Float32Array.from({ length: BATCH }, () => (rng.uniform() < 0.05 ? 1 : 0)),
  }));
}

/** one row's latency: p50 and p99 in µs, and the p50's rate in kHz */
function latencyFigures(f: Figures, label: string, fn: () => void): void {
  const times = timeCalls(fn, 20_000, 1, 500);
  const p50 = percentile(times, 50) * 1e6;
  f.add(`${label}, p50`, p50, 'µs');
  f.add(`${label}, p99`, percentile(times, 99) * 1e6, 'µs');
  f.add(`${label}, rate at p50`, 1e3 / p50, 'kHz');
}

export async function sacBenchmarks(f: Figures): Promise<void> {
  const backend = await initTensorBackend();
  const native = nativeKernels();
  const engines: SacEngineChoice[] = [...(native.kernels ? (['native'] as const) : []), 'tfjs'];
  process.stdout.write(
    `  (${backend.why}; ${native.why}; obs ${OBS}, action 1, batch ${BATCH}, ReLU, each figure a median of calls timed one by one)\n`,
  );
  const batches = randomBatches(8);
  const obs = Float32Array.from({ length: OBS }, (_, i) => 0.1 * (i + 1));
  const out = new Float32Array(1);
  for (const hidden of HIDDENS) {
    const net = `${hidden.length}×${hidden[0]}`;
    const updatesPerSecond = new Map<SacEngineChoice, number>();
    for (const engine of engines) {
      const { sac } = createSac(config(hidden), engine);
      try {
        let i = 0;
        const times = timeCalls(() => sac.update(batches[i++ % batches.length]!), 10, 2.5, 5);
        const rate = 1 / percentile(times, 50);
        updatesPerSecond.set(engine, rate);
        f.add(`SAC updates, ${net}, batch ${BATCH}, ${engine}`, rate, 'updates/s');
        latencyFigures(f, `SAC 1-row act, sac.act ${engine}, ${net}`, () => sac.act(obs, true, out));
        if (engine === engines[0]) policyFigures(f, sac, net, obs);
      } finally {
        sac.dispose();
      }
    }
    const nativeRate = updatesPerSecond.get('native');
    const tfjsRate = updatesPerSecond.get('tfjs');
    if (nativeRate && tfjsRate) f.add(`SAC updates, ${net}, native ÷ TF.js`, nativeRate / tfjsRate, '×');
  }
  tensorLeak(f);
}

/** the published policy of `sac`'s actor: PolicyActor (native where built) and its plain-JS fallback */
function policyFigures(f: Figures, sac: SoftActorCritic, net: string, obs: Float32Array): void {
  const hidden = sac.config.hidden;
  const weights = sac.actorWeights();
  const model = policyModel(
    weights,
    {
      encoding: new StateEncoding(['slider', 'hinge'], ['hinge']),
      actuators: ['slider'],
      low: sac.config.actionLow,
      high: sac.config.actionHigh,
      periodNs: 1_000_000n,
      hidden,
    },
    1,
  );
  const actor = new PolicyActor(model);
  const out = new Float32Array(1);
  latencyFigures(f, `SAC 1-row act, PolicyActor, ${net}`, () => actor.act(obs, 1, out));
  const layout = mlpLayout([OBS, ...hidden, 2]);
  const params = paramsFromNamed('actor', layout, new Map(weights.map((w) => [w.name, w])));
  latencyFigures(f, `SAC 1-row act, plain-JS fallback, ${net}`, () => {
    out[0] = 3 * Math.tanh(mlpForwardJs(layout, params, obs, 1)[0]!);
  });
}

// `node dist/bench/sac.bench.js`: this suite alone
if (import.meta.url === `file://${process.argv[1]}`) await sacBenchmarks(new Figures());

/** TF.js tensors left after 10,000 updates (and 10,000 acts) of a tiny learner: must be 0, else the benchmark fails */
function tensorLeak(f: Figures): void {
  const { sac } = createSac({ obsSize: OBS, actionLow: [-1], actionHigh: [1], hidden: [4], seed: 3 }, 'tfjs');
  try {
    const batch = randomBatches(1)[0]!;
    const small = { ...batch, size: 4 };
    const obs = Float32Array.from({ length: OBS }, (_, i) => 0.1 * i);
    const out = new Float32Array(1);
    for (let i = 0; i < 3; i++) sac.update(small);
    const before = tf.memory().numTensors;
    const start = performance.now();
    for (let i = 0; i < 10_000; i++) {
      sac.update(small);
      sac.act(obs, i % 2 === 0, out);
    }
    const grown = tf.memory().numTensors - before;
    f.add('SAC TF.js: tensors left after 10,000 updates and acts', grown, 'tensors');
    f.add('SAC TF.js: 10,000 tiny updates and acts', (performance.now() - start) / 1000, 's');
    if (grown !== 0) throw new Error(`SAC on TF.js leaks: ${grown} tensors more after 10,000 updates and acts`);
  } finally {
    sac.dispose();
  }
}
