import { Rng } from '../../src/util/random.js';
import { Ring } from '../../src/util/ring.js';

// What the simulated sensors report: the true joint state with Gaussian noise and a delay of
// whole control periods, as a real servo bus reports state that is a few milliseconds old.

export interface JointSample {
  /** when the sample was measured (sim time, ns) */
  readonly stampNs: bigint;
  readonly position: Float64Array;
  readonly velocity: Float64Array;
  readonly effort: Float64Array;
}

export interface SensorModel {
  readonly positionNoise: number;
  readonly velocityNoise: number;
  /** whole control periods between measuring and reporting */
  readonly latencySteps: number;
  readonly seed: number;
}

export class SimulatedSensors {
  readonly #rng: Rng;
  readonly #delay: Ring<JointSample>;

  constructor(private readonly model: SensorModel) {
    this.#rng = new Rng(model.seed);
    this.#delay = new Ring(model.latencySteps + 1);
  }

  /** Take the true state now; return what the sensors report now (undefined until the delay fills). */
  measure(
    stampNs: bigint,
    position: ArrayLike<number>,
    velocity: ArrayLike<number>,
    effort: ArrayLike<number>,
  ): JointSample | undefined {
    const noisy = (values: ArrayLike<number>, std: number): Float64Array => {
      const out = Float64Array.from(values);
      if (std > 0) for (let i = 0; i < out.length; i++) out[i]! += std * this.#rng.normal();
      return out;
    };
    this.#delay.push({
      stampNs,
      position: noisy(position, this.model.positionNoise),
      velocity: noisy(velocity, this.model.velocityNoise),
      effort: Float64Array.from(effort),
    });
    return this.#delay.size > this.model.latencySteps ? this.#delay.shift() : undefined;
  }

  /** Forget delayed samples (an episode reset). */
  reset(): void {
    this.#delay.clear();
  }
}
