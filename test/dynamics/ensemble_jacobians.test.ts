import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initTensorBackend } from '../../src/tensor/backend.js';
import { nativeKernels } from '../../src/tensor/native_kernels.js';
import { packFloat32, unpackFloat32, type NamedArray } from '../../src/tensor/weights.js';
import { ProbabilisticEnsemble, type MeanJacobians } from '../../src/dynamics/ensemble.js';
import type { EnsembleEngineName } from '../../src/dynamics/ensemble_engine.js';
import { finiteDifferenceJacobians } from '../../src/dynamics/ensemble_jacobian_fd.js';
import { Rng } from '../../src/util/random.js';

// The ensemble's analytic Jacobians (meanJacobians: forward mode through the MLP in each engine)
// against a float64 reference MLP written here from the saved weights (its Jacobians by central
// differences in double precision, an independent method), against finite differences through the
// same engine (ensemble_jacobian_fd.ts), and the two engines against each other; on cart-pole- and
// arm-sized ensembles, probabilistic and deterministic, with normalisers far from the identity.
// Native cases are skipped with the loader's reason when the addon is not built.

await initTensorBackend();
const native = nativeKernels();
const ENGINES: readonly EnsembleEngineName[] = ['native', 'tfjs'];

function engineOrSkip(t: TestContext, engine: EnsembleEngineName): boolean {
  if (engine === 'native' && !native.kernels) {
    t.skip(native.why);
    return false;
  }
  return true;
}

interface Size {
  readonly label: string;
  readonly nx: number;
  readonly nu: number;
  readonly hidden: number[];
}
/** cart-pole with the angle as sin/cos (x, sin θ, cos θ, ẋ, θ̇) and a 6-joint arm */
const CART_POLE: Size = { label: 'cart-pole 5+1', nx: 5, nu: 1, hidden: [200, 200, 200] };
const ARM: Size = { label: 'arm 12+6', nx: 12, nu: 6, hidden: [200, 200, 200] };
const MEMBERS = 7;
const ELITES = [0, 2, 3, 5, 6];

type Blob = { metadata: Record<string, unknown>; data: Uint8Array };

/**
 * A saved ensemble with random weights large enough that every layer bends the function, and
 * normalisers far from the identity (input std 0.2…3, offset means; output likewise).
 */
function randomBlob(size: Size, probabilistic: boolean, seed: number): Blob {
  const model = ProbabilisticEnsemble.create(
    { stateSize: size.nx, actionSize: size.nu, hidden: size.hidden, members: MEMBERS, probabilistic, seed },
    { engine: 'tfjs' },
  );
  const blob = model.serialize();
  model.dispose();
  const rng = new Rng(seed + 1);
  const specs = blob.metadata['weightSpecs'] as tf.io.WeightsManifestEntry[];
  const arrays: NamedArray[] = [...unpackFloat32(specs, blob.data).values()].map((a) => {
    const fanIn = a.shape[0]!;
    const values = a.name.endsWith('/kernel')
      ? Float32Array.from(a.values, () => (1.5 * rng.normal()) / Math.sqrt(fanIn))
      : a.name.endsWith('/bias')
        ? Float32Array.from(a.values, () => 0.3 * rng.normal())
        : a.name.endsWith('_mean')
          ? Float32Array.from(a.values, () => 2 * rng.normal())
          : a.name.endsWith('_std')
            ? Float32Array.from(a.values, () => 0.2 + 2.8 * rng.uniform())
            : a.values;
    return { ...a, values };
  });
  const packed = packFloat32(arrays);
  return { metadata: { ...blob.metadata, weightSpecs: packed.specs }, data: packed.data };
}

function load(blob: Blob, engine: EnsembleEngineName, threads = 1): ProbabilisticEnsemble {
  return ProbabilisticEnsemble.deserialize(blob.metadata, blob.data.slice(), { engine, threads });
}

