// The last thing every command passes before it reaches a robot. Whatever the policy, planner or
// teleop produced, what leaves here is finite, inside the joint, velocity and effort limits, changes
// no faster than the rate limit allows, and is the stop action when the state is stale or the
// e-stop is latched.
//
// Rules, per joint, for a fresh state and no e-stop:
//  - effort:   |u| ≤ effort limit; within `positionMargin` of (or past) the upper position limit no
//              positive effort, of the lower one no negative effort; above +velocity limit no
//              positive effort, below −velocity limit no negative effort (effort that would push
//              further past a limit is removed; effort back towards the safe side is kept).
//  - position: lo ≤ target ≤ hi; |target − measured| ≤ velocity limit · period.
//  - velocity: |v| ≤ velocity limit; towards a position limit at most the speed that reaches it in
//              one period (so zero at or past the limit).
//  - all:      |u − previous output| ≤ rate limit · (time since the previous call).
// Each rule is an interval; they are intersected in that order (the rate limit last). When a rule's
// interval misses what the earlier ones allow, the earlier ones win and the output is their point
// nearest to it: position, effort and velocity limits are never traded for smoothness.
//
// The stop action (e-stop, stale or malformed state, wrong-length command, and per joint a
// non-finite command element) is zero effort, zero velocity, or holding a measured position (the
// latest measurement for the watchdog and a NaN element, the one at the moment of the e-stop for the
// e-stop), clamped into the position limits. It is applied at once, not rate-limited: a stop that
// ramps is not a stop. If a position must be held before any position has been measured, there is
// nothing safe to send: the verdict says publish = false. stop() gives the same stop action on
// request, with no command and no new state: the controller's last output when it is deactivated
// (whatever receives forward commands keeps the last one, as ros2_control's
// forward_command_controller does, so an effort left there keeps pushing).
//
// filter() does not allocate (the verdict object and its reasons arrays are reused), except for the
// message of a wrong-length command and the short-lived bigints of the time arithmetic.

export type CommandInterface = 'effort' | 'position' | 'velocity';

/** Stable codes for diagnostics; order fixes the bits below. */
export const SAFETY_REASONS = [
  'nan',
  'wrong_length',
  'effort_limit',
  'position_limit',
  'velocity_limit',
  'rate_limit',
  'stale_state',
  'bad_state',
  'estop',
] as const;
export type SafetyReason = (typeof SAFETY_REASONS)[number];

const bit = (r: SafetyReason): number => 1 << SAFETY_REASONS.indexOf(r);
const NAN = bit('nan');
const WRONG_LENGTH = bit('wrong_length');
const EFFORT_LIMIT = bit('effort_limit');
const POSITION_LIMIT = bit('position_limit');
const VELOCITY_LIMIT = bit('velocity_limit');
const RATE_LIMIT = bit('rate_limit');
const STALE_STATE = bit('stale_state');
const BAD_STATE = bit('bad_state');
const ESTOP = bit('estop');
const FAULTS = NAN | WRONG_LENGTH | STALE_STATE | BAD_STATE | ESTOP;
const LIMITS = EFFORT_LIMIT | POSITION_LIMIT | VELOCITY_LIMIT | RATE_LIMIT;

export interface SafetyConfig {
  readonly commandInterface: CommandInterface;
  /** per joint; −Infinity = no lower limit */
  readonly positionLower: readonly number[];
  /** per joint; +Infinity = no upper limit */
  readonly positionUpper: readonly number[];
  /** per joint, ≥ 0; Infinity = none */
  readonly velocityLimit: readonly number[];
  /** per joint, ≥ 0; Infinity = none */
  readonly effortLimit: readonly number[];
  /** per joint, largest change of the command per second, ≥ 0; Infinity = none */
  readonly rateLimit: readonly number[];
  /** effort interface: how close to a position limit effort towards it is removed (default 0) */
  readonly positionMargin?: readonly number[];
  /** the command period: the horizon of the position and velocity rules */
  readonly periodNs: bigint;
  /** state older than this (or this far in the future: a clock mismatch) is stale */
  readonly watchdogTimeoutNs: bigint;
}

