import { MujocoSim } from '../sim/mujoco/sim.js';
import { MujocoDynamics } from '../src/control/planners/trajectory/mujoco_dynamics.js';
import { IlqrPlanner } from '../src/control/planners/ilqr/planner.js';
import type { TrajectoryObjective } from '../src/control/planners/trajectory/planner_objective.js';
import { IlqrWorkerPlanner } from '../src/control/planners/ilqr/worker_planner.js';
import type { MujocoIlqrSpec } from '../src/control/planners/ilqr/spec.js';
import { DEFAULT_GOAL_WEIGHTS } from '../src/control/planners/trajectory/objectives.js';
import { evaluatePolicy, type Policy } from '../src/control/policy.js';
import { packagePath } from '../src/util/paths.js';
import { percentile } from './report.js';
import type { Figures } from './report.js';
import { ensembleJacobianBenchmarks } from './ensemble_jacobian.bench.js';
import { gradientBenchmarks } from './gradient.bench.js';
import { ilqrLearnedComparison } from './ilqr_learned.bench.js';

// iLQR's cost: the time of one replan (one iteration from a new state, warm-started, as the
// controller runs it) and its parts (linearisation, backward pass, forward passes), in a closed
// loop on the MuJoCo cart-pole swing-up (horizon 1 s at 0.01 s) and the arm reaching (0.5 s); the
// replanning rate of the planning worker in real time ("iLQR cart-pole replans/s": a plant stepped
// at 100 Hz of wall time on this thread, the worker replanning from each state); and the learned
// ensemble's Jacobians, analytic against finite differences through the same engine; and gradient
// shooting against iLQR on growing horizons (./gradient.bench.ts); iLQR against iCEM on the learned
// cart-pole in the PETS harness (./ilqr_learned.bench.ts, one seed).

const STEP_NS = 10_000_000n;

interface Case {
  readonly name: string;
  readonly model: string;
  readonly keyframe: string;
  readonly horizon: number;
  readonly objective: TrajectoryObjective;
  readonly site: string;
  readonly goal?: readonly [number, number, number];
  readonly limits: { low: Float64Array; high: Float64Array };
}

const CASES: readonly Case[] = [
  {
    name: 'cart-pole swing-up',
    model: 'sim/models/cartpole.xml',
    keyframe: 'hanging',
    horizon: 100,
    objective: { kind: 'task', task: 'cartpole_swingup', target: [] },
    site: '',
    limits: { low: Float64Array.of(-20), high: Float64Array.of(20) },
  },
  {
    name: 'arm reach',
    model: 'sim/models/so_arm.xml',
    keyframe: 'home',
    horizon: 50,
    objective: {
      kind: 'goal',
      weights: { ...DEFAULT_GOAL_WEIGHTS, site: 100, velocity: 0.05, action: 0.01, terminalScale: 5 },
    },
    site: 'ee',
    goal: [0.2, 0.05, 0.12],
    limits: { low: new Float64Array(6).fill(-3), high: new Float64Array(6).fill(3) },
  },
];

