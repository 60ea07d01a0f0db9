// Episodes started and ended on a clock, as `lerobot-record` runs them unattended: record for
// `episodeSeconds`, then leave `resetSeconds` for the scene to be reset (nothing is an episode
// then), `count` times. The recorder asks it at every tick what, if anything, happens now; the
// schedule only says it (no timers of its own), so it runs the same on wall time and sim time.

export interface EpisodeScheduleOptions {
  readonly episodeSeconds: number;
  readonly resetSeconds: number;
  /** episodes to record; 0: until stopped */
  readonly count: number;
  /** the first episode's number; default 0 */
  readonly firstEpisode?: number;
}

export type ScheduledEvent =
  | { readonly kind: 'start'; readonly episode: number }
  | { readonly kind: 'end'; readonly episode: number; readonly reason: 'length' | 'shutdown' }
  | { readonly kind: 'done' };

export class EpisodeSchedule {
  readonly #episodeNs: bigint;
  readonly #resetNs: bigint;
  readonly #count: number;
  #episode: number;
  #recorded = 0;
  /** when the next phase change is due; undefined before the first tick */
  #dueNs: bigint | undefined;
  #phase: 'idle' | 'recording' | 'reset' | 'done' = 'idle';

  constructor(options: EpisodeScheduleOptions) {
    const { episodeSeconds, resetSeconds, count } = options;
    if (!(episodeSeconds > 0 && Number.isFinite(episodeSeconds)))
      throw new Error(`episode schedule: episode length ${episodeSeconds} s must be positive`);
    if (!(resetSeconds >= 0 && Number.isFinite(resetSeconds)))
      throw new Error(`episode schedule: reset time ${resetSeconds} s must be ≥ 0`);
    if (!(Number.isInteger(count) && count >= 0))
      throw new Error(`episode schedule: episode count ${count} must be a whole number ≥ 0`);
    this.#episodeNs = BigInt(Math.round(episodeSeconds * 1e9));
    this.#resetNs = BigInt(Math.round(resetSeconds * 1e9));
    this.#count = count;
    this.#episode = options.firstEpisode ?? 0;
  }

  get phase(): 'idle' | 'recording' | 'reset' | 'done' {
    return this.#phase;
  }

  /** The episode being recorded, if one is. */
  get recording(): number | undefined {
    return this.#phase === 'recording' ? this.#episode : undefined;
  }

  /** What happens at `nowNs` (non-decreasing): the events due, in order (several after a long pause). */
  tick(nowNs: bigint): ScheduledEvent[] {
    const events: ScheduledEvent[] = [];
    if (this.#phase === 'idle') {
      events.push({ kind: 'start', episode: this.#episode });
      this.#phase = 'recording';
      this.#dueNs = nowNs + this.#episodeNs;
      return events;
    }
    while (this.#phase !== 'done' && this.#dueNs !== undefined && nowNs >= this.#dueNs) {
      if (this.#phase === 'recording') {
        events.push({ kind: 'end', episode: this.#episode, reason: 'length' });
        this.#recorded++;
        this.#episode++;
        if (this.#count > 0 && this.#recorded >= this.#count) {
          this.#phase = 'done';
          events.push({ kind: 'done' });
        } else {
          this.#phase = 'reset';
          this.#dueNs += this.#resetNs;
        }
      } else {
        events.push({ kind: 'start', episode: this.#episode });
        this.#phase = 'recording';
        // a late tick starts the episode now, not in the past: each episode gets its full length
        this.#dueNs = nowNs + this.#episodeNs;
      }
    }
    return events;
  }

  /** End at once (the recorder is stopping): the end of the episode under way, if any. */
  stop(): ScheduledEvent[] {
    const was = this.#phase;
    this.#phase = 'done';
    return was === 'recording' ? [{ kind: 'end', episode: this.#episode, reason: 'shutdown' }] : [];
  }
}
