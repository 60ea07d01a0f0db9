import { discretize } from './discretize.js';
import { JointFilter } from './joint_filter.js';
import { InnovationStats } from './innovation_stats.js';

// Joint positions (and velocities) of a robot from a stream of noisy, time-stamped joint
// measurements: one 2-state Kalman filter per joint (joint_filter.ts), stepped by the difference
// of the measurements' own stamps. This file decides what a measurement means for the filters —
// the first one, a duplicate, one from the past, a clock reset, a broken one — and keeps count.
// It knows nothing of ROS: the node turns sensor_msgs/JointState into a JointMeasurement.

export interface EstimatorOptions {
  /** joints to estimate, in output order; empty: the names of the first accepted measurement */
  readonly joints: readonly string[];
  /** spectral density q of the white acceleration noise (rad²/s³): how fast the velocity may change */
  readonly processNoise: number;
  /** position measurement variance r (rad²) */
  readonly positionVariance: number;
  /** velocity measurement variance (rad²/s²), used with useVelocity */
  readonly velocityVariance: number;
  /** velocity variance at (re-)initialisation, when no velocity is measured (rad²/s²) */
  readonly initialVelocityVariance: number;
  /** fuse measured velocities too (a 2-D measurement), when a message has them */
  readonly useVelocity: boolean;
  /** per joint, in `joints` order: inertia turning effort into acceleration; empty or 0: no effort model */
  readonly inertia: readonly number[];
  /** per joint viscous damping (effort per unit velocity), used with the effort model; empty: none */
  readonly damping: readonly number[];
  /** largest Mahalanobis distance of an innovation (standard deviations) accepted; 0: no gate */
  readonly outlierGate: number;
  /** after this many gated measurements in a row a joint re-initialises at the measurement; 0: never */
  readonly outlierMaxConsecutive: number;
  /** a stamp this much older than the last accepted one means the source's clock was reset (ns) */
  readonly resetThresholdNs: bigint;
  /** this many out-of-order measurements in a row also mean a reset (a small jump back); 0: never */
  readonly resetAfterOutOfOrder: number;
}

export const DEFAULT_ESTIMATOR_OPTIONS: EstimatorOptions = {
  joints: [],
  processNoise: 0.5,
  positionVariance: 1e-6,
  velocityVariance: 0.01,
  initialVelocityVariance: 100,
  useVelocity: false,
  inertia: [],
  damping: [],
  outlierGate: 0,
  outlierMaxConsecutive: 10,
  resetThresholdNs: 500_000_000n,
  resetAfterOutOfOrder: 5,
};

/** One joint measurement, in the source's joint order. */
export interface JointMeasurement {
  readonly stampNs: bigint;
  readonly names: readonly string[];
  readonly position: ArrayLike<number>;
  /** empty when the source measures none */
  readonly velocity: ArrayLike<number>;
  /** empty when the source measures none */
  readonly effort: ArrayLike<number>;
}

/** The filtered state after a measurement, in the estimator's joint order. */
export interface JointEstimate {
  readonly stampNs: bigint;
  readonly names: readonly string[];
  readonly position: Float64Array;
  readonly velocity: Float64Array;
  /** the measured effort, passed through; empty when the measurement had none */
  readonly effort: Float64Array;
  /** per joint, the covariance of (position, velocity) row-major: [pp, pv, vp, vv] */
  readonly covariance: Float64Array;
}

export type StepResult =
  | { readonly status: 'initialised' | 'updated' | 'reset'; readonly estimate: JointEstimate }
  | { readonly status: 'duplicate' | 'out_of_order' | 'non_finite' | 'bad_layout'; readonly reason: string };

export interface EstimatorCounts {
  /** measurements given to step() */
  received: number;
  /** measurements that produced an estimate (initialisations and resets included) */
  accepted: number;
  /** same stamp as the last accepted one: ignored */
  duplicates: number;
  /** older than the last accepted one, within the reset threshold: rejected, the filter not rewound */
  outOfOrder: number;
  /** a position (or a fused velocity) that is NaN or infinite: rejected */
  nonFinite: number;
  /** joint names missing, or arrays of the wrong length: rejected */
  badLayout: number;
  /** re-initialisations: the clock went back, or reset() */
  resets: number;
  /** joint measurements the outlier gate rejected */
  outliers: number;
  /** joints re-initialised after outlierMaxConsecutive gated measurements */
  gateResets: number;
  /** effort inputs ignored (wrong length, not finite): that step ran without input */
  inputRejected: number;
}

