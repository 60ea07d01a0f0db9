import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { QuadraticEvaluator, smoothTarget } from './quadratic.js';
import { RandomShootingOptimizer } from '../../../src/control/planners/random_shooting/optimizer.js';
import { CemOptimizer } from '../../../src/control/planners/cem/optimizer.js';
import { MppiOptimizer } from '../../../src/control/planners/mppi/optimizer.js';
import { IcemOptimizer } from '../../../src/control/planners/icem/optimizer.js';
import type { ActionOptimizer } from '../../../src/control/planners/sampling/optimizer.js';
import { withinBounds } from '../../../src/control/planners/sampling/bounds.js';
import { shiftSequence } from '../../../src/control/planners/sampling/warm_start.js';
import { Rng } from '../../../src/util/random.js';

// Each optimiser on cost = Σ_t ‖a_t − a*_t‖², whose optimum is a* inside the bounds and
// clip(a*) outside them, with a stated budget and tolerance. Starts are cold (all zeros).

interface Run {
  readonly make: () => ActionOptimizer;
  /** iterations of the optimiser's own population */
  readonly iterations: number;
  /** max |a − a_opt| over the sequence */
  readonly tolerance: number;
}

interface Case {
  readonly horizon: number;
  readonly nu: number;
  readonly inside: Run;
  /** the optimum clip(a*) has kinks where a* leaves the box */
  readonly clipped: Run;
}

const cases: Record<string, Case> = {
  // uniform search is exponential in H·nu: a 2-dimensional problem, 10,000 samples
  random_shooting: {
    horizon: 2,
    nu: 1,
    inside: { make: () => new RandomShootingOptimizer(), iterations: 25, tolerance: 0.1 },
    clipped: { make: () => new RandomShootingOptimizer(), iterations: 25, tolerance: 0.1 },
  },
  // 20 dimensions from here on, at the defaults unless stated
  cem: {
    horizon: 10,
    nu: 2,
    inside: { make: () => new CemOptimizer(), iterations: 20, tolerance: 0.01 },
    clipped: { make: () => new CemOptimizer(), iterations: 40, tolerance: 0.01 },
  },
  icem: {
    horizon: 10,
    nu: 2,
    inside: { make: () => new IcemOptimizer(), iterations: 20, tolerance: 0.05 },
    // red noise (β = 2) stalls near 0.1 on the kinks of a clipped optimum; pink (β = 1) does not
    clipped: { make: () => new IcemOptimizer({ noiseExponent: 1 }), iterations: 40, tolerance: 0.05 },
  },
  // MPPI's step is its fixed noise: σ = 0.1 (of a range of 2), λ = 0.1 for costs of order 1
  mppi: {
    horizon: 10,
    nu: 2,
    inside: { make: () => new MppiOptimizer({ noiseStd: 0.1 }), iterations: 60, tolerance: 0.05 },
    clipped: { make: () => new MppiOptimizer({ noiseStd: 0.1 }), iterations: 60, tolerance: 0.05 },
  },
};

function maxError(a: Float32Array, b: Float32Array): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

for (const [name, c] of Object.entries(cases)) {
  for (const outside of [false, true]) {
    const run = outside ? c.clipped : c.inside;
    test(`${name} finds the optimum of a quadratic with the target ${outside ? 'partly outside the bounds (the clipped optimum)' : 'inside the bounds'}`, () => {
      const low = new Array<number>(c.nu).fill(-1);
      const high = new Array<number>(c.nu).fill(1);
      // a* of amplitude 0.6, or 1.5 so that about half of it lies beyond ±1
      const target = smoothTarget(c.horizon, c.nu).map((v) => (outside ? 2.5 * v : v));
      const evaluator = new QuadraticEvaluator({ horizon: c.horizon, low, high, target });
      const { sequence, cost } = evaluator.optimum();
      evaluator.threshold = cost + 0.01;
      const result = run.make().optimize(evaluator, new Float32Array(c.horizon * c.nu), { iterations: run.iterations });
      const error = maxError(result.best, sequence);
      assert.ok(
        error <= run.tolerance,
        `${name}: max error ${error.toFixed(4)} > ${run.tolerance} (cost ${result.bestCost} vs ${cost})`,
      );
      assert.equal(result.iterations, run.iterations);
      assert.equal(result.evaluations, evaluator.evaluations);
      assert.equal(evaluator.outOfBounds, 0);
      assert.ok(Math.abs(result.bestCost - evaluator.cost(result.best)) < 1e-5);
      console.log(
        `# ${name} (${outside ? 'clipped' : 'inside'}): ${evaluator.evaluations} evaluations, excess cost ≤ 0.01 after ${evaluator.reachedAt ?? 'never'}, final max error ${error.toExponential(2)}`,
      );
    });
  }
}

