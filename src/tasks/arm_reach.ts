import { join } from 'node:path';
import { makeForwardKinematics, type ForwardKinematics, type KinematicChain } from '../../sim/mujoco/kinematics.js';
import { MujocoSim } from '../../sim/mujoco/sim.js';
import { packageRoot } from '../util/paths.js';
import { allFinite, checkBatch, goalOrDefault, observeJoints, type Task } from './types.js';

// Reaching with the SO-100/SO-101 arm: bring the end-effector site `ee` to a target point.
// State x = [q (6), q̇ (6)] of SO_ARM_JOINTS; action u = 6 actuator controls, torques (N·m, so_arm.xml)
// or target angles (rad, so_arm_position.xml); goal = target [x, y, z] in metres, world frame.
//
// Cost = position ‖ee(q) − target‖² + action ‖u‖² (torque), or action ‖u − q‖² (position: what the
// servo is asked beyond where it is) + velocity ‖q̇‖². ee(q) is forward kinematics in plain
// TypeScript, built from the model's body tree, so batches of states are scored without MuJoCo.

export const SO_ARM_JOINTS = [
  'shoulder_pan',
  'shoulder_lift',
  'elbow_flex',
  'wrist_flex',
  'wrist_roll',
  'gripper',
] as const;

export type ArmActuation = 'torque' | 'position';

export const ARM_MODEL_FILES: Record<ArmActuation, string> = {
  torque: 'sim/models/so_arm.xml',
  position: 'sim/models/so_arm_position.xml',
};

export interface ArmReachWeights {
  /** per m² of end-effector error */
  readonly position: number;
  /** per (N·m)² (torque) or rad² (position) */
  readonly action: number;
  /** per (rad/s)² in the running cost */
  readonly velocity: number;
  /** terminal cost: terminal × position error² + terminalVelocity × ‖q̇‖² */
  readonly terminal: number;
  readonly terminalVelocity: number;
}

/**
 * Defaults: 1 N·m of torque costs as much as 1 cm of error, so the arm does not trade accuracy for
 * holding torque (gravity needs up to ~0.5 N·m); in position mode 0.1 rad of servo lead costs 1 cm.
 */
export const ARM_REACH_DEFAULT_WEIGHTS: Record<ArmActuation, ArmReachWeights> = {
  torque: { position: 1, action: 1e-4, velocity: 0, terminal: 10, terminalVelocity: 1e-2 },
  position: { position: 1, action: 1e-2, velocity: 0, terminal: 10, terminalVelocity: 1e-2 },
};

/** What the task needs from the model, read once: the chain to `ee` and the action box. */
export interface ArmDescription {
  readonly chain: KinematicChain;
  readonly actionLow: Float64Array;
  readonly actionHigh: Float64Array;
}

export interface ArmReachOptions {
  readonly actuation?: ArmActuation;
  readonly weights?: Partial<ArmReachWeights>;
  /** default goal, [x, y, z] (m); default 0.2 m ahead, 0.15 m up */
  readonly target?: readonly [number, number, number];
}

export interface ArmReachTask extends Task {
  readonly actuation: ArmActuation;
  readonly kinematics: ForwardKinematics;
  /** The end-effector position for a state (or any vector whose first 6 entries are q). */
  endEffector(x: ArrayLike<number>, out?: Float64Array, offset?: number): Float64Array;
}

/** Read the chain to `ee` and the actuators' ctrlrange from a loaded arm. */
export function readArmDescription(sim: MujocoSim): ArmDescription {
  const actuators = SO_ARM_JOINTS.map((name) => {
    const a = sim.info.actuators.find((act) => act.name === name);
    if (!a?.ctrlRange) throw new Error(`arm model: no actuator '${name}' with a ctrlrange`);
    return a.ctrlRange;
  });
  return {
    chain: sim.kinematicChain('ee'),
    actionLow: Float64Array.from(actuators, (r) => r[0]),
    actionHigh: Float64Array.from(actuators, (r) => r[1]),
  };
}

/** Load the arm's model once to read its description, then build the task. */
export async function loadArmReachTask(options: ArmReachOptions = {}, root = packageRoot()): Promise<ArmReachTask> {
  const sim = await MujocoSim.fromFile(join(root, ARM_MODEL_FILES[options.actuation ?? 'torque']));
  try {
    return armReachTask(readArmDescription(sim), options);
  } finally {
    sim.dispose();
  }
}

export function armReachTask(description: ArmDescription, options: ArmReachOptions = {}): ArmReachTask {
  const actuation = options.actuation ?? 'torque';
  const w = { ...ARM_REACH_DEFAULT_WEIGHTS[actuation], ...options.weights };
  const fk = makeForwardKinematics(description.chain, SO_ARM_JOINTS);
  const n = SO_ARM_JOINTS.length;
  const ee = new Float64Array(3);

  const distance2 = (x: ArrayLike<number>, offset: number, goal: ArrayLike<number>): number => {
    fk.position(x, ee, offset);
    const dx = ee[0]! - goal[0]!;
    const dy = ee[1]! - goal[1]!;
    const dz = ee[2]! - goal[2]!;
    return dx * dx + dy * dy + dz * dz;
  };
  const speed2 = (x: ArrayLike<number>, offset: number): number => {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[offset + n + i]! * x[offset + n + i]!;
    return s;
  };
  const effort2 = (x: ArrayLike<number>, xOffset: number, u: ArrayLike<number>, uOffset: number): number => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const e = actuation === 'torque' ? u[uOffset + i]! : u[uOffset + i]! - x[xOffset + i]!;
      s += e * e;
    }
    return s;
  };
  const running = (
    x: ArrayLike<number>,
    xo: number,
    u: ArrayLike<number>,
    uo: number,
    goal: ArrayLike<number>,
  ): number =>
    w.position * distance2(x, xo, goal) +
    w.action * effort2(x, xo, u, uo) +
    (w.velocity ? w.velocity * speed2(x, xo) : 0);

  const target = options.target ?? [0.2, 0, 0.15];
  const task: ArmReachTask = {
    name: `arm_reach_${actuation}`,
    actuation,
    kinematics: fk,
    modelFile: ARM_MODEL_FILES[actuation],
    initialKeyframe: 'home',
    joints: SO_ARM_JOINTS,
    actuators: SO_ARM_JOINTS,
    stateSize: 2 * n,
    actionSize: n,
    actionLow: description.actionLow.slice(),
    actionHigh: description.actionHigh.slice(),
    goalSize: 3,
    defaultGoal: Float64Array.from(target),
    observe: (sim: MujocoSim, out?: Float64Array) => observeJoints(sim, SO_ARM_JOINTS, out),
    endEffector: (x, out, offset = 0) => fk.position(x, out, offset),
    cost: (x, u, goal) => running(x, 0, u, 0, goalOrDefault(task, goal)),
    terminalCost(x, goal) {
      return w.terminal * w.position * distance2(x, 0, goalOrDefault(task, goal)) + w.terminalVelocity * speed2(x, 0);
    },
    costBatch(states, actions, out, goal) {
      const count = checkBatch(task, states, actions, out);
      const g = goalOrDefault(task, goal);
      for (let i = 0; i < count; i++) out[i] = running(states, 2 * n * i, actions, n * i, g);
      return out;
    },
    terminated: (x) => !allFinite(x),
  };
  return task;
}
