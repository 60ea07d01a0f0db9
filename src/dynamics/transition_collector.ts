import { ReplayBuffer } from '../data/replay_buffer.js';
import { TransitionBuilder, type StateInput, type StateOutcome, type TransitionCounts } from '../data/transitions.js';
import { learnerEncoding, type LoadedBufferFile } from './buffer_file.js';
import type { StateEncoding } from './state_encoding.js';

// The dynamics learner's data: control-period transitions built from the state and command streams
// and the episodes the source declares (src/data/transitions.ts), encoded as the model sees them
// (src/dynamics/state_encoding.ts) and kept in a replay buffer. The buffer is made with the first
// transition, when the joints (from the parameter, an earlier run's buffer file, or the first
// state) and the command size are known; transitions loaded from a file come first.

export interface TransitionCollectorOptions {
  readonly periodNs: bigint;
  /** transitions kept; the oldest go first */
  readonly capacity: number;
  /** joints of s, in order (empty: those of the loaded file, or of the first state) */
  readonly joints: readonly string[];
  readonly angleJoints: readonly string[];
  /** an earlier run's transitions, checked (src/dynamics/buffer_file.ts) */
  readonly loaded?: LoadedBufferFile;
}

export interface Collected {
  readonly outcome: StateOutcome;
  /** this state's transition was the first: the buffer was made (describe() says what it holds) */
  readonly started: boolean;
}

export class TransitionCollector {
  readonly #options: TransitionCollectorOptions;
  readonly #builder: TransitionBuilder;
  #encoding: StateEncoding | undefined;
  #buffer: ReplayBuffer | undefined;

  constructor(options: TransitionCollectorOptions) {
    this.#options = options;
    // checked now, so that a bad angle_joints stops the learner at configure
    this.#encoding = options.joints.length ? learnerEncoding(options.joints, options.angleJoints) : undefined;
    if (options.loaded) {
      this.#encoding = options.loaded.encoding;
      this.#buffer = options.loaded.buffer;
    }
    this.#builder = new TransitionBuilder({
      periodNs: options.periodNs,
      joints: options.loaded ? options.loaded.encoding.joints : options.joints,
      actionSize: this.#buffer?.actionSize,
    });
  }

  /** the replay buffer, once there is a transition (or one was loaded) */
  get buffer(): ReplayBuffer | undefined {
    return this.#buffer;
  }

  /** the model's state layout, once the joints are known */
  get encoding(): StateEncoding | undefined {
    return this.#encoding;
  }

  get counts(): Readonly<TransitionCounts> {
    return this.#builder.counts;
  }

  /** values per command, once known */
  get actionSize(): number | undefined {
    return this.#builder.actionSize;
  }

  /** A command, stamped with the learner's clock as it arrives; false when it cannot be used (wrong size, not finite). */
  addCommand(stampNs: bigint, values: ArrayLike<number>): boolean {
    const before = this.#builder.counts.badCommands;
    this.#builder.addCommand(stampNs, values);
    return this.#builder.counts.badCommands === before;
  }

  /** The source ended an episode with its state stamped `stampNs`. */
  endEpisode(stampNs: bigint): void {
    this.#builder.endEpisode(stampNs);
  }

  /** The source started an episode with its state stamped `stampNs`. */
  startEpisode(stampNs: bigint): void {
    this.#builder.startEpisode(stampNs);
  }

  /** A state: the transition it completes goes into the buffer, encoded. */
  addState(input: StateInput): Collected {
    const outcome = this.#builder.addState(input);
    if (outcome.status !== 'transition') return { outcome, started: false };
    const t = outcome.transition;
    const started = !this.#buffer;
    if (!this.#buffer) {
      this.#encoding ??= learnerEncoding(this.#builder.joints!, this.#options.angleJoints);
      this.#buffer = new ReplayBuffer({
        capacity: this.#options.capacity,
        stateSize: this.#encoding.size,
        actionSize: t.action.length,
        meta: { ...this.#encoding.toMetadata(), period_ns: Number(this.#options.periodNs) },
      });
    }
    const enc = this.#encoding!;
    if (enc.identity) this.#buffer.add(t);
    else {
      const state = new Float64Array(enc.size);
      const nextState = new Float64Array(enc.size);
      enc.encodeInto(t.state, state);
      enc.encodeInto(t.nextState, nextState);
      this.#buffer.add({ state, action: t.action, nextState });
    }
    return { outcome, started };
  }

  /** What is collected, for the log: the joints, the command size and the model's state. */
  describe(): string {
    const joints = this.#encoding?.joints ?? this.#builder.joints ?? [];
    return `collecting transitions of ${joints.length} joints (${joints.join(', ')}) and ${this.#builder.actionSize} command values; the model's state ${this.#encoding?.describe() ?? '(not known yet)'}`;
  }
}
