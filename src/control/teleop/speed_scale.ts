// The jog speed scale both jog inputs share: a factor in [minScale, 1] on every jog rate, stepped up
// by multiplying and down by dividing by speedStep (the ] and [ keys, a gamepad's speed buttons), so
// a few presses cover fine and coarse motion alike.

export interface SpeedScaleOptions {
  /** the factor of one step; default 1.5 */
  readonly speedStep?: number;
  /** the lowest scale; default 0.05 */
  readonly minScale?: number;
  /** the scale at start, in [minScale, 1]; default 0.5 */
  readonly initialScale?: number;
}

export class SpeedScale {
  readonly #step: number;
  readonly #min: number;
  #value: number;

  /** @param who names the input in a refusal ("keyboard teleop") */
  constructor(who: string, options: SpeedScaleOptions = {}) {
    const { speedStep = 1.5, minScale = 0.05, initialScale = 0.5 } = options;
    if (!(speedStep > 1)) throw new Error(`${who}: speedStep ${speedStep} must be > 1`);
    if (!(minScale > 0 && minScale <= 1)) throw new Error(`${who}: minScale ${minScale} must be in (0, 1]`);
    if (!(initialScale >= minScale && initialScale <= 1))
      throw new Error(`${who}: initialScale ${initialScale} must be in [${minScale}, 1]`);
    this.#step = speedStep;
    this.#min = minScale;
    this.#value = initialScale;
  }

  get value(): number {
    return this.#value;
  }

  /** One step up (direction > 0) or down; returns the line for the operator. */
  step(direction: number): string {
    const next = direction > 0 ? this.#value * this.#step : this.#value / this.#step;
    this.#value = Math.min(1, Math.max(this.#min, next));
    return `speed ${(this.#value * 100).toFixed(0)} %`;
  }
}
