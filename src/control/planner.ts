import type { Policy } from './policy.js';
import type { StateEncoding } from '../dynamics/state_encoding.js';

// The planner interface, as MuJoCo MPC has it: a planner improves a policy from the current state
// (as often as it can, or a fixed budget per tick in lockstep), and the command loop evaluates the
// newest policy at its own fixed rate. One folder per planner under src/control/planners/, each
// listed once in planners/registry.ts. A planner over the learned dynamics model is also a
// LearnedPlanning: the controller hands it each model blob, resets it at episode starts and
// reports its figures, whichever planner it is.

/** What the controller is asked to reach. */
export type Goal =
  /** a full model state x = [q (nv), q̇ (nv)] to regulate to */
  | { readonly kind: 'state'; readonly state: Float64Array }
  /** an end-effector position (m) for the controller's site */
  | { readonly kind: 'position'; readonly position: readonly [number, number, number] };

export interface PlanningInput {
  /** the controller's clock (ns) */
  readonly timeNs: bigint;
  /** the current state estimate x = [q (nv), q̇ (nv)] in model order */
  readonly state: Float64Array;
}

export interface Planner {
  readonly name: string;
  /** take a new goal; the next `optimize` plans for it */
  setGoal(goal: Goal, input: PlanningInput): void;
  /** improve and return the policy for the current state */
  optimize(input: PlanningInput): Policy;
  /** figures for /diagnostics */
  status(): Record<string, number | string>;
  dispose(): void;
}

/** What the controller needs of a planner over the learned dynamics model, on its own thread or in a worker. */
export interface LearnedPlanning extends Planner {
  /** the version of the model in use (0: none yet) */
  readonly modelVersion: number;
  /** ticks commanded by exploration so far */
  readonly explorationTicks: number;
  readonly exploring: boolean;
  /** does the task take position goals */
  readonly takesGoals: boolean;
  /** the stamp of the newest state the newest accepted model was trained on, when its learner said */
  readonly modelDataEndNs: bigint | undefined;
  /** Take a model blob; throws, keeping the model in use, when it does not fit the controller. */
  setModel(
    metadataJson: string,
    data: Uint8Array,
    version: number,
  ): { readonly layout: { readonly encoding: StateEncoding }; readonly repeated: boolean };
  /** forget the warm start (a new episode) */
  reset(): void;
  /** figures for the launcher's report */
  metrics(): Record<string, number>;
}
