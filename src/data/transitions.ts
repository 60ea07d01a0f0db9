// Control-period transitions (s, a, s′) from a stamped state stream and an unstamped command
// stream, for the dynamics learner, the recorder and the policy trainer. s = [q, q̇] of the named
// joints in a fixed order; a command is stamped by whoever receives it with its own clock (under
// sim time, the tick's time). A transition pairs the state at tick t, the newest command stamped in
// [t − commandMaxAge, t′), which is the one the robot held over the step, and the state at t′.
//
// Episodes are told, not guessed: the source of the data declares them (a sim bridge's
// dynastack_msgs/EpisodeEvent) and the builder is told endEpisode(T) and startEpisode(T′) with the
// stamps of an episode's last and first states; no transition pairs states across a boundary, and
// the state after it starts the next episode. The events may come before or after the states they
// separate: the builder goes by their stamps. Without events the stream is one episode.
//
// Within an episode, consecutive states about a period apart pair (0.75 to 1.5 periods with the
// default MISSING_TICK_FACTOR); a longer interval is a missing tick (a dropped state): the chain
// breaks there and resumes, in the same episode. States faster than the control period are thinned
// to it. The state stream must be in stamp order, as a reliable topic from one publisher is: a stamp
// that goes back (a source that restarted without saying so) resets the chain and is counted, but
// is not an episode.

/** States further apart than this many control periods do not pair: a tick is missing between them. */
export const MISSING_TICK_FACTOR = 1.5;

export interface TransitionBuilderOptions {
  /** the control period: one transition spans one period */
  readonly periodNs: bigint;
  /** joint order of s; empty or absent: the joints of the first state, in its order */
  readonly joints?: readonly string[];
  /** values per command; absent: the length of the first command */
  readonly actionSize?: number;
  /** states further apart than this many periods do not pair (default MISSING_TICK_FACTOR) */
  readonly missingTickFactor?: number;
  /** a command stamped this long before the step's start is stale: no transition (default one period) */
  readonly commandMaxAgeNs?: bigint;
}

export interface TransitionSample {
  readonly episode: number;
  /** index of the transition in its episode, from 0 */
  readonly step: number;
  readonly state: Float64Array;
  readonly action: Float64Array;
  readonly nextState: Float64Array;
  /** the stamp of `state` */
  readonly stampNs: bigint;
}

/** One state as the builder takes it: a sensor_msgs/JointState's fields with the stamp in ns. */
export interface StateInput {
  readonly stampNs: bigint;
  readonly names: readonly string[];
  readonly position: ArrayLike<number>;
  readonly velocity: ArrayLike<number>;
}

export type StateOutcome =
  | { readonly status: 'transition'; readonly transition: TransitionSample }
  /**
   * the state starts a chain: the first ('first'), the first of a declared episode ('episode'),
   * after a missing tick, after a stamp that went back ('reset'), or after a state that could not pair
   */
  | {
      readonly status: 'first' | 'episode' | 'missed_tick' | 'reset' | 'no_command' | 'stale_command' | 'bad_command';
    }
  /** the state was not used */
  | { readonly status: 'duplicate' | 'too_soon' | 'non_finite' | 'bad_layout'; readonly reason: string };

export interface TransitionCounts {
  states: number;
  commands: number;
  transitions: number;
  /** episodes whose states came: the first, and one more at every declared boundary the states crossed */
  episodes: number;
  duplicates: number;
  tooSoon: number;
  /** chains broken by a missing tick (a state dropped), inside an episode */
  missedTicks: number;
  /** stamps that went back with no episode declared: the chain restarted */
  resets: number;
  /** episode events that came after states they should have separated (those states were paired) */
  lateEvents: number;
  nonFinite: number;
  badLayout: number;
  /** states that found no command, or only a stale or invalid one, for their step */
  unpaired: number;
  /** commands that were not finite or had the wrong length */
  badCommands: number;
}

interface Command {
  readonly stampNs: bigint;
  /** undefined: the command was invalid, and so is every step it governs */
  readonly values: Float64Array | undefined;
}

/** Commands kept: enough for states at many times the control rate, bounded for a stalled state stream. */
const MAX_COMMANDS = 256;