/** The measured joint state the rules need; velocity is read by the effort interface only. */
export interface SafetyState {
  readonly stampNs: bigint;
  readonly position: ArrayLike<number>;
  readonly velocity: ArrayLike<number>;
}

export interface SafetyVerdict {
  /** false when (part of) the command was replaced by the stop action */
  readonly ok: boolean;
  /** true when a limit changed the command */
  readonly limited: boolean;
  /** false when there is no safe command to send (hold a position never measured): do not publish */
  readonly publish: boolean;
  readonly reasons: readonly SafetyReason[];
  /** a sentence for the log when not ok, else '' */
  readonly detail: string;
}

export type SafetyCounters = Readonly<Record<SafetyReason | 'calls', number>>;

type MutableVerdict = { -readonly [K in keyof SafetyVerdict]: SafetyVerdict[K] };

/** A per-joint array of the config, checked element by element; errors name the field. */
function checkArray(
  config: SafetyConfig,
  field: keyof SafetyConfig,
  n: number,
  check: (x: number) => boolean,
  rule: string,
): Float64Array {
  const value: unknown = config[field];
  if (!Array.isArray(value)) throw new Error(`safety: ${field} must be an array of ${n} numbers`);
  const items: readonly unknown[] = value;
  if (items.length !== n)
    throw new Error(`safety: ${field} has ${items.length} values, expected ${n} (one per joint, as positionLower)`);
  const out = new Float64Array(n);
  items.forEach((x, i) => {
    if (typeof x !== 'number' || Number.isNaN(x) || !check(x))
      throw new Error(`safety: ${field}[${i}] = ${String(x)} is invalid: ${rule}`);
    out[i] = x;
  });
  return out;
}

export class SafetyLayer {
  readonly joints: number;
  readonly commandInterface: CommandInterface;
  readonly #lower: Float64Array;
  readonly #upper: Float64Array;
  readonly #velocity: Float64Array;
  readonly #effort: Float64Array;
  readonly #rate: Float64Array;
  readonly #margin: Float64Array;
  readonly #periodS: number;
  readonly #timeoutNs: bigint;

  // the latest valid measurement, kept so a stale state can still be held
  readonly #measured: Float64Array;
  #hasMeasured = false;
  // the previous output, for the rate limit
  readonly #previous: Float64Array;
  #hasPrevious: boolean;
  #lastCallNs: bigint | undefined;

  #estopped = false;
  #estopReason = '';
  #estopDetail = '';
  readonly #estopHold: Float64Array;
  #hasEstopHold = false;

  // the interval the rules of one joint narrow, and the reasons of one call
  #lo = 0;
  #hi = 0;
  #mask = 0;
  readonly #counts = new Float64Array(SAFETY_REASONS.length);
  #calls = 0;
  readonly #reasonsByMask = new Array<readonly SafetyReason[] | undefined>(1 << SAFETY_REASONS.length);
  readonly #verdict: MutableVerdict = { ok: true, limited: false, publish: true, reasons: [], detail: '' };

