import type { PlannerContext, PlannerInstance } from '../entry.js';
import { taskCost } from '../../task_costs.js';
import { readArmDescription } from '../../../tasks/arm_reach.js';
import type { TrajectoryObjective } from '../trajectory/planner_objective.js';
import { LearnedIlqrPlanner } from './learned_planner.js';

// How the iLQR entry makes its planner over the learned model (inline: lockstep PETS runs plan in
// the tick): the controller's action box for exploration and the box QP, the joints the cost reads
// (a model must predict them), and a copy of the controller's model for the costs' kinematics.

export interface LearnedIlqrOptions {
  readonly horizon: number;
  readonly objective: TrajectoryObjective;
  readonly limits: { readonly low: Float64Array; readonly high: Float64Array } | undefined;
  readonly positionGoalRefusal: () => string | undefined;
}

export function createLearnedIlqr(context: PlannerContext, o: LearnedIlqrOptions): Promise<PlannerInstance> {
  const sim = context.sim;
  if (context.planning.thread === 'worker')
    context.logger.info(
      'iLQR over the learned model plans inline (in the tick): the planning worker is for the MJCF model',
    );
  const box = context.actionBounds();
  if ('missingRange' in box)
    throw new Error(
      `planner ilqr (learned): actuator '${box.missingRange}' has no ctrlrange to explore and plan within`,
    );
  const joints = sim.info.joints.map((j) => j.name);
  let costJoints = joints;
  let takesGoals = true;
  if (o.objective.kind === 'task') {
    const task = taskCost(o.objective.task, {
      target: o.objective.target,
      ...(o.objective.task === 'arm_reach' ? { arm: readArmDescription(sim) } : {}),
    });
    costJoints = [...task.joints];
    takesGoals = task.goalSize > 0;
  }
  const planner = new LearnedIlqrPlanner(sim.clone(), {
    horizon: o.horizon,
    stepNs: context.periodNs,
    iterations: context.planning.iterations,
    ...(o.limits ? { controlLimits: o.limits } : {}),
    objective: o.objective,
    site: context.eeSite,
    modelJoints: joints,
    actionLow: box.low,
    actionHigh: box.high,
    explore: context.explore,
    seed: context.seed,
    costJoints,
    takesGoals,
  });
  const dispose = planner.dispose.bind(planner);
  planner.dispose = () => {
    dispose();
    sim.dispose();
  };
  return Promise.resolve({ planner, learned: planner, positionGoalRefusal: o.positionGoalRefusal });
}
