import type { Policy } from './policy.js';

// The planner interface, as MuJoCo MPC has it: a planner improves a policy from the current state
// (as often as it can, or a fixed budget per tick in lockstep), and the command loop evaluates the
// newest policy at its own fixed rate. One folder per planner under src/control/planners/.

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
