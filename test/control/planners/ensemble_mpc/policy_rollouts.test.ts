import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initTensorBackend } from '../../../../src/tensor/backend.js';
import { ProbabilisticEnsemble } from '../../../../src/dynamics/ensemble.js';
import { StateEncoding } from '../../../../src/dynamics/state_encoding.js';
import {
  TrajectorySamplingEvaluator,
  type BatchCost,
} from '../../../../src/control/planners/ensemble_mpc/trajectory_sampling.js';
import { policyOverModel } from '../../../../src/control/planners/ensemble_mpc/model_policy.js';
import {
  buildLearnedPlanner,
  planningTask,
  type LearnedPlanningSpec,
} from '../../../../src/control/planners/ensemble_mpc/spec.js';
import { samplingOptimizer } from '../../../../src/control/planners/registry.js';
import type { LearnedPolicy } from '../../../../src/control/learned_policy.js';
import { PolicyActor } from '../../../../src/rl/sac/policy_blob.js';
import { linearData, standStillModel } from '../../../dynamics/helpers.js';
import { linearPolicyAction, linearPolicyModel, type LinearPolicy } from '../../policies.js';
import { cartpoleModelBlob } from '../../planning_model.js';

// The policy's sequences from the trajectory-sampling evaluator (the proposals of
// sampling.policy_share): rollouts of the policy from the current state through the ensemble, the
// first with its mean action, the rest sampled, each action the policy's at the rollout's state,
// within the bounds, repeated under a seed and leaving the costs' sampling as it was; a policy of
// another encoding acting on the model's state by joint name; and the planner over the learned
// model handing the policy to each model it swaps in.

await initTensorBackend();

const PERIOD_NS = 10_000_000n;
/** a policy over the model state [q.j, qd.j]: mean a = 2 tanh(0.3 q − 0.2 q̇ + 0.1), box ±2 */
const POLICY: LinearPolicy = {
  joints: ['j'],
  actuators: ['u'],
  low: [-2],
  high: [2],
  periodNs: PERIOD_NS,
  gains: [[0.3, -0.2]],
  bias: [0.1],
  logStd: Math.log(0.4),
};
const bounds = { actionLow: Float32Array.of(-1), actionHigh: Float32Array.of(1) };
const cost: BatchCost = (states, actions, out) => {
  for (let i = 0; i < out.length; i++) out[i] = states[2 * i]! ** 2 + 0.1 * actions[i]! ** 2;
};
const A = [
  [1, 0.1],
  [-0.05, 0.98],
];
const B = [[0], [0.1]];
const trained = ProbabilisticEnsemble.create({
  stateSize: 2,
  actionSize: 1,
  members: 4,
  elites: 3,
  hidden: [16],
  seed: 2,
});
trained.train(linearData(200, A, B, 0.02, 1), { epochs: 15, batchSize: 32 });

const clip = (u: number): number => Math.min(1, Math.max(-1, u));

function evaluator(ensemble: ProbabilisticEnsemble, horizon: number, seed = 5): TrajectorySamplingEvaluator {
  return new TrajectorySamplingEvaluator({ ensemble, cost, horizon, particles: 4, ...bounds, seed });
}

test('a model that stands still: the mean rollout acts with the mean action at x0 at every step, the others sample around it, all within the bounds', () => {
  const model = standStillModel({ stateSize: 2, actionSize: 1, members: 3, elites: 2, hidden: [4] });
  const ts = evaluator(model, 6);
  ts.setState(Float32Array.of(0.5, -1));
  assert.equal(ts.policySequences(8), undefined, 'no policy, no proposals');
  ts.setPolicy(new PolicyActor(linearPolicyModel(POLICY)));
  const sequences = ts.policySequences(50)!;
  assert.equal(sequences.length, 50 * 6);
  const mean = clip(linearPolicyAction(POLICY, [0.5, -1])[0]!);
  for (let t = 0; t < 6; t++) assert.ok(Math.abs(sequences[t]! - mean) < 1e-5, `step ${t}: ${sequences[t]} vs ${mean}`);
  const sampled = Array.from(sequences.subarray(6));
  assert.ok(sampled.every((u) => u >= -1 && u <= 1));
  assert.ok(
    sampled.some((u) => u === 1),
    'samples beyond the bound are clipped to it',
  );
  assert.ok(new Set(sampled).size > 100, 'samples differ');
  ts.setPolicy(undefined);
  assert.equal(ts.policySequences(8), undefined);
  model.dispose();
});

