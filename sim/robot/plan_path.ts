import type { MujocoSim } from '../mujoco/sim.js';
import type { FramePoses } from '../mujoco/frames.js';
import { idOf } from '../mujoco/info.js';
import type { JointConfiguration } from './joint_configuration.js';

// Where a site goes along a planned trajectory: for each planned state, the joint positions it
// holds (entries named 'q.<joint>', as src/control/plan_message.ts names the controller's state)
// over the configuration now, then the site's world position from mj_kinematics. Joints the plan
// does not name stay where the configuration has them; entries of ball and free joints
// ('q.<joint>[i]', tangent-space values, not positions) and velocities are not used.

export type PathOutcome =
  { readonly ok: true; readonly points: Float64Array } | { readonly ok: false; readonly problem: string };

export class SitePath {
  readonly #sim: MujocoSim;
  readonly #site: number;
  readonly #qpos: Float64Array;
  #poses: FramePoses | undefined;

  /** Throws naming the model's sites when it has no site `site`. */
  constructor(sim: MujocoSim, site: string) {
    this.#sim = sim;
    this.#site = idOf(new Map(sim.info.sites.map((s, i) => [s, i])), 'site', site);
    this.#qpos = new Float64Array(sim.info.nq);
  }

  /**
   * The site's positions (steps × 3) along `states` (steps × stateNames.length, row-major), starting
   * from the configuration `now`; or why there are none.
   */
  path(now: JointConfiguration, stateNames: readonly string[], states: ArrayLike<number>, steps: number): PathOutcome {
    const width = stateNames.length;
    if (!Number.isInteger(steps) || steps < 0 || states.length !== steps * width)
      return { ok: false, problem: `${states.length} state values for ${steps} steps of ${width} names` };
    const columns: { column: number; adr: number }[] = [];
    stateNames.forEach((name, column) => {
      const adr = name.startsWith('q.') ? now.addressOf(name.slice(2)) : undefined;
      if (adr !== undefined) columns.push({ column, adr });
    });
    if (steps === 0 || columns.length === 0)
      return {
        ok: false,
        problem:
          steps === 0
            ? 'the plan has no steps'
            : `the plan's states name no joint of the model (${stateNames.slice(0, 4).join(', ') || 'no states: a sequence plan'})`,
      };
    const points = new Float64Array(3 * steps);
    for (let s = 0; s < steps; s++) {
      this.#qpos.set(now.qpos);
      for (const { column, adr } of columns) {
        const q = states[s * width + column]!;
        if (!Number.isFinite(q)) return { ok: false, problem: `state ${s}, ${stateNames[column]!} is ${q}` };
        this.#qpos[adr] = q;
      }
      this.#poses = this.#sim.kinematics(this.#qpos, this.#poses);
      points.set(this.#poses.sitePos.subarray(3 * this.#site, 3 * this.#site + 3), 3 * s);
    }
    return { ok: true, points };
  }
}
