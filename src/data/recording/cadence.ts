// The cadence of a recorded stream over one episode: how often it came against the rate it should
// have had, how many of its intervals overran the tick budget, the longest gap, and how many
// messages were dropped on the way (a subscription queue that overflowed). Loop cadence is what
// users of teleop recorders most often find wrong after the fact (LeRobot's `lerobot-record` prints
// a per-episode frequency for this reason), so the recorder says it at the end of every episode.

export interface CadenceReport {
  /** messages in the episode */
  readonly messages: number;
  /** seconds from the first to the last message */
  readonly seconds: number;
  /** (messages − 1) / seconds, 0 with fewer than two */
  readonly achievedHz: number;
  readonly targetHz: number;
  /** intervals longer than the budget (one period × (1 + tolerance)) */
  readonly overBudget: number;
  /** intervals measured (messages − 1) */
  readonly intervals: number;
  /** the share of intervals within the budget, 1 with none measured */
  readonly withinBudget: number;
  /** the longest interval, ms */
  readonly longestGapMs: number;
  /** periods missing: Σ max(0, round(interval / period) − 1) */
  readonly missedTicks: number;
  /** messages the subscriptions dropped during the episode */
  readonly dropped: number;
}

export interface CadenceOptions {
  readonly targetHz: number;
  /** an interval counts as over budget beyond period × (1 + tolerance); default 0.5 */
  readonly tolerance?: number;
}

/** Accumulates the stamps of one stream over an episode; cheap enough for every message. */
export class CadenceMeter {
  readonly #periodNs: number;
  readonly #budgetNs: number;
  readonly #targetHz: number;
  #first: bigint | undefined;
  #last: bigint | undefined;
  #messages = 0;
  #overBudget = 0;
  #missed = 0;
  #longestNs = 0;
  #droppedAtStart = 0;
  #droppedNow = 0;

  constructor(options: CadenceOptions) {
    const { targetHz } = options;
    const tolerance = options.tolerance ?? 0.5;
    if (!(targetHz > 0 && Number.isFinite(targetHz)))
      throw new Error(`cadence: the target rate ${targetHz} Hz must be positive`);
    if (!(tolerance >= 0 && Number.isFinite(tolerance)))
      throw new Error(`cadence: the tolerance ${tolerance} must be ≥ 0`);
    this.#targetHz = targetHz;
    this.#periodNs = 1e9 / targetHz;
    this.#budgetNs = this.#periodNs * (1 + tolerance);
  }

  /** Start a new episode; `dropped` is the subscriptions' dropped count now (cumulative). */
  reset(dropped = 0): void {
    this.#first = this.#last = undefined;
    this.#messages = this.#overBudget = this.#missed = this.#longestNs = 0;
    this.#droppedAtStart = this.#droppedNow = dropped;
  }

  /** One message of the stream, at `stampNs` (receive or header time, non-decreasing). */
  add(stampNs: bigint): void {
    if (this.#last !== undefined) {
      const dt = Number(stampNs - this.#last);
      if (dt < 0) return; // out of order: not an interval of this stream's cadence
      if (dt > this.#budgetNs) this.#overBudget++;
      if (dt > this.#longestNs) this.#longestNs = dt;
      this.#missed += Math.max(0, Math.round(dt / this.#periodNs) - 1);
    } else this.#first = stampNs;
    this.#last = stampNs;
    this.#messages++;
  }

  /** The subscriptions' dropped count now (cumulative since they were made). */
  setDropped(dropped: number): void {
    this.#droppedNow = dropped;
  }

  report(): CadenceReport {
    const intervals = Math.max(0, this.#messages - 1);
    const seconds = this.#first !== undefined && this.#last !== undefined ? Number(this.#last - this.#first) / 1e9 : 0;
    return {
      messages: this.#messages,
      seconds,
      achievedHz: intervals > 0 && seconds > 0 ? intervals / seconds : 0,
      targetHz: this.#targetHz,
      overBudget: this.#overBudget,
      intervals,
      withinBudget: intervals > 0 ? 1 - this.#overBudget / intervals : 1,
      longestGapMs: this.#longestNs / 1e6,
      missedTicks: this.#missed,
      dropped: Math.max(0, this.#droppedNow - this.#droppedAtStart),
    };
  }
}

/** One line for the log: "episode 3 cadence on joint_states: 29.8 Hz of 30 (99.3 %), …". */
export function cadenceLine(episode: number, topic: string, r: CadenceReport): string {
  return (
    `episode ${episode} cadence on ${topic}: ${r.achievedHz.toFixed(1)} Hz of ${r.targetHz} ` +
    `over ${r.seconds.toFixed(1)} s, ${(100 * r.withinBudget).toFixed(1)} % of ${r.intervals} intervals within budget, ` +
    `${r.overBudget} over, longest gap ${r.longestGapMs.toFixed(1)} ms, ${r.missedTicks} ticks missed, ${r.dropped} dropped`
  );
}