/** n rows of states and actions around the input normaliser's mean, a std or so away */
function rows(model: ProbabilisticEnsemble, n: number, seed: number): { states: Float64Array; actions: Float64Array } {
  const { stateSize: nx, actionSize: nu } = model.config;
  const { mean, std } = model.inputNormaliser;
  const rng = new Rng(seed);
  const states = Float64Array.from({ length: n * nx }, (_, i) => mean[i % nx]! + std[i % nx]! * rng.normal());
  const actions = Float64Array.from(
    { length: n * nu },
    (_, i) => mean[nx + (i % nu)]! + std[nx + (i % nu)]! * rng.normal(),
  );
  return { states, actions };
}

/** the same ensemble in float64, from its saved weights: next states and their Jacobians */
class ReferenceEnsemble {
  readonly #nx: number;
  readonly #nu: number;
  readonly #layers: { w: Float64Array; b: Float64Array; fanIn: number; fanOut: number }[][];
  readonly #norm: { inMean: Float64Array; inStd: Float64Array; outMean: Float64Array; outStd: Float64Array };

  constructor(blob: Blob) {
    const config = blob.metadata['config'] as { stateSize: number; actionSize: number; members: number };
    this.#nx = config.stateSize;
    this.#nu = config.actionSize;
    const weights = unpackFloat32(blob.metadata['weightSpecs'] as tf.io.WeightsManifestEntry[], blob.data);
    const get = (name: string): NamedArray => weights.get(name)!;
    this.#layers = Array.from({ length: config.members }, (_, m) => {
      const layers = [];
      for (let l = 0; weights.has(`member${m}/dense${l}/kernel`); l++) {
        const w = get(`member${m}/dense${l}/kernel`);
        layers.push({
          w: Float64Array.from(w.values),
          b: Float64Array.from(get(`member${m}/dense${l}/bias`).values),
          fanIn: w.shape[0]!,
          fanOut: w.shape[1]!,
        });
      }
      return layers;
    });
    const f64 = (name: string): Float64Array => Float64Array.from(get(name).values);
    this.#norm = {
      inMean: f64('input_mean'),
      inStd: f64('input_std'),
      outMean: f64('output_mean'),
      outStd: f64('output_std'),
    };
  }

  /** mean over members of the next state for one raw input [state, action] */
  next(input: Float64Array, members: readonly number[]): Float64Array {
    const nx = this.#nx;
    const { inMean, inStd, outMean, outStd } = this.#norm;
    const x = input.map((v, k) => (v - inMean[k]!) / inStd[k]!);
    const sum = new Float64Array(nx);
    for (const m of members) {
      let h: Float64Array = x;
      const layers = this.#layers[m]!;
      layers.forEach(({ w, b, fanIn, fanOut }, l) => {
        const z = Float64Array.from(b);
        for (let i = 0; i < fanIn; i++) for (let j = 0; j < fanOut; j++) z[j]! += h[i]! * w[i * fanOut + j]!;
        h = l + 1 < layers.length ? z.map((v) => v / (1 + Math.exp(-v))) : z;
      });
      for (let j = 0; j < nx; j++) sum[j]! += h[j]!;
    }
    return Float64Array.from(sum, (s, j) => input[j]! + (s / members.length) * outStd[j]! + outMean[j]!);
  }

  /** next and its Jacobians by central differences in float64 (h = 1e-6 of each input's std) */
  jacobians(states: Float64Array, actions: Float64Array, n: number, members: readonly number[]): MeanJacobians {
    const nx = this.#nx;
    const nu = this.#nu;
    const next = new Float64Array(n * nx);
    const dState = new Float64Array(n * nx * nx);
    const dAction = new Float64Array(n * nx * nu);
    for (let r = 0; r < n; r++) {
      const input = Float64Array.from([
        ...states.subarray(r * nx, (r + 1) * nx),
        ...actions.subarray(r * nu, (r + 1) * nu),
      ]);
      next.set(this.next(input, members), r * nx);
      for (let c = 0; c < nx + nu; c++) {
        const h = 1e-6 * this.#norm.inStd[c]!;
        const up = Float64Array.from(input);
        const down = Float64Array.from(input);
        up[c]! += h;
        down[c]! -= h;
        const fu = this.next(up, members);
        const fd = this.next(down, members);
        for (let i = 0; i < nx; i++) {
          const d = (fu[i]! - fd[i]!) / (2 * h);
          if (c < nx) dState[(r * nx + i) * nx + c] = d;
          else dAction[(r * nx + i) * nu + c - nx] = d;
        }
      }
    }
    return { next, dState, dAction };
  }
}

