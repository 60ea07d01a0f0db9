import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { initTensorBackend } from '../../src/tensor/backend.js';
import { nativeKernels, type NativeKernels } from '../../src/tensor/native_kernels.js';
import type { NamedArray } from '../../src/tensor/weights.js';
import { ProbabilisticEnsemble } from '../../src/dynamics/ensemble.js';
import { biasName, kernelName, layerWidths, type EngineSpec } from '../../src/dynamics/ensemble_engine.js';
import { LOGVAR_BOUND_PENALTY, defaultWeightDecay, softplus } from '../../src/dynamics/loss.js';
import { NativeEngine } from '../../src/dynamics/native_engine.js';
import { TfjsEngine } from '../../src/dynamics/tfjs_engine.js';
import { Rng } from '../../src/util/random.js';
import { linearData } from './helpers.js';

// The native engine against the TF.js engine (same weights, same batch), against finite
// differences of an independent float64 objective, and learning on its own. Without the addon
// every test is skipped with the loader's reason.

await initTensorBackend();
const native = nativeKernels();
const kernels = native.kernels;

/** the addon, or undefined after marking the test skipped with the loader's reason */
function nativeOrSkip(t: TestContext): NativeKernels | undefined {
  if (!kernels) t.skip(native.why);
  return kernels;
}

function spec(over: Partial<EngineSpec> & { hidden: number[] }): EngineSpec {
  const s = { stateSize: 3, actionSize: 2, members: 3, probabilistic: true, learningRate: 1e-3, ...over };
  return { ...s, weightDecay: over.weightDecay ?? defaultWeightDecay(s.hidden.length + 1) };
}

/** random weights large enough that every layer matters; bounds away from their initial values */
function randomWeights(s: EngineSpec, seed: number): Map<string, NamedArray> {
  const rng = new Rng(seed);
  const widths = layerWidths(s);
  const arrays: NamedArray[] = [];
  for (let m = 0; m < s.members; m++) {
    for (let l = 0; l + 1 < widths.length; l++) {
      const [fanIn, fanOut] = [widths[l]!, widths[l + 1]!];
      arrays.push({
        name: kernelName(m, l),
        shape: [fanIn, fanOut],
        values: Float32Array.from({ length: fanIn * fanOut }, () => (1.5 * rng.normal()) / Math.sqrt(fanIn)),
      });
      arrays.push({
        name: biasName(m, l),
        shape: [fanOut],
        values: Float32Array.from({ length: fanOut }, () => 0.3 * rng.normal()),
      });
    }
  }
  if (s.probabilistic) {
    arrays.push({
      name: 'max_logvar',
      shape: [s.stateSize],
      values: Float32Array.from({ length: s.stateSize }, () => 0.5 + 0.3 * rng.normal()),
    });
    arrays.push({
      name: 'min_logvar',
      shape: [s.stateSize],
      values: Float32Array.from({ length: s.stateSize }, () => -3 + 0.3 * rng.normal()),
    });
  }
  return new Map(arrays.map((a) => [a.name, a]));
}

function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

/** max |a − b| relative to max |b| */
function relativeError(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / Math.max(scale, 1e-30);
}

const engines = (k: NativeKernels, s: EngineSpec, weights: Map<string, NamedArray>): [NativeEngine, TfjsEngine] => [
  new NativeEngine(s, weights, k, 1),
  new TfjsEngine(s, weights),
];

test('native forward equals the TF.js forward, on every instruction set this CPU has, grouped and shared, wide and narrow', (t) => {
  const k = nativeOrSkip(t);
  if (!k) return;
  const best = k.info().active;
  try {
    for (const s of [
      spec({ hidden: [200, 200, 200, 200], members: 4 }),
      spec({ hidden: [37, 5], probabilistic: false, stateSize: 4, actionSize: 1 }),
    ]) {
      const width = s.stateSize + s.actionSize;
      const weights = randomWeights(s, 1);
      const [fast, reference] = engines(k, s, weights);
      // uneven groups: an empty member, a single row, rows that are not a multiple of any tile
      const counts = [13, 0, 1, 250].slice(0, s.members);
      const offsets = Int32Array.from([0, ...counts.map((_, m) => counts.slice(0, m + 1).reduce((a, b) => a + b, 0))]);
      const inputs = randomArray(Math.max(offsets[s.members]!, 61) * width, 2);
      const expectedGrouped = reference.forwardGrouped(inputs, offsets).slice();
      const expectedShared = reference.forwardShared(inputs, 61).slice();
      for (const isa of k.info().available) {
        k.useKernels(isa);
        const grouped = relativeError(fast.forwardGrouped(inputs, offsets), expectedGrouped);
        assert.ok(
          grouped < 1e-5,
          `${isa}, hidden [${s.hidden.join(',')}]: grouped forward differs by ${grouped} (relative)`,
        );
        const shared = relativeError(fast.forwardShared(inputs, 61), expectedShared);
        assert.ok(
          shared < 1e-5,
          `${isa}, hidden [${s.hidden.join(',')}]: shared forward differs by ${shared} (relative)`,
        );
      }
      fast.dispose();
      reference.dispose();
    }
  } finally {
    k.useKernels(best);
  }
});

