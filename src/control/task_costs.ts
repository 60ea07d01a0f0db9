import type { BatchCost, BatchTerminalCost } from '../dynamics/trajectory_sampling.js';
import { swingupCostBatch } from '../tasks/cartpole_swingup.js';
import { cartpoleTask } from '../tasks/cartpole.js';
import { armReachTask, type ArmActuation, type ArmDescription } from '../tasks/arm_reach.js';
import type { Task } from '../tasks/types.js';

// What a sampling planner minimises over the learned model, by task name: batch costs over
// Float32 rollouts (what trajectory sampling produces), in the task's own state layout
// x = [q, q̇] of `joints`, with the goal the task takes (none, a cart position, a point).
// Tasks whose batch cost is written for Float64 arrays are scored through Float64 scratch copies.

export const PLANNING_TASKS = ['cartpole_swingup', 'cartpole_balance', 'arm_reach'] as const;
export type PlanningTask = (typeof PLANNING_TASKS)[number];

export interface TaskCost {
  readonly name: PlanningTask;
  /** joints whose positions then velocities are the state the costs read, in order */
  readonly joints: readonly string[];
  /** actuators in action order */
  readonly actuators: readonly string[];
  readonly cost: BatchCost;
  readonly terminalCost?: BatchTerminalCost;
  /** values of a goal (0: the task takes none) */
  readonly goalSize: number;
  /** the goal in use (empty when the task takes none) */
  readonly goal: Float64Array;
  /**
   * Take an end-effector position goal [x, y, z] (m): arm reach aims the end effector at it,
   * cart-pole balance moves the cart to its x. Returns false when the task takes no goal.
   */
  setPositionGoal(position: readonly [number, number, number]): boolean;
}

export interface TaskCostOptions {
  /** the task's default goal replaced (arm reach: [x, y, z]; cart-pole balance: [cart x]) */
  readonly target?: readonly number[];
  /** arm reach: the chain to `ee` and the action box, read from the controller's model */
  readonly arm?: ArmDescription;
  /** arm reach: torque (effort commands) or position actuators */
  readonly actuation?: ArmActuation;
}

export function taskCost(name: PlanningTask, options: TaskCostOptions = {}): TaskCost {
  switch (name) {
    case 'cartpole_swingup':
      if (options.target?.length) throw new Error(`task ${name}: takes no target, got [${options.target.join(', ')}]`);
      return {
        name,
        joints: ['cart_slide', 'pole_hinge'],
        actuators: ['cart_force'],
        cost: swingupCostBatch,
        goalSize: 0,
        goal: new Float64Array(0),
        setPositionGoal: () => false,
      };
    case 'cartpole_balance':
      return fromTask(name, cartpoleTask({ mode: 'balance' }), options.target, (goal, p) => (goal[0] = p[0]));
    case 'arm_reach': {
      if (!options.arm) throw new Error(`task ${name}: needs the arm's kinematic chain (a model with site 'ee' and the SO-100 actuators)`);
      return fromTask(name, armReachTask(options.arm, { actuation: options.actuation ?? 'torque' }), options.target, (goal, p) => goal.set(p));
    }
  }
}

/** A Task's Float64 batch cost as a Float32 one, its terminal cost row by row, and its goal. */
function fromTask(name: PlanningTask, task: Task, target: readonly number[] | undefined, place: (goal: Float64Array, position: readonly [number, number, number]) => void): TaskCost {
  const { stateSize: nx, actionSize: nu } = task;
  if (target?.length && target.length !== task.goalSize) throw new Error(`task ${name}: a target has ${task.goalSize} values, got ${target.length}`);
  const goal = target?.length ? Float64Array.from(target) : Float64Array.from(task.defaultGoal);
  let states = new Float64Array(0);
  let actions = new Float64Array(0);
  let out = new Float64Array(0);
  const grow = (n: number): void => {
    if (out.length === n) return;
    states = new Float64Array(n * nx);
    actions = new Float64Array(n * nu);
    out = new Float64Array(n);
  };
  return {
    name,
    joints: task.joints,
    actuators: task.actuators,
    cost(s, a, costs) {
      grow(costs.length);
      states.set(s.subarray(0, costs.length * nx));
      actions.set(a.subarray(0, costs.length * nu));
      task.costBatch(states, actions, out, goal);
      costs.set(out);
    },
    terminalCost(s, costs) {
      for (let i = 0; i < costs.length; i++) costs[i] = task.terminalCost(s.subarray(i * nx, (i + 1) * nx), goal);
    },
    goalSize: task.goalSize,
    goal,
    setPositionGoal(position) {
      place(goal, position);
      return true;
    },
  };
}
