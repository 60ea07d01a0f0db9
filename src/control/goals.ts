import type { JointInfo } from '../../sim/mujoco/info.js';
import type { StateSnapshot } from './command_loop.js';
import { GoalRefusal, rangeRefusal } from './goal_checks.js';
import type { Planner } from './planner.js';

// What the controller regulates to. At the first tick with a state it sets a state goal: a
// keyframe of the model (goal_keyframe), or "hold here", the measured configuration at rest. Then
// end-effector position goals may arrive (goal_topic): each is checked (the planner takes them,
// the values are finite) and handed to the planner. A position goal that comes before the first
// state (a latched goal replayed to a controller that just started, a target published at an
// episode's START) is kept and set at the first tick with a state, in place of the state goal.
// The tracking statistics start over with each goal whose state is known: a state goal, or the
// state a position goal made the planner regulate to (LQR's IK solution).
//
// A goal the model cannot be held at is refused in one line naming the joint or actuator and the
// numbers: the keyframe at construction (the controller's configure), when it is outside its
// joints' ranges or the planner says it cannot hold it there; any later goal when the planner's
// setGoal throws a GoalRefusal, which leaves the planner on its previous goal.

/** Where a keyframe's configuration comes from (the controller's MJCF model). */
export interface KeyframeSource {
  resetToKeyframe(name: string): void;
  getQpos(): Float64Array;
}

export interface GoalOptions {
  /** the keyframe to regulate to ('' : hold the first measured configuration) */
  readonly keyframe: string;
  readonly model: KeyframeSource;
  readonly nv: number;
  /** the topic position goals come on, for messages */
  readonly topic: string;
  /** why the planner takes no position goals, or undefined when it does */
  readonly positionGoalRefusal: () => string | undefined;
  /** after a position goal, the state the planner regulates to, if it has one */
  readonly goalState?: () => Float64Array | undefined;
  /** the model's joints, whose ranges the keyframe must be within (absent: not checked) */
  readonly joints?: readonly JointInfo[];
  /** why the planner could not hold the model at a state, if it can tell (the keyframe is asked at construction) */
  readonly holdRefusal?: (x: Float64Array) => string | undefined;
}

/** What became of a goal, and the line that says so. */
export type GoalOutcome =
  | { readonly accepted: true; readonly message: string }
  | {
      readonly accepted: false;
      /** refused: the planner takes no position goals; cannot_hold: the model cannot be held there */
      readonly reason: 'refused' | 'not_finite' | 'cannot_hold';
      readonly message: string;
    };

type Target = readonly [number, number, number];

export class ControllerGoals {
  readonly #planner: Planner;
  readonly #tracking: { newGoal(goal: Float64Array, timeNs: bigint): void };
  readonly #options: GoalOptions;
  /** the goal still to set at the next tick with a state: a state goal, or a position goal that came first */
  #pending: 'keyframe' | 'hold' | Target | undefined;
  /** the keyframe's state, read and checked at construction */
  readonly #keyframeGoal: Float64Array | undefined;

  /** Throws a GoalRefusal, in one line, when the keyframe is outside the joint ranges or cannot be held. */
  constructor(planner: Planner, tracking: { newGoal(goal: Float64Array, timeNs: bigint): void }, options: GoalOptions) {
    this.#planner = planner;
    this.#tracking = tracking;
    this.#options = options;
    this.#pending = options.keyframe ? 'keyframe' : 'hold';
    if (options.keyframe) {
      const goal = this.#keyframeState();
      const refusal =
        (options.joints && rangeRefusal(options.joints, goal.subarray(0, options.nv))) ?? options.holdRefusal?.(goal);
      if (refusal) throw new GoalRefusal(`goal_keyframe '${options.keyframe}': ${refusal}`);
      this.#keyframeGoal = goal;
    }
  }

  /**
   * At a tick: set the pending goal (keyframe, hold here, or a position goal that came first), once
   * there is a state. Returns what became of it when it was refused; other errors of the planner are thrown.
   */
  atTick(tickNs: bigint, state: StateSnapshot | undefined): GoalOutcome | undefined {
    const pending = this.#pending;
    if (!pending || !state) return undefined;
    this.#pending = undefined;
    if (typeof pending !== 'string') return this.#setPosition(pending, tickNs, state);
    const nv = this.#options.nv;
    const goal =
      pending === 'keyframe' && this.#keyframeGoal
        ? this.#keyframeGoal
        : Float64Array.from(state.x, (v, i) => (i < nv ? v : 0));
    try {
      this.#planner.setGoal({ kind: 'state', state: goal }, { timeNs: tickNs, state: state.x });
    } catch (err) {
      if (!(err instanceof GoalRefusal)) throw err;
      const what =
        pending === 'keyframe'
          ? `goal_keyframe '${this.#options.keyframe}'`
          : 'holding the first measured configuration';
      return { accepted: false, reason: 'cannot_hold', message: `${what} refused: ${err.message}` };
    }
    this.#tracking.newGoal(goal, tickNs);
    return undefined;
  }

  /** An end-effector position goal (m) at time `nowNs`; the planner's errors other than a GoalRefusal are thrown. */
  position(target: { x: number; y: number; z: number }, nowNs: bigint, state: StateSnapshot | undefined): GoalOutcome {
    const refusal = this.#options.positionGoalRefusal();
    if (refusal !== undefined)
      return { accepted: false, reason: 'refused', message: `goal on ${this.#options.topic} ignored: ${refusal}` };
    const { x, y, z } = target;
    if (![x, y, z].every(Number.isFinite))
      return { accepted: false, reason: 'not_finite', message: `goal (${x}, ${y}, ${z}) is not finite: ignored` };
    const text = `new target (${x.toFixed(3)}, ${y.toFixed(3)}, ${z.toFixed(3)}) m`;
    if (!state) {
      this.#pending = [x, y, z];
      return { accepted: true, message: `${text}, set at the first state` };
    }
    return this.#setPosition([x, y, z], nowNs, state) ?? { accepted: true, message: text };
  }

  /** Set a position goal (in place of any pending goal); what became of it when it was refused (the pending goal stays). */
  #setPosition(target: Target, timeNs: bigint, state: StateSnapshot): GoalOutcome | undefined {
    try {
      this.#planner.setGoal({ kind: 'position', position: [...target] }, { timeNs, state: state.x });
    } catch (err) {
      if (!(err instanceof GoalRefusal)) throw err;
      const [x, y, z] = target.map((v) => v.toFixed(3));
      return { accepted: false, reason: 'cannot_hold', message: `target (${x}, ${y}, ${z}) m refused: ${err.message}` };
    }
    this.#pending = undefined;
    const goalState = this.#options.goalState?.();
    if (goalState) this.#tracking.newGoal(goalState, timeNs);
    return undefined;
  }

  /** x = [q of the keyframe, 0] */
  #keyframeState(): Float64Array {
    const { model, nv, keyframe } = this.#options;
    model.resetToKeyframe(keyframe);
    const x = new Float64Array(2 * nv);
    x.set(model.getQpos().subarray(0, nv));
    return x;
  }
}