test("on a trained ensemble: every step's action is the policy's at the rollout's state (TS-1: a random elite per step, sampled)", () => {
  const predictions: { states: Float32Array; members: Int32Array; sample: boolean }[] = [];
  const predict = trained.predictNext.bind(trained);
  trained.predictNext = (states, actions, n, members, sample, rng) => {
    const next = predict(states, actions, n, members, sample, rng);
    predictions.push({ states: next.slice(), members: members.slice(0, n), sample });
    return next;
  };
  try {
    const H = 5;
    const n = 6;
    const ts = evaluator(trained, H);
    ts.setState(Float32Array.of(0.3, -0.4));
    ts.setPolicy(new PolicyActor(linearPolicyModel(POLICY)));
    const sequences = ts.policySequences(n)!;
    assert.equal(predictions.length, H - 1, 'one batch of n rows per step but the last');
    assert.ok(predictions.every((p) => p.sample && p.members.every((m) => trained.elites.includes(m))));
    assert.ok(new Set(predictions.flatMap((p) => Array.from(p.members))).size > 1, 'members are drawn');
    // the mean rollout: each action the mean at the state the model moved it to
    let state = [0.3, -0.4];
    for (let t = 0; t < H; t++) {
      const expected = clip(linearPolicyAction(POLICY, state)[0]!);
      assert.ok(Math.abs(sequences[t]! - expected) < 1e-5, `step ${t}: ${sequences[t]} vs ${expected}`);
      if (t + 1 < H) state = Array.from(predictions[t]!.states.subarray(0, 2));
    }
    // the rollouts moved apart
    const last = predictions.at(-1)!.states;
    assert.ok(Math.abs(last[0]! - last[2]!) > 1e-4);
  } finally {
    delete (trained as { predictNext?: unknown }).predictNext;
  }
});

test('proposals repeat under a seed, and leave the costs as they are without them', () => {
  const sequences = Float32Array.from({ length: 8 * 5 }, (_, i) => Math.sin(i));
  const run = (propose: boolean): { proposals?: Float32Array; cost: Float32Array } => {
    const ts = evaluator(trained, 5, 11);
    ts.setState(Float32Array.of(0.1, 0.2));
    let proposals: Float32Array | undefined;
    if (propose) {
      ts.setPolicy(new PolicyActor(linearPolicyModel(POLICY)));
      proposals = ts.policySequences(10);
    }
    return { ...(proposals ? { proposals } : {}), cost: ts.evaluate(sequences, 8).cost };
  };
  const a = run(true);
  assert.deepEqual(run(true), a);
  assert.deepEqual(run(false).cost, a.cost, 'the proposals draw from a noise source of their own');
  const ts = evaluator(trained, 5);
  ts.setPolicy(new PolicyActor(linearPolicyModel(POLICY)));
  assert.throws(() => ts.policySequences(3), /policySequences\(\) before setState\(\)/);
});

/** A policy that records what it was asked to read and acts with 0. */
function recorder(joints: string[], angleJoints: string[]): LearnedPolicy & { seen: number[][] } {
  const encoding = new StateEncoding(joints, angleJoints);
  const seen: number[][] = [];
  return {
    version: 4,
    layout: { encoding, actuators: ['u'], periodNs: PERIOD_NS },
    seen,
    act(obs, rows, out) {
      for (let r = 0; r < rows; r++) seen.push(Array.from(obs.subarray(r * encoding.size, (r + 1) * encoding.size)));
      out.fill(0, 0, rows);
    },
  };
}

test('a policy of another encoding acts on the model state by joint name: angles through atan2 or sin/cos, velocities copied', () => {
  const model = new StateEncoding(['cart', 'pole'], ['pole']); // [q.cart, sin.pole, cos.pole, qd.cart, qd.pole]
  const row = (x: number, th: number, xd: number, thd: number): number[] => [x, Math.sin(th), Math.cos(th), xd, thd];
  const obs = Float32Array.from([...row(0.1, 2.5, -0.3, 0.7), ...row(-0.2, -3, 0.4, -1)]);
  const raw = recorder(['pole', 'cart'], []); // [q.pole, q.cart, qd.pole, qd.cart]
  policyOverModel(raw, model).act(obs, 2, new Float32Array(2));
  const close = (a: number[], b: number[]): boolean => a.every((v, i) => Math.abs(v - b[i]!) < 1e-6);
  assert.ok(close(raw.seen[0]!, [2.5, 0.1, 0.7, -0.3]), JSON.stringify(raw.seen[0]));
  assert.ok(close(raw.seen[1]!, [-3, -0.2, -1, 0.4]), JSON.stringify(raw.seen[1]));

  const angles = recorder(['cart', 'pole'], ['cart', 'pole']); // [sin.cart, cos.cart, sin.pole, cos.pole, qd.cart, qd.pole]
  policyOverModel(angles, model).act(obs, 1, new Float32Array(1));
  assert.ok(close(angles.seen[0]!, [Math.sin(0.1), Math.cos(0.1), Math.sin(2.5), Math.cos(2.5), -0.3, 0.7]));

  const same = recorder(['cart', 'pole'], ['pole']);
  assert.equal(policyOverModel(same, model), same, 'the same layout: the policy as it is');
  assert.throws(
    () => policyOverModel(recorder(['cart', 'elbow'], []), model),
    /policy v4 reads joint 'elbow', which the dynamics model does not predict/,
  );
});