/** max |a − b| over max |b|, with the identity taken off dState (the part the network makes) */
function jacobianError(
  a: MeanJacobians,
  b: MeanJacobians,
  nx: number,
): { dState: number; dAction: number; next: number } {
  const rel = (x: Float64Array, y: Float64Array, offDiagonal: boolean): number => {
    assert.equal(x.length, y.length);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < x.length; i++) {
      const id = offDiagonal && Math.floor(i / nx) % nx === i % nx ? 1 : 0;
      diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
      scale = Math.max(scale, Math.abs(y[i]! - id));
    }
    return scale === 0 ? diff : diff / scale;
  };
  return {
    dState: rel(a.dState, b.dState, true),
    dAction: rel(a.dAction, b.dAction, false),
    next: rel(a.next, b.next, false),
  };
}

function assertClose(label: string, e: { dState: number; dAction: number; next: number }, tolerance: number): void {
  for (const [k, v] of Object.entries(e))
    assert.ok(v <= tolerance, `${label}: ${k} relative error ${v.toExponential(2)} > ${tolerance}`);
}

for (const size of [CART_POLE, ARM]) {
  for (const probabilistic of [true, false]) {
    const kind = probabilistic ? 'probabilistic' : 'deterministic';
    for (const engine of ENGINES) {
      test(`${engine}, ${size.label}, ${kind}: analytic Jacobians match a float64 reference and finite differences`, (t) => {
        if (!engineOrSkip(t, engine)) return;
        const blob = randomBlob(size, probabilistic, size.nx * 10 + (probabilistic ? 1 : 0));
        const model = load(blob, engine);
        try {
          const n = 6;
          const { states, actions } = rows(model, n, 7);
          const reference = new ReferenceEnsemble(blob).jacobians(states, actions, n, ELITES);
          const analytic = model.meanJacobians(states, actions, n, ELITES);
          // float32 networks against float64: rounding only
          assertClose('against the float64 reference', jacobianError(analytic, reference, size.nx), 1e-4);
          // finite differences through the same float32 engine: truncation and rounding, eps on the normalised scale
          const fd = finiteDifferenceJacobians(model, states, actions, n, ELITES, 1e-2);
          assertClose('against finite differences', jacobianError(analytic, fd, size.nx), 1e-2);
          // the normalisers were far from the identity, so the chain rule mattered
          assert.ok(model.inputNormaliser.std.some((s) => Math.abs(s - 1) > 0.5));
        } finally {
          model.dispose();
        }
      });
    }
    test(`native and tfjs give the same Jacobians, ${size.label}, ${kind}`, (t) => {
      if (!engineOrSkip(t, 'native')) return;
      const blob = randomBlob(size, probabilistic, 99);
      const [a, b] = [load(blob, 'native'), load(blob, 'tfjs')];
      try {
        const n = 40;
        const { states, actions } = rows(a, n, 8);
        const ja = a.meanJacobians(states, actions, n, ELITES);
        const jb = b.meanJacobians(states, actions, n, ELITES);
        assertClose('native against tfjs', jacobianError(ja, jb, size.nx), 1e-4);
      } finally {
        a.dispose();
        b.dispose();
      }
    });
  }
}

