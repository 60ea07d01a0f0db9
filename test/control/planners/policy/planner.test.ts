import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyPlanner } from '../../../../src/control/planners/policy/planner.js';
import { UniformExploration } from '../../../../src/control/planners/ensemble_mpc/exploration.js';
import { PolicyActor } from '../../../../src/rl/sac/policy_blob.js';
import { linearPolicyAction, linearPolicyModel, type LinearPolicy } from '../../policies.js';

// The policy planner on its own: the controller's state gathered by joint name and encoded with the
// policy's own encoding, the mean action (or seeded samples) as a one-step plan, a policy that does
// not fit refused in one line with the one in use kept, and exploration or no policy before the first.

const PERIOD_NS = 10_000_000n;
const MODEL_JOINTS = ['cart_slide', 'pole_hinge'];
/** the policy reads its joints in another order, the pole as (sin, cos): [sin θ, cos θ, x, θ̇, ẋ] */
const POLICY: LinearPolicy = {
  joints: ['pole_hinge', 'cart_slide'],
  angleJoints: ['pole_hinge'],
  actuators: ['cart_force'],
  low: [-20],
  high: [20],
  periodNs: PERIOD_NS,
  gains: [[0.1, 0.2, 0.3, 0.4, 0.5]],
  bias: [-0.05],
};
const actor = (p: Partial<LinearPolicy> = {}): PolicyActor => new PolicyActor(linearPolicyModel({ ...POLICY, ...p }));

function planner(options: { explore?: boolean; noiseScale?: number; seed?: number } = {}): PolicyPlanner {
  return new PolicyPlanner({
    modelJoints: MODEL_JOINTS,
    actuators: ['cart_force'],
    stepNs: PERIOD_NS,
    noiseScale: options.noiseScale ?? 0,
    seed: options.seed ?? 0,
    ...(options.explore
      ? { exploration: new UniformExploration(Float32Array.of(-20), Float32Array.of(20), PERIOD_NS, 2) }
      : {}),
  });
}

/** x = [x, θ, ẋ, θ̇] in the controller's order */
const X = Float64Array.of(0.3, 0.5, -0.2, 1.0);
/** the same state in the policy's encoding */
const ENCODED = [Math.sin(0.5), Math.cos(0.5), 0.3, 1.0, -0.2];

test("the mean action of the policy at the controller's state, mapped by joint name and encoded as the policy encodes it", () => {
  const p = planner();
  p.setPolicy(actor());
  assert.equal(p.policyVersion, 1);
  const plan = p.optimize({ timeNs: 5n * PERIOD_NS, state: X });
  const expected = linearPolicyAction(POLICY, ENCODED)[0]!;
  assert.equal(plan.kind, 'sequence');
  assert.equal(plan.nu, 1);
  assert.equal(plan.startNs, 5n * PERIOD_NS);
  assert.equal(plan.stepNs, PERIOD_NS);
  assert.equal(plan.actions.length, 1);
  assert.ok(Math.abs(plan.actions[0]! - expected) < 1e-4, `${plan.actions[0]} vs ${expected}`);
  // the same state, the same action: the mean is deterministic
  assert.equal(p.optimize({ timeNs: 6n * PERIOD_NS, state: X }).actions[0], plan.actions[0]);
  assert.equal(p.status()['mode'], 'acting');
  assert.equal(p.status()['policy_ticks'], 2);
});

test('a policy that does not fit is refused in one line naming the mismatch, and the one in use acts on', () => {
  const p = planner();
  p.setPolicy(actor());
  const before = p.optimize({ timeNs: 0n, state: X }).actions[0];
  const misfits: [Partial<LinearPolicy>, RegExp][] = [
    [{ actuators: ['push'] }, /policy v2 acts on \[push\], the controller commands \[cart_force\]$/],
    [{ periodNs: 20_000_000n }, /policy v2 acts every 20 ms, the control period is 10 ms$/],
    [
      { joints: ['pole_hinge', 'elbow'], angleJoints: [], gains: [[0, 0, 0, 0]] },
      /policy v2 reads joints \[elbow\], which the controller's model \[cart_slide, pole_hinge\] does not have$/,
    ],
  ];
  for (const [change, message] of misfits) {
    assert.throws(() => p.setPolicy(actor({ ...change, version: 2 })), message);
    assert.equal(p.policyVersion, 1);
    assert.equal(p.optimize({ timeNs: 0n, state: X }).actions[0], before);
  }
  // a policy that fits replaces it between ticks
  p.setPolicy(actor({ version: 3, bias: [0.4] }));
  assert.equal(p.policyVersion, 3);
  assert.notEqual(p.optimize({ timeNs: 0n, state: X }).actions[0], before);
});

test('before the first policy: uniformly random actions with exploration, else no policy (the stop action)', () => {
  const exploring = planner({ explore: true });
  assert.ok(exploring.exploring);
  const drawn = [0, 1, 2, 3, 4].map((k) => exploring.optimize({ timeNs: BigInt(k) * PERIOD_NS, state: X }).actions[0]!);
  assert.ok(drawn.every((u) => u >= -20 && u <= 20));
  assert.equal(new Set(drawn).size, drawn.length, 'a fresh action every tick');
  assert.equal(exploring.explorationTicks, 5);
  assert.equal(exploring.status()['mode'], 'exploring');
  exploring.setPolicy(actor());
  assert.ok(!exploring.exploring);
  assert.equal(exploring.explorationTicks, 5);

  const waiting = planner();
  assert.throws(() => waiting.optimize({ timeNs: 0n, state: X }), /no policy yet/);
  assert.equal(waiting.status()['mode'], 'waiting for a policy');
});

test("with a noise scale: samples of the policy's distribution around its mean, repeated under a seed", () => {
  const run = (seed: number, noiseScale: number): number[] => {
    const p = planner({ noiseScale, seed });
    p.setPolicy(actor({ bias: [0], gains: [[0, 0, 0, 0, 0]], logStd: Math.log(0.5) }));
    return Array.from({ length: 200 }, (_, k) => p.optimize({ timeNs: BigInt(k) * PERIOD_NS, state: X }).actions[0]!);
  };
  const a = run(7, 1);
  assert.deepEqual(run(7, 1), a);
  assert.notDeepEqual(run(8, 1), a);
  assert.ok(
    run(7, 0).every((u) => u === 0),
    'the mean of tanh(0) is the centre',
  );
  // a = 20 tanh(0.5 z): symmetric about 0, within the box
  const mean = a.reduce((s, u) => s + u, 0) / a.length;
  assert.ok(Math.abs(mean) < 2, `mean ${mean}`);
  assert.ok(a.every((u) => Math.abs(u) < 20));
  const spread = Math.sqrt(a.reduce((s, u) => s + u * u, 0) / a.length);
  assert.ok(spread > 5 && spread < 12, `spread ${spread}`);
});