/** The known input for a step: efforts in the estimator's joint order, or the measurement's own. */
export type EffortInput = ArrayLike<number> | 'measured';

interface JointStats {
  readonly total: InnovationStats;
  readonly window: InnovationStats;
}

export class JointStateEstimator {
  readonly options: EstimatorOptions;
  readonly counts: EstimatorCounts = {
    received: 0,
    accepted: 0,
    duplicates: 0,
    outOfOrder: 0,
    nonFinite: 0,
    badLayout: 0,
    resets: 0,
    outliers: 0,
    gateResets: 0,
    inputRejected: 0,
  };
  /** why the last rejected measurement was rejected */
  lastError = '';
  #joints: readonly string[] | undefined;
  #filters: JointFilter[] = [];
  #gatedRun: number[] = [];
  #lastStampNs: bigint | undefined;
  #outOfOrderRun = 0;
  // the index map of the last names seen, reused while the source sends the same names
  #cachedNames: readonly string[] = [];
  #cachedMap: Int32Array = new Int32Array(0);
  readonly #stats = new Map<string, JointStats>();

  constructor(options: Partial<EstimatorOptions> = {}) {
    const o = { ...DEFAULT_ESTIMATOR_OPTIONS, ...options };
    this.options = o;
    const positive = (name: keyof EstimatorOptions, x: number): void => {
      if (!(x > 0) || !Number.isFinite(x))
        throw new Error(`estimator option ${name} must be positive and finite, got ${x}`);
    };
    positive('processNoise', o.processNoise);
    positive('positionVariance', o.positionVariance);
    positive('velocityVariance', o.velocityVariance);
    positive('initialVelocityVariance', o.initialVelocityVariance);
    if (!(o.outlierGate >= 0))
      throw new Error(`estimator option outlierGate must not be negative, got ${o.outlierGate}`);
    if (o.resetThresholdNs < 0n)
      throw new Error(`estimator option resetThresholdNs must not be negative, got ${o.resetThresholdNs}`);
    if (new Set(o.joints).size !== o.joints.length)
      throw new Error(`estimator option joints names a joint twice: ${o.joints.join(', ')}`);
    for (const [name, values] of [
      ['inertia', o.inertia],
      ['damping', o.damping],
    ] as const) {
      if (values.length && values.length !== o.joints.length) {
        throw new Error(
          `estimator option ${name} has ${values.length} values for ${o.joints.length} joints (give one per joint, or none)`,
        );
      }
      if (values.some((x) => !(x >= 0) || !Number.isFinite(x)))
        throw new Error(`estimator option ${name} must be finite and not negative: ${values.join(', ')}`);
    }
    if (o.joints.length) this.#setJoints(o.joints);
  }

  /** the joints estimated, in output order; undefined until the first measurement names them */
  get joints(): readonly string[] | undefined {
    return this.#joints;
  }

  /** Forget the state: the next measurement initialises (and names the joints, if not configured). */
  reset(): void {
    this.#lastStampNs = undefined;
    this.#outOfOrderRun = 0;
    if (!this.options.joints.length) this.#joints = undefined;
    this.#cachedNames = []; // the cached map is for the joints being forgotten
    this.counts.resets++;
  }

