// The bookkeeping of one run of the sim bridge: when it started in sim and wall time, when a
// progress line is due (every progress period of sim time), and when the run has reached its
// length (max sim time), which resolves `finished` with the sentence the launcher prints.

export interface SimRunOptions {
  /** the run ends after this much sim time (0n: it runs until stopped) */
  readonly maxSimNs: bigint;
  /** a progress line is due every this much sim time (0n: never) */
  readonly progressNs: bigint;
  /** the wall clock in ms (default performance.now) */
  readonly wallMs?: () => number;
}

/** What a tick's end brings: a progress line, the run's end, both or neither. */
export interface AfterTick {
  readonly progress: boolean;
  readonly finished: boolean;
}

export class SimRun {
  /** resolves with the run's sentence when it reaches its length; undefined when it has none */
  readonly finished: Promise<string> | undefined;
  readonly #options: SimRunOptions;
  readonly #wallMs: () => number;
  #resolve: (sentence: string) => void = () => {};
  #simStartNs = 0n;
  #wallStart = 0;
  #wallEnd: number | undefined;
  #nextProgressNs: bigint;

  constructor(options: SimRunOptions) {
    this.#options = options;
    this.#wallMs = options.wallMs ?? (() => performance.now());
    this.#nextProgressNs = options.progressNs;
    this.finished = options.maxSimNs > 0n ? new Promise<string>((resolve) => (this.#resolve = resolve)) : undefined;
  }

  /** The run starts (activation) at this sim time. */
  start(simNs: bigint): void {
    this.#simStartNs = simNs;
    this.#wallStart = this.#wallMs();
  }

  /** Sim time run at sim time `simNs`, in seconds. */
  simSeconds(simNs: bigint): number {
    return Number(simNs - this.#simStartNs) / 1e9;
  }

  /** Wall time run, in seconds (up to the end, once the run has ended or stopped). */
  wallSeconds(): number {
    return ((this.#wallEnd ?? this.#wallMs()) - this.#wallStart) / 1000;
  }

  /** After a tick that brought sim time to `simNs`: is a progress line due, has the run reached its length? */
  afterTick(simNs: bigint): AfterTick {
    const run = simNs - this.#simStartNs;
    const { progressNs, maxSimNs } = this.#options;
    const progress = progressNs > 0n && run >= this.#nextProgressNs;
    if (progress) this.#nextProgressNs += progressNs;
    return { progress, finished: maxSimNs > 0n && run >= maxSimNs };
  }

  /** The run has reached its length: the wall clock stops, then `finished` resolves with the sentence. */
  finish(sentence: () => string): void {
    this.#wallEnd = this.#wallMs();
    this.#resolve(sentence());
  }

  /** The run is stopped from outside (deactivation): the wall clock stops, unless the run ended before. */
  stop(): void {
    this.#wallEnd ??= this.#wallMs();
  }
}
