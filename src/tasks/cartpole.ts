import type { MujocoSim } from '../../sim/mujoco/sim.js';
import { allFinite, checkBatch, goalOrDefault, observeJoints, type Task } from './types.js';

// The cart-pole (sim/models/cartpole.xml). State x = [cart position (m), pole angle (rad),
// cart velocity, pole angular velocity]; angle 0 is upright, positive tilts the tip toward +x.
// Action u = [cart force (N)], ±20 N. Goal = [target cart position (m)], default [0].
//
// Cost: quadratic about the upright set-point, with the pole angle wrapped to (−π, π] — the hinge
// is unlimited, so a pole that went round once is upright again:
//   cost = position (p − p*)² + angle θ² + velocity v² + angularVelocity ω² + force u²   (weights).
// Balance starts upright and ends when the pole falls past `fallAngle` or the cart leaves the track;
// swing-up starts hanging and ends only when the cart leaves the track.

export interface CartpoleOptions {
  readonly mode?: 'balance' | 'swingup';
  /** |pole angle| beyond which a balance episode ends (rad); default 0.5 (~29°) */
  readonly fallAngle?: number;
  /** |cart position| beyond which the cart has left the track (m); default 0.95, 5 cm before the end stops */
  readonly trackLimit?: number;
  readonly weights?: Partial<CartpoleWeights>;
}

export interface CartpoleWeights {
  readonly position: number;
  readonly angle: number;
  readonly velocity: number;
  readonly angularVelocity: number;
  /** per N² */
  readonly force: number;
  /** multiplies the state terms in terminalCost */
  readonly terminal: number;
}

export const CARTPOLE_DEFAULT_WEIGHTS: CartpoleWeights = {
  position: 1,
  angle: 10,
  velocity: 0.1,
  angularVelocity: 0.1,
  force: 1e-3,
  terminal: 10,
};

/** An angle wrapped to (−π, π]. */
export function wrapAngle(a: number): number {
  const w = a - 2 * Math.PI * Math.floor((a + Math.PI) / (2 * Math.PI));
  return w === -Math.PI ? Math.PI : w;
}

export function cartpoleTask(options: CartpoleOptions = {}): Task {
  const mode = options.mode ?? 'balance';
  const fallAngle = options.fallAngle ?? 0.5;
  const trackLimit = options.trackLimit ?? 0.95;
  const w = { ...CARTPOLE_DEFAULT_WEIGHTS, ...options.weights };
  const joints = ['cart_slide', 'pole_hinge'] as const;
  const stateCost = (x: ArrayLike<number>, offset: number, target: number): number => {
    const dp = x[offset]! - target;
    const th = wrapAngle(x[offset + 1]!);
    const v = x[offset + 2]!;
    const om = x[offset + 3]!;
    return w.position * dp * dp + w.angle * th * th + w.velocity * v * v + w.angularVelocity * om * om;
  };
  const task: Task = {
    name: `cartpole_${mode}`,
    modelFile: 'sim/models/cartpole.xml',
    initialKeyframe: mode === 'balance' ? 'upright' : 'hanging',
    joints,
    actuators: ['cart_force'],
    stateSize: 4,
    actionSize: 1,
    actionLow: Float64Array.of(-20),
    actionHigh: Float64Array.of(20),
    goalSize: 1,
    defaultGoal: Float64Array.of(0),
    observe: (sim: MujocoSim, out?: Float64Array) => observeJoints(sim, joints, out),
    cost(x, u, goal) {
      const target = goalOrDefault(task, goal)[0]!;
      return stateCost(x, 0, target) + w.force * u[0]! * u[0]!;
    },
    terminalCost(x, goal) {
      return w.terminal * stateCost(x, 0, goalOrDefault(task, goal)[0]!);
    },
    costBatch(states, actions, out, goal) {
      const n = checkBatch(task, states, actions, out);
      const target = goalOrDefault(task, goal)[0]!;
      for (let i = 0; i < n; i++) out[i] = stateCost(states, 4 * i, target) + w.force * actions[i]! * actions[i]!;
      return out;
    },
    terminated(x) {
      if (!allFinite(x)) return true;
      if (Math.abs(x[0]!) > trackLimit) return true;
      return mode === 'balance' && Math.abs(wrapAngle(x[1]!)) > fallAngle;
    },
    goalState(goal) {
      return Float64Array.of(goalOrDefault(task, goal)[0]!, 0, 0, 0);
    },
  };
  return task;
}