  /** Innovation statistics since construction, per joint. */
  innovationTotals(): Map<string, InnovationStats> {
    return new Map([...this.#stats].map(([joint, s]) => [joint, s.total]));
  }

  /** Innovation statistics since the last call, per joint; starts a new window. */
  takeInnovationWindow(): Map<string, InnovationStats> {
    const out = new Map<string, InnovationStats>();
    for (const [joint, s] of this.#stats) {
      const copy = new InnovationStats();
      copy.merge(s.window);
      out.set(joint, copy);
      s.window.clear();
    }
    return out;
  }

  /** Feed one measurement; `effort` is the known input held since the previous one, if any. */
  step(m: JointMeasurement, effort?: EffortInput): StepResult {
    this.counts.received++;
    const map = this.#layout(m);
    if (typeof map === 'string') return this.#reject('bad_layout', map);
    const nonFinite = this.#nonFinite(m, map);
    if (nonFinite) return this.#reject('non_finite', nonFinite);

    let status: 'initialised' | 'updated' | 'reset' = this.#lastStampNs === undefined ? 'initialised' : 'updated';
    const last = this.#lastStampNs;
    if (last !== undefined && m.stampNs <= last) {
      if (m.stampNs === last) return this.#reject('duplicate', `stamp ${m.stampNs} ns was already used`);
      this.#outOfOrderRun++;
      const back = last - m.stampNs;
      const runLimit = this.options.resetAfterOutOfOrder;
      if (back <= this.options.resetThresholdNs && !(runLimit > 0 && this.#outOfOrderRun >= runLimit)) {
        return this.#reject(
          'out_of_order',
          `stamp ${m.stampNs} ns is ${Number(back) / 1e6} ms older than the last accepted one`,
        );
      }
      status = 'reset';
      this.counts.resets++;
    }
    this.#outOfOrderRun = 0;

    if (!this.#joints) this.#setJoints([...m.names]);
    if (status === 'updated') this.#advance(m, map, Number(m.stampNs - last!) / 1e9, effort);
    else this.#initialise(m, map);
    this.#lastStampNs = m.stampNs;
    this.counts.accepted++;
    return { status, estimate: this.#estimate(m, map) };
  }

  #setJoints(joints: readonly string[]): void {
    this.#joints = joints;
    this.#filters = joints.map(() => new JointFilter());
    this.#gatedRun = joints.map(() => 0);
    this.#cachedNames = [];
    for (const j of joints)
      if (!this.#stats.has(j)) this.#stats.set(j, { total: new InnovationStats(), window: new InnovationStats() });
  }

  #reject(status: 'duplicate' | 'out_of_order' | 'non_finite' | 'bad_layout', reason: string): StepResult {
    const key =
      status === 'duplicate'
        ? 'duplicates'
        : status === 'out_of_order'
          ? 'outOfOrder'
          : status === 'non_finite'
            ? 'nonFinite'
            : 'badLayout';
    this.counts[key]++;
    this.lastError = `${status}: ${reason}`;
    return { status, reason };
  }

  /** For each estimated joint, its index in the measurement; or what is wrong with the layout. */
  #layout(m: JointMeasurement): Int32Array | string {
    const n = m.names.length;
    if (m.position.length !== n) return `${m.position.length} positions for ${n} joint names`;
    if (m.velocity.length && m.velocity.length !== n) return `${m.velocity.length} velocities for ${n} joint names`;
    if (m.effort.length && m.effort.length !== n) return `${m.effort.length} efforts for ${n} joint names`;
    const cached = this.#cachedNames;
    if (cached.length === n && cached.every((name, i) => m.names[i] === name)) return this.#cachedMap;
    if (!n) return 'the measurement names no joints';
    const seen = new Set(m.names);
    if (seen.size !== n) return `the measurement names a joint twice: ${m.names.join(', ')}`;
    const joints = this.#joints ?? m.names;
    const missing = joints.filter((j) => !seen.has(j));
    if (missing.length) {
      const since = this.options.joints.length ? 'configured' : 'estimated since the first measurement';
      return `the joint list changed: it lacks ${missing.join(', ')} (${since}: ${joints.join(', ')})`;
    }
    // a source may name more joints than are estimated, or name them in another order
    const map = Int32Array.from(joints, (j) => m.names.indexOf(j));
    if (this.#joints) {
      this.#cachedNames = [...m.names];
      this.#cachedMap = map;
    }
    return map;
  }

  #nonFinite(m: JointMeasurement, map: Int32Array): string | undefined {
    const useVelocity = this.options.useVelocity && m.velocity.length > 0;
    for (const k of map) {
      if (!Number.isFinite(m.position[k]!)) return `position of ${m.names[k]} is ${m.position[k]}`;
      if (useVelocity && !Number.isFinite(m.velocity[k]!)) return `velocity of ${m.names[k]} is ${m.velocity[k]}`;
    }
    return undefined;
  }

  #initialise(m: JointMeasurement, map: Int32Array): void {
    const o = this.options;
    const useVelocity = o.useVelocity && m.velocity.length > 0;
    this.#filters.forEach((f, i) => {
      const k = map[i]!;
      if (useVelocity) f.initialise(m.position[k]!, o.positionVariance, m.velocity[k]!, o.velocityVariance);
      else f.initialise(m.position[k]!, o.positionVariance, 0, o.initialVelocityVariance);
      this.#gatedRun[i] = 0;
    });
  }

  #advance(m: JointMeasurement, map: Int32Array, dt: number, effort: EffortInput | undefined): void {
    const o = this.options;
    const useVelocity = o.useVelocity && m.velocity.length > 0;
    const input = this.#input(m, map, effort);
    const constantVelocity = discretize(dt);
    this.#filters.forEach((f, i) => {
      const k = map[i]!;
      const inertia = o.inertia[i] ?? 0;
      // the effort model needs an inertia and an input; without either, constant velocity
      if (input && inertia > 0) {
        const a = (o.damping[i] ?? 0) / inertia;
        f.predict(a > 0 ? discretize(dt, a) : constantVelocity, o.processNoise, input[i]! / inertia);
      } else f.predict(constantVelocity, o.processNoise);
      const z = m.position[k]!;
      const innovation = useVelocity
        ? f.updatePositionVelocity(z, m.velocity[k]!, o.positionVariance, o.velocityVariance, o.outlierGate)
        : f.updatePosition(z, o.positionVariance, o.outlierGate);
      if (innovation.accepted) {
        this.#gatedRun[i] = 0;
        const s = this.#stats.get(this.#joints![i]!)!;
        s.total.add(innovation.position, innovation.nis);
        s.window.add(innovation.position, innovation.nis);
        return;
      }
      this.counts.outliers++;
      if (o.outlierMaxConsecutive > 0 && ++this.#gatedRun[i]! >= o.outlierMaxConsecutive) {
        // the joint really is elsewhere (a slip, a re-homed servo): start again from what is measured
        if (useVelocity) f.initialise(z, o.positionVariance, m.velocity[k]!, o.velocityVariance);
        else f.initialise(z, o.positionVariance, 0, o.initialVelocityVariance);
        this.#gatedRun[i] = 0;
        this.counts.gateResets++;
      }
    });
  }

  /** The efforts of this step in estimator order, or undefined to step without input. */
  #input(m: JointMeasurement, map: Int32Array, effort: EffortInput | undefined): ArrayLike<number> | undefined {
    if (effort === undefined || !this.options.inertia.some((x) => x > 0)) return undefined;
    let values: ArrayLike<number>;
    if (effort === 'measured') {
      if (!m.effort.length) return undefined;
      values = Float64Array.from(map, (k) => m.effort[k]!);
    } else values = effort;
    const n = this.#filters.length;
    let ok = values.length === n;
    for (let i = 0; ok && i < n; i++) ok = Number.isFinite(values[i]!);
    if (ok) return values;
    this.counts.inputRejected++;
    return undefined;
  }

  #estimate(m: JointMeasurement, map: Int32Array): JointEstimate {
    // fresh arrays for every estimate: a published message may be encoded after the next step
    const n = this.#filters.length;
    const position = new Float64Array(n);
    const velocity = new Float64Array(n);
    const covariance = new Float64Array(4 * n);
    this.#filters.forEach((f, i) => {
      position[i] = f.position;
      velocity[i] = f.velocity;
      f.covarianceInto(covariance, 4 * i);
    });
    const effort = m.effort.length ? Float64Array.from(map, (k) => m.effort[k]!) : new Float64Array(0);
    return { stampNs: m.stampNs, names: this.#joints!, position, velocity, effort, covariance };
  }
}
