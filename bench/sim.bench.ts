import { join } from 'node:path';
import { MujocoSim } from '../sim/mujoco/sim.js';
import { compileModel, readModelFiles } from '../sim/mujoco/load.js';
import { mujoco } from '../sim/mujoco/module.js';
import { f64 } from '../sim/mujoco/arrays.js';
import { packageRoot } from '../src/util/paths.js';
import { Figures, percentile, sortNumbers } from './report.js';

// The MuJoCo wrapper's figures: steps/s of a control loop (read the state, compute a PD law, set the
// controls, step) through MujocoSim against the same loop written directly on @mujoco/mujoco in this
// process (cached views, no checks, no copies), and linearisations (mjd_transitionFD) per second.
// The feedback keeps both models off their joint limits, where the constraint solver would dominate
// (a joint resting on an active limit makes it work every step). Runs are interleaved and each side
// is warmed up first: V8 runs wasm on its baseline compiler, Liftoff, until TurboFan's optimised
// code takes over (https://v8.dev/docs/wasm-compilation-pipeline); measured here, that is the first
// few thousand steps, at about half the final speed.

const STEPS = 100_000;
const ROUNDS = 10;

interface Case {
  readonly label: string;
  readonly file: string;
  readonly keyframe: string;
  /** u = bias + kp (q_ref(t) − q) − kd q̇ per actuated joint, q_ref = keyframe + amplitude sin(2π t / 2 s) */
  readonly kp: number;
  readonly kd: number;
  readonly amplitude: number;
  /** hold against gravity: bias = gravity compensation at the keyframe */
  readonly gravity: boolean;
}

const cases: readonly Case[] = [
  // the PD acts on the cart only; the pole swings freely
  {
    label: 'cartpole',
    file: 'sim/models/cartpole.xml',
    keyframe: 'hanging',
    kp: 20,
    kd: 5,
    amplitude: 0.5,
    gravity: false,
  },
  {
    label: 'so_arm (torque)',
    file: 'sim/models/so_arm.xml',
    keyframe: 'home',
    kp: 2,
    kd: 0.2,
    amplitude: 0.1,
    gravity: true,
  },
];

const median = (xs: number[]): number => percentile(sortNumbers(xs), 50);

async function stepRates(figures: Figures, c: Case): Promise<void> {
  const path = join(packageRoot(), c.file);
  const sim = await MujocoSim.fromFile(path);
  const mj = await mujoco();
  const { xml, assets } = readModelFiles(path);
  const m = compileModel(mj, xml, assets, path);
  const d = new mj.MjData(m);
  try {
    const { nu, nq, nv, timestep } = sim.info;
    const key = sim.info.keyframes.indexOf(c.keyframe);
    sim.resetToKeyframe(c.keyframe);
    const q0 = sim.getQpos();
    const bias = c.gravity ? sim.gravityCompensationCtrl() : new Float64Array(nu);
    // actuator a drives joint a in both models (qpos = qvel index)
    const law = (k: number, q: Float64Array, v: Float64Array, u: Float64Array): void => {
      const wave = c.amplitude * Math.sin(Math.PI * k * timestep);
      for (let a = 0; a < nu; a++) u[a] = bias[a]! + c.kp * (q0[a]! + wave - q[a]!) - c.kd * v[a]!;
    };

    const q = new Float64Array(nq);
    const v = new Float64Array(nv);
    const u = new Float64Array(nu);
    const wrapped = (steps: number): number => {
      sim.resetToKeyframe(c.keyframe);
      const t0 = performance.now();
      for (let k = 0; k < steps; k++) {
        law(k, sim.getQpos(q), sim.getQvel(v), u);
        sim.setCtrl(u);
        sim.step();
      }
      return steps / ((performance.now() - t0) / 1000);
    };
    const raw = (steps: number): number => {
      mj.mj_resetDataKeyframe(m, d, key);
      // mj_step does not allocate, so these views stay valid through the loop
      const qpos = f64(d.qpos, 'qpos');
      const qvel = f64(d.qvel, 'qvel');
      const ctrl = f64(d.ctrl, 'ctrl');
      const t0 = performance.now();
      for (let k = 0; k < steps; k++) {
        law(k, qpos, qvel, ctrl);
        mj.mj_step(m, d);
      }
      return steps / ((performance.now() - t0) / 1000);
    };

    wrapped(20_000);
    raw(20_000);
    const ours: number[] = [];
    const base: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // alternate which goes first, so drift in machine load falls on both
      let a: number;
      let b: number;
      if (r % 2) {
        b = raw(STEPS);
        a = wrapped(STEPS);
      } else {
        a = wrapped(STEPS);
        b = raw(STEPS);
      }
      ours.push(a);
      base.push(b);
      ratios.push(a / b);
    }
    figures.add(`sim ${c.label} steps/s (MujocoSim: getQpos/getQvel, setCtrl, step)`, median(ours), 'step/s');
    figures.add(`  baseline: raw @mujoco/mujoco loop (views + mj_step)`, median(base), 'step/s');
    figures.add(`  ratio MujocoSim / raw (median of paired rounds)`, median(ratios), 'x');
  } finally {
    d.delete();
    m.delete();
    sim.dispose();
  }
}

async function linearizeRates(figures: Figures, c: Case): Promise<void> {
  const sim = await MujocoSim.fromFile(join(packageRoot(), c.file));
  try {
    sim.resetToKeyframe(c.keyframe);
    sim.step(10);
    const out = { A: new Float64Array(sim.info.nx * sim.info.nx), B: new Float64Array(sim.info.nx * sim.info.nu) };
    for (const centered of [true, false]) {
      const run = (seconds: number): number => {
        let calls = 0;
        const t0 = performance.now();
        while (performance.now() - t0 < seconds * 1000) {
          for (let i = 0; i < 100; i++) sim.linearize({ centered }, out);
          calls += 100;
        }
        return calls / ((performance.now() - t0) / 1000);
      };
      run(0.3);
      figures.add(
        `sim ${c.label} linearize (${centered ? 'centred' : 'forward'}, nx=${sim.info.nx}, nu=${sim.info.nu}) calls/s`,
        run(1),
        'call/s',
      );
    }
  } finally {
    sim.dispose();
  }
}

export async function simBenchmarks(figures: Figures): Promise<void> {
  for (const c of cases) await stepRates(figures, c);
  for (const c of cases) await linearizeRates(figures, c);
}