export class TransitionBuilder {
  readonly periodNs: bigint;
  readonly counts: TransitionCounts = {
    states: 0,
    commands: 0,
    transitions: 0,
    episodes: 0,
    duplicates: 0,
    tooSoon: 0,
    missedTicks: 0,
    resets: 0,
    lateEvents: 0,
    nonFinite: 0,
    badLayout: 0,
    unpaired: 0,
    badCommands: 0,
  };
  readonly #missingTickNs: bigint;
  readonly #minStepNs: bigint;
  readonly #commandMaxAgeNs: bigint;
  #joints: readonly string[] | undefined;
  #index: Int32Array | undefined;
  #indexFor: readonly string[] = [];
  #actionSize: number | undefined;
  #commands: Command[] = [];
  #anchor: { stampNs: bigint; state: Float64Array } | undefined;
  #lastStampNs: bigint | undefined;
  /** the stamp of the current episode's first state */
  #episodeFirstNs: bigint | undefined;
  /**
   * declared boundaries not crossed yet, ascending: a cut at c separates states stamped ≤ c from
   * states stamped > c (an episode's end at T cuts at T, a start at T′ at T′ − 1)
   */
  #cuts: bigint[] = [];
  #episode = -1;
  #step = 0;

  constructor(options: TransitionBuilderOptions) {
    if (options.periodNs <= 0n) throw new Error(`transition period must be positive, got ${options.periodNs} ns`);
    const factor = options.missingTickFactor ?? MISSING_TICK_FACTOR;
    if (!(factor > 1)) throw new Error(`missing tick factor must be above 1, got ${factor}`);
    this.periodNs = options.periodNs;
    this.#missingTickNs = BigInt(Math.round(Number(options.periodNs) * factor));
    // a state less than this after the anchor is between control ticks (a faster state stream);
    // half the late tolerance, so that a stream at twice the control rate is thinned, not paired
    this.#minStepNs = BigInt(Math.round(Number(options.periodNs) * (1 - (factor - 1) / 2)));
    this.#commandMaxAgeNs = options.commandMaxAgeNs ?? options.periodNs;
    this.#joints = options.joints?.length ? [...options.joints] : undefined;
    this.#actionSize = options.actionSize;
  }

  /** joint order of s, once known */
  get joints(): readonly string[] | undefined {
    return this.#joints;
  }

  get stateSize(): number | undefined {
    return this.#joints ? 2 * this.#joints.length : undefined;
  }

  get actionSize(): number | undefined {
    return this.#actionSize;
  }

