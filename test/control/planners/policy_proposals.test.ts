import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuadraticEvaluator, smoothTarget, type QuadraticProblem } from './quadratic.js';
import { CemOptimizer } from '../../../src/control/planners/cem/optimizer.js';
import { IcemOptimizer } from '../../../src/control/planners/icem/optimizer.js';
import { MppiOptimizer } from '../../../src/control/planners/mppi/optimizer.js';
import type { ActionOptimizer, OptimizeResult } from '../../../src/control/planners/sampling/optimizer.js';
import { proposalCount } from '../../../src/control/planners/sampling/policy_proposals.js';
import { samplingOptimizer } from '../../../src/control/planners/registry.js';
import { withinBounds } from '../../../src/control/planners/sampling/bounds.js';
import { Rng } from '../../../src/util/random.js';

// The learned policy as a proposal inside CEM, iCEM and MPPI (sampling.policy_share): on a quadratic
// whose optimum is known, an evaluator double proposes the policy's sequences; with a share of 0, or
// no policy, every optimiser gives the same plans as without proposals (bit for bit) and never asks
// for them; with a share, each iteration's last ⌈share · N⌉ samples are the proposals, asked for
// once per call, and a policy at (or near) the optimum makes each optimiser reach a lower cost in
// the same iterations.

/** A quadratic whose evaluator also proposes a policy's sequences: `policy` for the first, `policy` + noise for the rest. */
class ProposingQuadratic extends QuadraticEvaluator {
  policy: Float32Array | undefined;
  noise = 0;
  readonly asked: number[] = [];
  /** per evaluate call, the rows of its sequences that are proposals */
  readonly proposedRows: number[][] = [];
  #rng = new Rng(99);
  #proposed: Float32Array[] = [];

  constructor(problem: QuadraticProblem, policy: Float32Array | undefined) {
    super(problem);
    this.policy = policy;
  }

  policySequences(n: number): Float32Array | undefined {
    this.asked.push(n);
    if (!this.policy) return undefined;
    const size = this.policy.length;
    const out = new Float32Array(n * size);
    for (let s = 0; s < n; s++)
      for (let d = 0; d < size; d++) out[s * size + d] = this.policy[d]! + (s ? this.noise * this.#rng.normal() : 0);
    // what the optimiser will evaluate: the proposals within the bounds
    this.#proposed = Array.from({ length: n }, (_, s) => {
      const row = out.slice(s * size, (s + 1) * size);
      return row.map((v, d) =>
        Math.min(this.actionHigh[d % this.actionSize]!, Math.max(this.actionLow[d % this.actionSize]!, v)),
      );
    });
    return out;
  }

  override evaluate(sequences: Float32Array, n: number): ReturnType<QuadraticEvaluator['evaluate']> {
    const size = this.horizon * this.actionSize;
    const proposed: number[] = [];
    for (let s = 0; s < n; s++) {
      const row = sequences.subarray(s * size, (s + 1) * size);
      if (this.#proposed.some((p) => p.every((v, d) => v === row[d]))) proposed.push(s);
    }
    this.proposedRows.push(proposed);
    return super.evaluate(sequences, n);
  }
}

const H = 10;
const NU = 2;
const BOX = { horizon: H, low: [-1, -1], high: [1, 1] };

type Make = (seed: number, share: number) => ActionOptimizer;
const OPTIMIZERS: Record<string, Make> = {
  cem: (seed, policyShare) => new CemOptimizer({ populationSize: 100, seed, policyShare }),
  icem: (seed, policyShare) => new IcemOptimizer({ populationSize: 100, seed, policyShare }),
  mppi: (seed, policyShare) => new MppiOptimizer({ samples: 100, noiseStd: 0.2, seed, policyShare }),
};

/** Three replans of one optimiser, each on a target moved on, warm-started from the last plan. */
function replans(optimizer: ActionOptimizer, evaluator: (call: number) => QuadraticEvaluator): OptimizeResult[] {
  let warm: Float32Array = new Float32Array(H * NU);
  return [0, 1, 2].map((call) => {
    const result = optimizer.optimize(evaluator(call), warm, { iterations: 3 });
    optimizer.shift?.(1);
    warm = result.best;
    return result;
  });
}

const targetAt = (call: number): Float32Array => smoothTarget(H, NU).map((v) => v * (1 + 0.3 * call));

