import { CadenceMeter, type CadenceReport } from './cadence.js';

// One recording: every message of the recorded topics goes to the sink (a rosbag2 bag) as it
// arrives, so the bag is a lossless log whatever the episodes turn out to be; episodes are marks in
// that log. The session follows the episode boundaries (dynastack_msgs/EpisodeEvent: whoever
// declares episodes — the sim bridge, the teleop keys, the recorder's own schedule), writes the
// task of each episode into the bag at its start (TASK_TOPIC, std_msgs/String, so an exporter
// finds it at the START's stamp), measures the cadence of one stream per episode, and keeps a
// line per episode: kept, or dropped (discarded / re-recorded: the data stays in the bag, the END's
// reason says it is not to be used).

/** Where the recorded task strings go in the bag. */
export const TASK_TOPIC = '/recorder/task';
export const TASK_TYPE = 'std_msgs/msg/String';

/** END reasons of episodes that are not to be used (src/control/teleop/episode_control.ts's). */
export const DROPPED_REASONS: ReadonlySet<string> = new Set(['discard', 'rerecord']);

/** What the session writes to: framework/bag/bag_writer.ts's BagWriter fits. */
export interface RecordSink {
  /** false when the sink has stopped (low disk space, a failed write) */
  write(topic: string, type: string, logTimeNs: bigint, cdr: Uint8Array): boolean;
}

export interface EpisodeRecord {
  readonly episode: number;
  readonly task: string;
  readonly startNs: bigint;
  readonly endNs: bigint;
  /** the END's reason */
  readonly reason: string;
  readonly kept: boolean;
  readonly cadence?: CadenceReport;
}

export interface SessionOptions {
  readonly task: string;
  /** the stream whose cadence is reported per episode, and its rate */
  readonly cadenceTopic?: string;
  readonly cadenceHz?: number;
  /** the CDR encoding of a std_msgs/String (the session is transport-free) */
  readonly encodeString: (data: string) => Uint8Array;
}

export class RecordingSession {
  readonly #sink: RecordSink;
  readonly #options: SessionOptions;
  readonly #cadence: CadenceMeter | undefined;
  readonly #episodes: EpisodeRecord[] = [];
  #task: string;
  #open: { episode: number; task: string; startNs: bigint } | undefined;
  #messages = 0;
  #stopped = false;

  constructor(sink: RecordSink, options: SessionOptions) {
    this.#sink = sink;
    this.#options = options;
    this.#task = options.task;
    this.#cadence =
      options.cadenceTopic && options.cadenceHz ? new CadenceMeter({ targetHz: options.cadenceHz }) : undefined;
  }

  get messages(): number {
    return this.#messages;
  }

  get episodes(): readonly EpisodeRecord[] {
    return this.#episodes;
  }

  /** the episode under way, if any */
  get recording(): number | undefined {
    return this.#open?.episode;
  }

  get task(): string {
    return this.#task;
  }

  /** true once the sink refused a message: nothing more is recorded */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** The task of the episodes that start from now on. */
  setTask(task: string): void {
    this.#task = task;
  }

  /** A message of a recorded topic, received at `logTimeNs`. */
  message(topic: string, type: string, logTimeNs: bigint, cdr: Uint8Array, dropped = 0): void {
    if (this.#stopped) return;
    if (!this.#sink.write(topic, type, logTimeNs, cdr)) {
      this.#stopped = true;
      return;
    }
    this.#messages++;
    if (this.#cadence && this.#open && topic === this.#options.cadenceTopic) {
      this.#cadence.add(logTimeNs);
      this.#cadence.setDropped(dropped);
    }
  }

  /**
   * An episode boundary (already recorded as a message of the episode topic, if that is recorded).
   * Returns the finished episode's record at an END.
   */
  boundary(
    kind: 'start' | 'end',
    episode: number,
    stampNs: bigint,
    reason: string,
    dropped = 0,
  ): EpisodeRecord | undefined {
    if (kind === 'start') {
      this.#open = { episode, task: this.#task, startNs: stampNs };
      this.#cadence?.reset(dropped);
      if (!this.#stopped && !this.#sink.write(TASK_TOPIC, TASK_TYPE, stampNs, this.#options.encodeString(this.#task)))
        this.#stopped = true;
      return undefined;
    }
    const open = this.#open;
    if (!open || open.episode !== episode) return undefined;
    this.#open = undefined;
    const record: EpisodeRecord = {
      episode,
      task: open.task,
      startNs: open.startNs,
      endNs: stampNs,
      reason,
      kept: !DROPPED_REASONS.has(reason),
      ...(this.#cadence ? { cadence: this.#cadence.report() } : {}),
    };
    this.#episodes.push(record);
    return record;
  }
}
