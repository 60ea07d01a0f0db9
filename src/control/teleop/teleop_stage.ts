import type { SafetyLayer, SafetyState, SafetyVerdict } from '../safety.js';
import type { RelativeTargetClip } from './relative_target.js';
import type { TeleopSource } from './teleop_source.js';

// The teleop stage: every tick, the source's joint position target, clipped to lead the measured
// position by at most max_relative_target (relative_target.ts), then through the safety layer
// (src/control/safety.ts: joint limits, velocity, rate limit, e-stop, stale-state watchdog, and
// the stop action for anything non-finite). A source with no target holds the measured position.
// What the safety layer let out is handed back to the source (a jog goes on from what was sent).
// Position commands only: a teleop target is a position.

export interface TeleopTick {
  /** the command to send (a view, valid until the next call) */
  readonly command: Float64Array;
  /** false when there is nothing safe to send (no position measured yet) */
  readonly publish: boolean;
  readonly verdict: SafetyVerdict;
  /** how many joints max_relative_target clipped this tick */
  readonly clipped: number;
  /** true when the source gave no target and the measured position was held */
  readonly held: boolean;
}

export class TeleopStage {
  readonly source: TeleopSource;
  readonly #safety: SafetyLayer;
  readonly #clip: RelativeTargetClip;
  readonly #measured: Float64Array;
  readonly #goal: Float64Array;
  readonly #out: Float64Array;

  constructor(source: TeleopSource, safety: SafetyLayer, clip: RelativeTargetClip) {
    if (safety.commandInterface !== 'position')
      throw new Error(
        `teleop: the safety layer filters ${safety.commandInterface} commands; teleop sends positions (command_interface position)`,
      );
    if (clip.joints !== safety.joints)
      throw new Error(
        `teleop: max_relative_target is for ${clip.joints} joints, the safety layer for ${safety.joints}`,
      );
    this.source = source;
    this.#safety = safety;
    this.#clip = clip;
    const n = safety.joints;
    this.#measured = new Float64Array(n);
    this.#goal = new Float64Array(n);
    this.#out = new Float64Array(n);
  }

  /** One tick at nowNs (the clock the state is stamped with) from the newest state (undefined: none yet). */
  tick(nowNs: bigint, state: SafetyState | undefined): TeleopTick {
    let clipped = 0;
    let held = false;
    const n = this.#safety.joints;
    if (state && state.position.length === n) {
      for (let i = 0; i < n; i++) this.#measured[i] = state.position[i]!;
      const target = this.source.tick(nowNs, this.#measured);
      if (target && target.length === n) clipped = this.#clip.clip(target, this.#measured, this.#goal);
      else {
        this.#goal.set(this.#measured);
        held = true;
      }
    } else {
      // the safety layer sends its stop action for a missing or malformed state
      this.#goal.fill(Number.NaN);
    }
    const verdict = this.#safety.filter(this.#goal, state, nowNs, this.#out);
    if (verdict.publish) this.source.sent?.(this.#out);
    return { command: this.#out, publish: verdict.publish, verdict, clipped, held };
  }

  /** The safety layer's stop action (deactivated): false when no position was ever measured. */
  stop(nowNs: bigint): { readonly command: Float64Array; readonly publish: boolean } {
    const publish = this.#safety.stop(nowNs, this.#out);
    return { command: this.#out, publish };
  }
}