/** Evaluations until a cost ≤ threshold is first evaluated, per seed (Infinity if never). */
function evaluationsToReach(
  make: (seed: number) => ActionOptimizer,
  horizon: number,
  nu: number,
  target: (seed: number) => Float32Array,
  threshold: number,
  iterations: number,
): number[] {
  return [1, 2, 3, 4, 5].map((seed) => {
    const evaluator = new QuadraticEvaluator({
      horizon,
      low: new Array(nu).fill(-1),
      high: new Array(nu).fill(1),
      target: target(seed),
    });
    evaluator.threshold = threshold;
    make(seed).optimize(evaluator, new Float32Array(horizon * nu), { iterations });
    return evaluator.reachedAt ?? Infinity;
  });
}

/** the median of 5 seeds: one seed that never gets there does not decide the comparison */
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const randomTarget =
  (length: number) =>
  (seed: number): Float32Array => {
    const rng = new Rng(100 + seed);
    return Float32Array.from({ length }, () => 1.6 * rng.uniform() - 0.8);
  };

test('CEM and iCEM reach a cost with far fewer evaluations than random shooting (H 4, nu 1, cost ≤ 0.01)', () => {
  const target = randomTarget(4);
  const rs = evaluationsToReach((seed) => new RandomShootingOptimizer({ seed }), 4, 1, target, 0.01, 250);
  const cem = evaluationsToReach((seed) => new CemOptimizer({ seed }), 4, 1, target, 0.01, 20);
  const icem = evaluationsToReach((seed) => new IcemOptimizer({ seed }), 4, 1, target, 0.01, 20);
  console.log(
    `# evaluations to cost ≤ 0.01, 5 seeds: random shooting ${rs.join(',')}; CEM ${cem.join(',')}; iCEM ${icem.join(',')}`,
  );
  assert.ok(median(cem) * 5 < median(rs), `CEM ${median(cem)} vs random shooting ${median(rs)}`);
  assert.ok(median(icem) * 5 < median(rs), `iCEM ${median(icem)} vs random shooting ${median(rs)}`);
});

test('iCEM reaches a cost with fewer evaluations than CEM on a smooth optimum (H 10, nu 2)', () => {
  const target = (): Float32Array => smoothTarget(10, 2);
  for (const threshold of [1, 0.01]) {
    const cem = evaluationsToReach((seed) => new CemOptimizer({ seed }), 10, 2, target, threshold, 30);
    const icem = evaluationsToReach((seed) => new IcemOptimizer({ seed }), 10, 2, target, threshold, 30);
    console.log(`# evaluations to cost ≤ ${threshold}, 5 seeds: CEM ${cem.join(',')}; iCEM ${icem.join(',')}`);
    assert.ok(median(icem) < 0.75 * median(cem), `iCEM ${median(icem)} vs CEM ${median(cem)}`);
  }
});

test('on a white (non-smooth) optimum red noise is the wrong prior: iCEM needs β = 0 there, and then still beats CEM', () => {
  const target = randomTarget(20);
  const cem = evaluationsToReach((seed) => new CemOptimizer({ seed }), 10, 2, target, 0.01, 30);
  const white = evaluationsToReach((seed) => new IcemOptimizer({ seed, noiseExponent: 0 }), 10, 2, target, 0.01, 30);
  const red = evaluationsToReach((seed) => new IcemOptimizer({ seed, noiseExponent: 2 }), 10, 2, target, 0.01, 30);
  console.log(
    `# white target, evaluations to cost ≤ 0.01: CEM ${cem.join(',')}; iCEM β=0 ${white.join(',')}; iCEM β=2 ${red.join(',')}`,
  );
  assert.ok(median(white) < median(cem));
  assert.ok(median(red) > median(cem), 'red noise does worse than CEM on a white optimum');
});

test('iCEM carries its elites to the next time step, shifted: one iteration after a shift is already good', () => {
  const horizon = 10;
  const nu = 2;
  const target = smoothTarget(horizon, nu);
  const optimizer = new IcemOptimizer({ seed: 3 });
  const first = new QuadraticEvaluator({ horizon, low: [-1, -1], high: [1, 1], target });
  const planned = optimizer.optimize(first, new Float32Array(horizon * nu), { iterations: 10 });
  // one step later the optimum is the old one shifted; start from a cold mean on purpose
  optimizer.shift(1);
  const next = new QuadraticEvaluator({
    horizon,
    low: [-1, -1],
    high: [1, 1],
    target: shiftSequence(target, nu, 1, 'last'),
  });
  const carried = optimizer.optimize(next, new Float32Array(horizon * nu), { iterations: 1 });
  const cold = new IcemOptimizer({ seed: 3 }).optimize(next, new Float32Array(horizon * nu), { iterations: 1 });
  // the shifted plan loses its first step's error and repeats its last step's
  assert.ok(carried.bestCost <= 1.5 * planned.bestCost, `carried ${carried.bestCost} vs planned ${planned.bestCost}`);
  assert.ok(cold.bestCost > 50 * carried.bestCost, `cold ${cold.bestCost} vs carried ${carried.bestCost}`);
  optimizer.reset();
  const afterReset = optimizer.optimize(next, new Float32Array(horizon * nu), { iterations: 1 });
  assert.ok(
    afterReset.bestCost > 10 * carried.bestCost,
    `after reset ${afterReset.bestCost} vs carried ${carried.bestCost}`,
  );
});

