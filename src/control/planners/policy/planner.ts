import { Rng } from '../../../util/random.js';
import type { Goal, Planner, PlanningInput } from '../../planner.js';
import type { SequencePolicy } from '../../policy.js';
import { checkPolicyFits, controllerIndex, type LearnedPolicy, type PolicyTaking } from '../../learned_policy.js';

// A learned policy as the controller's planner (MBPO's actor acting on the robot): at every tick it
// gathers the controller's state estimate x = [q, q̇] by joint name into the joint state the policy
// reads, encodes it with the policy's own encoding (sin/cos for its angle joints), and hands the
// command loop the policy's action as a one-step plan — the mean action, or with a noise scale a
// sample of the policy's distribution (as SAC collects data). The command goes through the
// controller's safety layer as every planner's does. Policies arrive from the controller's
// policy_topic and are swapped in between ticks; one that does not fit (actuators, period, joints)
// is refused, keeping the one in use. Until the first policy it explores (uniformly random actions)
// or has no policy, when the command loop sends the stop action. A policy acts for the goal it was
// trained on: goals are not its to take (state goals are kept for the tracking statistics only).

/** Actions before the first policy (../ensemble_mpc/exploration.ts's UniformExploration). */
export interface Exploration {
  readonly ticks: number;
  next(timeNs: bigint): SequencePolicy;
}

export interface PolicyPlannerSettings {
  /** the joint of each controller dof */
  readonly modelJoints: readonly string[];
  /** the controller's actuators in command order */
  readonly actuators: readonly string[];
  /** the control period (ns): a policy must act at it */
  readonly stepNs: bigint;
  /** σ scale of sampled actions; 0: the mean action */
  readonly noiseScale: number;
  readonly seed: number;
  /** before the first policy: random actions; absent: no policy (the stop action) */
  readonly exploration?: Exploration;
}

/** A policy in use and what acting with it needs. */
interface InUse {
  readonly policy: LearnedPolicy;
  /** the controller x index of each entry of the joint state the policy encodes */
  readonly gather: Int32Array;
  readonly raw: Float64Array;
  readonly obs: Float32Array;
  readonly action: Float32Array;
}

export class PolicyPlanner implements Planner, PolicyTaking {
  readonly name = 'policy';
  readonly #settings: PolicyPlannerSettings;
  readonly #rng: Rng;
  #inUse: InUse | undefined;
  #ticks = 0;

  constructor(settings: PolicyPlannerSettings) {
    if (!(settings.noiseScale >= 0 && Number.isFinite(settings.noiseScale)))
      throw new Error(`policy planner: the noise scale must be finite and ≥ 0, got ${settings.noiseScale}`);
    this.#settings = settings;
    this.#rng = new Rng(settings.seed + 3);
  }

  get policyVersion(): number {
    return this.#inUse?.policy.version ?? 0;
  }

  get policyDataEndNs(): bigint | undefined {
    return this.#inUse?.policy.dataEndNs;
  }

  get explorationTicks(): number {
    return this.#settings.exploration?.ticks ?? 0;
  }

  get exploring(): boolean {
    return !this.#inUse && this.#settings.exploration !== undefined;
  }

  setPolicy(policy: LearnedPolicy): void {
    const { actuators, stepNs, modelJoints } = this.#settings;
    checkPolicyFits(policy, { actuators, stepNs, modelJoints });
    const encoding = policy.layout.encoding;
    this.#inUse = {
      policy,
      gather: controllerIndex(modelJoints, encoding),
      raw: new Float64Array(encoding.rawSize),
      obs: new Float32Array(encoding.size),
      action: new Float32Array(actuators.length),
    };
  }

  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- Planner.setGoal's signature; a policy acts for the goal it was trained on
  setGoal(_goal: Goal, _input: PlanningInput): void {
    // state goals are the controller's tracking reference; position goals are refused before they come here
  }

  optimize(input: PlanningInput): SequencePolicy {
    const inUse = this.#inUse;
    const exploration = this.#settings.exploration;
    if (!inUse) {
      if (exploration) return exploration.next(input.timeNs);
      throw new Error('no policy yet (explore_until_model is off)');
    }
    const { policy, gather, raw, obs, action } = inUse;
    for (let i = 0; i < gather.length; i++) raw[i] = input.state[gather[i]!]!;
    policy.layout.encoding.encodeInto(raw, obs);
    const noise = this.#settings.noiseScale;
    if (noise > 0) policy.act(obs, 1, action, this.#rng, noise);
    else policy.act(obs, 1, action);
    this.#ticks++;
    return {
      kind: 'sequence',
      nu: action.length,
      startNs: input.timeNs,
      stepNs: this.#settings.stepNs,
      actions: Float64Array.from(action),
      interpolation: 'zero_order_hold',
    };
  }

  status(): Record<string, number | string> {
    return {
      mode: this.#inUse ? 'acting' : this.#settings.exploration ? 'exploring' : 'waiting for a policy',
      policy_version: this.policyVersion,
      policy_ticks: this.#ticks,
      exploration_ticks: this.explorationTicks,
      action: this.#settings.noiseScale > 0 ? `sampled (σ × ${this.#settings.noiseScale})` : 'mean',
    };
  }

  dispose(): void {
    // nothing to free (the policy's weights are plain arrays); the policy in use stays for the report
  }
}