  get episode(): number {
    return Math.max(this.#episode, 0);
  }

  /** The source says an episode ended with its state stamped `stampNs`: no later state pairs with it. */
  endEpisode(stampNs: bigint): void {
    this.#cut(stampNs);
  }

  /** The source says an episode starts with its state stamped `stampNs`: that state pairs with none before. */
  startEpisode(stampNs: bigint): void {
    this.#cut(stampNs - 1n);
  }

  /** A command, stamped with the receiver's clock at arrival. */
  addCommand(stampNs: bigint, values: ArrayLike<number>): void {
    this.counts.commands++;
    const last = this.#commands.at(-1);
    // the receiver's clock went back (a source that restarted): what came before is of the old time line
    if (last && stampNs < last.stampNs) this.#commands = [];
    this.#actionSize ??= values.length;
    let copy: Float64Array | undefined = Float64Array.from(values);
    if (copy.length !== this.#actionSize || !copy.every(Number.isFinite)) {
      this.counts.badCommands++;
      copy = undefined;
    }
    this.#commands.push({ stampNs, values: copy });
    if (this.#commands.length > MAX_COMMANDS) this.#commands.shift();
  }

  /** A state; returns the transition it completes, or what became of it. */
  addState(input: StateInput): StateOutcome {
    this.counts.states++;
    const state = this.#stateVector(input);
    if (typeof state === 'string') {
      if (state.startsWith('not finite')) {
        this.counts.nonFinite++;
        return { status: 'non_finite', reason: state };
      }
      this.counts.badLayout++;
      return { status: 'bad_layout', reason: state };
    }
    const t = input.stampNs;
    const last = this.#lastStampNs;
    if (last !== undefined && t === last) {
      this.counts.duplicates++;
      return { status: 'duplicate', reason: `stamp ${t} ns seen before` };
    }
    const anchor = this.#anchor;
    if (!anchor || last === undefined) return this.#newEpisode(t, state, 'first');
    if (t < last) {
      this.counts.resets++;
      this.#commands = this.#commands.filter((c) => c.stampNs <= t);
      // the declared boundaries were on the time line that went away
      this.#cuts = [];
      this.#lastStampNs = t;
      return this.#anchorAt(t, state, 'reset');
    }
    if (this.#crossesCut(anchor.stampNs, t)) {
      // the old episode's commands held over steps that were never taken
      this.#commands = this.#commands.filter((c) => c.stampNs >= t);
      return this.#newEpisode(t, state, 'episode');
    }
    this.#lastStampNs = t;
    const dt = t - anchor.stampNs;
    if (dt < this.#minStepNs) {
      this.counts.tooSoon++;
      return { status: 'too_soon', reason: `${dt} ns after the previous control tick` };
    }
    if (dt > this.#missingTickNs) {
      this.counts.missedTicks++;
      return this.#anchorAt(t, state, 'missed_tick');
    }
    const command = this.#commandBefore(t);
    if (!command || !command.values) {
      this.counts.unpaired++;
      return this.#anchorAt(t, state, !command ? 'no_command' : 'bad_command');
    }
    if (command.stampNs < anchor.stampNs - this.#commandMaxAgeNs) {
      this.counts.unpaired++;
      return this.#anchorAt(t, state, 'stale_command');
    }
    const transition: TransitionSample = {
      episode: this.#episode,
      step: this.#step++,
      state: anchor.state,
      action: command.values,
      nextState: state,
      stampNs: anchor.stampNs,
    };
    this.counts.transitions++;
    this.#anchor = { stampNs: t, state };
    // commands before the new step's start can only matter as its held command: keep the newest
    const keepFrom = this.#commands.findLastIndex((c) => c.stampNs <= t);
    if (keepFrom > 0) this.#commands.splice(0, keepFrom);
    return { status: 'transition', transition };
  }

  /** Forget the chain and the declared boundaries (not the joint order): the next state starts a new episode. */
  reset(): void {
    this.#anchor = undefined;
    this.#lastStampNs = undefined;
    this.#commands = [];
    this.#cuts = [];
  }

  #cut(c: bigint): void {
    const last = this.#lastStampNs;
    if (last !== undefined && c < last) {
      // states after it have come: unless a boundary was crossed there already, they were paired
      if (this.#episodeFirstNs !== undefined && this.#episodeFirstNs <= c) this.counts.lateEvents++;
      return;
    }
    const at = this.#cuts.findIndex((x) => x >= c);
    if (at < 0) this.#cuts.push(c);
    else if (this.#cuts[at] !== c) this.#cuts.splice(at, 0, c);
  }

  /** Is there a declared boundary between states stamped `from` and `to` (from < to)? Crossed ones are dropped. */
  #crossesCut(from: bigint, to: bigint): boolean {
    let crossed = 0;
    while (crossed < this.#cuts.length && this.#cuts[crossed]! < to) crossed++;
    if (crossed === 0) return false;
    const crosses = this.#cuts[crossed - 1]! >= from;
    this.#cuts.splice(0, crossed);
    return crosses;
  }

  #newEpisode(t: bigint, state: Float64Array, status: 'first' | 'episode'): StateOutcome {
    this.#episode++;
    this.#step = 0;
    this.counts.episodes++;
    this.#lastStampNs = t;
    this.#episodeFirstNs = t;
    this.#anchor = { stampNs: t, state };
    // boundaries declared before the episode's first state are behind it
    if (status === 'first') this.#crossesCut(t, t);
    return { status };
  }

  #anchorAt(
    t: bigint,
    state: Float64Array,
    status: 'missed_tick' | 'reset' | 'no_command' | 'stale_command' | 'bad_command',
  ): StateOutcome {
    this.#anchor = { stampNs: t, state };
    return { status };
  }

  /** the newest command stamped before the step's end (the one in force over it), if any */
  #commandBefore(endNs: bigint): Command | undefined {
    for (let i = this.#commands.length - 1; i >= 0; i--)
      if (this.#commands[i]!.stampNs < endNs) return this.#commands[i];
    return undefined;
  }

  #stateVector(input: StateInput): Float64Array | string {
    if (!this.#joints) {
      if (!input.names.length) return 'the state names no joints';
      this.#joints = [...input.names];
    }
    const joints = this.#joints;
    if (!sameNames(this.#indexFor, input.names)) {
      // map again only when the message layout changes
      const index = Int32Array.from(joints, (j) => input.names.indexOf(j));
      const missing = joints.filter((_, i) => index[i]! < 0);
      if (missing.length) return `the state lacks joints ${missing.join(', ')}`;
      this.#index = index;
      this.#indexFor = [...input.names];
    }
    const index = this.#index!;
    const n = joints.length;
    if (input.position.length !== input.names.length)
      return `${input.position.length} positions for ${input.names.length} names`;
    if (input.velocity.length !== input.names.length)
      return `${input.velocity.length} velocities for ${input.names.length} names (s needs both)`;
    const s = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      s[i] = input.position[index[i]!]!;
      s[n + i] = input.velocity[index[i]!]!;
    }
    if (!s.every(Number.isFinite)) return `not finite: [${Array.from(s).join(', ')}]`;
    return s;
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
