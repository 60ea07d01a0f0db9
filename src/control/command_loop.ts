import type { Planner } from './planner.js';
import { evaluatePolicy, type Policy } from './policy.js';
import type { SafetyLayer, SafetyVerdict } from './safety.js';
import { LoopStats } from './loop_stats.js';

// One tick of the fixed-rate command loop: take the newest state, ask the planner for its newest
// policy, evaluate it at (t, x), and pass the result through the safety layer. Planning and
// commanding stay apart: a slow planner delays its next policy, never a tick. A planner that plans
// elsewhere (a worker) hands back policies planned from older states: with maxPolicyAgeNs, one
// planned from a state older than that is stale, and the tick sends the stop action instead.
//
// A planner throws while it has no policy yet (no goal, no model, no plan from its worker): the
// stop action until it has one. Once it has handed out a policy, a throw is a fault, and so is any
// exception the controller meets in a tick (fail()): the loop has then failed for good. It sends
// the stop action at every tick from then on without asking the planner again, says why once
// (onFailure), and resolves `failed` with the reason.
//
// policy is the newest policy a tick evaluated (not one found stale), for the controller's plan
// topic: a new object whenever the planner handed out a new plan.
//
// stop() is the loop's last output when it stops (the controller deactivated): the safety layer's
// stop action, with no planner asked.

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
  /** called once when the loop fails, with the reason (one line) and what was thrown */
  readonly onFailure?: (reason: string, error: unknown) => void;
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
  /** resolves with the reason when the loop has failed for good; never rejects */
  readonly failed: Promise<string>;
  readonly #resolveFailed: (reason: string) => void;
  readonly #onFailure: ((reason: string, error: unknown) => void) | undefined;
  #failure: string | undefined;
  /** the planner has handed out a policy: from then on a throw is a fault */
  #hadPolicy = false;
  #policy: Policy | undefined;

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
    this.#onFailure = options.onFailure;
    let resolve: (reason: string) => void = () => undefined;
    this.failed = new Promise<string>((r) => (resolve = r));
    this.#resolveFailed = resolve;
    this.stats = new LoopStats(periodNs);
    this.#raw = new Float64Array(nu);
    this.#out = new Float64Array(nu);
  }

  /** the newest policy a tick evaluated (undefined until one has) */
  get policy(): Policy | undefined {
    return this.#policy;
  }

  /** why the loop failed, once it has */
  get failure(): string | undefined {
    return this.#failure;
  }

  /**
   * Fail for good: an exception `error` in the tick at `timeNs`. Only the first failure counts;
   * returns whether this was it.
   */
  fail(timeNs: bigint, error: unknown): boolean {
    if (this.#failure !== undefined) return false;
    this.#failure = `a control tick at ${(Number(timeNs) / 1e9).toFixed(3)} s failed: ${oneLine(error)}`;
    this.#resolveFailed(this.#failure);
    this.#onFailure?.(this.#failure, error);
    return true;
  }

  /**
   * The stop action at time t (controller clock), from the safety layer's stop path: zero effort or
   * velocity, or the position held, nu finite values; publish is false when a position must be held
   * and none was ever measured. The command buffer is the one tick() returns (valid until the next call).
   */
  stop(timeNs: bigint): { readonly command: Float64Array; readonly publish: boolean } {
    const publish = this.safety.stop(timeNs, this.#out);
    return { command: this.#out, publish };
  }

  /** The command for time t (controller clock) from the state given (undefined: none yet). */
  tick(timeNs: bigint, state: StateSnapshot | undefined): TickResult {
    if (state && this.#failure === undefined) {
      this.#input.timeNs = timeNs;
      this.#input.state = state.x;
      this.#input.stateStampNs = state.stampNs;
      try {
        const policy = this.planner.optimize(this.#input);
        this.#hadPolicy = true;
        const age = timeNs - policy.startNs;
        if (this.#maxPolicyAgeNs !== undefined && age > this.#maxPolicyAgeNs) {
          this.stalePolicies++;
          this.plannerError = `stale plan: planned from the state of ${(Number(age) / 1e6).toFixed(0)} ms ago (the limit is ${Number(this.#maxPolicyAgeNs) / 1e6} ms)`;
          this.#raw.fill(Number.NaN);
        } else {
          evaluatePolicy(policy, timeNs, state.x, this.#raw, state.stampNs);
          this.#policy = policy;
          this.plannerError = undefined;
        }
      } catch (err) {
        // no policy yet (the safety layer turns NaN into the stop action), or a planner fault
        this.plannerError = oneLine(err);
        this.#raw.fill(Number.NaN);
        if (this.#hadPolicy) this.fail(timeNs, err);
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

/** An exception's message as one line (messages of native errors and of some libraries run over several). */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.trim().replace(/\s*\n\s*/g, '; ');
}
