import type { Planner, PlanningInput } from './planner.js';
import { evaluatePolicy } from './policy.js';
import type { SafetyLayer, SafetyVerdict } from './safety.js';
import { LoopStats } from './loop_stats.js';

// One tick of the fixed-rate command loop: take the newest state, ask the planner for its newest
// policy, evaluate it at (t, x), and pass the result through the safety layer. Planning and
// commanding stay apart: a slow planner delays its next policy, never a tick.

export interface StateSnapshot {
  readonly stampNs: bigint;
  /** x = [q (nv), q̇ (nv)] in model order */
  readonly x: Float64Array;
  /** the command joints' positions and velocities, for the safety layer */
  readonly position: Float64Array;
  readonly velocity: Float64Array;
}

export interface TickResult {
  readonly command: Float64Array;
  readonly verdict: SafetyVerdict;
}

export class CommandLoop {
  readonly stats: LoopStats;
  readonly #raw: Float64Array;
  readonly #out: Float64Array;
  #input: { timeNs: bigint; state: Float64Array } = { timeNs: 0n, state: new Float64Array(0) };
  /** why the last tick had no policy to evaluate, if it had none */
  plannerError: string | undefined;

  constructor(
    private readonly planner: Planner,
    private readonly safety: SafetyLayer,
    readonly nu: number,
    periodNs: bigint,
  ) {
    this.stats = new LoopStats(periodNs);
    this.#raw = new Float64Array(nu);
    this.#out = new Float64Array(nu);
  }

  /** The command for time t (controller clock) from the state given (undefined: none yet). */
  tick(timeNs: bigint, state: StateSnapshot | undefined): TickResult {
    if (state) {
      this.#input.timeNs = timeNs;
      this.#input.state = state.x;
      try {
        evaluatePolicy(this.planner.optimize(this.#input as PlanningInput), timeNs, state.x, this.#raw);
        this.plannerError = undefined;
      } catch (err) {
        // no policy yet, or a planner fault: the safety layer turns NaN into the stop action
        this.plannerError = (err as Error).message;
        this.#raw.fill(Number.NaN);
      }
    } else this.#raw.fill(Number.NaN);
    const verdict = this.safety.filter(this.#raw, state && { stampNs: state.stampNs, position: state.position, velocity: state.velocity }, timeNs, this.#out);
    return { command: this.#out, verdict };
  }
}
