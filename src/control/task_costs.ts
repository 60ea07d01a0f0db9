import type { BatchCost, BatchTerminalCost } from './planners/ensemble_mpc/trajectory_sampling.js';
import type { StateEncoding } from '../dynamics/state_encoding.js';
import { MAX_FORCE, POLE_LENGTH, swingupCostBatch, swingupReward } from '../tasks/cartpole_swingup.js';
import { cartpoleTask } from '../tasks/cartpole.js';
import { armReachTask, type ArmActuation, type ArmDescription } from '../tasks/arm_reach.js';
import type { Task } from '../tasks/types.js';

// What a sampling planner minimises over the learned model, by task name: batch costs over
// Float32 rollouts (what trajectory sampling produces), in the task's own state layout
// x = [q, q̇] of `joints`, with the goal the task takes (none, a cart position, a point).
// Tasks whose batch cost is written for Float64 arrays are scored through Float64 scratch copies.
// A model may learn an encoded state (angles as sin and cos, src/dynamics/state_encoding.ts):
// costsOverEncoding() scores its rollouts, straight from the encoded entries where the task has
// such a form (the swing-up's tip from sin θ and cos θ), else through the decoded joint state.

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
  /** the costs read straight from states in an encoding, where the task has that form; absent: decoded */
  readonly encodedCosts?: (encoding: StateEncoding) => PlanningCosts;
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

export interface PlanningCosts {
  readonly cost: BatchCost;
  readonly terminalCost?: BatchTerminalCost;
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
        encodedCosts: (encoding) => ({ cost: swingupCostOver(encoding) }),
        goalSize: 0,
        goal: new Float64Array(0),
        setPositionGoal: () => false,
      };
    case 'cartpole_balance':
      return fromTask(name, cartpoleTask({ mode: 'balance' }), options.target, (goal, p) => (goal[0] = p[0]));
    case 'arm_reach': {
      if (!options.arm)
        throw new Error(
          `task ${name}: needs the arm's kinematic chain (a model with site 'ee' and the SO-100 actuators)`,
        );
      return fromTask(
        name,
        armReachTask(options.arm, { actuation: options.actuation ?? 'torque' }),
        options.target,
        (goal, p) => goal.set(p),
      );
    }
  }
}

/** A Task's Float64 batch cost as a Float32 one, its terminal cost row by row, and its goal. */
function fromTask(
  name: PlanningTask,
  task: Task,
  target: readonly number[] | undefined,
  place: (goal: Float64Array, position: readonly [number, number, number]) => void,
): TaskCost {
  if (target?.length && target.length !== task.goalSize)
    throw new Error(`task ${name}: a target has ${task.goalSize} values, got ${target.length}`);
  const goal = target?.length ? Float64Array.from(target) : Float64Array.from(task.defaultGoal);
  return {
    name,
    joints: task.joints,
    actuators: task.actuators,
    ...float32Costs(task, goal),
    goalSize: task.goalSize,
    goal,
    setPositionGoal(position) {
      place(goal, position);
      return true;
    },
  };
}

/**
 * A Task's Float64 costs over the planner's Float32 rollouts, toward `goal` (read at every call, so
 * the caller may change it in place): the batch cost through reused Float64 buffers, the terminal
 * cost row by row.
 */
export function float32Costs(task: Task, goal: Float64Array): { cost: BatchCost; terminalCost: BatchTerminalCost } {
  const { stateSize: nx, actionSize: nu } = task;
  let states = new Float64Array(0);
  let actions = new Float64Array(0);
  let out = new Float64Array(0);
  return {
    cost(s, a, costs) {
      if (out.length !== costs.length)
        [states, actions, out] = [
          new Float64Array(costs.length * nx),
          new Float64Array(costs.length * nu),
          new Float64Array(costs.length),
        ];
      states.set(s.subarray(0, costs.length * nx));
      actions.set(a.subarray(0, costs.length * nu));
      task.costBatch(states, actions, out, goal);
      costs.set(out);
    },
    terminalCost(s, costs) {
      for (let i = 0; i < costs.length; i++) costs[i] = task.terminalCost(s.subarray(i * nx, (i + 1) * nx), goal);
    },
  };
}

/**
 * The cart-pole swing-up cost −r over states in `encoding` (B × encoding.size, actions B × 1): the
 * pole tip from sin θ and cos θ when the hinge is angle-encoded (predicted pairs are used as they
 * are, not projected onto the circle), from θ when it is not.
 */
export function swingupCostOver(encoding: StateEncoding): BatchCost {
  const cart = encoding.position('cart_slide');
  if (cart.kind !== 'raw')
    throw new Error("task cartpole_swingup: the cart position 'cart_slide' cannot be angle-encoded");
  const pole = encoding.position('pole_hinge');
  const nx = encoding.size;
  const ix = cart.index;
  if (pole.kind === 'raw') {
    const it = pole.index;
    return (states, actions, out) => {
      for (let i = 0; i < out.length; i++)
        out[i] = -swingupReward(states[nx * i + ix]!, states[nx * i + it]!, actions[i]!);
    };
  }
  const { sin: is, cos: ic } = pole;
  const l = POLE_LENGTH;
  return (states, actions, out) => {
    for (let i = 0; i < out.length; i++) {
      const dx = states[nx * i + ix]! + l * states[nx * i + is]!;
      const dz = l * states[nx * i + ic]! - l;
      const un = actions[i]! / MAX_FORCE;
      out[i] = -(Math.exp(-(dx * dx + dz * dz) / (l * l)) - 0.01 * un * un);
    }
  };
}

/**
 * The task's costs over rollouts in a model's encoded state: the task's own encoded form when it has
 * one, its costs as they are when the encoding is the task's joint state, else its costs of the
 * decoded state (angles by atan2) gathered into the task's layout. Throws naming a task joint the
 * model does not predict.
 */
export function costsOverEncoding(task: TaskCost, encoding: StateEncoding): PlanningCosts {
  const missing = task.joints.filter((j) => !encoding.joints.includes(j));
  if (missing.length)
    throw new Error(
      `task ${task.name} over the learned model's state: joints [${missing.join(', ')}] are not among [${encoding.joints.join(', ')}]`,
    );
  if (task.encodedCosts) return task.encodedCosts(encoding);
  if (encoding.identity && encoding.joints.join(',') === task.joints.join(','))
    return { cost: task.cost, terminalCost: task.terminalCost };
  const n = task.joints.length;
  const nxTask = 2 * n;
  const position = task.joints.map((j) => encoding.position(j));
  const velocity = task.joints.map((j) => encoding.velocity(j));
  const nx = encoding.size;
  let scratch = new Float32Array(0);
  const decode = (states: Float32Array, rows: number): Float32Array => {
    if (scratch.length < rows * nxTask) scratch = new Float32Array(rows * nxTask);
    for (let r = 0; r < rows; r++) {
      const base = r * nx;
      for (let k = 0; k < n; k++) {
        const p = position[k]!;
        scratch[r * nxTask + k] =
          p.kind === 'raw' ? states[base + p.index]! : Math.atan2(states[base + p.sin]!, states[base + p.cos]!);
        scratch[r * nxTask + n + k] = states[base + velocity[k]!]!;
      }
    }
    return scratch.subarray(0, rows * nxTask);
  };
  const terminal = task.terminalCost;
  return {
    cost: (states, actions, out) => task.cost(decode(states, out.length), actions, out),
    terminalCost: terminal && ((states, out) => terminal(decode(states, out.length), out)),
  };
}
