import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initTensorBackend } from '../../src/tensor/backend.js';
import { nativeKernels, type NativeKernels } from '../../src/tensor/native_kernels.js';
import type { NamedArray } from '../../src/tensor/weights.js';
import { StateEncoding } from '../../src/dynamics/state_encoding.js';
import { createSac } from '../../src/rl/sac/create.js';
import { mlpForwardJs, mlpLayout, paramsFromNamed, type MlpLayout } from '../../src/rl/sac/mlp_layout.js';
import { NativeMlp } from '../../src/rl/sac/native_mlp.js';
import {
  loadPolicyModel,
  policyModel,
  PolicyActor,
  savePolicyModel,
  type PolicyLayout,
  type PolicyModel,
} from '../../src/rl/sac/policy_blob.js';
import {
  LOG_STD_MAX,
  LOG_STD_MIN,
  type SacBatch,
  type SacConfig,
  type SacUpdate,
  type SoftActorCritic,
} from '../../src/rl/sac/sac.js';
import { NativeSac } from '../../src/rl/sac/sac_native.js';
import { TfjsSac } from '../../src/rl/sac/sac_tfjs.js';
import { Rng } from '../../src/util/random.js';

// Soft actor-critic's two engines checked against each other and against first principles:
//  - the native MLP's backward pass (parameters and inputs) against central finite differences;
//  - a whole native update against TF.js's autodiff of the same losses: the same seed, the same 20
//    batches, the same figures each step and the same weights at the end;
//  - the update's entropy estimate against the squashed Gaussian's entropy by quadrature;
//  - snapshot/restore of the native engine, and refusal of a mis-shaped checkpoint in one line;
//  - the published policy (PolicyActor) against the learner and a plain-JS forward pass, through a
//    save/load round trip, and refusal of corrupted models;
//  - no TF.js tensor left behind by updates and acts (10,000 of them: bench/sac.bench.ts);
//  - SAC learning a 1-D point mass whose optimal return is known in closed form.
// Native cases are skipped with the loader's reason when the addon is not built.

await initTensorBackend();
const native = nativeKernels();

/** the addon, or undefined after marking the test skipped with the loader's reason */
function nativeOrSkip(t: TestContext): NativeKernels | undefined {
  if (!native.kernels) t.skip(native.why);
  return native.kernels;
}

const close = (a: number, b: number, rel: number, abs: number): boolean =>
  Math.abs(a - b) <= abs + rel * Math.max(Math.abs(a), Math.abs(b));

const byName = (weights: readonly NamedArray[]): Map<string, NamedArray> => new Map(weights.map((w) => [w.name, w]));

/** B random transitions: observations ~N(0, 1), actions over (and at the edges of) the box, some episodes ended */
function randomBatch(rng: Rng, config: SacConfig, size: number): SacBatch {
  const nu = config.actionLow.length;
  const no = config.obsSize;
  const actions = new Float32Array(size * nu);
  for (let r = 0; r < size; r++)
    for (let i = 0; i < nu; i++) {
      const lo = config.actionLow[i]!;
      const hi = config.actionHigh[i]!;
      const edge = rng.uniform();
      actions[r * nu + i] = edge < 0.1 ? lo : edge < 0.2 ? hi : lo + (hi - lo) * rng.uniform();
    }
  return {
    size,
    obs: Float32Array.from({ length: size * no }, () => rng.normal()),
    actions,
    rewards: Float32Array.from({ length: size }, () => rng.normal()),
    nextObs: Float32Array.from({ length: size * no }, () => rng.normal()),
    dones: Float32Array.from({ length: size }, () => (rng.uniform() < 0.25 ? 1 : 0)),
  };
}

// ---------------------------------------------------------------------------------------------
// (a) the native MLP's backward pass against central finite differences

/**
 * The hidden pre-activations of the network in double precision: their signs (the ReLU pattern)
 * and the smallest magnitude, to tell whether a perturbation crossed or came near a kink.
 */
