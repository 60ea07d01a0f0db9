import { MujocoSim } from '../sim/mujoco/sim.js';
import { packagePath } from '../src/util/paths.js';
import { MujocoDynamics } from '../src/control/planners/trajectory/mujoco_dynamics.js';
import { taskResidualCost } from '../src/control/planners/trajectory/objectives.js';
import type { PlanningTask } from '../src/control/task_costs.js';
import { IlqrSolver } from '../src/control/planners/ilqr/solver.js';
import { GradientShooting } from '../src/control/planners/gradient/shooting.js';
import { percentile, sortNumbers, type Figures } from './report.js';

// iLQR against gradient shooting (adjoint gradients + Adam, src/control/planners/gradient/) on the
// MuJoCo cart-pole, one plan from a fixed state with the controller's residual task costs, at
// horizons of 0.2, 0.5 and 1 s in 10 ms knots (held Jacobians, as the planners use by default; each timing the median of REPEATS runs):
//  - the cost iLQR reaches in ITERATIONS iterations (it may stop earlier, converged);
//  - the cost gradient shooting reaches in the same number of iterations, and in the same wall
//    time as iLQR took (its iteration count for that budget from its own time per iteration in the
//    first run; a fresh optimiser is then run for that many), at the default learning rate and at
//    the best of LEARNING_RATES;
//  - ‖∂J/∂u_0‖ / ‖∂J/∂u_{T−1}‖ at the first nominal (zero actions) and at the end: the spread of
//    the gradient over the horizon that first-order steps suffer from and iLQR's backward pass does not.
// Every run starts from zero actions. The costs repeat exactly; the times, and so the same-time
// iteration counts, move with the machine's load. Not registered in bench/run.ts: the iLQR
// benchmark calls it.

const PERIOD_NS = 10_000_000n;
const HORIZONS_S = [0.2, 0.5, 1] as const;
const ITERATIONS = 20;
const DEFAULT_LEARNING_RATE = 0.05;
const LEARNING_RATES = [0.01, 0.05, 0.2] as const;
const LIMIT = 20;
/** every timing is the median of this many runs (the machine may be shared); the costs repeat exactly */
const REPEATS = 5;

const median = (xs: number[]): number => percentile(sortNumbers(xs), 50);

/** f's result and the median of its wall times over REPEATS runs */
function timed<R>(f: () => R): { result: R; ms: number } {
  const times: number[] = [];
  let result: R | undefined;
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    result = f();
    times.push(performance.now() - t0);
  }
  return { result: result as R, ms: median(times) };
}

interface Scenario {
  readonly label: string;
  readonly task: PlanningTask;
  readonly x0: readonly number[];
}

const SCENARIOS: readonly Scenario[] = [
  { label: 'balance from 0.3 rad', task: 'cartpole_balance', x0: [0, 0.3, 0, 0] },
  { label: 'swing-up from hanging', task: 'cartpole_swingup', x0: [0, Math.PI, 0, 0] },
];

interface Problem {
  readonly dynamics: MujocoDynamics;
  readonly kinematics: MujocoSim;
  dispose(): void;
}

async function problem(): Promise<Problem> {
  const path = packagePath('sim/models/cartpole.xml');
  const sim = await MujocoSim.fromFile(path);
  const kinematics = await MujocoSim.fromFile(path);
  const dynamics = new MujocoDynamics(sim, { stepNs: PERIOD_NS, jacobians: 'held' });
  return {
    dynamics,
    kinematics,
    dispose: () => {
      dynamics.dispose();
      kinematics.dispose();
    },
  };
}

const limits = { low: Float64Array.of(-LIMIT), high: Float64Array.of(LIMIT) };

