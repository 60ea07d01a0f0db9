import { StateEncoding } from '../../src/dynamics/state_encoding.js';
import { policyModel, type PolicyModel } from '../../src/rl/sac/policy_blob.js';

// Hand-made policy models for tests: soft actor-critic's actor (one ReLU hidden layer) with weights
// set so that its mean action is a known function of the encoded state, as the policy trainer
// would publish it. Hidden unit pairs carry relu(g·s) and relu(−g·s), whose difference is g·s, so the
// network's head is exactly μ_i = g_i · s + b_i and the mean action a_i = centre_i + half_i · tanh(μ_i).

export interface LinearPolicy {
  readonly joints: readonly string[];
  readonly angleJoints?: readonly string[];
  readonly actuators: readonly string[];
  readonly low: readonly number[];
  readonly high: readonly number[];
  readonly periodNs: bigint;
  /** per actuator, a weight per encoded state entry (the encoding's names order) */
  readonly gains: readonly (readonly number[])[];
  /** per actuator (default 0) */
  readonly bias?: readonly number[];
  /** log σ of every action (default −1) */
  readonly logStd?: number;
  readonly version?: number;
}

/** The policy model whose mean action is centre + half · tanh(gains · s + bias). */
export function linearPolicyModel(p: LinearPolicy): PolicyModel {
  const encoding = new StateEncoding(p.joints, p.angleJoints ?? []);
  const obs = encoding.size;
  const A = p.actuators.length;
  if (p.gains.length !== A || p.gains.some((g) => g.length !== obs))
    throw new Error(`linear policy: gains must be ${A} rows of ${obs} (${encoding.describe()})`);
  const hidden = 2 * A;
  const kernel0 = new Float32Array(obs * hidden);
  for (let k = 0; k < obs; k++)
    for (let i = 0; i < A; i++) {
      kernel0[k * hidden + 2 * i] = p.gains[i]![k]!;
      kernel0[k * hidden + 2 * i + 1] = -p.gains[i]![k]!;
    }
  const kernel1 = new Float32Array(hidden * 2 * A);
  for (let i = 0; i < A; i++) {
    kernel1[2 * i * 2 * A + i] = 1;
    kernel1[(2 * i + 1) * 2 * A + i] = -1;
  }
  const bias1 = new Float32Array(2 * A);
  for (let i = 0; i < A; i++) {
    bias1[i] = p.bias?.[i] ?? 0;
    bias1[A + i] = p.logStd ?? -1;
  }
  return policyModel(
    [
      { name: 'actor/dense0/kernel', shape: [obs, hidden], values: kernel0 },
      { name: 'actor/dense0/bias', shape: [hidden], values: new Float32Array(hidden) },
      { name: 'actor/dense1/kernel', shape: [hidden, 2 * A], values: kernel1 },
      { name: 'actor/dense1/bias', shape: [2 * A], values: bias1 },
    ],
    { encoding, actuators: p.actuators, low: p.low, high: p.high, periodNs: p.periodNs, hidden: [hidden] },
    p.version ?? 1,
  );
}

/** The mean action linearPolicyModel's policy takes at an encoded state s (the reference the tests compare with). */
export function linearPolicyAction(p: LinearPolicy, s: ArrayLike<number>): number[] {
  return p.actuators.map((_, i) => {
    let mu = p.bias?.[i] ?? 0;
    p.gains[i]!.forEach((g, k) => (mu += g * s[k]!));
    const centre = (p.low[i]! + p.high[i]!) / 2;
    const half = (p.high[i]! - p.low[i]!) / 2;
    return centre + half * Math.tanh(mu);
  });
}