test('native Jacobians on every instruction set this CPU has, and on two threads, equal the float64 reference', (t) => {
  const kernels = native.kernels;
  if (!kernels) {
    t.skip(native.why);
    return;
  }
  const blob = randomBlob(CART_POLE, true, 5);
  const n = 150; // more than one chunk of rows, and split over the two threads
  const one = load(blob, 'native', 1);
  const two = load(blob, 'native', 2);
  const { states, actions } = rows(one, n, 9);
  const reference = new ReferenceEnsemble(blob).jacobians(states, actions, 12, ELITES);
  const first12 = (j: MeanJacobians): MeanJacobians => ({
    next: j.next.slice(0, 12 * 5),
    dState: j.dState.slice(0, 12 * 25),
    dAction: j.dAction.slice(0, 12 * 5),
  });
  const available = kernels.info().available;
  try {
    for (const isa of available) {
      kernels.useKernels(isa);
      const a = one.meanJacobians(states, actions, n, ELITES);
      assertClose(`${isa} against the float64 reference`, jacobianError(first12(a), reference, 5), 1e-4);
      const b = two.meanJacobians(states, actions, n, ELITES);
      assert.deepEqual(b, a, `${isa}: two threads gave other values than one`);
    }
  } finally {
    kernels.useKernels(available[0]!);
    one.dispose();
    two.dispose();
  }
});

test('after brief training (fitted normalisers), analytic Jacobians match finite differences on both engines', (t) => {
  const rng = new Rng(4);
  const n = 300;
  const nx = 5;
  const nu = 1;
  // states of very different scales and offsets, a nonlinear next state
  const scales = [5, 0.1, 1, 20, 0.5];
  const states = Float32Array.from({ length: n * nx }, (_, i) => 3 + scales[i % nx]! * rng.normal());
  const actions = Float32Array.from({ length: n * nu }, () => 10 * rng.normal());
  const nextStates = Float32Array.from(states, (x, i) => x + 0.1 * Math.sin(x) + 0.01 * actions[Math.floor(i / nx)]!);
  const data = { states, actions, nextStates, n };
  for (const engine of ENGINES) {
    if (engine === 'native' && !native.kernels) continue;
    const model = ProbabilisticEnsemble.create(
      { stateSize: nx, actionSize: nu, hidden: [64, 64], members: 3, elites: 2, seed: 1 },
      { engine },
    );
    try {
      model.train(data, { epochs: 2, maxUpdates: 4, batchSize: 64 });
      assert.ok(
        model.inputNormaliser.std.some((s) => Math.abs(s - 1) > 1),
        'normalisers stayed near the identity',
      );
      const x = Float64Array.from(states.subarray(0, 8 * nx));
      const u = Float64Array.from(actions.subarray(0, 8 * nu));
      const analytic = model.meanJacobians(x, u, 8, model.elites);
      const fd = finiteDifferenceJacobians(model, x, u, 8, model.elites, 1e-2);
      assertClose(`${engine} after training`, jacobianError(analytic, fd, nx), 1e-2);
    } finally {
      model.dispose();
    }
  }
  if (!native.kernels) t.diagnostic(`native skipped: ${native.why}`);
});

for (const engine of ENGINES) {
  test(`${engine}: meanNext is the mean of predictNext (sample off) over the members, and meanJacobians' next`, (t) => {
    if (!engineOrSkip(t, engine)) return;
    const blob = randomBlob(CART_POLE, true, 11);
    const model = load(blob, engine);
    try {
      const n = 20;
      const { states, actions } = rows(model, n, 12);
      const s32 = Float32Array.from(states);
      const a32 = Float32Array.from(actions);
      const members = [1, 4, 6];
      const expected = new Float64Array(n * 5);
      for (const m of members) {
        const next = model.predictNext(s32, a32, n, new Int32Array(n).fill(m), false);
        next.forEach((v, i) => (expected[i]! += v / members.length));
      }
      // from the float32 inputs, as predictNext saw them
      const mean = model.meanNext(s32, a32, n, members);
      const scale = Math.max(...expected.map(Math.abs));
      for (let i = 0; i < expected.length; i++)
        assert.ok(
          Math.abs(mean[i]! - expected[i]!) <= 1e-5 * scale,
          `row ${Math.floor(i / 5)}: ${mean[i]} vs ${expected[i]}`,
        );
      const jac = model.meanJacobians(s32, a32, n, members);
      for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(jac.next[i]! - mean[i]!) <= 1e-5 * scale);
      // a member listed twice counts twice; out arrays are filled and returned
      const out = { next: new Float64Array(n * 5), dState: new Float64Array(n * 25), dAction: new Float64Array(n * 5) };
      const twice = model.meanJacobians(s32, a32, n, [1, 1], out);
      assert.equal(twice, out);
      const once = model.meanJacobians(s32, a32, n, [1]);
      assertClose('[1, 1] against [1]', jacobianError(twice, once, 5), 1e-6);
      const into = new Float64Array(n * 5);
      assert.equal(model.meanNext(s32, a32, n, members, into), into);
    } finally {
      model.dispose();
    }
  });
}