function reluPattern(layout: MlpLayout, params: Float32Array, x: Float32Array, rows: number) {
  let h = Array.from(x);
  let signs = '';
  let nearest = Infinity;
  layout.layers.forEach(({ kernel, bias, shape: [n, m] }, l) => {
    const out = new Array<number>(rows * m).fill(0);
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < m; j++) {
        let z = params[bias + j]!;
        for (let k = 0; k < n; k++) z += h[r * n + k]! * params[kernel + k * m + j]!;
        out[r * m + j] = z;
      }
    if (l + 1 < layout.layers.length) {
      for (let i = 0; i < out.length; i++) {
        signs += out[i]! > 0 ? '+' : '-';
        nearest = Math.min(nearest, Math.abs(out[i]!));
        out[i] = Math.max(0, out[i]!);
      }
    }
    h = out;
  });
  return { signs, nearest };
}

test("the native MLP's parameter and input gradients match central finite differences", (t) => {
  const kernels = nativeOrSkip(t);
  if (!kernels) return;
  const widths = [3, 5, 4, 2];
  const rows = 4;
  const H = 1e-2;
  // a pre-activation this close to 0 in double could sit on the other side in float32
  const KINK_MARGIN = 1e-4;
  const net = new NativeMlp(kernels, widths, 17);
  const rng = new Rng(4);
  // larger than the initial ±1/√fan_in, so that every layer's gradient is well above rounding
  for (let i = 0; i < net.params.length; i++) net.params[i] = 1.5 * (2 * rng.uniform() - 1);
  const x = Float32Array.from({ length: rows * widths[0]! }, () => 1.5 * rng.normal());
  const c = Float32Array.from({ length: rows * widths.at(-1)! }, () => rng.normal());
  /** L = Σ c ⊙ output, summed in double from the float32 outputs */
  const loss = (input: Float32Array): number => {
    const out = net.forward(input, rows);
    let s = 0;
    for (let k = 0; k < out.length; k++) s += c[k]! * out[k]!;
    return s;
  };

  loss(x);
  net.backward(c, true, false);
  const paramGrads = Float64Array.from(net.grads);
  // a second backward pass overwrites the gradients, it does not add to them
  loss(x);
  const inputGrads = Float64Array.from(net.backward(c, true, true)!);
  assert.deepEqual(Float64Array.from(net.grads), paramGrads, 'backward twice: the same gradients');

  const base = reluPattern(net.layout, net.params, x, rows);
  assert.ok(base.nearest > KINK_MARGIN, `the unperturbed point is ${base.nearest} from a ReLU kink`);

  /**
   * Central difference along one float32 value of `values` (params or x): exact for a
   * piecewise-linear network when neither end crosses a kink, so the difference is rounding only.
   * undefined where a perturbation changes the ReLU pattern or comes within KINK_MARGIN of it.
   */
  const centralDifference = (values: Float32Array, i: number): number | undefined => {
    const v = values[i]!;
    const ends: number[] = [];
    const losses: number[] = [];
    for (const sign of [1, -1]) {
      // the float32 value actually stored: the step is measured from it
      const end = Math.fround(v + sign * H);
      values[i] = end;
      const p = reluPattern(net.layout, net.params, x, rows);
      const ok = p.signs === base.signs && p.nearest > KINK_MARGIN;
      ends.push(end);
      losses.push(loss(x));
      values[i] = v;
      if (!ok) return undefined;
    }
    return (losses[0]! - losses[1]!) / (ends[0]! - ends[1]!);
  };

  for (const [what, values, analytic] of [
    ['parameter', net.params, paramGrads],
    ['input', x, inputGrads],
  ] as const) {
    let checked = 0;
    let worst = 0;
    for (let i = 0; i < values.length; i++) {
      const fd = centralDifference(values, i);
      if (fd === undefined) continue;
      checked++;
      const g = analytic[i]!;
      worst = Math.max(worst, Math.abs(fd - g) / (1e-3 + Math.abs(g)));
      assert.ok(close(fd, g, 1e-3, 2e-4), `${what} ${i}: finite difference ${fd}, backward ${g}`);
    }
    // the skipped entries (a perturbation crossing a kink) are few, and said
    t.diagnostic(`${what}s: ${checked} of ${values.length} checked, worst relative error ${worst.toExponential(2)}`);
    assert.ok(checked >= 0.8 * values.length, `${what}s: only ${checked} of ${values.length} clear of ReLU kinks`);
  }
});

