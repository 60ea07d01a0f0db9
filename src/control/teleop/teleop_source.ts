import { EndEffectorJog, JointJog, type JogJoint } from './jog.js';

// What the teleop stage takes joint position targets from: a source ticked at the command rate
// with the measured joint positions. Jogging inputs (a keyboard, a gamepad) say how they want the
// arm to move (a rate per joint, a rate of the end effector, a speed scale) and which episode
// commands were given; JogSource turns that into a target by integrating it (src/control/teleop/jog.ts).
// A follow source (a leader arm) gives its targets directly (follow_source.ts).

/** LeRobot's recording keys, and a start: what an operator says about the episode under way. */
export type EpisodeCommand = 'start' | 'end' | 'rerecord' | 'discard' | 'stop';

export interface TeleopSource {
  readonly kind: string;
  /**
   * The joint position targets for this tick (one per joint, a view valid until the next call),
   * or undefined when the source has none (nothing read yet, or a reading too old): then the
   * measured position is held.
   */
  tick(nowNs: bigint, measured: Float64Array): Float64Array | undefined;
  /** What was really sent this tick (after the relative-target clip and the safety layer): a jog goes on from there. */
  sent?(command: Float64Array): void;
  /** Episode commands given since the last call, oldest first. */
  takeEpisodeCommands?(): EpisodeCommand[];
  /** Release what the source holds (a device, a terminal). */
  close?(): void | Promise<void>;
}

/** How a jogging input wants the arm to move now: rates in [−1, 1] of the jog speeds, times `scale`. */
export interface JogMotion {
  /** one per joint */
  readonly joint: Float64Array;
  /** the end effector's x, y, z (world frame) */
  readonly ee: readonly [number, number, number];
  /** the operator's speed scale (speed up/down), > 0 */
  readonly scale: number;
}

export interface JogInput {
  readonly kind: string;
  /** The motion wanted now. */
  motion(): JogMotion;
  takeEpisodeCommands(): EpisodeCommand[];
  close?(): void | Promise<void>;
}

export interface JogSpeeds {
  /** rad/s (m/s for a slide) at rate 1 and scale 1, one per joint or one for all */
  readonly jointSpeed: readonly number[];
  /** m/s at rate 1 and scale 1 */
  readonly eeSpeed: number;
}

/** A jogging input as a teleop source: its motion integrated into a position target each tick. */
export class JogSource implements TeleopSource {
  readonly kind: string;
  readonly #input: JogInput;
  readonly #jog: JointJog;
  readonly #ee: EndEffectorJog | undefined;
  readonly #jointSpeed: Float64Array;
  readonly #eeSpeed: number;
  readonly #dtS: number;
  readonly #velocity: Float64Array;
  readonly #eeVelocity: Float64Array;

  /**
   * @param ee the end-effector jog (absent: end-effector motion is ignored)
   * @param periodNs the tick period: each tick integrates one period of motion
   */
  constructor(input: JogInput, joints: readonly JogJoint[], speeds: JogSpeeds, periodNs: bigint, ee?: EndEffectorJog) {
    this.kind = input.kind;
    this.#input = input;
    this.#jog = new JointJog(joints);
    this.#ee = ee;
    const n = joints.length;
    const js = speeds.jointSpeed;
    if (js.length !== 1 && js.length !== n)
      throw new Error(`jog speeds: ${js.length} joint speeds for ${n} joints (give one for all, or one per joint)`);
    if (!js.every((v) => v >= 0 && Number.isFinite(v)))
      throw new Error(`jog speeds: joint speeds must be finite and ≥ 0, got ${js.join(', ')}`);
    if (!(speeds.eeSpeed >= 0 && Number.isFinite(speeds.eeSpeed)))
      throw new Error(`jog speeds: the end-effector speed must be finite and ≥ 0, got ${speeds.eeSpeed}`);
    this.#jointSpeed = Float64Array.from({ length: n }, (_, i) => (js.length === 1 ? js[0]! : js[i]!));
    this.#eeSpeed = speeds.eeSpeed;
    this.#dtS = Number(periodNs) / 1e9;
    this.#velocity = new Float64Array(n);
    this.#eeVelocity = new Float64Array(n);
  }

  tick(_nowNs: bigint, measured: Float64Array): Float64Array {
    if (!this.#jog.hasTarget) this.#jog.reset(measured);
    const m = this.#input.motion();
    const scale = Number.isFinite(m.scale) && m.scale > 0 ? m.scale : 0;
    const v = this.#velocity;
    for (let i = 0; i < v.length; i++) v[i] = clampRate(m.joint[i] ?? 0) * this.#jointSpeed[i]! * scale;
    const ee = m.ee.map((r) => clampRate(r) * this.#eeSpeed * scale) as [number, number, number];
    if (this.#ee && ee.some((r) => r !== 0)) {
      this.#ee.jointVelocities(this.#jog.target, ee, this.#eeVelocity);
      for (let i = 0; i < v.length; i++) v[i] = v[i]! + this.#eeVelocity[i]!;
    }
    return this.#jog.step(v, this.#dtS);
  }

  sent(command: Float64Array): void {
    this.#jog.reset(command);
  }

  takeEpisodeCommands(): EpisodeCommand[] {
    return this.#input.takeEpisodeCommands();
  }

  close(): void | Promise<void> {
    return this.#input.close?.();
  }
}

/** A rate in [−1, 1]; anything non-finite is no motion. */
function clampRate(r: number): number {
  return Number.isFinite(r) ? Math.max(-1, Math.min(1, r)) : 0;
}
