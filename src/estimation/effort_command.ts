import type { EffortInput } from './joint_state_estimator.js';

// The effort input of the state estimator's prediction, and the checks of the effort-model
// parameters. A commanded effort is held from one command to the next (zero-order hold, as the
// robot applies it) and used while it is younger than a timeout on a clock the caller gives (the
// node's steady clock); without a command source the estimator takes each measurement's own effort.

/** Anything that tells the time in nanoseconds (the node's steady clock). */
export interface NsClock {
  now(): bigint;
}

/** The newest effort command, held until the next one, and not used once older than the timeout. */
export class HeldEffortCommand {
  /** commands taken since construction */
  received = 0;
  readonly #timeoutNs: bigint;
  readonly #clock: NsClock;
  #effort: Float64Array | undefined;
  #receivedNs = 0n;

  constructor(timeoutNs: bigint, clock: NsClock) {
    this.#timeoutNs = timeoutNs;
    this.#clock = clock;
  }

  /** A new command, one value per joint in the estimator's order. */
  take(values: ArrayLike<number>): void {
    this.received++;
    this.#effort = Float64Array.from(values);
    this.#receivedNs = this.#clock.now();
  }

  /** The held command, or undefined when there is none or it is older than the timeout. */
  current(): Float64Array | undefined {
    if (!this.#effort || this.#clock.now() - this.#receivedNs > this.#timeoutNs) return undefined;
    return this.#effort;
  }
}

/**
 * What the estimator predicts with: nothing when the effort input is off, each measurement's own
 * effort when there is no command source, else the held command (nothing once it timed out).
 */
export function effortInput(useEffortInput: boolean, command: HeldEffortCommand | undefined): EffortInput | undefined {
  if (!useEffortInput) return undefined;
  if (!command) return 'measured';
  return command.current();
}

/** The state_estimator parameters of the effort model, by their parameter names. */
export interface EffortModelParams {
  readonly joints: readonly string[];
  readonly inertia: readonly number[];
  readonly damping: readonly number[];
  readonly use_effort_input: boolean;
  readonly command_topic: string;
}

/**
 * Throws, naming the parameter, when the effort-model parameters do not fit together; returns
 * the warnings about settings that are consistent but have no effect.
 */
export function checkEffortModelParams(p: EffortModelParams): string[] {
  for (const name of ['inertia', 'damping'] as const) {
    const values = p[name];
    if (!values.length) continue;
    if (!p.joints.length)
      throw new Error(`parameter '${name}': its values follow the order of 'joints', which is empty; name the joints`);
    if (values.length !== p.joints.length)
      throw new Error(
        `parameter '${name}': ${values.length} values for the ${p.joints.length} joints of 'joints' (give one per joint, or none)`,
      );
  }
  if (p.damping.length && !p.inertia.length)
    throw new Error("parameter 'damping': the effort model needs 'inertia' as well");
  if (p.use_effort_input && !p.inertia.some((x) => x > 0))
    throw new Error("parameter 'use_effort_input': the effort model needs a positive 'inertia' for at least one joint");
  if (p.command_topic && !p.use_effort_input)
    return ["parameter 'command_topic' is set but 'use_effort_input' is false: commands are not used"];
  return [];
}