  constructor(config: SafetyConfig) {
    // read as unknown, as checkArray reads the arrays: the config often comes from parameters
    const ci: unknown = config.commandInterface;
    if (ci !== 'effort' && ci !== 'position' && ci !== 'velocity')
      throw new Error(`safety: commandInterface '${String(ci)}' is not one of 'effort', 'position', 'velocity'`);
    this.commandInterface = ci;
    if (!Array.isArray(config.positionLower) || config.positionLower.length < 1)
      throw new Error('safety: positionLower must be an array with one value per joint');
    const n = config.positionLower.length;
    this.joints = n;
    const lower = checkArray(
      config,
      'positionLower',
      n,
      (x) => x < Infinity,
      'a lower limit must be below +Infinity (use -Infinity for none)',
    );
    const upper = checkArray(
      config,
      'positionUpper',
      n,
      (x) => x > -Infinity,
      'an upper limit must be above -Infinity (use Infinity for none)',
    );
    lower.forEach((lo, i) => {
      if (!(lo <= upper[i]!))
        throw new Error(`safety: positionLower[${i}] = ${lo} is above positionUpper[${i}] = ${upper[i]}`);
    });
    const nonNegative = (x: number): boolean => x >= 0;
    this.#lower = lower;
    this.#upper = upper;
    this.#velocity = checkArray(config, 'velocityLimit', n, nonNegative, 'must be ≥ 0 (Infinity for none)');
    this.#effort = checkArray(config, 'effortLimit', n, nonNegative, 'must be ≥ 0 (Infinity for none)');
    this.#rate = checkArray(config, 'rateLimit', n, nonNegative, 'must be ≥ 0 (Infinity for none)');
    this.#margin =
      config.positionMargin === undefined
        ? new Float64Array(n)
        : checkArray(config, 'positionMargin', n, (x) => x >= 0 && x < Infinity, 'must be finite and ≥ 0');
    if (typeof config.periodNs !== 'bigint' || config.periodNs <= 0n)
      throw new Error(`safety: periodNs must be a positive bigint, got ${String(config.periodNs)}`);
    if (typeof config.watchdogTimeoutNs !== 'bigint' || config.watchdogTimeoutNs <= 0n)
      throw new Error(`safety: watchdogTimeoutNs must be a positive bigint, got ${String(config.watchdogTimeoutNs)}`);
    this.#periodS = Number(config.periodNs) / 1e9;
    this.#timeoutNs = config.watchdogTimeoutNs;
    this.#measured = new Float64Array(n);
    this.#estopHold = new Float64Array(n);
    // before any output the robot is taken to be unforced and at rest; a position target has no
    // such default, so the first one is rate-limited from the measured position instead
    this.#previous = new Float64Array(n);
    this.#hasPrevious = ci !== 'position';
  }

  get estopped(): boolean {
    return this.#estopped;
  }

  get estopReason(): string {
    return this.#estopReason;
  }

