import type { StateSnapshot } from './command_loop.js';
import type { Planner } from './planner.js';

// What the controller regulates to. At the first tick with a state it sets a state goal: a
// keyframe of the model (goal_keyframe), or "hold here", the measured configuration at rest. Then
// end-effector position goals may arrive (goal_topic): each is checked (the planner takes them,
// the values are finite) and handed to the planner. A position goal that comes before the first
// state (a latched goal replayed to a controller that just started, a target published at an
// episode's START) is kept and set at the first tick with a state, in place of the state goal.
// The tracking statistics start over with each goal whose state is known: a state goal, or the
// state a position goal made the planner regulate to (LQR's IK solution).

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
}

/** What became of a position goal, and the line that says so. */
export type GoalOutcome =
  | { readonly accepted: true; readonly message: string }
  | { readonly accepted: false; readonly reason: 'refused' | 'not_finite'; readonly message: string };

type Target = readonly [number, number, number];

export class ControllerGoals {
  readonly #planner: Planner;
  readonly #tracking: { newGoal(goal: Float64Array, timeNs: bigint): void };
  readonly #options: GoalOptions;
  /** the goal still to set at the next tick with a state: a state goal, or a position goal that came first */
  #pending: 'keyframe' | 'hold' | Target | undefined;

  constructor(planner: Planner, tracking: { newGoal(goal: Float64Array, timeNs: bigint): void }, options: GoalOptions) {
    this.#planner = planner;
    this.#tracking = tracking;
    this.#options = options;
    this.#pending = options.keyframe ? 'keyframe' : 'hold';
  }

  /** At a tick: set the pending goal (keyframe, hold here, or a position goal that came first), once there is a state. */
  atTick(tickNs: bigint, state: StateSnapshot | undefined): void {
    if (!this.#pending || !state) return;
    if (typeof this.#pending !== 'string') {
      this.#setPosition(this.#pending, tickNs, state);
      return;
    }
    const nv = this.#options.nv;
    const goal =
      this.#pending === 'keyframe' ? this.#keyframeState() : Float64Array.from(state.x, (v, i) => (i < nv ? v : 0));
    this.#planner.setGoal({ kind: 'state', state: goal }, { timeNs: tickNs, state: state.x });
    this.#tracking.newGoal(goal, tickNs);
    this.#pending = undefined;
  }

  /** An end-effector position goal (m) at time `nowNs`; the planner's errors are thrown. */
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
    this.#setPosition([x, y, z], nowNs, state);
    return { accepted: true, message: text };
  }

  #setPosition(target: Target, timeNs: bigint, state: StateSnapshot): void {
    this.#planner.setGoal({ kind: 'position', position: [...target] }, { timeNs, state: state.x });
    this.#pending = undefined;
    const goalState = this.#options.goalState?.();
    if (goalState) this.#tracking.newGoal(goalState, timeNs);
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