// ---------------------------------------------------------------------------------------------
// (b) a whole native update against TF.js's autodiff

const TWIN_CONFIG: SacConfig = {
  obsSize: 3,
  actionLow: [-2, 0],
  actionHigh: [2, 1],
  hidden: [32, 32],
  gamma: 0.95,
  tau: 0.05,
  learningRate: 1e-3,
  alphaLearningRate: 3e-3,
  initialAlpha: 0.5,
  seed: 11,
};

test('the native engine takes the same 20 updates as TF.js: the same figures each step, the same weights at the end', (t) => {
  const kernels = nativeOrSkip(t);
  if (!kernels) return;
  const nativeSac = new NativeSac(TWIN_CONFIG, kernels);
  const tfjsSac = new TfjsSac(TWIN_CONFIG);
  try {
    const rng = new Rng(23);
    const fields = ['criticLoss', 'actorLoss', 'alphaLoss', 'alpha', 'entropy', 'q'] as const;
    let worstField = 0;
    for (let step = 0; step < 20; step++) {
      const batch = randomBatch(rng, TWIN_CONFIG, 32);
      const a: SacUpdate = nativeSac.update(batch);
      const b: SacUpdate = tfjsSac.update(batch);
      for (const k of fields) {
        worstField = Math.max(worstField, Math.abs(a[k] - b[k]) / Math.max(1e-6, Math.abs(b[k])));
        assert.ok(close(a[k], b[k], 1e-4, 1e-6), `step ${step} ${k}: native ${a[k]}, TF.js ${b[k]}`);
      }
    }
    const nativeWeights = byName(nativeSac.snapshot());
    const tfjsWeights = tfjsSac.snapshot();
    let worstWeight = 0;
    // every network (actor, critics, targets), log α and the update count TF.js snapshots
    for (const w of tfjsWeights) {
      const n = nativeWeights.get(w.name);
      assert.ok(n, `native snapshot has ${w.name}`);
      assert.deepEqual(n.shape, w.shape, w.name);
      for (let i = 0; i < w.values.length; i++) {
        const d = Math.abs(n.values[i]! - w.values[i]!);
        worstWeight = Math.max(worstWeight, d);
        assert.ok(d <= 1e-5, `${w.name}[${i}]: native ${n.values[i]}, TF.js ${w.values[i]}`);
      }
    }
    assert.equal(tfjsWeights.length, 5 * 2 * 3 + 2);
    t.diagnostic(
      `worst relative difference of an update's figures ${worstField.toExponential(2)}, of a weight after 20 updates ${worstWeight.toExponential(2)}`,
    );
    // and they act alike
    const obs = [0.3, -0.7, 1.1];
    const outNative = new Float64Array(2);
    const outTfjs = new Float64Array(2);
    nativeSac.act(obs, true, outNative);
    tfjsSac.act(obs, true, outTfjs);
    for (let i = 0; i < 2; i++) assert.ok(close(outNative[i]!, outTfjs[i]!, 0, 1e-5), `action ${i}`);
  } finally {
    nativeSac.dispose();
    tfjsSac.dispose();
  }
});