for (const [name, make] of Object.entries(OPTIMIZERS)) {
  test(`${name}: a share of 0, or no policy, gives the plans of today bit for bit and asks for no proposal`, () => {
    for (const seed of [1, 2, 3]) {
      const plain = replans(make(seed, 0), (c) => new QuadraticEvaluator({ ...BOX, target: targetAt(c) }));
      const asked: number[] = [];
      const offWithPolicy = replans(make(seed, 0), (c) => {
        const e = new ProposingQuadratic({ ...BOX, target: targetAt(c) }, targetAt(c));
        e.asked.push = (...n: number[]) => asked.push(...n);
        return e;
      });
      const onWithoutPolicy = replans(
        make(seed, 0.3),
        (c) => new ProposingQuadratic({ ...BOX, target: targetAt(c) }, undefined),
      );
      assert.deepEqual(offWithPolicy, plain);
      assert.deepEqual(onWithoutPolicy, plain);
      assert.deepEqual(asked, [], 'share 0: the evaluator is never asked');
    }
    // the registry's default is 0, and an optimiser made with it plans as one made without the parameter
    const viaRegistry = (values: Record<string, number>): OptimizeResult[] =>
      replans(
        samplingOptimizer({ planner: name, iterations: 3, values: { 'sampling.population': 100, ...values } }, 4),
        (c) => new ProposingQuadratic({ ...BOX, target: targetAt(c) }, targetAt(c)),
      );
    assert.deepEqual(viaRegistry({ 'sampling.policy_share': 0 }), viaRegistry({}));
  });

  test(`${name}: the last ⌈share · N⌉ samples of every iteration are the policy's, asked for once per call`, () => {
    const target = smoothTarget(H, NU);
    // a policy partly outside the box: proposals are clipped like every sample
    const evaluator = new ProposingQuadratic(
      { ...BOX, target },
      target.map((v) => 2 * v),
    );
    evaluator.noise = 0.1;
    const optimizer = make(5, 0.1);
    const result = optimizer.optimize(evaluator, new Float32Array(H * NU), { iterations: 4 });
    const plain = make(5, 0).optimize(new QuadraticEvaluator({ ...BOX, target }), new Float32Array(H * NU), {
      iterations: 4,
    });
    assert.equal(result.evaluations, plain.evaluations, 'proposals replace samples, they add none');
    assert.equal(evaluator.outOfBounds, 0);
    assert.ok(withinBounds(result.best, evaluator.actionLow, evaluator.actionHigh));
    assert.deepEqual(
      evaluator.asked,
      [10],
      'asked once, for ⌈0.1 · 100⌉ (MPPI: of the 99 samples besides the nominal)',
    );
    // iCEM samples N_i = 100, 80, 64, 52 (then adds kept elites, which may be proposals of the
    // iteration before, after them); the others 100 every iteration (MPPI's final nominal then alone)
    const sampled =
      name === 'icem'
        ? [0, 1, 2, 3].map((i) => new IcemOptimizer({ populationSize: 100 }).populationAt(i))
        : [100, 100, 100, 100];
    sampled.forEach((n, i) => {
      const k = proposalCount(0.1, n);
      const rows = evaluator.proposedRows[i]!.filter((r) => r < n);
      assert.deepEqual(
        rows,
        Array.from({ length: k }, (_, p) => n - k + p),
        `iteration ${i}: the last ${k} of ${n}`,
      );
    });
    if (name === 'mppi') assert.deepEqual(evaluator.proposedRows[4], []);
  });

  test(`${name}: a policy at the optimum, or near it, makes it reach a lower cost in the same iterations`, () => {
    const target = smoothTarget(H, NU);
    const costs = (policy: Float32Array | undefined, noise: number, share: number): number[] =>
      [1, 2, 3, 4, 5].map((seed) => {
        const evaluator = new ProposingQuadratic({ ...BOX, target }, policy);
        evaluator.noise = noise;
        return make(seed, share).optimize(evaluator, new Float32Array(H * NU), { iterations: 3 }).bestCost;
      });
    const without = costs(undefined, 0, 0.1);
    // the optimum itself: the plan is the optimum
    const atOptimum = costs(target, 0, 0.05);
    // near it: a policy off by a smooth 0.15 whose samples spread by 0.05
    const near = target.map((v, i) => v + 0.15 * Math.cos(i / 3));
    const nearOptimum = costs(near, 0.05, 0.1);
    const nearCost = new QuadraticEvaluator({ ...BOX, target }).cost(near);
    console.log(
      `# ${name}, best cost after 3 iterations (5 seeds): without a policy ${without.map((c) => c.toFixed(3)).join(', ')}; ` +
        `policy at the optimum ${atOptimum.map((c) => c.toFixed(3)).join(', ')}; near it (its own cost ${nearCost.toFixed(3)}) ${nearOptimum.map((c) => c.toFixed(3)).join(', ')}`,
    );
    for (let s = 0; s < 5; s++) {
      assert.equal(atOptimum[s], 0, `seed ${s + 1}: the optimum was proposed`);
      assert.ok(without[s]! > 0.05, `seed ${s + 1}: without a policy ${without[s]}`);
      assert.ok(nearOptimum[s]! < without[s]!, `seed ${s + 1}: near ${nearOptimum[s]} vs without ${without[s]}`);
      assert.ok(
        nearOptimum[s]! <= nearCost + 1e-6,
        `seed ${s + 1}: near ${nearOptimum[s]} vs the policy's ${nearCost}`,
      );
    }
  });
}

test('the share is checked, and a bad one named', () => {
  assert.throws(() => new CemOptimizer({ policyShare: 1.5 }), /CEM: policy_share must be in \[0, 1\], got 1\.5/);
  assert.throws(() => new IcemOptimizer({ policyShare: -0.1 }), /iCEM: policy_share must be in \[0, 1\]/);
  assert.throws(() => new MppiOptimizer({ policyShare: Number.NaN }), /MPPI: policy_share must be in \[0, 1\]/);
  assert.throws(
    () => samplingOptimizer({ planner: 'cem', iterations: 1, values: { 'sampling.policy_share': 2 } }, 1),
    /planner cem: parameter 'sampling\.policy_share'/,
  );
  assert.equal(proposalCount(0, 400), 0);
  assert.equal(proposalCount(0.1, 400), 40);
  assert.equal(proposalCount(0.001, 400), 1);
  assert.equal(proposalCount(1, 400), 400);
});
