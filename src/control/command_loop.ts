import type { Planner } from './planner.js';
import { evaluatePolicy } from './policy.js';
import type { SafetyLayer, SafetyVerdict } from './safety.js';
import { LoopStats } from './loop_stats.js';

// One tick of the fixed-rate command loop: take the newest state, ask the planner for its newest
// policy, evaluate it at (t, x), and pass the result through the safety layer. Planning and
// commanding stay apart: a slow planner delays its next policy, never a tick. A planner that plans
// elsewhere (a worker) hands back policies planned from older states: with maxPolicyAgeNs, one
// planned from a state older than that is stale, and the tick sends the stop action instead.

export interface StateSnapshot {
  readonly stampNs: bigint;
  /** x = [q (nv), q̇ (nv)] in model order */
  readonly x: Float64Array;
  /** the command joints' positions and velocities, for the safety layer */
  readonly position: Float64Array;
  readonly velocity: Float64Array;
}

export interface CommandLoopOptions {
  /** a policy whose start (the state time it was planned from) is older than this is stale; absent: no check */
  readonly maxPolicyAgeNs?: bigint;
}

export interface TickResult {
  readonly command: Float64Array;
  readonly verdict: SafetyVerdict;
}

export class CommandLoop {
  readonly stats: LoopStats;
  readonly #raw: Float64Array;
  readonly #out: Float64Array;
  readonly #maxPolicyAgeNs: bigint | undefined;
  /** the planner's input; stateStampNs tells a planner in another thread which state it is */
  #input: { timeNs: bigint; state: Float64Array; stateStampNs: bigint } = {
    timeNs: 0n,
    state: new Float64Array(0),
    stateStampNs: 0n,
  };
  /** why the last tick had no policy to evaluate, if it had none */
  plannerError: string | undefined;
  /** ticks that found the policy stale (sent the stop action) */
  stalePolicies = 0;

  constructor(
    private readonly planner: Planner,
    private readonly safety: SafetyLayer,
    readonly nu: number,
    periodNs: bigint,
    options: CommandLoopOptions = {},
  ) {
    if (options.maxPolicyAgeNs !== undefined && options.maxPolicyAgeNs <= 0n)
      throw new Error(`command loop: the largest policy age must be positive, got ${options.maxPolicyAgeNs} ns`);
    this.#maxPolicyAgeNs = options.maxPolicyAgeNs;
    this.stats = new LoopStats(periodNs);
    this.#raw = new Float64Array(nu);
    this.#out = new Float64Array(nu);
  }

  /** The command for time t (controller clock) from the state given (undefined: none yet). */
  tick(timeNs: bigint, state: StateSnapshot | undefined): TickResult {
    if (state) {
      this.#input.timeNs = timeNs;
      this.#input.state = state.x;
      this.#input.stateStampNs = state.stampNs;
      try {
        const policy = this.planner.optimize(this.#input);
        const age = timeNs - policy.startNs;
        if (this.#maxPolicyAgeNs !== undefined && age > this.#maxPolicyAgeNs) {
          this.stalePolicies++;
          throw new Error(
            `stale plan: planned from the state of ${(Number(age) / 1e6).toFixed(0)} ms ago (the limit is ${Number(this.#maxPolicyAgeNs) / 1e6} ms)`,
          );
        }
        evaluatePolicy(policy, timeNs, state.x, this.#raw);
        this.plannerError = undefined;
      } catch (err) {
        // no policy yet, or a planner fault: the safety layer turns NaN into the stop action
        this.plannerError = (err as Error).message;
        this.#raw.fill(Number.NaN);
      }
    } else this.#raw.fill(Number.NaN);
    const verdict = this.safety.filter(
      this.#raw,
      state && { stampNs: state.stampNs, position: state.position, velocity: state.velocity },
      timeNs,
      this.#out,
    );
    return { command: this.#out, verdict };
  }
}
