import type { JointStateSample } from '../bus/servo_bus_api.js';
import type { ServoModel } from '../servos/control_table.js';
import { MOTOR_PARAMETERS } from '../servos/motor_figures.js';

// What a servo can physically do between two readings of its position: turn at most at its
// no-load speed (the datasheet figure in hw/servos/motor_figures.ts) for the time between them. A
// reading further from the joint's last accepted one than that is not the joint's position — a
// reply under another servo's id that the bus could not tell apart, a late reply, a glitch — and
// must not be published, nor become a goal.
//
// The time is bounded from above without trusting the host's timing: a servo measures its
// position after it received the request and before its reply arrived, so two measurements are at
// most (the second reply's arrival − the first request's start) apart, however late the event loop
// ran. The bound is that time × the no-load speed × SPEED_MARGIN (a supply above the datasheet's
// nominal voltage, a load pulling the way the joint turns), plus QUANTISATION_TICKS of the
// encoder. Models without motor figures use FALLBACK_MAX_SPEED_RAD_S, above every model's speed
// in the table. Angles are compared modulo one turn (a single-turn encoder wraps at 0/4095).

/** Factor on the datasheet's no-load speed. */
export const SPEED_MARGIN = 2;
/** Encoder steps of slack: a reading can flicker by a step even standing still. */
export const QUANTISATION_TICKS = 3;
/** rad/s, for a model without motor figures (faster than any in hw/servos/motor_figures.ts). */
export const FALLBACK_MAX_SPEED_RAD_S = 12;

/** A reading further from the reference than the motor can have moved. */
export interface Jump {
  readonly index: number;
  readonly jumpRad: number;
  readonly elapsedMs: number;
  readonly boundRad: number;
}

/** "position jumped 1.000 rad in 12 ms (at most 0.115 rad possible)" */
export function describeJump(j: Jump, verb = 'position jumped'): string {
  return `${verb} ${j.jumpRad.toFixed(3)} rad in ${j.elapsedMs.toFixed(1)} ms (at most ${j.boundRad.toFixed(3)} rad possible)`;
}

/** The difference of two angles, rad, wrapped into (−π, π]. */
function angleDiff(a: number, b: number): number {
  const d = a - b;
  return d - 2 * Math.PI * Math.round(d / (2 * Math.PI));
}

export class MotionGuard {
  readonly #speed: readonly number[];
  readonly #step: readonly number[];
  /** per joint: the last accepted position (servo angle, rad) and when the read that gave it was asked */
  readonly #ref: ({ position: number; sentAt: number } | undefined)[];

  constructor(models: readonly ServoModel[]) {
    this.#speed = models.map((m) => MOTOR_PARAMETERS[m.name]?.maxSpeedRadS ?? FALLBACK_MAX_SPEED_RAD_S);
    this.#step = models.map((m) => (2 * Math.PI) / m.resolution);
    this.#ref = models.map(() => undefined);
  }

  /** How far joint `i` can turn in `elapsedMs`, rad. */
  bound(i: number, elapsedMs: number): number {
    return (this.#speed[i]! * SPEED_MARGIN * Math.max(0, elapsedMs)) / 1000 + QUANTISATION_TICKS * this.#step[i]!;
  }

  /**
   * Judge a sample (`sentAt`: performance.now() before its read was asked) against each joint's
   * last accepted reading: the joints that moved further than possible. The valid readings that
   * are plausible become the new references; a jump leaves the old one, so the next reading is
   * judged against the last believable one, with the longer time since.
   */
  check(sample: JointStateSample, sentAt: number): Jump[] {
    const jumps: Jump[] = [];
    for (let i = 0; i < this.#ref.length; i++) {
      if (!sample.valid[i]) continue;
      const position = sample.position[i]!;
      const ref = this.#ref[i];
      if (ref) {
        const elapsedMs = sample.stamp - ref.sentAt;
        const jumpRad = Math.abs(angleDiff(position, ref.position));
        const boundRad = this.bound(i, elapsedMs);
        if (jumpRad > boundRad) {
          jumps.push({ index: i, jumpRad, elapsedMs, boundRad });
          continue;
        }
      }
      this.#ref[i] = { position, sentAt };
    }
    return jumps;
  }

  /** Two reads one after the other (`firstSentAt`: before the first was asked): the joints on which they disagree beyond what the motor can move. */
  compare(first: JointStateSample, firstSentAt: number, second: JointStateSample): Jump[] {
    const jumps: Jump[] = [];
    const elapsedMs = second.stamp - firstSentAt;
    for (let i = 0; i < this.#ref.length; i++) {
      if (!first.valid[i] || !second.valid[i]) continue;
      const jumpRad = Math.abs(angleDiff(second.position[i]!, first.position[i]!));
      const boundRad = this.bound(i, elapsedMs);
      if (jumpRad > boundRad) jumps.push({ index: i, jumpRad, elapsedMs, boundRad });
    }
    return jumps;
  }
}