for (const engine of ['native', 'tfjs'] as const) {
  test(`${engine}: a floor under α holds where the learned temperature would fall through it`, (t) => {
    if (engine === 'native' && !nativeOrSkip(t)) return;
    // a target entropy far below the policy's drives log α down at every step
    const base: SacConfig = { ...TWIN_CONFIG, alphaLearningRate: 0.05, targetEntropy: -20 };
    const run = (config: SacConfig): number[] => {
      const { sac } = createSac(config, engine);
      try {
        const rng = new Rng(5);
        return Array.from({ length: 30 }, () => sac.update(randomBatch(rng, config, 32)).alpha);
      } finally {
        sac.dispose();
      }
    };
    const free = run(base);
    const floored = run({ ...base, minAlpha: 0.5 });
    assert.ok(free[free.length - 1]! < 0.4, `without a floor α falls to ${free[free.length - 1]}`);
    for (const [i, alpha] of floored.entries()) assert.ok(alpha >= 0.5 * (1 - 1e-6), `update ${i}: α ${alpha}`);
    assert.ok(
      close(floored[floored.length - 1]!, 0.5, 1e-6, 0),
      `α rests on the floor: ${floored[floored.length - 1]}`,
    );
    assert.throws(() => createSac({ ...base, minAlpha: 2 }, engine), /minAlpha 2 must lie in \[0, initialAlpha\]/);
  });
}

// ---------------------------------------------------------------------------------------------
// (c) the entropy estimate

/** E[log(1 − tanh²u)] for u ~ N(μ, σ²), by the trapezoid rule over μ ± 12σ */
function expectedSquashCorrection(mu: number, sigma: number): number {
  const N = 4000;
  const lo = mu - 12 * sigma;
  const du = (24 * sigma) / N;
  let s = 0;
  for (let k = 0; k <= N; k++) {
    const u = lo + k * du;
    const density = Math.exp(-0.5 * ((u - mu) / sigma) ** 2) / (sigma * Math.sqrt(2 * Math.PI));
    // log(1 − tanh²u) = 2 (log 2 − u − softplus(−2u)), stable for large |u|
    const softplus = -2 * u > 0 ? -2 * u + Math.log1p(Math.exp(2 * u)) : Math.log1p(Math.exp(-2 * u));
    s += (k === 0 || k === N ? 0.5 : 1) * density * 2 * (Math.LN2 - u - softplus);
  }
  return s * du;
}

