import { makeForwardKinematics, type ForwardKinematics, type KinematicChain } from '../../sim/mujoco/kinematics.js';
import { Rng } from '../util/random.js';
import { SO_ARM_JOINTS } from './arm_reach.js';

// Random reaching targets for the SO-100 arm, one per episode, that the arm can certainly reach:
// the end effector of a random joint configuration drawn inside the joint limits (shrunk by a
// margin, so a target never needs a joint at its stop), kept only when the whole arm clears the
// floor (every link's end above `clearance`) and the end effector is off the base (`minRadius`
// from the pan axis). Pure TypeScript over the kinematic chain: the bench and the graph's goal
// sequencer draw the same targets for the same seed.

/** The reach criterion of issue 4: the end effector ends the episode within this of the target. */
export const ARM_REACH_TOLERANCE_M = 0.02;

export interface ArmTargetOptions {
  /** per SO_ARM_JOINTS entry, [low, high] (rad): the box configurations are drawn from */
  readonly jointBox: readonly (readonly [number, number])[];
  /** every link end (elbow, wrist, gripper) and the end effector at least this high (m) */
  readonly clearance: number;
  /** the end effector at least this far from the pan axis (m), away from the base */
  readonly minRadius: number;
  readonly seed: number;
}

/**
 * The joint limits of so_arm_body.xml shrunk by 10% of their span on each side; wrist_roll and
 * the gripper held at 0 (the gripper does not move `ee`; the roll only turns it about its own
 * axis, 1 cm off it, which the four pitch/yaw joints can do without).
 */
export const ARM_TARGET_JOINT_BOX: readonly (readonly [number, number])[] = [
  [-1.536, 1.536], // shoulder_pan, limits ±1.92
  [-1.4, 1.4], // shoulder_lift, ±1.75
  [0.12, 2.68], // elbow_flex, −0.2…3.0
  [-1.44, 1.44], // wrist_flex, ±1.8
  [0, 0], // wrist_roll
  [0, 0], // gripper
];

export const ARM_TARGET_DEFAULTS: Omit<ArmTargetOptions, 'seed'> = {
  jointBox: ARM_TARGET_JOINT_BOX,
  clearance: 0.04,
  minRadius: 0.1,
};

/** draws tried before a sampler gives up: the criteria leave no configuration in the box */
const MAX_DRAWS = 10_000;

export interface ArmTarget {
  /** [x, y, z] (m), world frame */
  readonly position: [number, number, number];
  /** the configuration that reaches it (SO_ARM_JOINTS order) */
  readonly q: Float64Array;
}

export class ArmTargetSampler {
  readonly options: ArmTargetOptions;
  readonly #rng: Rng;
  readonly #ee: ForwardKinematics;
  /** the origins of the bodies after the shoulder: the ends of the upper arm, forearm and wrist */
  readonly #linkEnds: ForwardKinematics[];

  constructor(chain: KinematicChain, options: Partial<ArmTargetOptions> = {}) {
    const o: ArmTargetOptions = { ...ARM_TARGET_DEFAULTS, seed: 0, ...options };
    if (o.jointBox.length !== SO_ARM_JOINTS.length)
      throw new Error(
        `arm targets: the joint box needs ${SO_ARM_JOINTS.length} ranges (${SO_ARM_JOINTS.join(', ')}), got ${o.jointBox.length}`,
      );
    o.jointBox.forEach(([low, high], i) => {
      if (!(Number.isFinite(low) && Number.isFinite(high) && low <= high))
        throw new Error(`arm targets: range of ${SO_ARM_JOINTS[i]} is [${low}, ${high}]; expected finite low ≤ high`);
    });
    if (!(o.clearance >= 0) || !(o.minRadius >= 0))
      throw new Error(`arm targets: clearance ${o.clearance} and minRadius ${o.minRadius} must be ≥ 0`);
    this.options = o;
    this.#rng = new Rng(o.seed);
    this.#ee = makeForwardKinematics(chain, SO_ARM_JOINTS);
    // a body's origin is the end of its parent's link: the chain cut after each body, with the
    // "site" at that body's origin
    this.#linkEnds = chain.bodies
      .slice(2)
      .map((_, i) =>
        makeForwardKinematics(
          { site: `${chain.bodies[i + 2]!.name} origin`, bodies: chain.bodies.slice(0, i + 3), sitePos: [0, 0, 0] },
          SO_ARM_JOINTS,
        ),
      );
  }

  /** Whether the arm in configuration q clears the floor and keeps the end effector off the base. */
  admissible(q: ArrayLike<number>): boolean {
    const p = new Float64Array(3);
    for (const fk of this.#linkEnds) if (fk.position(q, p)[2]! < this.options.clearance) return false;
    this.#ee.position(q, p);
    return p[2]! >= this.options.clearance && Math.hypot(p[0]!, p[1]!) >= this.options.minRadius;
  }

  /** The next random target. Throws when no configuration of the box meets the criteria. */
  next(): ArmTarget {
    const q = new Float64Array(SO_ARM_JOINTS.length);
    for (let draw = 0; draw < MAX_DRAWS; draw++) {
      this.options.jointBox.forEach(([low, high], i) => (q[i] = low + this.#rng.uniform() * (high - low)));
      if (!this.admissible(q)) continue;
      const p = this.#ee.position(q);
      return { position: [p[0]!, p[1]!, p[2]!], q };
    }
    throw new Error(
      `arm targets: no configuration in ${MAX_DRAWS} draws clears ${this.options.clearance} m and reaches ${this.options.minRadius} m from the base`,
    );
  }
}

/** The end effector's distance to the target and whether it is within ARM_REACH_TOLERANCE_M. */
export function reachOutcome(
  endEffector: ArrayLike<number>,
  target: ArrayLike<number>,
  tolerance = ARM_REACH_TOLERANCE_M,
): { finalDistance: number; success: boolean } {
  if (endEffector.length !== 3 || target.length !== 3)
    throw new Error(`reach outcome: positions are [x, y, z], got ${endEffector.length} and ${target.length} values`);
  const finalDistance = Math.hypot(
    endEffector[0]! - target[0]!,
    endEffector[1]! - target[1]!,
    endEffector[2]! - target[2]!,
  );
  if (!Number.isFinite(finalDistance)) throw new Error('reach outcome: a position is not finite');
  return { finalDistance, success: finalDistance < tolerance };
}
