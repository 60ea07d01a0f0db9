import type { ActuatorInfo, JointInfo, ModelInfo } from '../../sim/mujoco/info.js';
import type { Planner } from './planner.js';

// What a model a user brings can get wrong about its goals, said in one line that names the joint
// or actuator and the numbers: a keyframe outside its joints' ranges; a goal whose hold control
// (the control that keeps the model still there) is outside an actuator's ctrlrange, which MuJoCo
// would clamp silently, leaving the model to sag onto a limit; and hinge ranges that look like
// radians compiled as degrees (MJCF's default unit: <compiler angle="degree">, so range="-3.14
// 3.14" is ±0.0548 rad), the usual reason for the first two.

/** A goal the model cannot be held at: a planner's setGoal throws it; the goal is refused, the node goes on. */
export class GoalRefusal extends Error {
  override readonly name = 'GoalRefusal';
}

/** A planner that can tell, before taking a goal state, whether it could hold the model there. */
export interface HoldCheck {
  /** why the model cannot be held at x = [q, q̇] (one line), or undefined when it can */
  holdRefusal(x: Float64Array): string | undefined;
}

export function checksHold(planner: Planner): planner is Planner & HoldCheck {
  return typeof (planner as Partial<HoldCheck>).holdRefusal === 'function';
}

/** A number as the model's author would write it: 4 decimals above 1, 3 significant digits below. */
export function figure(v: number): string {
  return String(Math.abs(v) >= 1 ? Number(v.toFixed(4)) : Number(v.toPrecision(3)));
}

const interval = (lo: number, hi: number): string => `[${figure(lo)}, ${figure(hi)}]`;

/** Relative slack for values computed from the model (a keyframe at its limit, a hold control at its bound). */
const SLACK = 1e-9;
const outside = (v: number, [lo, hi]: readonly [number, number]): boolean => {
  const slack = SLACK * Math.max(1, Math.abs(lo), Math.abs(hi));
  return v < lo - slack || v > hi + slack;
};

/** The joints a configuration puts outside their ranges, or undefined when none. */
export function rangeRefusal(joints: readonly JointInfo[], qpos: ArrayLike<number>): string | undefined {
  const out = joints.flatMap((j) => {
    if (!j.range || (j.type !== 'hinge' && j.type !== 'slide')) return [];
    const q = qpos[j.qposAdr]!;
    return outside(q, j.range)
      ? [`joint '${j.name}' at ${figure(q)} is outside its range ${interval(...j.range)}`]
      : [];
  });
  return out.length ? out.join('; ') : undefined;
}

/** The actuators whose hold control u is outside their ctrlrange, or undefined when none. */
export function holdControlRefusal(actuators: readonly ActuatorInfo[], u: ArrayLike<number>): string | undefined {
  const out = actuators.flatMap((a, i) => {
    const v = u[i]!;
    if (!Number.isFinite(v)) return [`actuator '${a.name}' has no finite control that holds it (${v})`];
    return a.ctrlRange && outside(v, a.ctrlRange)
      ? [`actuator '${a.name}' needs ${figure(v)} to hold it, outside its ctrlrange ${interval(...a.ctrlRange)}`]
      : [];
  });
  return out.length ? out.join('; ') : undefined;
}

/** the largest compiled hinge bound (rad) whose written value, read as degrees, is at most 2π: radians written, degrees compiled */
const DEGREES_OF_RADIANS = 2 * Math.PI * (Math.PI / 180) * (1 + 1e-6);

/**
 * When the model's hinge ranges look like radians compiled as degrees, the warning that says so,
 * naming each such joint, and what to change: a limited hinge whose bounds are within ±2π read as
 * degrees (±0.11 rad compiled), in a model whose compiler read degrees (or could not be read).
 * Undefined otherwise.
 */
export function degreeRangeWarning(info: Pick<ModelInfo, 'joints' | 'angleUnit'>): string | undefined {
  if (info.angleUnit === 'radian') return undefined;
  const hinges = info.joints.filter((j) => j.type === 'hinge' && j.range);
  const small = hinges.filter((j) => {
    const [lo, hi] = j.range!;
    return (lo !== 0 || hi !== 0) && Math.max(Math.abs(lo), Math.abs(hi)) <= DEGREES_OF_RADIANS;
  });
  if (small.length === 0) return undefined;
  const deg = 180 / Math.PI;
  const listed = small.map((j) => {
    const [lo, hi] = j.range!;
    const compiled = lo === -hi ? `±${figure(hi)}` : interval(lo, hi);
    return `joint '${j.name}' range ${interval(lo * deg, hi * deg)} compiles to ${compiled} rad`;
  });
  return `joint ranges look like radians compiled as degrees (MJCF's default unit, <compiler angle="degree">): ${listed.join(', ')}; if they are radians, add <compiler angle="radian"/> to the model`;
}
