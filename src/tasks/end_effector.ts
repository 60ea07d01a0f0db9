import { makeForwardKinematics, type ForwardKinematics } from '../../sim/mujoco/kinematics.js';
import { MujocoSim } from '../../sim/mujoco/sim.js';

// An end effector's position from measured joint positions, by forward kinematics of the robot's
// MJCF model to a site (sim/mujoco/kinematics.ts, plain TypeScript): what a node judging a reach
// uses on hardware, where no simulator publishes the site's pose. Joint states are matched by name,
// so their order and any joints outside the chain do not matter; a state lacking a chain joint gives
// no position.

export class EndEffectorKinematics {
  readonly #fk: ForwardKinematics;
  readonly #q: Float64Array;
  readonly #out = new Float64Array(3);

  private constructor(fk: ForwardKinematics) {
    this.#fk = fk;
    this.#q = new Float64Array(fk.jointOrder.length);
  }

  /** The chain of `model` (an MJCF file) to `site`; throws naming the site when the model has none. */
  static async load(model: string, site: string): Promise<EndEffectorKinematics> {
    const sim = await MujocoSim.fromFile(model);
    try {
      if (!sim.info.sites.includes(site))
        throw new Error(`model ${model} has no site '${site}' (its sites: ${sim.info.sites.join(', ') || 'none'})`);
      const chain = sim.kinematicChain(site);
      const joints = chain.bodies.flatMap((b) => b.joints.map((j) => j.name));
      return new EndEffectorKinematics(makeForwardKinematics(chain, joints));
    } finally {
      sim.dispose();
    }
  }

  /** the joints the site's position depends on */
  get joints(): readonly string[] {
    return this.#fk.jointOrder;
  }

  /** The site's world position (m) from named joint positions, or undefined when a chain joint is missing or not finite. */
  position(names: readonly string[], positions: ArrayLike<number>): { x: number; y: number; z: number } | undefined {
    const order = this.#fk.jointOrder;
    for (let i = 0; i < order.length; i++) {
      const k = names.indexOf(order[i]!);
      if (k < 0 || k >= positions.length || !Number.isFinite(positions[k]!)) return undefined;
      this.#q[i] = positions[k]!;
    }
    const p = this.#fk.position(this.#q, this.#out);
    return { x: p[0]!, y: p[1]!, z: p[2]! };
  }
}
