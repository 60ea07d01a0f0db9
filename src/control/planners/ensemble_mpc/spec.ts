import type { MujocoSim } from '../../../../sim/mujoco/sim.js';
import { readArmDescription } from '../../../tasks/arm_reach.js';
import { LearnedModelPlanner, type LearnedModelPlannerSettings } from './planner.js';
import type { ActionOptimizer } from '../sampling/optimizer.js';
import type { OptimizerChoice } from '../entry.js';
import { taskCost, type PlanningTask, type TaskCost } from '../../task_costs.js';

// Everything that makes the controller's planner over the learned model, as plain data: the
// controller builds its planner from it on its own thread, or posts it to a planning worker
// (planning_worker.ts), which builds the same planner there. The optimiser travels as its planner's
// name and parameter values: the controller's thread builds it with its entry's factory, the worker
// asks the registry (planners/registry.ts) for the same entry's factory by name. The arm-reach cost
// needs the arm's kinematic chain, which is read from the MJCF model (a worker loads the file itself).

/** The planner's settings with its optimiser and task cost as data (names and settings), plus what they need. */
export interface LearnedPlanningSpec extends Omit<LearnedModelPlannerSettings, 'optimizer' | 'task'> {
  /** the controller's MJCF model, absolute path */
  readonly modelPath: string;
  /** the optimiser: its planner's name in the registry, its parameter values and iterations (its seed is `seed`) */
  readonly optimizer: OptimizerChoice;
  readonly task: PlanningTask;
  /** the task goal until one arrives (empty: the task default) */
  readonly taskTarget: readonly number[];
  /** arm reach: torque (effort commands) or position actuators */
  readonly actuation: 'position' | 'torque';
}

/** The task's costs; `sim` is the controller's model, needed by arm reach. */
export function planningTask(spec: LearnedPlanningSpec, sim: MujocoSim | undefined): TaskCost {
  if (spec.task === 'arm_reach' && !sim)
    throw new Error('task arm_reach: needs the loaded MJCF model to read the arm from');
  return taskCost(spec.task, {
    target: spec.taskTarget,
    arm: spec.task === 'arm_reach' ? readArmDescription(sim!) : undefined,
    actuation: spec.actuation,
  });
}

/** The planner the spec describes, with the optimiser the registry built from `spec.optimizer`. */
export function buildLearnedPlanner(
  spec: LearnedPlanningSpec,
  task: TaskCost,
  optimizer: ActionOptimizer,
): LearnedModelPlanner {
  return new LearnedModelPlanner({
    optimizer,
    task,
    modelJoints: spec.modelJoints,
    actuators: spec.actuators,
    actionLow: spec.actionLow,
    actionHigh: spec.actionHigh,
    stepNs: spec.stepNs,
    budget: spec.budget,
    horizon: spec.horizon,
    particles: spec.particles,
    propagation: spec.propagation,
    explore: spec.explore,
    seed: spec.seed,
  });
}