  /** Latch the e-stop: every output is the stop action until resetEstop(). A second call keeps the first reason and hold. */
  estop(reason: string): void {
    if (this.#estopped) return;
    this.#estopped = true;
    this.#estopReason = reason;
    this.#estopDetail = `e-stop: ${reason}`;
    this.#hasEstopHold = this.#hasMeasured;
    if (this.#hasMeasured) this.#estopHold.set(this.#measured);
  }

  /** Release the e-stop; only an explicit call does, never a command. */
  resetEstop(): void {
    this.#estopped = false;
    this.#estopReason = '';
    this.#estopDetail = '';
    this.#hasEstopHold = false;
  }

  /** Calls so far and, per reason, the calls it occurred in (a copy, for diagnostics). */
  counters(): SafetyCounters {
    const out: Record<string, number> = { calls: this.#calls };
    SAFETY_REASONS.forEach((r, i) => (out[r] = this.#counts[i]!));
    return out as SafetyCounters;
  }

  /**
   * Write the command that may reach the robot into `out` (length = joints) and return the verdict.
   * The verdict object is reused: it is valid until the next call.
   */
  filter(
    commandIn: ArrayLike<number>,
    state: SafetyState | undefined,
    nowNs: bigint,
    out: Float64Array,
  ): SafetyVerdict {
    const n = this.joints;
    if (out.length !== n) throw new RangeError(`safety: the output buffer has ${out.length} values, expected ${n}`);
    this.#mask = 0;
    let detail = '';
    // the rate limit uses the real time since the previous call; time going backwards allows no change
    const dt =
      this.#lastCallNs === undefined
        ? this.#periodS
        : nowNs > this.#lastCallNs
          ? Number(nowNs - this.#lastCallNs) / 1e9
          : 0;
    this.#lastCallNs = nowNs;

    const stateProblem = this.#readState(state, nowNs);
    if (this.#estopped && !this.#hasEstopHold && this.#hasMeasured) {
      this.#estopHold.set(this.#measured);
      this.#hasEstopHold = true;
    }

    let publish = true;
    if (this.#estopped) {
      this.#mask |= ESTOP | stateProblem;
      detail = this.#estopDetail;
      publish = this.#stop(out, this.#estopHold, this.#hasEstopHold);
    } else if (stateProblem !== 0) {
      this.#mask |= stateProblem;
      detail =
        stateProblem === BAD_STATE
          ? 'malformed state (wrong length or non-finite values)'
          : 'no fresh state (watchdog)';
      publish = this.#stop(out, this.#measured, this.#hasMeasured);
      if (!publish) detail += ': no position measured yet to hold, nothing is safe to send';
    } else if (commandIn.length !== n) {
      this.#mask |= WRONG_LENGTH;
      detail = `command has ${commandIn.length} values, expected ${n}`;
      publish = this.#stop(out, this.#measured, true);
    } else {
      this.#limit(commandIn, state!, dt, out);
      if (this.#mask & NAN) detail = 'non-finite command element replaced by the stop action';
    }

    // a last guard, whatever the arithmetic above did: nothing non-finite leaves
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(out[i])) {
        out[i] = this.#stopValue(i, this.#measured, this.#hasMeasured);
        this.#mask |= NAN;
      }
    }

    if (publish) {
      this.#previous.set(out);
      this.#hasPrevious = true;
    }
    this.#calls++;
    for (let r = 0; r < SAFETY_REASONS.length; r++) if (this.#mask & (1 << r)) this.#counts[r]!++;
    const v = this.#verdict;
    v.ok = (this.#mask & FAULTS) === 0;
    v.limited = (this.#mask & LIMITS) !== 0;
    v.publish = publish;
    v.reasons = this.#reasons(this.#mask);
    v.detail = detail;
    return v;
  }

  /**
   * The stop action on request (the controller deactivated), into `out` (length = joints): zero
   * effort or velocity, or a position held (the e-stop's while it is latched, else the latest
   * measured), clamped into the position limits, finite, never rate-limited. Returns false when a
   * position must be held and none was ever measured: nothing is safe to send. What it writes is the
   * previous output the rate limit starts from, as any output's is. Not counted as a filter call.
   */
  stop(nowNs: bigint, out: Float64Array): boolean {
    const n = this.joints;
    if (out.length !== n) throw new RangeError(`safety: the output buffer has ${out.length} values, expected ${n}`);
    const publish = this.#estopped
      ? this.#stop(out, this.#hasEstopHold ? this.#estopHold : this.#measured, this.#hasEstopHold || this.#hasMeasured)
      : this.#stop(out, this.#measured, this.#hasMeasured);
    if (publish) {
      this.#previous.set(out);
      this.#hasPrevious = true;
      this.#lastCallNs = nowNs;
    }
    return publish;
  }

  /** Remember a valid measurement; return 0, STALE_STATE or BAD_STATE. */
  #readState(state: SafetyState | undefined, nowNs: bigint): number {
    if (state === undefined) return STALE_STATE;
    const n = this.joints;
    const needVelocity = this.commandInterface === 'effort';
    if (state.position.length !== n || (needVelocity && state.velocity.length !== n)) return BAD_STATE;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(state.position[i])) return BAD_STATE;
      if (needVelocity && !Number.isFinite(state.velocity[i])) return BAD_STATE;
    }
    for (let i = 0; i < n; i++) this.#measured[i] = state.position[i]!;
    this.#hasMeasured = true;
    const age = nowNs - state.stampNs;
    return age > this.#timeoutNs || -age > this.#timeoutNs ? STALE_STATE : 0;
  }

  /** The stop action for every joint; false if it needs a position that is not known. */
  #stop(out: Float64Array, hold: Float64Array, known: boolean): boolean {
    for (let i = 0; i < this.joints; i++) out[i] = this.#stopValue(i, hold, known);
    return known || this.commandInterface !== 'position';
  }

  #stopValue(i: number, hold: Float64Array, known: boolean): number {
    if (this.commandInterface !== 'position') return 0;
    // with no position to hold the value is only a finite placeholder: publish is false then
    return clamp(known ? hold[i]! : 0, this.#lower[i]!, this.#upper[i]!);
  }

  /** The rules, per joint, for a fresh state and a command of the right length. */
  #limit(command: ArrayLike<number>, state: SafetyState, dt: number, out: Float64Array): void {
    const ci = this.commandInterface;
    for (let i = 0; i < this.joints; i++) {
      const u = command[i]!;
      if (!Number.isFinite(u)) {
        out[i] = this.#stopValue(i, this.#measured, true);
        this.#mask |= NAN;
        continue;
      }
      const lo = this.#lower[i]!;
      const hi = this.#upper[i]!;
      const vmax = this.#velocity[i]!;
      const x = this.#measured[i]!;
      this.#lo = -Infinity;
      this.#hi = Infinity;
      let y = u;
      let previous = this.#previous[i]!;
      if (ci === 'effort') {
        const emax = this.#effort[i]!;
        const m = this.#margin[i]!;
        const v = state.velocity[i]!;
        y = this.#rule(y, -emax, emax, EFFORT_LIMIT);
        y = this.#rule(y, x <= lo + m ? 0 : -Infinity, x >= hi - m ? 0 : Infinity, POSITION_LIMIT);
        y = this.#rule(y, v < -vmax ? 0 : -Infinity, v > vmax ? 0 : Infinity, VELOCITY_LIMIT);
      } else if (ci === 'position') {
        y = this.#rule(y, lo, hi, POSITION_LIMIT);
        const step = vmax * this.#periodS;
        y = this.#rule(y, x - step, x + step, VELOCITY_LIMIT);
        if (!this.#hasPrevious) previous = clamp(x, lo, hi);
      } else {
        y = this.#rule(y, -vmax, vmax, VELOCITY_LIMIT);
        // the speed that reaches the limit in one period, and none once at or past it
        const p = this.#periodS;
        y = this.#rule(y, Math.min(0, (lo - x) / p), Math.max(0, (hi - x) / p), POSITION_LIMIT);
      }
      const rate = this.#rate[i]!;
      const change = rate === Infinity ? Infinity : rate * dt;
      out[i] = this.#rule(y, previous - change, previous + change, RATE_LIMIT);
    }
  }

  /**
   * Narrow the joint's interval by [lo, hi] and clamp y into it; flag `reason` if y moved. If
   * [lo, hi] misses the interval, the earlier rules win: the interval shrinks to its point nearest
   * to [lo, hi].
   */
  #rule(y: number, lo: number, hi: number, reason: number): number {
    if (hi < this.#lo) this.#hi = this.#lo;
    else if (lo > this.#hi) this.#lo = this.#hi;
    else {
      if (lo > this.#lo) this.#lo = lo;
      if (hi < this.#hi) this.#hi = hi;
    }
    const c = clamp(y, this.#lo, this.#hi);
    if (c !== y) this.#mask |= reason;
    return c;
  }

  /** One frozen array per combination of reasons, made the first time it occurs. */
  #reasons(mask: number): readonly SafetyReason[] {
    let r = this.#reasonsByMask[mask];
    if (r === undefined) {
      r = Object.freeze(SAFETY_REASONS.filter((_, i) => mask & (1 << i)));
      this.#reasonsByMask[mask] = r;
    }
    return r;
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
