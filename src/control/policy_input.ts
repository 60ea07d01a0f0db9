import type { LearnedPolicy, PolicyTaking } from './learned_policy.js';
import type { ModelLogLine } from './model_input.js';
import type { ModelProgress } from './tick_gate.js';

// Policy blobs from the policy trainer's latched topic (dynastack_msgs/ModelBlob of kind
// sac_policy), offered to the planner that takes policies, and the log line that says what became
// of each: the same blob again (kept), swapped in, or refused in one line — a blob the decoder
// cannot read, or a policy that does not fit the controller — with the policy in use kept. The
// decoder is given by whoever may import it (the controller node: src/rl/sac/policy_blob.ts's
// PolicyActor). It counts what it was offered, for the launcher's report.

export interface PolicyBlobFields {
  readonly kind: string;
  readonly version: number;
  readonly format: string;
  readonly metadataJson: string;
  readonly data: Uint8Array;
}

/** A blob as a policy ready to act; throws one line naming what is wrong with it. */
export type PolicyDecoder = (blob: PolicyBlobFields) => LearnedPolicy;

export interface PolicyOutcome {
  /** the planner was given a policy (its policy may have changed) */
  readonly offered: boolean;
  readonly log: ModelLogLine;
}

export class PolicyInput {
  received = 0;
  refused = 0;
  repeated = 0;
  /** what the policy in use came as, to tell a repeated blob */
  #inUse: { json: string; bytes: number; version: number } | undefined;

  constructor(
    readonly target: PolicyTaking,
    readonly decode: PolicyDecoder,
    /** the topic, for messages */
    readonly topic: string,
  ) {}

  /** Offer a blob to the planner (between ticks). */
  offer(blob: PolicyBlobFields): PolicyOutcome {
    this.received++;
    const before = this.target.policyVersion;
    const inUse = this.#inUse;
    if (
      inUse &&
      inUse.json === blob.metadataJson &&
      inUse.bytes === blob.data.length &&
      inUse.version === blob.version
    ) {
      this.repeated++;
      return {
        offered: false,
        log: { level: 'debug', message: `policy v${blob.version} repeats the one in use: kept` },
      };
    }
    try {
      const policy = this.decode(blob);
      this.target.setPolicy(policy);
      this.#inUse = { json: blob.metadataJson, bytes: blob.data.length, version: blob.version };
      const { encoding, actuators } = policy.layout;
      return {
        offered: true,
        log: {
          level: 'info',
          message: `policy v${policy.version} in use${before ? ` (was v${before})` : ''}: reads ${encoding.describe()}, acts on [${actuators.join(', ')}]`,
        },
      };
    } catch (err) {
      this.refused++;
      return {
        offered: false,
        log: {
          level: 'error',
          message: `policy v${blob.version} on ${this.topic} refused${before ? `, still using v${before}` : ''}: ${(err as Error).message}`,
        },
      };
    }
  }

  /** the figures for the launcher's report */
  metrics(): Record<string, number> {
    return {
      policy_version: this.target.policyVersion,
      policies_received: this.received,
      policies_refused: this.refused,
      policies_repeated: this.repeated,
    };
  }
}

/**
 * A planner that acts only once it has a policy, as the lockstep tick gate reads a model's
 * progress: its policy's version for the model's, and the stamp its trainer says it learned through
 * (policy.training.data_end_ns), so await_episode_model holds an episode's first tick until the
 * policy trained through the episode before arrives.
 */
export function policyProgress(target: PolicyTaking): ModelProgress {
  return {
    get modelVersion() {
      return target.policyVersion;
    },
    get explorationTicks() {
      return target.explorationTicks;
    },
    get modelDataEndNs() {
      return target.policyDataEndNs;
    },
  };
}