test('iCEM: the population shrinks by γ per iteration down to 2K; kept elites and the final mean are added', () => {
  const optimizer = new IcemOptimizer({ populationSize: 400 });
  assert.deepEqual(
    [0, 1, 2, 3, 4, 20].map((i) => optimizer.populationAt(i)),
    [400, 320, 256, 205, 164, 80],
  );
  const evaluator = new QuadraticEvaluator({ horizon: 5, low: [-1], high: [1], target: new Float32Array(5) });
  const result = optimizer.optimize(evaluator, new Float32Array(5));
  // 12 = ⌈0.3 · 40⌉ elites kept from iteration 1 on; the mean joins the last
  assert.equal(result.evaluations, 400 + 320 + 256 + 205 + 164 + 4 * 12 + 1);
});

test('runs repeat exactly under a seed', () => {
  for (const make of [
    (s: number) => new CemOptimizer({ seed: s }),
    (s: number) => new IcemOptimizer({ seed: s }),
    (s: number) => new MppiOptimizer({ seed: s }),
    (s: number) => new RandomShootingOptimizer({ seed: s }),
  ]) {
    const run = (): Float32Array =>
      make(42).optimize(
        new QuadraticEvaluator({ horizon: 5, low: [-1], high: [1], target: smoothTarget(5, 1) }),
        new Float32Array(5),
      ).best;
    assert.deepEqual(run(), run());
  }
});

test('settings are checked, and a bad value is named', () => {
  assert.throws(
    () => new CemOptimizer({ populationSize: 0 }),
    /CEM: population_size must be a positive integer, got 0/,
  );
  assert.throws(() => new CemOptimizer({ alpha: 1 }), /CEM: alpha must be in \[0, 1\), got 1/);
  assert.throws(() => new CemOptimizer({ eliteCount: 500 }), /CEM: 500 elites from a population of 400/);
  assert.throws(() => new IcemOptimizer({ populationDecay: 0.5 }), /iCEM: population_decay must be in \[1, Infinity\]/);
  assert.throws(() => new IcemOptimizer({ eliteRatio: 0.6 }), /iCEM: 240 elites need a population of at least 480/);
  assert.throws(() => new MppiOptimizer({ temperature: 0 }), /MPPI: temperature must be in \(0, Infinity\)/);
  assert.throws(() => new MppiOptimizer({ filterWindow: 4 }), /MPPI: filter_window must be odd/);
  assert.throws(
    () => new RandomShootingOptimizer({ samples: 1.5 }),
    /random shooting: samples must be a positive integer/,
  );
  const evaluator = new QuadraticEvaluator({ horizon: 3, low: [-1], high: [1], target: new Float32Array(3) });
  assert.throws(
    () => new CemOptimizer().optimize(evaluator, new Float32Array(4)),
    /CEM: the warm start has 4 values, expected H × nu = 3 × 1/,
  );
});

test('bounds are never violated: any bounds, any quadratic, every optimiser, every sequence evaluated', () => {
  const makers: Array<(seed: number) => ActionOptimizer> = [
    (seed) => new RandomShootingOptimizer({ samples: 16, iterations: 2, seed }),
    (seed) => new CemOptimizer({ populationSize: 16, iterations: 3, initialStd: 20, seed }),
    (seed) => new IcemOptimizer({ populationSize: 16, iterations: 3, initialStd: 20, seed }),
    (seed) => new MppiOptimizer({ samples: 16, iterations: 3, noiseStd: 20, filterWindow: 3, seed }),
  ];
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.array(
        fc.record({
          low: fc.double({ min: -5, max: 5, noNaN: true }),
          width: fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 5, noNaN: true })),
          weight: fc.double({ min: 0.01, max: 100, noNaN: true }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      fc.integer(),
      (horizon, dims, seed) => {
        const nu = dims.length;
        const low = dims.map((d) => Math.fround(d.low));
        const high = dims.map((d, j) => Math.max(low[j]!, Math.fround(d.low + d.width)));
        const rng = new Rng(seed);
        const target = Float32Array.from({ length: horizon * nu }, () => 20 * rng.uniform() - 10);
        // a warm start out of bounds too: optimisers must clip what they are given
        const warm = Float32Array.from({ length: horizon * nu }, () => 20 * rng.uniform() - 10);
        for (const make of makers) {
          const evaluator = new QuadraticEvaluator({ horizon, low, high, target, weights: dims.map((d) => d.weight) });
          const result = make(seed).optimize(evaluator, warm);
          assert.equal(evaluator.outOfBounds, 0);
          assert.ok(withinBounds(result.best, evaluator.actionLow, evaluator.actionHigh));
        }
      },
    ),
    { numRuns: 60 },
  );
});
