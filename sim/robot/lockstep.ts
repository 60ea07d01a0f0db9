// How the sim bridge drives the simulation, apart from the graph it publishes on. Lockstep:
// publish the state of tick k, wait for that tick's command (or a timeout, then step with the last
// one), step; deterministic, and as fast as the graph answers. Real time: the state at start, then
// on every tick of a wall timer a step and the new state. The node supplies what publishing,
// stepping and "is the run over" mean, so both are tested without a node or a simulation.
//
// Start-up across processes (ros2 launch): tick 0 waits for the command source (a subscriber of
// the state and a publisher of the command, sim/robot/command_source.ts), and until the graph has
// answered a first time, a tick whose command does not come is published again (the same state and
// /clock) every resendMs: DDS may deliver nothing to a reader its writer has not yet discovered, so
// a first state or a first command can be lost however long one waits. After the first answer every
// link has carried a message; a tick unanswered then is held on purpose (a learner's training) and
// is not published twice.

export interface SteppingHooks {
  /** publish the state (and the clock) of the tick the simulation stands at */
  publishState(): void;
  /** publish again the messages publishState() last published, unchanged (no new sensor draw) */
  republishState(): void;
  /** step one control period, publishing any episode boundary it crosses */
  advance(): void;
  /** after a step: true when the run is over */
  done(): boolean;
}

/** Calls `callback` after `ms` of wall time unless the returned function cancels it first. */
export type StartTimeout = (ms: number, callback: () => void) => () => void;

const wallTimeout: StartTimeout = (ms, callback) => {
  const t = setTimeout(callback, ms);
  return () => clearTimeout(t);
};

export interface LockstepOptions {
  /** wall time to wait for a tick's command before stepping with the last one */
  readonly timeoutMs: number;
  /** a tick's command did not come in time (called with the number of timeouts so far) */
  readonly onTimeout?: (timeouts: number) => void;
  /** the timeout's timer (default: setTimeout) */
  readonly startTimeout?: StartTimeout;
  /** before tick 0, wait until this says the command source is there */
  readonly source?: SourceGate;
  /** until the first command of the run, publish a waiting tick's state again every this many ms (0: never) */
  readonly resendMs?: number;
  /** a waiting tick's state was published again (called with the number of times so far) */
  readonly onResend?: (resends: number) => void;
}

/** The command source's wait, as the loop uses it (sim/robot/command_source.ts: CommandSourceWait). */
export interface SourceGate {
  present(): boolean;
  wait(): Promise<unknown>;
  stop(): void;
}

export class Lockstep {
  readonly #hooks: SteppingHooks;
  readonly #options: LockstepOptions;
  #active = false;
  #arrived: (() => void) | undefined;
  #timeouts = 0;
  #resends = 0;
  /** a command has come in this run: every link of the graph has carried a message */
  #answered = false;

  constructor(hooks: SteppingHooks, options: LockstepOptions) {
    this.#hooks = hooks;
    this.#options = options;
  }

  get active(): boolean {
    return this.#active;
  }

  /** ticks stepped without their command */
  get timeouts(): number {
    return this.#timeouts;
  }

  /** states published again while the first command was awaited */
  get resends(): number {
    return this.#resends;
  }

  /** The command of the tick being waited for has come (a command at any other time changes nothing here). */
  commandArrived(): void {
    this.#arrived?.();
  }

  /**
   * Run until stop() or until done() says the run is over. Tick 0 has no command to wait for (no
   * controller timer fires at t = 0): after it the loop yields one turn, so that the graph sees
   * t = 0 before t = 1 follows.
   */
  async run(): Promise<void> {
    this.#active = true;
    // synchronous when the source is already there (one process: the same ticks as ever)
    const source = this.#options.source;
    if (source && !source.present()) {
      await source.wait();
      if (this.#stopped()) return;
    }
    let first = true;
    while (!this.#stopped()) {
      this.#hooks.publishState();
      if (!first) {
        const arrived = await this.#waitForCommand();
        if (this.#stopped()) break;
        if (!arrived) {
          // counted whether or not anyone is told (an optional call would skip the increment)
          this.#timeouts++;
          this.#options.onTimeout?.(this.#timeouts);
        }
      }
      this.#hooks.advance();
      if (this.#hooks.done()) {
        this.#active = false;
        break;
      }
      if (first) await new Promise((r) => setImmediate(r));
      first = false;
    }
  }

  /** Stop the loop (it ends at once if it is waiting for a command). */
  stop(): void {
    this.#active = false;
    this.#options.source?.stop();
    this.#arrived?.();
  }

  /** stop() may come during any await of the loop (a method, so that no narrowing hides it) */
  #stopped(): boolean {
    return !this.#active;
  }

  #waitForCommand(): Promise<boolean> {
    const startTimeout = this.#options.startTimeout ?? wallTimeout;
    const resendMs = this.#answered ? 0 : (this.#options.resendMs ?? 0);
    return new Promise<boolean>((resolve) => {
      let cancelResend: (() => void) | undefined;
      const resend = (): void => {
        this.#hooks.republishState();
        this.#options.onResend?.(++this.#resends);
        cancelResend = startTimeout(resendMs, resend);
      };
      if (resendMs > 0) cancelResend = startTimeout(resendMs, resend);
      const cancel = startTimeout(this.#options.timeoutMs, () => {
        this.#arrived = undefined;
        cancelResend?.();
        resolve(false);
      });
      this.#arrived = () => {
        this.#arrived = undefined;
        this.#answered = true;
        cancel();
        cancelResend?.();
        resolve(true);
      };
    });
  }
}

/**
 * Real time, on every tick of the wall timer (the state the simulation starts from is published at
 * activation): a step, then the new state; true when the run is over.
 */
export function realtimeTick(hooks: SteppingHooks): boolean {
  hooks.advance();
  hooks.publishState();
  return hooks.done();
}
