import type { StartTimeout } from './lockstep.js';

// Whether a bridge's command source is there, and waiting until it is. Under `ros2 launch` every
// node is a process of its own, discovered by DDS some time after it starts: a bridge that steps
// (or publishes the first lockstep state) on activation does so before the controller's process
// has matched its topics, and the robot falls or the tick is never answered. So a bridge holds until
// it sees its command source: a subscriber matched to its state and a publisher matched to its
// command topic (rcl_publisher_get_subscription_count, rcl_subscription_get_publisher_count). It
// says once that it waits and why, again every reportMs while it still waits, and once when it
// goes on; with a limit, it goes on without the source when the limit passes (saying so). Where
// every state matters to more than the controller (an episode monitor in its own process sums
// episode 0's rewards from the first state), the bridge can wait for that many state subscribers.

/** What the bridge can see of its command source. */
export interface CommandSourceProbe {
  /** subscriptions matched to the state publisher */
  stateSubscribers(): number;
  /** how many state subscribers make the source there (default 1) */
  readonly minStateSubscribers?: number;
  /** publishers matched to the command subscription */
  commandPublishers(): number;
  /** the topics, for the lines said */
  readonly stateTopic: string;
  readonly commandTopic: string;
}

/** What is missing of the command source, as a phrase ('' when it is there). */
export function missingSource(probe: CommandSourceProbe): string {
  const missing: string[] = [];
  const want = probe.minStateSubscribers ?? 1;
  const have = probe.stateSubscribers();
  if (have < want)
    missing.push(
      want === 1 ? `no subscriber of ${probe.stateTopic}` : `${have} of ${want} subscribers of ${probe.stateTopic}`,
    );
  if (probe.commandPublishers() === 0) missing.push(`no publisher on ${probe.commandTopic}`);
  return missing.join(', ');
}

export interface CommandSourceWaitOptions {
  /** how often to look (ms of wall time) */
  readonly pollMs: number;
  /** say again that it waits every this much wall time (ms) */
  readonly reportMs: number;
  /** go on without the source after this much wall time (ms); 0: wait as long as it takes */
  readonly limitMs: number;
  /** what the bridge holds while it waits, for the lines said ("the sim paused", "the arm where it is") */
  readonly holding: string;
  readonly log: (level: 'info' | 'warn', line: string) => void;
  /** the timer (default setTimeout) */
  readonly startTimeout?: StartTimeout;
}

export type WaitOutcome = 'there' | 'limit' | 'stopped';

const wallTimeout: StartTimeout = (ms, callback) => {
  const t = setTimeout(callback, ms);
  return () => clearTimeout(t);
};

/** Waits for a bridge's command source (one wait at a time; again after a re-activation). */
export class CommandSourceWait {
  readonly #probe: CommandSourceProbe;
  readonly #options: CommandSourceWaitOptions;
  /** the running timers' cancels, one slot per timer */
  readonly #cancel = new Map<'poll' | 'report' | 'limit', () => void>();
  #settle: ((outcome: WaitOutcome) => void) | undefined;

  constructor(probe: CommandSourceProbe, options: CommandSourceWaitOptions) {
    this.#probe = probe;
    this.#options = options;
  }

  /** true when the source is there now */
  present(): boolean {
    return missingSource(this.#probe) === '';
  }

  /**
   * Resolves 'there' once the source is there ('there' at once, and nothing said, when it already
   * is: callers check present() first to stay synchronous), 'limit' when the limit passed first,
   * 'stopped' after stop().
   */
  wait(): Promise<WaitOutcome> {
    const o = this.#options;
    const start = o.startTimeout ?? wallTimeout;
    const first = missingSource(this.#probe);
    if (first === '') return Promise.resolve('there');
    o.log(
      'info',
      `waiting for the command source (${first}): holding ${o.holding} until it is there${o.limitMs > 0 ? `, at most ${o.limitMs / 1000} s` : ''}`,
    );
    let waitedMs = 0;
    return new Promise<WaitOutcome>((resolve) => {
      const settle = (outcome: WaitOutcome): void => {
        if (!this.#settle) return;
        this.#settle = undefined;
        for (const cancel of this.#cancel.values()) cancel();
        this.#cancel.clear();
        resolve(outcome);
      };
      this.#settle = settle;
      const poll = (): void => {
        if (!this.#settle) return;
        if (this.present()) {
          o.log(
            'info',
            `command source there (a subscriber of ${this.#probe.stateTopic} and a publisher on ${this.#probe.commandTopic}): starting`,
          );
          settle('there');
        } else this.#cancel.set('poll', start(o.pollMs, poll));
      };
      const report = (): void => {
        if (!this.#settle) return;
        waitedMs += o.reportMs;
        o.log(
          'warn',
          `still waiting for the command source after ${waitedMs / 1000} s (${missingSource(this.#probe)}): holding ${o.holding}`,
        );
        this.#cancel.set('report', start(o.reportMs, report));
      };
      if (o.limitMs > 0)
        this.#cancel.set(
          'limit',
          start(o.limitMs, () => {
            o.log(
              'warn',
              `no command source after ${o.limitMs / 1000} s (${missingSource(this.#probe)}): starting without it`,
            );
            settle('limit');
          }),
        );
      this.#cancel.set('report', start(o.reportMs, report));
      this.#cancel.set('poll', start(o.pollMs, poll));
    });
  }

  /** Stop waiting ('stopped'). */
  stop(): void {
    this.#settle?.('stopped');
  }
}