function gradientRun(
  p: Problem,
  s: Scenario,
  horizon: number,
  learningRate: number,
  iterations: number,
): { cost: number; ms: number; ratio: number } {
  const cost = taskResidualCost(p.kinematics, s.task, new Float64Array(1), undefined);
  const { result: report, ms } = timed(() =>
    new GradientShooting(p.dynamics, cost, { horizon, learningRate, controlLimits: limits }).iterate(
      Float64Array.from(s.x0),
      iterations,
    ),
  );
  return { cost: report.cost, ms, ratio: report.firstGradientNorm / report.lastGradientNorm };
}

export async function gradientBenchmarks(f: Figures): Promise<void> {
  const p = await problem();
  try {
    // warm-up: V8 optimises the loops and MuJoCo's wasm before anything is timed
    for (const s of SCENARIOS) {
      const cost = taskResidualCost(p.kinematics, s.task, new Float64Array(1), undefined);
      new IlqrSolver(p.dynamics, cost, { horizon: 20, controlLimits: limits }).iterate(Float64Array.from(s.x0), 5);
      gradientRun(p, s, 20, DEFAULT_LEARNING_RATE, 5);
    }
    for (const s of SCENARIOS)
      for (const horizonS of HORIZONS_S) {
        const T = Math.round((horizonS * 1e9) / Number(PERIOD_NS));
        const name = `cart-pole ${s.label}, ${horizonS} s (${T} knots)`;
        const x0 = Float64Array.from(s.x0);
        const cost = taskResidualCost(p.kinematics, s.task, new Float64Array(1), undefined);
        const { result: ir, ms: ilqrMs } = timed(() =>
          new IlqrSolver(p.dynamics, cost, { horizon: T, controlLimits: limits }).iterate(x0, ITERATIONS),
        );
        f.add(`${name}: cost, zero actions`, ir.initialCost, '');
        f.add(`${name}: iLQR cost, ${ir.iterations} iterations (${ir.stop})`, ir.cost, '');
        f.add(`${name}: iLQR time`, ilqrMs, 'ms');

        // the gradient at the first nominal (zero actions)
        const shooting = new GradientShooting(p.dynamics, cost, {
          horizon: T,
          learningRate: DEFAULT_LEARNING_RATE,
          controlLimits: limits,
        });
        const g = new Float64Array(T);
        shooting.gradient(x0, g);
        f.add(`${name}: |dJ/du_0| / |dJ/du_T-1| at zero actions`, Math.abs(g[0]!) / Math.abs(g[T - 1]!), '');

        let best = { cost: Infinity, lr: 0 };
        let bestTime = { cost: Infinity, lr: 0, iterations: 0 };
        for (const lr of LEARNING_RATES) {
          const same = gradientRun(p, s, T, lr, ITERATIONS);
          if (same.cost < best.cost) best = { cost: same.cost, lr };
          // the iterations that fit in iLQR's time, from this run's time per iteration
          const k = Math.max(1, Math.floor((ITERATIONS * ilqrMs) / same.ms));
          const budget = gradientRun(p, s, T, lr, k);
          if (budget.cost < bestTime.cost) bestTime = { cost: budget.cost, lr, iterations: k };
          if (lr === DEFAULT_LEARNING_RATE) {
            f.add(`${name}: Adam cost, ${ITERATIONS} iterations (lr ${lr})`, same.cost, '');
            f.add(`${name}: Adam time, ${ITERATIONS} iterations`, same.ms, 'ms');
            f.add(`${name}: Adam cost, iLQR's time: ${k} iterations (lr ${lr})`, budget.cost, '');
            f.add(`${name}: Adam time, ${k} iterations`, budget.ms, 'ms');
            f.add(`${name}: |dJ/du_0| / |dJ/du_T-1| after ${k} Adam iterations`, budget.ratio, '');
          }
        }
        f.add(`${name}: Adam best cost, ${ITERATIONS} iterations (lr ${best.lr})`, best.cost, '');
        f.add(
          `${name}: Adam best cost, iLQR's time: ${bestTime.iterations} iterations (lr ${bestTime.lr})`,
          bestTime.cost,
          '',
        );
      }
  } finally {
    p.dispose();
  }
}
