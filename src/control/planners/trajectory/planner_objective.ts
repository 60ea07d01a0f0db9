import type { MujocoSim } from '../../../../sim/mujoco/sim.js';
import type { Goal } from '../../planner.js';
import type { PlanningTask } from '../../task_costs.js';
import { goalCost, taskResidualCost, type GoalWeights } from './objectives.js';
import { ResidualCost } from './residual_cost.js';
import { velocityTerm } from './residual_terms.js';
import { norm } from './norms.js';

// What a trajectory-optimiser planner (iLQR, gradient shooting) minimises as goals come, and how
// its warm start follows the clock — one place, so that the planners built on it agree:
//  - a task objective has its cost from the start; a position goal gives the task a new target
//    (arm reach: the point; cart-pole balance: the cart's x) and the controller's hold-the-first-
//    state goal, sent at its first tick, leaves the task as it is;
//  - a goal objective has no cost until the first goal (state, or end-effector position for the
//    ee_site); meanwhile the optimiser is built with a placeholder that is never optimised.

/** What the planner minimises: goals as they come, or a named task toward its target. */
export type TrajectoryObjective =
  | { readonly kind: 'goal'; readonly weights: GoalWeights }
  | { readonly kind: 'task'; readonly task: PlanningTask; readonly target: readonly number[] };

export class PlannerObjective {
  readonly #kinematics: MujocoSim;
  readonly #objective: TrajectoryObjective;
  readonly #site: string | undefined;
  #cost: ResidualCost;
  #ready: boolean;
  #description: string;

  /** `kinematics` is the controller's model, read by the costs (site positions, hold controls); `site` '' for none */
  constructor(kinematics: MujocoSim, objective: TrajectoryObjective, site: string) {
    this.#kinematics = kinematics;
    this.#objective = objective;
    this.#site = site || undefined;
    if (objective.kind === 'task') {
      this.#cost = taskResidualCost(kinematics, objective.task, Float64Array.from(objective.target), this.#site);
      this.#ready = true;
      this.#description = `task ${objective.task}`;
    } else {
      this.#cost = placeholderCost(kinematics, objective.weights);
      this.#ready = false;
      this.#description = 'no goal yet';
    }
  }

  /** the cost to optimise (the placeholder until a goal objective's first goal) */
  get cost(): ResidualCost {
    return this.#cost;
  }

  /** whether there is a cost worth optimising */
  get ready(): boolean {
    return this.#ready;
  }

  /** what is being minimised, for the planner's status */
  get description(): string {
    return this.#description;
  }

  /**
   * Take a goal: the new cost, or undefined when the goal leaves the objective as it is (a task's
   * state goal). Throws a GoalRefusal (objectives.ts) when the model cannot be held at a state goal.
   */
  setGoal(goal: Goal): ResidualCost | undefined {
    const objective = this.#objective;
    if (objective.kind === 'goal') {
      this.#cost = goalCost(this.#kinematics, goal, objective.weights, this.#site);
      this.#description =
        goal.kind === 'state' ? 'state goal' : `position goal [${goal.position.map((v) => v.toFixed(3)).join(', ')}] m`;
    } else {
      if (goal.kind === 'state') return undefined;
      const target = taskTargetFor(objective.task, goal.position);
      this.#cost = taskResidualCost(this.#kinematics, objective.task, target, this.#site);
      this.#description = `task ${objective.task} toward [${Array.from(target, (v) => v.toFixed(3)).join(', ')}]`;
    }
    this.#ready = true;
    return this.#cost;
  }
}

/** Why the objective takes no position goal, or undefined when it does: a goal objective needs the ee_site; the swing-up has no target to move. */
export function positionGoalRefusal(objective: TrajectoryObjective, site: string): string | undefined {
  if (objective.kind === 'goal') return site ? undefined : 'no ee_site to reach for';
  return objective.task === 'cartpole_swingup' ? `task ${objective.task} takes no goal` : undefined;
}

/**
 * How a warm start follows the clock from the last plan's start to this one's: the knots to shift
 * by (rounded to the nearest), 'reset' when time went back (a new episode, a rewound bag), undefined
 * before the first plan.
 */
export function warmStartShift(
  lastStartNs: bigint | undefined,
  timeNs: bigint,
  stepNs: bigint,
): number | 'reset' | undefined {
  if (lastStartNs === undefined) return undefined;
  if (timeNs < lastStartNs) return 'reset';
  return Number((timeNs - lastStartNs + stepNs / 2n) / stepNs);
}

/** A cost to build the optimiser with before the first goal (never optimised: the planners refuse to plan without a goal). */
function placeholderCost(sim: MujocoSim, weights: GoalWeights): ResidualCost {
  const { nv, nu, joints } = sim.info;
  const dofs = joints.map((j) => j.dofAdr);
  return new ResidualCost(2 * nv, nu, [
    velocityTerm('velocity', nv, dofs, new Array<number>(nv).fill(weights.velocity), norm('quadratic'), {
      weight: 1,
      terminalWeight: 1,
    }),
  ]);
}

/** A task's target from a position goal: arm reach aims at the point, cart-pole balance moves the cart to its x. */
function taskTargetFor(task: PlanningTask, p: readonly [number, number, number]): Float64Array {
  switch (task) {
    case 'arm_reach':
      return Float64Array.from(p);
    case 'cartpole_balance':
      return Float64Array.of(p[0]);
    case 'cartpole_swingup':
      throw new Error('task cartpole_swingup takes no goal');
  }
}
