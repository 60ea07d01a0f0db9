import type { MujocoSim } from '../../sim/mujoco/sim.js';

// A task: what the controller is asked to do with a model, independent of ROS and of who computes
// the dynamics (MuJoCo, a learned ensemble, hardware). Planners score states and actions with it;
// the sim bridge and the RL loop use observe/terminated.
//
// Vectors are plain numbers: the state x = [q, q̇] of the task's joints (in `joints` order), the
// action u = one value per actuator (in `actuators` order), the goal a small vector whose meaning
// the task documents (a cart position, a target point). Plain vectors cross worker threads and
// CDR messages unchanged.

export interface Task {
  readonly name: string;
  /** the MJCF, relative to the package root, e.g. 'sim/models/cartpole.xml' */
  readonly modelFile: string;
  /** the keyframe an episode starts from */
  readonly initialKeyframe: string;
  /** joints whose positions then velocities make the state */
  readonly joints: readonly string[];
  /** actuators, in action order */
  readonly actuators: readonly string[];
  /** nx = 2 × joints.length */
  readonly stateSize: number;
  /** nu = actuators.length */
  readonly actionSize: number;
  /** the action box (the model's ctrlrange) */
  readonly actionLow: Float64Array;
  readonly actionHigh: Float64Array;
  readonly goalSize: number;
  /** the goal used when none is given */
  readonly defaultGoal: Float64Array;

  /** The state x from the simulation, written to `out` when given. */
  observe(sim: MujocoSim, out?: Float64Array): Float64Array;
  /** The running cost of taking u in x (per control step). */
  cost(x: ArrayLike<number>, u: ArrayLike<number>, goal?: ArrayLike<number>): number;
  /** The cost of ending a horizon in x. */
  terminalCost(x: ArrayLike<number>, goal?: ArrayLike<number>): number;
  /**
   * cost() for N pairs at once: states N × nx and actions N × nu, row-major; out has N entries.
   * Allocation-free, for samplers that score thousands of rollouts per tick.
   */
  costBatch(states: Float64Array, actions: Float64Array, out: Float64Array, goal?: ArrayLike<number>): Float64Array;
  /** Whether an episode must stop in x (failure, or a non-finite state). */
  terminated(x: ArrayLike<number>): boolean;
  /** The state the task drives toward, when there is a single one (LQR set-points). */
  goalState?(goal?: ArrayLike<number>): Float64Array;
}

/** [q, q̇] of the named joints (hinge or slide), in order. */
export function observeJoints(
  sim: MujocoSim,
  joints: readonly string[],
  out: Float64Array = new Float64Array(2 * joints.length),
): Float64Array {
  const n = joints.length;
  for (let i = 0; i < n; i++) {
    out[i] = sim.jointQpos(joints[i]!);
    out[n + i] = sim.jointQvel(joints[i]!);
  }
  return out;
}

/** Throw unless the batch arrays hold out.length states and actions. */
export function checkBatch(
  task: Pick<Task, 'name' | 'stateSize' | 'actionSize'>,
  states: Float64Array,
  actions: Float64Array,
  out: Float64Array,
): number {
  const n = out.length;
  if (states.length !== n * task.stateSize || actions.length !== n * task.actionSize) {
    throw new Error(
      `${task.name} costBatch: for ${n} costs expected ${n * task.stateSize} state and ${n * task.actionSize} action values, got ${states.length} and ${actions.length}`,
    );
  }
  return n;
}

/** The goal to use: the given one (checked for size) or the task's default. */
export function goalOrDefault(
  task: Pick<Task, 'name' | 'goalSize' | 'defaultGoal'>,
  goal: ArrayLike<number> | undefined,
): ArrayLike<number> {
  if (goal === undefined) return task.defaultGoal;
  if (goal.length !== task.goalSize)
    throw new Error(`${task.name}: a goal has ${task.goalSize} values, got ${goal.length}`);
  return goal;
}

/** Whether every entry is a finite number. */
export function allFinite(x: ArrayLike<number>): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return false;
  return true;
}
