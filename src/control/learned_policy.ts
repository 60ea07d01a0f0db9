import type { StateEncoding } from '../dynamics/state_encoding.js';
import type { Rng } from '../util/random.js';

// A learned policy as the controller runs it: a network from the encoded state of named joints to
// the actions of named actuators at one control period, which carries that layout with it (the
// policy trainer's PolicyModel, run by src/rl/sac/policy_blob.ts's PolicyActor, fits this shape;
// the controller node decodes blobs, as control may not import rl). Who takes policies — the policy
// planner, a sampling planner proposing the policy's sequences — checks each against the controller
// here (its actuators, its period, its joints among the controller's) and refuses a misfit in one
// line, keeping the policy in use; a policy that fits is swapped in between ticks.

/** What a policy reads and writes. */
export interface LearnedPolicyLayout {
  /** the observation: the encoded [q, q̇] of these joints (sin/cos for its angle joints) */
  readonly encoding: StateEncoding;
  /** the actions, in this order */
  readonly actuators: readonly string[];
  /** the control period it acts at (ns) */
  readonly periodNs: bigint;
}

export interface LearnedPolicy {
  readonly version: number;
  /** the stamp of the newest state the policy was trained through, when its trainer says (lockstep episodes wait for it) */
  readonly dataEndNs?: bigint;
  readonly layout: LearnedPolicyLayout;
  /**
   * Actions into out [rows × actuators] (actuator units) for encoded observations obs [rows × size]:
   * the mean action, or with a noise source samples of the policy's distribution (σ × stdScale).
   */
  act(obs: Float32Array, rows: number, out: Float32Array, rng?: Rng, stdScale?: number): void;
}

/** What a controller needs a policy to agree with. */
export interface PolicyFit {
  /** the controller's actuators in command order */
  readonly actuators: readonly string[];
  /** the control period (ns) */
  readonly stepNs: bigint;
  /** the joint of each controller dof: x = [q (nv), q̇ (nv)] */
  readonly modelJoints: readonly string[];
}

/** Throws one line saying how the policy does not fit the controller. */
export function checkPolicyFits(policy: LearnedPolicy, fit: PolicyFit): void {
  const { actuators, periodNs, encoding } = policy.layout;
  const v = `policy v${policy.version}`;
  if (actuators.join(',') !== fit.actuators.join(','))
    throw new Error(`${v} acts on [${actuators.join(', ')}], the controller commands [${fit.actuators.join(', ')}]`);
  if (periodNs !== fit.stepNs)
    throw new Error(
      `${v} acts every ${Number(periodNs) / 1e6} ms, the control period is ${Number(fit.stepNs) / 1e6} ms`,
    );
  const missing = encoding.joints.filter((j) => !fit.modelJoints.includes(j));
  if (missing.length)
    throw new Error(
      `${v} reads joints [${missing.join(', ')}], which the controller's model [${fit.modelJoints.join(', ')}] does not have`,
    );
}

/** Where each entry of the joint state [q, q̇] a policy encodes sits in the controller's x = [q (nv), q̇ (nv)]. */
export function controllerIndex(modelJoints: readonly string[], encoding: StateEncoding): Int32Array {
  const nv = modelJoints.length;
  const n = encoding.joints.length;
  const index = new Int32Array(2 * n);
  encoding.joints.forEach((joint, i) => {
    const k = modelJoints.indexOf(joint);
    if (k < 0) throw new Error(`joint '${joint}' is not among the controller's [${modelJoints.join(', ')}]`);
    index[i] = k;
    index[n + i] = nv + k;
  });
  return index;
}

/** A planner that takes policies between ticks (the controller hands it each one from policy_topic). */
export interface PolicyTaking {
  /** the version of the policy in use (0: none yet) */
  readonly policyVersion: number;
  /** the policy in use's training data end (undefined: none yet, or its trainer did not say) */
  readonly policyDataEndNs: bigint | undefined;
  /** ticks commanded by exploration before the first policy (lockstep holds read it) */
  readonly explorationTicks: number;
  /** Take a policy: call between ticks. Throws one line, keeping the policy in use, when it does not fit. */
  setPolicy(policy: LearnedPolicy): void;
}