for (const engine of ['native', 'tfjs'] as const) {
  test(`${engine}: an update's entropy is the squashed Gaussian's (in [−1, 1]ᴬ) within Monte Carlo error`, (t) => {
    if (engine === 'native' && !nativeOrSkip(t)) return;
    const config: SacConfig = { ...TWIN_CONFIG, hidden: [8], seed: 5 };
    const { sac } = createSac(config, engine);
    try {
      const rng = new Rng(31);
      // move the actor off its initial weights first, so that μ and σ vary over observations
      for (let i = 0; i < 5; i++) sac.update(randomBatch(rng, config, 64));
      const B = 4096;
      const batch = randomBatch(rng, config, B);
      // the entropy is estimated with the actor before this update's step
      const layout = mlpLayout([config.obsSize, ...config.hidden!, 4]);
      const heads = mlpForwardJs(layout, paramsFromNamed('actor', layout, byName(sac.actorWeights())), batch.obs, B);
      let exact = 0;
      for (let r = 0; r < B; r++)
        for (let i = 0; i < 2; i++) {
          const logStd = Math.min(LOG_STD_MAX, Math.max(LOG_STD_MIN, heads[r * 4 + 2 + i]!));
          const gaussian = logStd + 0.5 * Math.log(2 * Math.PI * Math.E);
          exact += (gaussian + expectedSquashCorrection(heads[r * 4 + i]!, Math.exp(logStd))) / B;
        }
      const { entropy } = sac.update(batch);
      // −log π per row has a standard deviation of about √(A/2) + the squash's spread, < 2 nats here
      const standardError = 2 / Math.sqrt(B);
      t.diagnostic(`entropy: estimate ${entropy.toFixed(4)}, quadrature ${exact.toFixed(4)} nats`);
      assert.ok(Math.abs(entropy - exact) < 4 * standardError, `estimate ${entropy}, quadrature ${exact}`);
    } finally {
      sac.dispose();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// (d) snapshot and restore

test('native snapshot → restore: the same actor and actions, and the same next update once the noise stream is aligned', (t) => {
  const kernels = nativeOrSkip(t);
  if (!kernels) return;
  const config: SacConfig = { ...TWIN_CONFIG, seed: 13 };
  const B = 16;
  const original = new NativeSac(config, kernels);
  const rng = new Rng(41);
  for (let i = 0; i < 50; i++) original.update(randomBatch(rng, config, B));
  const snapshot = original.snapshot();
  const restored = new NativeSac(config, kernels);
  restored.restore(byName(snapshot));

  assert.equal(restored.updates, 50);
  assert.equal(restored.alpha, original.alpha);
  assert.deepEqual(restored.actorWeights(), original.actorWeights());
  assert.deepEqual(restored.snapshot(), snapshot);
  const a = new Float64Array(2);
  const b = new Float64Array(2);
  for (const obs of [
    [0, 0, 0],
    [0.5, -1, 2],
    [-1.5, 0.2, 0.1],
  ]) {
    original.act(obs, true, a);
    restored.act(obs, true, b);
    assert.deepEqual(b, a, `deterministic action at [${obs.join(', ')}]`);
  }

  // The noise generator is not in a snapshot: the restored learner's stream starts again at its
  // seed, while the original has drawn 2·B·A normals per update (next-state and current samples).
  // Drawing as many through one sampled actBatch (rows·A normals) aligns the two streams, so the
  // next update must match bit for bit — which it can only if the snapshot holds everything else
  // an update depends on (networks, targets, log α, Adam's moments and step counts).
  const skipped = 50 * 2 * B;
  restored.actBatch(new Float32Array(skipped * config.obsSize), skipped, false, new Float32Array(skipped * 2));
  const batch = randomBatch(rng, config, B);
  const next = original.update(batch);
  assert.deepEqual(restored.update(batch), next);
  assert.deepEqual(restored.snapshot(), original.snapshot());

  // without Adam's state the same update differs: the comparison above would have caught its loss
  const withoutAdam = new NativeSac(config, kernels);
  withoutAdam.restore(byName(snapshot.filter((w) => !w.name.startsWith('adam/'))));
  withoutAdam.actBatch(new Float32Array(skipped * config.obsSize), skipped, false, new Float32Array(skipped * 2));
  assert.notDeepEqual(withoutAdam.update(batch), next);

  // taking a snapshot before the first update changes nothing either (it must not make Adam's state
  // ahead of its first step with the wrong settings)
  const plain = new NativeSac(config, kernels);
  const snapshotted = new NativeSac(config, kernels);
  snapshotted.snapshot();
  for (let i = 0; i < 3; i++) {
    const b = randomBatch(rng, config, B);
    assert.deepEqual(snapshotted.update(b), plain.update(b), `update ${i} after an early snapshot`);
  }
});

test('restoring a checkpoint with a mis-shaped weight throws one line naming the weight', (t) => {
  const kernels = nativeOrSkip(t);
  if (!kernels) return;
  const sac = new NativeSac(TWIN_CONFIG, kernels);
  const snapshot = byName(sac.snapshot());
  const cases: [string, NamedArray][] = [
    ['q1/dense0/kernel', { name: 'q1/dense0/kernel', shape: [4, 32], values: new Float32Array(128) }],
    ['actor/dense2/bias', { name: 'actor/dense2/bias', shape: [3], values: new Float32Array(3) }],
    ['adam/q2/m', { name: 'adam/q2/m', shape: [7], values: new Float32Array(7) }],
  ];
  for (const [name, bad] of cases) {
    const weights = new Map(snapshot);
    weights.set(name, bad);
    assert.throws(
      () => new NativeSac(TWIN_CONFIG, kernels).restore(weights),
      (e: Error) => e.message.includes(`'${name}'`) && !e.message.includes('\n'),
      name,
    );
  }
  const missing = new Map(snapshot);
  missing.delete('q2_target/dense1/kernel');
  assert.throws(() => new NativeSac(TWIN_CONFIG, kernels).restore(missing), /'q2_target\/dense1\/kernel' is missing/);
});

// ---------------------------------------------------------------------------------------------
// (e) the published policy

/** a cart-pole-like encoding (x, sin θ, cos θ, ẋ, θ̇) driving two actuators with different boxes */
const POLICY_LAYOUT: PolicyLayout = {
  encoding: new StateEncoding(['slider', 'hinge'], ['hinge']),
  actuators: ['push', 'grip'],
  low: [-2, 0],
  high: [2, 1],
  periodNs: 10_000_000n,
  hidden: [16, 16],
};
const POLICY_CONFIG: SacConfig = {
  obsSize: 5,
  actionLow: POLICY_LAYOUT.low,
  actionHigh: POLICY_LAYOUT.high,
  hidden: POLICY_LAYOUT.hidden,
  learningRate: 3e-3,
  seed: 19,
};

/** the policy's actions computed here: plain-JS forward pass, then centre + half · tanh(μ + scale·σ·ε) */
function expectedActions(
  sac: SoftActorCritic,
  obs: Float32Array,
  rows: number,
  noise?: Rng,
  stdScale = 1,
): Float64Array {
  const layout = mlpLayout([5, ...POLICY_LAYOUT.hidden, 4]);
  const heads = mlpForwardJs(layout, paramsFromNamed('actor', layout, byName(sac.actorWeights())), obs, rows);
  const out = new Float64Array(rows * 2);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < 2; i++) {
      let u = heads[r * 4 + i]!;
      if (noise) {
        const logStd = Math.min(LOG_STD_MAX, Math.max(LOG_STD_MIN, heads[r * 4 + 2 + i]!));
        u += stdScale * Math.exp(logStd) * noise.normal();
      }
      const lo = POLICY_LAYOUT.low[i]!;
      const hi = POLICY_LAYOUT.high[i]!;
      out[r * 2 + i] = (lo + hi) / 2 + ((hi - lo) / 2) * Math.tanh(u);
    }
  return out;
}

function assertClose(got: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(got.length, expected.length, what);
  for (let i = 0; i < got.length; i++)
    assert.ok(Math.abs(got[i]! - expected[i]!) <= tolerance, `${what}[${i}]: ${got[i]} vs ${expected[i]}`);
}

for (const engine of ['native', 'tfjs'] as const) {
  test(`PolicyActor on a ${engine} learner's actor: the learner's mean action, the plain-JS forward pass's, samples too`, (t) => {
    if (engine === 'native' && !nativeOrSkip(t)) return;
    const { sac } = createSac(POLICY_CONFIG, engine);
    try {
      const rng = new Rng(3);
      for (let i = 0; i < 30; i++) sac.update(randomBatch(rng, POLICY_CONFIG, 32));
      const actor = new PolicyActor(policyModel(sac.actorWeights(), POLICY_LAYOUT, 1));
      const rows = 8;
      const obs = Float32Array.from({ length: rows * 5 }, () => rng.normal());
      const one = new Float32Array(2);
      const learner = new Float64Array(2);
      for (let r = 0; r < rows; r++) {
        const o = obs.subarray(r * 5, (r + 1) * 5);
        actor.act(o, 1, one);
        sac.act(o, true, learner);
        assertClose(one, learner, 1e-5, `row ${r}: PolicyActor vs sac.act`);
      }
      const batch = new Float32Array(rows * 2);
      actor.act(obs, rows, batch);
      // PolicyActor runs on the native kernels where built: the plain-JS forward pass is the reference
      assertClose(batch, expectedActions(sac, obs, rows), 1e-5, 'PolicyActor vs plain JS');
      actor.act(obs, rows, batch, new Rng(77), 0.5);
      assertClose(batch, expectedActions(sac, obs, rows, new Rng(77), 0.5), 1e-5, 'sampled, σ × 0.5');
    } finally {
      sac.dispose();
    }
  });
}

test('a policy saved and loaded acts the same; corrupted models are refused in one line', async () => {
  const { sac } = createSac(POLICY_CONFIG, 'auto');
  const dir = await mkdtemp(join(tmpdir(), 'dynastack-sac-policy-'));
  try {
    const rng = new Rng(8);
    for (let i = 0; i < 10; i++) sac.update(randomBatch(rng, POLICY_CONFIG, 32));
    const model = policyModel(sac.actorWeights(), POLICY_LAYOUT, 7, { updates: sac.updates });
    await savePolicyModel(join(dir, 'policy'), model);
    const loaded = await loadPolicyModel(join(dir, 'policy'));
    assert.equal(loaded.version, 7);
    assert.deepEqual(loaded.data, model.data);
    const before = new PolicyActor(model);
    const after = new PolicyActor(loaded);
    assert.equal(after.layout.periodNs, POLICY_LAYOUT.periodNs);
    assert.deepEqual(after.layout.actuators, POLICY_LAYOUT.actuators);
    assert.deepEqual(after.layout.encoding.names, POLICY_LAYOUT.encoding.names);
    const rows = 6;
    const obs = Float32Array.from({ length: rows * 5 }, () => rng.normal());
    const a = new Float32Array(rows * 2);
    const b = new Float32Array(rows * 2);
    before.act(obs, rows, a);
    after.act(obs, rows, b);
    assert.deepEqual(b, a);

    const meta = JSON.parse(model.metadataJson) as { policy: Record<string, unknown> };
    const nanData = model.data.slice();
    new DataView(nanData.buffer).setFloat32(8, NaN, true);
    const withoutActuators = { ...meta, policy: { ...meta.policy, actuators: undefined } };
    const corrupted: [string, PolicyModel, RegExp][] = [
      ['wrong kind', { ...model, kind: 'dynamics_ensemble' }, /kind dynamics_ensemble/],
      ['a NaN weight', { ...model, data: nanData }, /non-finite weights/],
      ['no actuators', { ...model, metadataJson: JSON.stringify(withoutActuators) }, /no actuator names/],
      ['truncated data', { ...model, data: model.data.slice(0, model.data.length - 4) }, /runs past the end/],
      ['metadata not JSON', { ...model, metadataJson: '{"weightSpecs": [' }, /metadata is not JSON/],
    ];
    for (const [what, bad, message] of corrupted)
      assert.throws(
        () => new PolicyActor(bad),
        (e: Error) => message.test(e.message) && !e.message.includes('\n'),
        what,
      );
    await assert.rejects(loadPolicyModel(join(dir, 'nothing-here')), (e: Error) => !e.message.includes('\n'));
  } finally {
    sac.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// (f) no tensor leak

// TF.js spends ~5 ms dispatching an update however small the net (several times that beside CPU
// burners), so the suite runs 600 updates: a tensor kept per update, or per act, would show as
// hundreds. The 10,000-update run is the sac benchmark's (bench/sac.bench.ts), which fails on a leak.
test('TF.js: 600 updates and acts leave no tensor behind', (t) => {
  const config: SacConfig = { obsSize: 3, actionLow: [-2, 0], actionHigh: [2, 1], hidden: [4], seed: 2 };
  const sac = new TfjsSac(config);
  try {
    const rng = new Rng(6);
    // the optimisers create their moment variables on the first steps
    for (let i = 0; i < 3; i++) sac.update(randomBatch(rng, config, 4));
    const before = tf.memory().numTensors;
    const out = new Float64Array(2);
    for (let i = 0; i < 600; i++) {
      sac.update(randomBatch(rng, config, 4));
      sac.act([0.1, 0.2, 0.3], i % 2 === 0, out);
    }
    t.diagnostic(`tensors: ${before} before, ${tf.memory().numTensors} after`);
    assert.equal(tf.memory().numTensors, before);
  } finally {
    sac.dispose();
  }
});

// ---------------------------------------------------------------------------------------------
// (g) learning a problem with a known optimum

/**
 * A 1-D point mass: x ∈ [−1, 1] at the start, a ∈ [−1, 1], x' = x + 0.1 a, reward −|x'|, 20 steps,
 * never terminated (the time limit cuts it: done = 0). Every policy has |x_t| ≥ max(0, |x₀| − 0.1 t),
 * and moving toward 0 at full speed then stopping there attains that bound at every step at once,
 * so it is optimal for any discount: the optimal return from x₀ is −Σₜ max(0, |x₀| − 0.1 t).
 */
const EPISODE = 20;
const pointMassStep = (x: number, a: number): number => x + 0.1 * Math.max(-1, Math.min(1, a));
const optimalReturn = (x0: number): number => {
  let total = 0;
  for (let t = 1; t <= EPISODE; t++) total -= Math.max(0, Math.abs(x0) - 0.1 * t);
  return total;
};
function episodeReturn(x0: number, policy: (x: number) => number): number {
  let x = x0;
  let total = 0;
  for (let t = 0; t < EPISODE; t++) {
    x = pointMassStep(x, policy(x));
    total -= Math.abs(x);
  }
  return total;
}

test('SAC on a 1-D point mass: the mean action is near-optimal and α brings the entropy to its target', (t) => {
  const STEPS = 6000;
  const RANDOM_STEPS = 500;
  const B = 128;
  const { sac, why } = createSac(
    {
      obsSize: 1,
      actionLow: [-1],
      actionHigh: [1],
      hidden: [64, 64],
      gamma: 0.9,
      learningRate: 1e-3,
      alphaLearningRate: 1e-3,
      seed: 1,
    },
    'auto',
  );
  try {
    const rng = new Rng(101);
    const obs = new Float32Array(STEPS);
    const actions = new Float32Array(STEPS);
    const rewards = new Float32Array(STEPS);
    const next = new Float32Array(STEPS);
    const a = new Float32Array(1);
    const entropies: number[] = [];
    let last: SacUpdate | undefined;
    let x = 2 * rng.uniform() - 1;
    let stepInEpisode = 0;
    for (let step = 0; step < STEPS; step++) {
      if (step < RANDOM_STEPS) a[0] = 2 * rng.uniform() - 1;
      else sac.act([x], false, a);
      const x2 = pointMassStep(x, a[0]!);
      obs[step] = x;
      actions[step] = a[0]!;
      rewards[step] = -Math.abs(x2);
      next[step] = x2;
      x = x2;
      if (++stepInEpisode === EPISODE) {
        x = 2 * rng.uniform() - 1;
        stepInEpisode = 0;
      }
      if (step + 1 < B) continue;
      const rows = Array.from({ length: B }, () => Math.floor(rng.uniform() * (step + 1)));
      last = sac.update({
        size: B,
        obs: Float32Array.from(rows, (i) => obs[i]!),
        actions: Float32Array.from(rows, (i) => actions[i]!),
        rewards: Float32Array.from(rows, (i) => rewards[i]!),
        nextObs: Float32Array.from(rows, (i) => next[i]!),
        dones: new Float32Array(B),
      });
      entropies.push(last.entropy);
    }
    const starts = Array.from({ length: 21 }, (_, i) => -1 + i / 10);
    const mean = (f: (x0: number) => number): number => starts.reduce((s, x0) => s + f(x0), 0) / starts.length;
    const optimum = mean(optimalReturn);
    const noise = new Rng(9);
    const random = mean((x0) => {
      let s = 0;
      for (let k = 0; k < 20; k++) s += episodeReturn(x0, () => 2 * noise.uniform() - 1) / 20;
      return s;
    });
    const learned = mean((x0) =>
      episodeReturn(x0, (s) => {
        sac.act([s], true, a);
        return a[0]!;
      }),
    );
    const entropy = entropies.slice(-200).reduce((s, e) => s + e, 0) / 200;
    const target = sac.config.targetEntropy;
    t.diagnostic(
      `${why}: return ${learned.toFixed(3)} (optimum ${optimum.toFixed(3)}, random ${random.toFixed(3)}), ` +
        `entropy ${entropy.toFixed(3)} nats (target ${target}), α ${last!.alpha.toFixed(4)}`,
    );
    assert.ok(
      learned >= optimum - 0.05 * Math.abs(random - optimum),
      `return ${learned}: optimum ${optimum}, random ${random}`,
    );
    assert.ok(Math.abs(entropy - target) < 0.5, `entropy ${entropy} nats, target ${target}`);
    assert.ok(last!.alpha < 0.1, `α fell from 1 to ${last!.alpha}`);
  } finally {
    sac.dispose();
  }
});