async function replanFigures(f: Figures, c: Case): Promise<void> {
  const path = packagePath(c.model);
  const plant = await MujocoSim.fromFile(path);
  plant.resetToKeyframe(c.keyframe);
  const planner = new IlqrPlanner(
    new MujocoDynamics(await MujocoSim.fromFile(path), { stepNs: STEP_NS }),
    await MujocoSim.fromFile(path),
    {
      horizon: c.horizon,
      stepNs: STEP_NS,
      iterations: 1,
      controlLimits: c.limits,
      objective: c.objective,
      site: c.site,
    },
  );
  const nv = plant.info.nv;
  const x = new Float64Array(2 * nv);
  const u = new Float64Array(plant.info.nu);
  if (c.goal) planner.setGoal({ kind: 'position', position: c.goal });
  const times: number[] = [];
  const parts = { linearize: 0, backward: 0, forward: 0 };
  const ticks = 300;
  for (let k = 0; k < ticks; k++) {
    x.set(plant.getQpos());
    x.set(plant.getQvel(), nv);
    const t = BigInt(k) * STEP_NS;
    const t0 = performance.now();
    const policy = planner.optimize({ timeNs: t, state: x });
    const ms = performance.now() - t0;
    if (k >= 20) {
      times.push(ms);
      const r = planner.report!;
      parts.linearize += r.linearizeMs;
      parts.backward += r.backwardMs;
      parts.forward += r.forwardMs;
    }
    evaluatePolicy(policy, t, x, u);
    for (let i = 0; i < u.length; i++) u[i] = Math.min(c.limits.high[i]!, Math.max(c.limits.low[i]!, u[i]!));
    plant.setCtrl(u);
    plant.step(5);
  }
  planner.dispose();
  plant.dispose();
  const total = parts.linearize + parts.backward + parts.forward;
  const p50 = percentile(times, 50);
  f.add(`iLQR ${c.name}: replan (1 iteration, ${c.horizon} knots) p50`, p50, 'ms');
  f.add(`iLQR ${c.name}: replan p99`, percentile(times, 99), 'ms');
  f.add(`iLQR ${c.name}: iterations/s (inline, p50)`, 1000 / p50, '/s');
  f.add(`iLQR ${c.name}: linearisation share`, (100 * parts.linearize) / total, '%');
  f.add(`iLQR ${c.name}: backward pass share`, (100 * parts.backward) / total, '%');
  f.add(`iLQR ${c.name}: forward passes share`, (100 * parts.forward) / total, '%');
}

/** The worker replanning from a plant stepped at 100 Hz of wall time for `seconds`. */
async function workerFigures(f: Figures, seconds: number): Promise<void> {
  const path = packagePath('sim/models/cartpole.xml');
  const spec: MujocoIlqrSpec = {
    modelPath: path,
    stepNs: STEP_NS,
    horizon: 100,
    iterations: 1,
    jacobians: 'held',
    centered: false,
    limits: { low: Float64Array.of(-20), high: Float64Array.of(20) },
    objective: { kind: 'task', task: 'cartpole_swingup', target: [] },
    site: '',
  };
  const planner = new IlqrWorkerPlanner({ spec });
  const plant = await MujocoSim.fromFile(path);
  plant.resetToKeyframe('hanging');
  const x = new Float64Array(4);
  const u = new Float64Array(1);
  planner.start();
  let stale = 0;
  let upright = 0;
  let ticks = 0;
  let policy: Policy | undefined;
  const start = performance.now();
  for (let k = 0; performance.now() - start < seconds * 1000; k++) {
    const due = start + k * 10;
    while (performance.now() < due) await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    const tNs = BigInt(k) * STEP_NS;
    x.set(plant.getQpos());
    x.set(plant.getQvel(), 2);
    try {
      policy = planner.optimize({ timeNs: tNs, state: x });
      if (tNs - policy.startNs > 5n * STEP_NS) {
        stale++;
        u[0] = 0;
      } else evaluatePolicy(policy, tNs, x, u);
    } catch {
      u[0] = 0;
    }
    u[0] = Math.min(20, Math.max(-20, u[0]!));
    plant.setCtrl(u);
    plant.step(5);
    ticks++;
    if (Math.abs(Math.atan2(Math.sin(x[1]!), Math.cos(x[1]!))) < 0.1) upright++;
  }
  const replans = planner.replansPerSecond;
  const status = planner.status();
  await planner.stop();
  plant.dispose();
  f.add('iLQR cart-pole replans/s', replans, '/s');
  f.add('iLQR cart-pole worker: mean plan time', Number(status['plan_ms_mean']), 'ms');
  f.add('iLQR cart-pole real time: stale plans after the first (ticks)', stale, 'ticks');
  f.add('iLQR cart-pole real time: ticks upright (|θ| < 0.1)', (100 * upright) / ticks, '%');
}

export async function ilqrBenchmarks(f: Figures): Promise<void> {
  for (const c of CASES) await replanFigures(f, c);
  await workerFigures(f, 10);
  await ensembleJacobianBenchmarks(f);
  await gradientBenchmarks(f);
  // one seed here; `--only ilqr_learned` runs three
  await ilqrLearnedComparison(f, [1]);
}
