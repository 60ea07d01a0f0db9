import type { MujocoSim } from '../../../sim/mujoco/sim.js';
import type { Logger } from '../../util/log.js';
import type { ParamSchema, ParamValues } from '../../util/param_schema.js';
import type { TensorBackendKind } from '../../tensor/backend.js';
import type { LearnedPlanning, Planner } from '../planner.js';
import type { PolicyTaking } from '../learned_policy.js';
import type { CommandInterface } from '../safety.js';
import type { PlanningTask } from '../task_costs.js';
import type { ActionOptimizer } from './sampling/optimizer.js';

// What a planner folder tells the controller about itself, as MuJoCo MPC's LoadPlanners lists its
// planners: a name (the controller's `planner` parameter value), its parameters (declared once,
// named in its own namespace: lqr.*, sampling.*, icem.*, …), what it plans with (the MJCF model,
// the learned dynamics model from the controller's model_topic, or the learned policy from its
// policy_topic), and how to make the planner from
// what the controller knows (a PlannerContext) and the parameter values. Each folder's index.ts
// exports its entry; planners/registry.ts lists them all, and the controller knows no planner by name.

/**
 * What a planner plans with: the controller's MJCF model, the learned model the controller receives,
 * either, as a parameter of its own chooses (iLQR's ilqr.dynamics), or the learned policy the
 * controller receives (it acts rather than plans).
 */
export type PlansWith = 'mjcf_model' | 'learned_model' | 'mjcf_or_learned_model' | 'learned_policy';

/** The box actions are sampled in, or the first actuator that has no ctrlrange to make one from. */
export type ActionBox = { readonly low: Float32Array; readonly high: Float32Array } | { readonly missingRange: string };

/** How the controller plans: in its tick or in a worker thread, and the work a plan may take. */
export interface PlanningSettings {
  /** plan inside the tick, or in a worker thread that replans while the command loop keeps its rate */
  readonly thread: 'inline' | 'worker';
  /** lockstep (wait_for_state): a fixed amount of work per tick, so that runs repeat */
  readonly lockstep: boolean;
  /** optimiser iterations per plan */
  readonly iterations: number;
  /** inline in real time: no iteration starts after this much planning in a tick (ms) */
  readonly timeBudgetMs: number;
  /** in a worker: a policy planned from a state older than this is stale */
  readonly maxPlanAgeNs: bigint;
  /** in a worker: the nice value of its thread */
  readonly nice: number;
  /** tensor backend for a learned model (undefined: the fastest that starts) */
  readonly backend: TensorBackendKind | undefined;
}

/** Everything the controller knows that a planner may need. */
export interface PlannerContext {
  /** the controller's MJCF model, loaded; a planner on the MJCF model keeps it (and disposes it) */
  readonly sim: MujocoSim;
  /** the same model's file, absolute: a planner in another thread loads it there */
  readonly modelPath: string;
  /** the control period: one step of a plan */
  readonly periodNs: bigint;
  readonly commandInterface: CommandInterface;
  /** the action box: each actuator's ctrlrange, within the effort limits when commands are efforts */
  actionBounds(): ActionBox;
  /** the site position goals are for ('' none) and the joints inverse kinematics may move (empty: all) */
  readonly eeSite: string;
  readonly ikJoints: readonly string[];
  /** what a planner over the learned model minimises, and its goal until one arrives (empty: the task's) */
  readonly task: PlanningTask;
  readonly taskTarget: readonly number[];
  readonly planning: PlanningSettings;
  /** before the first learned model: uniformly random actions (true) or none (false) */
  readonly explore: boolean;
  readonly seed: number;
  /** where a planner says what happened (the node's logger) */
  readonly logger: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
}

/** A planner made for the controller, and what the controller must do for it. */
export interface PlannerInstance {
  readonly planner: Planner;
  /** set (the same planner) when it plans with the learned model: it gets the models from model_topic */
  readonly learned?: LearnedPlanning;
  /** set when it takes learned policies: it gets the policies from policy_topic (the policy planner, or policy proposals) */
  readonly policies?: PolicyTaking;
  /** set when it plans in another thread: started at activate, stopped at deactivate and cleanup */
  readonly thread?: { start(): void; stop(): Promise<void> };
  /** a policy planned from a state older than this is stale, and the stop action is sent */
  readonly maxPolicyAgeNs?: bigint;
  /** why position goals (goal_topic) cannot be taken, or undefined when they can */
  positionGoalRefusal(): string | undefined;
  /** after a position goal, the state the planner regulates to, for the tracking statistics (if it has one) */
  goalState?(): Float64Array | undefined;
}

export interface PlannerEntry<S extends ParamSchema = ParamSchema> {
  /** the controller's `planner` parameter value */
  readonly name: string;
  /** one line: what it is and what it plans with */
  readonly description: string;
  /** its parameters, each name in a namespace (`lqr.r`, `sampling.horizon`) */
  readonly parameters: S;
  readonly plansWith: PlansWith;
  /** Make the planner; `values` holds at least its own parameters. */
  create(context: PlannerContext, values: ParamValues<S>): Promise<PlannerInstance>;
}

/** A sampling optimiser's run settings that are the controller's, not the optimiser's. */
export interface OptimizerRun {
  /** iterations per plan (the controller's iterations_per_tick) */
  readonly iterations: number;
  readonly seed: number;
}

/** An entry whose planner is a sampling optimiser: it also builds the optimiser alone, from the same values. */
export interface SamplingOptimizerEntry<S extends ParamSchema = ParamSchema> extends PlannerEntry<S> {
  optimizer(values: ParamValues<S>, run: OptimizerRun): ActionOptimizer;
}

/** A parameter's value as plain data (what a worker thread receives). */
export type ParamValue = boolean | number | string | readonly boolean[] | readonly number[] | readonly string[];

/** A sampling optimiser as plain data: what a planning worker, a benchmark or a harness builds one from. */
export interface OptimizerChoice {
  /** the planner's name in the registry */
  readonly planner: string;
  /** iterations per plan */
  readonly iterations: number;
  /** its parameters by name (sampling.population, icem.noise_exponent, …); absent ones take their defaults */
  readonly values: Readonly<Record<string, ParamValue | undefined>>;
}

/** Identity with inference, for a folder's index.ts. */
export function definePlanner<const S extends ParamSchema>(entry: PlannerEntry<S>): PlannerEntry<S> {
  return entry;
}