test('two threads give the same bits as one, forward and training', (t) => {
  const k = nativeOrSkip(t);
  if (!k) return;
  const s = spec({ hidden: [64, 64], members: 5 });
  const weights = randomWeights(s, 3);
  const [one, two] = [new NativeEngine(s, weights, k, 1), new NativeEngine(s, weights, k, 2)];
  const width = s.stateSize + s.actionSize;
  const offsets = Int32Array.from([0, 400, 800, 1200, 1600, 2000]);
  const inputs = randomArray(2000 * width, 4);
  assert.deepEqual(two.forwardGrouped(inputs, offsets), one.forwardGrouped(inputs, offsets));
  const x = randomArray(s.members * 100 * width, 5);
  const y = randomArray(s.members * 100 * s.stateSize, 6, 0.5);
  for (let step = 0; step < 3; step++) assert.equal(two.trainStep(x, y, 100), one.trainStep(x, y, 100));
  assert.deepEqual(two.weights(), one.weights());
});

test('training steps match TF.js: losses, gradients and the weights after three Adam steps', (t) => {
  const k = nativeOrSkip(t);
  if (!k) return;
  for (const probabilistic of [true, false]) {
    const s = spec({ hidden: [48, 40], probabilistic, learningRate: 3e-3 });
    const weights = randomWeights(s, 7);
    const [fast, reference] = engines(k, s, weights);
    const rows = 33;
    const width = s.stateSize + s.actionSize;
    const x = randomArray(s.members * rows * width, 8);
    const y = randomArray(s.members * rows * s.stateSize, 9, 0.7);

    const g = fast.lossAndGradients(x, y, rows);
    const gRef = reference.lossAndGradients(x, y, rows);
    assert.ok(
      Math.abs(g.totalLoss - gRef.totalLoss) < 1e-5 * Math.abs(gRef.totalLoss),
      `objective ${g.totalLoss} vs ${gRef.totalLoss}`,
    );
    assert.ok(
      Math.abs(g.dataLoss - gRef.dataLoss) < 1e-5 * Math.abs(gRef.dataLoss),
      `data loss ${g.dataLoss} vs ${gRef.dataLoss}`,
    );
    assert.deepEqual(
      g.gradients.map((a) => a.name),
      gRef.gradients.map((a) => a.name),
    );
    g.gradients.forEach((a, i) => {
      const err = relativeError(a.values, gRef.gradients[i]!.values);
      assert.ok(err < 1e-5, `probabilistic=${probabilistic}: gradient of ${a.name} differs by ${err} (relative)`);
    });

    for (let step = 0; step < 3; step++) {
      const loss = fast.trainStep(x, y, rows);
      const lossRef = reference.trainStep(x, y, rows);
      assert.ok(Math.abs(loss - lossRef) < 1e-5 * Math.abs(lossRef), `step ${step}: data loss ${loss} vs ${lossRef}`);
    }
    // Adam's first steps move every weight by ≈ lr·sign(g): the weights agree to a small part of a step
    const after = fast.weights();
    const afterRef = reference.weights();
    after.forEach((a, i) => {
      const b = afterRef[i]!;
      assert.equal(a.name, b.name);
      let worst = 0;
      for (let j = 0; j < a.values.length; j++) worst = Math.max(worst, Math.abs(a.values[j]! - b.values[j]!));
      assert.ok(
        worst < 2e-3 * s.learningRate,
        `probabilistic=${probabilistic}: ${a.name} differs by ${worst} after 3 steps (lr ${s.learningRate})`,
      );
      const moved = a.values.some((v, j) => Math.abs(v - weights.get(a.name)!.values[j]!) > 0.5 * s.learningRate);
      assert.ok(moved, `${a.name} did not move`);
    });
    fast.dispose();
    reference.dispose();
  }
});