test('the planner over the learned model hands the policy to the model in use and to each model swapped in', async () => {
  const blob = await cartpoleModelBlob(PERIOD_NS);
  const spec: LearnedPlanningSpec = {
    modelPath: '',
    optimizer: { planner: 'cem', iterations: 2, values: { 'sampling.population': 20, 'sampling.policy_share': 0.2 } },
    task: 'cartpole_swingup',
    taskTarget: [],
    actuation: 'torque',
    modelJoints: ['cart_slide', 'pole_hinge'],
    actuators: ['cart_force'],
    actionLow: Float32Array.of(-20),
    actionHigh: Float32Array.of(20),
    stepNs: PERIOD_NS,
    budget: { iterations: 2 },
    horizon: 8,
    particles: 2,
    propagation: 'ts1',
    explore: false,
    seed: 1,
  };
  const planner = buildLearnedPlanner(
    spec,
    planningTask(spec, undefined),
    samplingOptimizer(spec.optimizer, spec.seed),
  );
  try {
    // the policy reads the joints in its own order, the pole raw: re-encoded from the model's sin/cos
    let acts = 0;
    const actor = new PolicyActor(
      linearPolicyModel({
        joints: ['pole_hinge', 'cart_slide'],
        actuators: ['cart_force'],
        low: [-20],
        high: [20],
        periodNs: PERIOD_NS,
        gains: [[0.5, 0.1, 0.05, 0.02]],
        version: 3,
      }),
    );
    const counted: LearnedPolicy = {
      version: actor.version,
      layout: actor.layout,
      act: (obs, rows, out, rng) => {
        acts++;
        actor.act(obs, rows, out, rng);
      },
    };
    planner.setPolicy(counted);
    assert.equal(planner.policyVersion, 3);
    planner.setModel(blob.metadataJson, blob.data, 1);
    const state = Float64Array.of(0.1, 0.2, 0, 0);
    planner.optimize({ timeNs: 0n, state });
    // 4 proposals (⌈0.2 · 20⌉), two act calls (the mean, the samples) per step of 8
    assert.equal(acts, 16);
    assert.equal(planner.status()['policy_version'], 3);
    // a new model gets the policy too
    const other = JSON.parse(blob.metadataJson) as Record<string, Record<string, unknown>>;
    other['training']!['note'] = 'retrained';
    planner.setModel(JSON.stringify(other), blob.data, 2);
    planner.optimize({ timeNs: PERIOD_NS, state });
    assert.equal(acts, 32);
    // a policy that does not fit is refused, the one in use kept
    assert.throws(
      () => planner.setPolicy({ ...counted, version: 5, layout: { ...counted.layout, periodNs: 2n * PERIOD_NS } }),
      /policy v5 acts every 20 ms, the control period is 10 ms/,
    );
    assert.equal(planner.policyVersion, 3);
  } finally {
    planner.dispose();
  }
});

test('sampled rollouts spread with the policy σ: rows after the first are not the mean', () => {
  const model = standStillModel({ stateSize: 2, actionSize: 1, members: 2, elites: 2, hidden: [4] });
  const ts = evaluator(model, 3, 1);
  ts.setState(Float32Array.of(0, 0));
  const actor = new PolicyActor(linearPolicyModel({ ...POLICY, bias: [0], logStd: Math.log(0.1) }));
  ts.setPolicy(actor);
  const rows = ts.policySequences(400)!;
  const firsts = Array.from({ length: 399 }, (_, r) => rows[(r + 1) * 3]!);
  const mean = firsts.reduce((s, u) => s + u, 0) / firsts.length;
  const sd = Math.sqrt(firsts.reduce((s, u) => s + (u - mean) ** 2, 0) / firsts.length);
  // a = 2 tanh(0.1 z) ≈ 0.2 z near 0
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(sd > 0.15 && sd < 0.25, `sd ${sd}`);
  assert.equal(rows[0], 0);
  model.dispose();
});
