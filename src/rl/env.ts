import type { MujocoSim } from '../../sim/mujoco/sim.js';
import { Rng } from '../util/random.js';

// An episodic environment for learning loops run without the node graph (benchmarks, tests):
// reset to a start state, step one control period with an action, get the next state and reward.

export interface Env {
  readonly stateSize: number;
  readonly actionSize: number;
  readonly actionLow: Float32Array;
  readonly actionHigh: Float32Array;
  /** control steps per episode */
  readonly episodeLength: number;
  reset(): Float32Array;
  step(action: Float32Array): EnvStep;
}

export interface EnvStep {
  readonly state: Float32Array;
  readonly reward: number;
  /** the episode is over: terminated, or cut by the time limit */
  readonly done: boolean;
  /** the episode ended in a terminal state (Gymnasium's `terminated`: no return beyond it); false when only the time limit cut it */
  readonly terminated?: boolean;
}

export interface MujocoEnvOptions {
  readonly joints: readonly string[];
  readonly keyframe: string;
  /** physics steps per control step */
  readonly substeps: number;
  readonly episodeLength: number;
  readonly reward: (x: Float32Array, u: Float32Array) => number;
  readonly done?: (x: Float32Array) => boolean;
  /** standard deviation of noise on the start positions */
  readonly startNoise?: number;
  readonly seed?: number;
}

/** A MuJoCo model as an Env: state [q, q̇] of the given joints, actions in actuator order. */
export class MujocoEnv implements Env {
  readonly stateSize: number;
  readonly actionSize: number;
  readonly actionLow: Float32Array;
  readonly actionHigh: Float32Array;
  readonly episodeLength: number;
  readonly #rng: Rng;
  readonly #adr: { q: number; v: number }[];
  #t = 0;

  constructor(
    private readonly sim: MujocoSim,
    private readonly options: MujocoEnvOptions,
  ) {
    const { joints, actuators } = sim.info;
    this.#adr = options.joints.map((name) => {
      const j = joints.find((x) => x.name === name);
      if (!j) throw new Error(`MujocoEnv: no joint '${name}'`);
      return { q: j.qposAdr, v: j.dofAdr };
    });
    this.stateSize = 2 * options.joints.length;
    this.actionSize = actuators.length;
    this.actionLow = Float32Array.from(actuators, (a) => a.ctrlRange?.[0] ?? -Infinity);
    this.actionHigh = Float32Array.from(actuators, (a) => a.ctrlRange?.[1] ?? Infinity);
    this.episodeLength = options.episodeLength;
    this.#rng = new Rng(options.seed ?? 0);
  }

  #observe(): Float32Array {
    const qpos = this.sim.getQpos();
    const qvel = this.sim.getQvel();
    const n = this.#adr.length;
    const x = new Float32Array(2 * n);
    this.#adr.forEach((a, i) => {
      x[i] = qpos[a.q]!;
      x[n + i] = qvel[a.v]!;
    });
    return x;
  }

  reset(): Float32Array {
    this.sim.resetToKeyframe(this.options.keyframe);
    if (this.options.startNoise) {
      const qpos = this.sim.getQpos();
      for (const a of this.#adr) qpos[a.q]! += this.options.startNoise * this.#rng.normal();
      this.sim.setQpos(qpos);
    }
    this.sim.forward();
    this.#t = 0;
    return this.#observe();
  }

  step(action: Float32Array): EnvStep {
    const u = Float64Array.from(action, (v, i) => Math.min(this.actionHigh[i]!, Math.max(this.actionLow[i]!, v)));
    this.sim.setCtrl(u);
    this.sim.step(this.options.substeps);
    this.#t++;
    const state = this.#observe();
    const reward = this.options.reward(state, Float32Array.from(u));
    const terminated = this.options.done?.(state) ?? false;
    return { state, reward, done: terminated || this.#t >= this.episodeLength, terminated };
  }
}