/** the objective in float64, written out independently of both engines: the check's reference */
function objective64(
  s: EngineSpec,
  w: Map<string, Float64Array>,
  x: Float32Array,
  y: Float32Array,
  rows: number,
): number {
  const widths = layerWidths(s);
  const nx = s.stateSize;
  let total = 0;
  for (let m = 0; m < s.members; m++) {
    let lossSum = 0;
    for (let r = 0; r < rows; r++) {
      let h = Array.from(x.subarray((m * rows + r) * widths[0]!, (m * rows + r + 1) * widths[0]!));
      for (let l = 0; l + 1 < widths.length; l++) {
        const k = w.get(kernelName(m, l))!;
        const b = w.get(biasName(m, l))!;
        const out = widths[l + 1]!;
        const z = Array.from({ length: out }, (_, j) => h.reduce((acc, v, i) => acc + v * k[i * out + j]!, b[j]!));
        h = l + 2 < widths.length ? z.map((v) => v / (1 + Math.exp(-v))) : z;
      }
      for (let j = 0; j < nx; j++) {
        const err = h[j]! - y[(m * rows + r) * nx + j]!;
        if (!s.probabilistic) {
          lossSum += err * err;
          continue;
        }
        const [max, min] = [w.get('max_logvar')![j]!, w.get('min_logvar')![j]!];
        const logvar = min + softplus(max - softplus(max - h[nx + j]!) - min);
        lossSum += err * err * Math.exp(-logvar) + logvar;
      }
    }
    total += lossSum / (rows * nx);
    widths
      .slice(1)
      .forEach(
        (_, l) => (total += 0.5 * s.weightDecay[l]! * w.get(kernelName(m, l))!.reduce((acc, v) => acc + v * v, 0)),
      );
  }
  if (s.probabilistic)
    total +=
      LOGVAR_BOUND_PENALTY *
      (w.get('max_logvar')!.reduce((a, v) => a + v, 0) - w.get('min_logvar')!.reduce((a, v) => a + v, 0));
  return total;
}

test('native gradients match central finite differences of a float64 objective', (t) => {
  const k = nativeOrSkip(t);
  if (!k) return;
  for (const probabilistic of [true, false]) {
    // large decays, so that their share of the gradient is checked too
    const s = spec({
      hidden: [6, 5],
      members: 2,
      stateSize: 2,
      actionSize: 1,
      probabilistic,
      weightDecay: [0.05, 0.1, 0.2],
    });
    const weights = randomWeights(s, 11);
    const rows = 7;
    const x = randomArray(s.members * rows * 3, 12);
    const y = randomArray(s.members * rows * 2, 13);
    const engine = new NativeEngine(s, weights, k, 1);
    const { totalLoss, gradients } = engine.lossAndGradients(x, y, rows);
    const w64 = new Map([...weights].map(([name, a]) => [name, Float64Array.from(a.values)]));
    assert.ok(
      Math.abs(totalLoss - objective64(s, w64, x, y, rows)) < 1e-5 * Math.abs(totalLoss),
      'the objective itself',
    );
    const h = 1e-4;
    let checked = 0;
    for (const g of gradients) {
      const values = w64.get(g.name)!;
      // every value of small arrays, a spread of the larger ones
      const step = Math.max(1, Math.floor(values.length / 7));
      for (let i = 0; i < values.length; i += step) {
        const v = values[i]!;
        values[i] = v + h;
        const up = objective64(s, w64, x, y, rows);
        values[i] = v - h;
        const down = objective64(s, w64, x, y, rows);
        values[i] = v;
        const fd = (up - down) / (2 * h);
        assert.ok(
          Math.abs(g.values[i]! - fd) < 1e-3 * Math.abs(fd) + 2e-5,
          `probabilistic=${probabilistic}: d/d ${g.name}[${i}]: native ${g.values[i]}, finite difference ${fd}`,
        );
        checked++;
      }
    }
    assert.ok(checked > 40, `${checked} values checked`);
    engine.dispose();
  }
});