test('tfjs: no tensor is left behind by 100 calls of meanJacobians and meanNext', () => {
  const model = load(randomBlob(ARM, true, 13), 'tfjs');
  try {
    const n = 10;
    const { states, actions } = rows(model, n, 14);
    model.meanJacobians(states, actions, n, ELITES);
    model.meanNext(states, actions, n, ELITES);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      model.meanJacobians(states, actions, n, ELITES);
      model.meanNext(states, actions, n, ELITES);
    }
    assert.equal(tf.memory().numTensors, before);
  } finally {
    model.dispose();
  }
});

for (const engine of ENGINES) {
  test(`${engine}: bad sizes and members are refused in one clear line`, (t) => {
    if (!engineOrSkip(t, engine)) return;
    const model = load(randomBlob(CART_POLE, false, 15), engine);
    try {
      const n = 4;
      const { states, actions } = rows(model, n, 16);
      const cases: [string, () => unknown, RegExp][] = [
        [
          'n',
          () => model.meanJacobians(states, actions, 2.5, ELITES),
          /^meanJacobians: n must be a non-negative integer, not 2.5$/,
        ],
        [
          'states',
          () => model.meanJacobians(states.subarray(1), actions, n, ELITES),
          /^meanJacobians: states has 19 values, needs 4×5$/,
        ],
        [
          'actions',
          () => model.meanJacobians(states, actions.subarray(1), n, ELITES),
          /^meanJacobians: actions has 3 values, needs 4×1$/,
        ],
        ['no members', () => model.meanJacobians(states, actions, n, []), /^meanJacobians: no members given$/],
        ['member 7', () => model.meanJacobians(states, actions, n, [0, 7]), /^meanJacobians: member 7 is not in 0…6$/],
        [
          'member 1.5',
          () => model.meanJacobians(states, actions, n, [1.5]),
          /^meanJacobians: member 1.5 is not in 0…6$/,
        ],
        [
          'out',
          () =>
            model.meanJacobians(states, actions, n, ELITES, {
              next: new Float64Array(20),
              dState: new Float64Array(99),
              dAction: new Float64Array(20),
            }),
          /^meanJacobians: out.dState has 99 values, needs 100$/,
        ],
        ['meanNext member', () => model.meanNext(states, actions, n, [-1]), /^meanNext: member -1 is not in 0…6$/],
        [
          'meanNext out',
          () => model.meanNext(states, actions, n, ELITES, new Float64Array(3)),
          /^meanNext: out has 3 values, needs 20$/,
        ],
        [
          'eps',
          () => finiteDifferenceJacobians(model, states, actions, n, ELITES, 0),
          /^finiteDifferenceJacobians: eps must be positive, not 0$/,
        ],
      ];
      for (const [label, call, message] of cases) {
        assert.throws(call, { message }, label);
        assert.throws(call, (e: Error) => !e.message.includes('\n'), `${label}: more than one line`);
      }
    } finally {
      model.dispose();
    }
  });
}

test('native addon: forwardJacobian refuses a member outside the ensemble', (t) => {
  const kernels = native.kernels;
  if (!kernels) {
    t.skip(native.why);
    return;
  }
  const widths = Int32Array.of(3, 4, 2);
  const params = new Float32Array(2 * (3 * 4 + 4 + 4 * 2 + 2));
  const call = (list: Int32Array): void =>
    kernels.forwardJacobian(
      widths,
      params,
      2,
      list,
      new Float32Array(3),
      1,
      2,
      new Float32Array(4),
      new Float32Array(12),
      1,
    );
  assert.throws(() => call(Int32Array.of(0, 2)), { message: /^memberList\[1\] is 2, not a member in 0…1$/ });
  call(Int32Array.of(1, 0));
});
