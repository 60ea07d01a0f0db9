import type { EpisodeCommand } from './teleop_source.js';

// The operator's episode commands as episode boundaries (what dynastack_msgs/EpisodeEvent
// carries: START or END of an episode number, with a reason). LeRobot's recording keys: `end`
// (right arrow) ends the episode early and keeps it, `rerecord` (left arrow) ends it and records
// the same episode again, `stop` (Esc) ends recording; here `start` begins an episode and `discard`
// ends one that is not kept (its number is used again by the next). A command that does not apply
// (an end with no episode under way, a start during one) changes nothing and says why.

export interface EpisodeBoundary {
  readonly kind: 'start' | 'end';
  readonly episode: number;
  /** why an episode ended ('exit_early', 'rerecord', 'discard', 'stop_recording'), or '' */
  readonly reason: string;
}

export interface EpisodeOutcome {
  readonly boundaries: EpisodeBoundary[];
  /** one line for the operator */
  readonly say: string;
}

export class EpisodeControl {
  #next: number;
  #recording: number | undefined;

  /** @param firstEpisode the number of the first episode started */
  constructor(firstEpisode = 0) {
    if (!(Number.isInteger(firstEpisode) && firstEpisode >= 0))
      throw new Error(`episode control: the first episode ${firstEpisode} must be a whole number ≥ 0`);
    this.#next = firstEpisode;
  }

  /** The episode under way, if any. */
  get recording(): number | undefined {
    return this.#recording;
  }

  apply(command: EpisodeCommand): EpisodeOutcome {
    const current = this.#recording;
    const start = (episode: number, reason = ''): EpisodeBoundary => {
      this.#recording = episode;
      return { kind: 'start', episode, reason };
    };
    const end = (reason: string): EpisodeBoundary => {
      this.#recording = undefined;
      return { kind: 'end', episode: current!, reason };
    };
    switch (command) {
      case 'start':
        if (current !== undefined) return { boundaries: [], say: `episode ${current} is under way already` };
        return { boundaries: [start(this.#next)], say: `episode ${this.#next} started` };
      case 'end':
        if (current === undefined) return { boundaries: [], say: 'no episode under way to end' };
        this.#next = current + 1;
        return { boundaries: [end('exit_early')], say: `episode ${current} ended` };
      case 'rerecord':
        if (current === undefined) return { boundaries: [], say: 'no episode under way to re-record' };
        return {
          boundaries: [end('rerecord'), start(current, 'rerecord')],
          say: `episode ${current} dropped: recording it again`,
        };
      case 'discard':
        if (current === undefined) return { boundaries: [], say: 'no episode under way to discard' };
        this.#next = current;
        return { boundaries: [end('discard')], say: `episode ${current} discarded` };
      case 'stop':
        if (current === undefined) return { boundaries: [], say: 'recording stopped (no episode was under way)' };
        this.#next = current + 1;
        return { boundaries: [end('stop_recording')], say: `episode ${current} ended: recording stopped` };
    }
  }
}