test('the native engine learns a 2-D linear system, as the TF.js engine does', (t) => {
  const k = nativeOrSkip(t);
  if (!k) return;
  const A = [
    [1, 0.1],
    [-0.05, 0.98],
  ];
  const B = [[0], [0.1]];
  const data = linearData(300, A, B, 0.002, 1);
  const test = linearData(100, A, B, 0, 2);
  for (const engine of ['native', 'tfjs'] as const) {
    const model = ProbabilisticEnsemble.create(
      { stateSize: 2, actionSize: 1, members: 3, elites: 2, hidden: [32, 32], seed: 3 },
      { engine },
    );
    assert.equal(model.engine, engine);
    const report = model.train(data, { epochs: 60, batchSize: 32, patience: 60 });
    assert.ok(
      report.valMsePerDim.every((v) => v < 1e-3),
      `${engine}: validation MSE ${report.valMsePerDim.join(',')}`,
    );
    const members = Int32Array.from({ length: 100 }, (_, i) => model.elites[i % 2]!);
    const predicted = model.predictNext(test.states, test.actions, 100, members, false);
    let worst = 0;
    predicted.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - test.nextStates[i]!))));
    assert.ok(worst < 0.02, `${engine}: max error ${worst}`);
    model.dispose();
  }
});

test('a model trained natively loads into TF.js (and back) with the same predictions', (t) => {
  const k = nativeOrSkip(t);
  if (!k) return;
  const model = ProbabilisticEnsemble.create(
    { stateSize: 2, actionSize: 1, members: 3, elites: 2, hidden: [16, 16], seed: 5 },
    { engine: 'native' },
  );
  model.train(
    linearData(
      120,
      [
        [1, 0.1],
        [0, 1],
      ],
      [[0], [0.1]],
      0.01,
      4,
    ),
    { epochs: 3, batchSize: 32 },
  );
  const blob = model.serialize();
  const asTfjs = ProbabilisticEnsemble.deserialize(blob.metadata, blob.data, { engine: 'tfjs' });
  const again = asTfjs.serialize();
  assert.deepEqual(again.data, blob.data, 'the same bytes whichever engine holds the weights');
  const back = ProbabilisticEnsemble.deserialize(again.metadata, again.data, { engine: 'native' });
  const data = linearData(
    9,
    [
      [1, 0],
      [0, 1],
    ],
    [[0], [0]],
    0,
    6,
  );
  const members = Int32Array.from({ length: 9 }, (_, i) => i % 3);
  const a = model.predictNext(data.states, data.actions, 9, members, false);
  assert.ok(relativeError(asTfjs.predictNext(data.states, data.actions, 9, members, false), a) < 1e-5);
  assert.deepEqual(back.predictNext(data.states, data.actions, 9, members, false), a);
  for (const m of [model, asTfjs, back]) m.dispose();
});

test('bad arrays reach the addon as clear errors, not as memory errors', (t) => {
  const k = nativeOrSkip(t);
  if (!k) return;
  const widths = Int32Array.of(3, 4, 2);
  const params = new Float32Array(2 * (3 * 4 + 4 + 4 * 2 + 2));
  assert.throws(
    () => k.forward(widths, params, 2, new Float32Array(5), Int32Array.of(0, 1, 2), 0, new Float32Array(4), 1),
    /input has 5 values, needs at least 6/,
  );
  assert.throws(
    () =>
      k.forward(widths, params.subarray(1), 2, new Float32Array(6), Int32Array.of(0, 1, 2), 0, new Float32Array(4), 1),
    /params has 51 values, needs at least 52/,
  );
  assert.throws(
    () => k.forward(widths, params, 2, new Float32Array(6), Int32Array.of(0, 2, 1), 0, new Float32Array(4), 1),
    /offsets must not decrease/,
  );
  assert.throws(
    () => k.forward(Int32Array.of(3, 0, 2), params, 2, new Float32Array(6), null, 2, new Float32Array(8), 1),
    /width 0 at position 1/,
  );
  assert.throws(
    () =>
      k.forward(
        widths,
        Array.from(params) as unknown as Float32Array,
        2,
        new Float32Array(6),
        null,
        2,
        new Float32Array(8),
        1,
      ),
    /params must be a Float32Array/,
  );
  assert.throws(() => k.useKernels('sse9'), /'sse9' is unknown/);
});
