import type { StateEncoding } from '../../../dynamics/state_encoding.js';
import type { Rng } from '../../../util/random.js';
import type { LearnedPolicy } from '../../learned_policy.js';
import type { ProposalPolicy } from '../sampling/policy_proposals.js';

// A learned policy acting on the dynamics model's state, for the policy proposals of the sampling
// planners: the policy reads its own encoding of its own joints (the trainer's), the rollouts are in
// the model's (the learner's). Where the two are the same layout — as MBPO trains the policy on the
// model's states — the policy acts on the model's state as it is; otherwise each row is re-encoded
// by joint name: a position copied, or taken as atan2(sin, cos) where the model sees an angle the
// policy reads raw, or as (sin q, cos q) the other way round; velocities copied. A policy reading a
// joint the model does not predict cannot act on its rollouts (throws one line).

type Entry =
  | { readonly kind: 'copy'; readonly from: number }
  | { readonly kind: 'angle'; readonly sin: number; readonly cos: number }
  | { readonly kind: 'sin' | 'cos'; readonly from: number };

/** The policy over rows of the model's encoded state `model`. */
export function policyOverModel(policy: LearnedPolicy, model: StateEncoding): ProposalPolicy {
  const own = policy.layout.encoding;
  if (own.names.join(',') === model.names.join(',')) return policy;
  const entries = new Array<Entry>(own.size);
  for (const joint of own.joints) {
    if (!model.joints.includes(joint))
      throw new Error(
        `policy v${policy.version} reads joint '${joint}', which the dynamics model does not predict (it predicts ${model.describe()})`,
      );
    const to = own.position(joint);
    const from = model.position(joint);
    if (to.kind === 'raw')
      entries[to.index] =
        from.kind === 'raw' ? { kind: 'copy', from: from.index } : { kind: 'angle', sin: from.sin, cos: from.cos };
    else if (from.kind === 'angle') {
      entries[to.sin] = { kind: 'copy', from: from.sin };
      entries[to.cos] = { kind: 'copy', from: from.cos };
    } else {
      entries[to.sin] = { kind: 'sin', from: from.index };
      entries[to.cos] = { kind: 'cos', from: from.index };
    }
    entries[own.velocity(joint)] = { kind: 'copy', from: model.velocity(joint) };
  }
  const inSize = model.size;
  const outSize = own.size;
  let buffer = new Float32Array(0);
  return {
    act(obs: Float32Array, rows: number, out: Float32Array, rng?: Rng): void {
      if (buffer.length < rows * outSize) buffer = new Float32Array(rows * outSize);
      for (let r = 0; r < rows; r++) {
        const i = r * inSize;
        const o = r * outSize;
        for (let k = 0; k < outSize; k++) {
          const e = entries[k]!;
          buffer[o + k] =
            e.kind === 'copy'
              ? obs[i + e.from]!
              : e.kind === 'angle'
                ? Math.atan2(obs[i + e.sin]!, obs[i + e.cos]!)
                : e.kind === 'sin'
                  ? Math.sin(obs[i + e.from]!)
                  : Math.cos(obs[i + e.from]!);
        }
      }
      policy.act(buffer.subarray(0, rows * outSize), rows, out, rng);
    },
  };
}
