import { MujocoSim } from '../sim/mujoco/sim.js';
import type { ProbabilisticEnsemble } from '../src/dynamics/ensemble.js';
import { EnsembleDynamics } from '../src/control/planners/trajectory/ensemble_dynamics.js';
import { IlqrPlanner } from '../src/control/planners/ilqr/planner.js';
import type { PetsActor, EpisodeResult } from '../src/rl/pets.js';
import { packagePath } from '../src/util/paths.js';
import { median } from '../src/util/percentile.js';
import { initTensorBackend } from '../src/tensor/backend.js';
import { PETS_CARTPOLE, SINCOS, petsCartpole } from './pets.bench.js';
import type { Figures } from './report.js';

// iLQR on the learned ensemble against iCEM in the same PETS harness (bench/pets.bench.ts: the
// cart-pole swing-up from hanging, 0.05 s steps, the same ensemble, training, episodes and seeds):
// the first episode that reaches a return of 180 of 200, and the planning time per step. iLQR plans
// through the mean of the elites with analytic Jacobians (src/control/planners/trajectory/
// ensemble_dynamics.ts), 3 iterations per step warm-started from the step before, the swing-up task
// in residual form, over the same 1 s horizon (20 knots) iCEM plans over.

const TARGET_RETURN = 180;
const STEP_NS = 50_000_000n;

/** An iLQR actor on the newly trained ensemble (its elites' mean), one per planned episode. */
async function ilqrActor(): Promise<(ensemble: ProbabilisticEnsemble) => PetsActor> {
  const kinematics = await MujocoSim.fromFile(packagePath('sim/models/cartpole.xml'));
  return (ensemble) => {
    const dynamics = new EnsembleDynamics(ensemble, SINCOS, ['cart_slide', 'pole_hinge']);
    const planner = new IlqrPlanner(dynamics, kinematics.clone(), {
      horizon: PETS_CARTPOLE.horizon,
      stepNs: STEP_NS,
      iterations: 3,
      controlLimits: { low: Float64Array.of(-20), high: Float64Array.of(20) },
      objective: { kind: 'task', task: 'cartpole_swingup', target: [] },
      site: '',
    });
    const x = new Float64Array(4);
    let t = 0n;
    return {
      act(state, u) {
        x.set(state);
        const policy = planner.optimize({ timeNs: t, state: x });
        u[0] = Math.min(20, Math.max(-20, policy.actions[0]!));
        t += STEP_NS;
      },
      dispose: () => planner.dispose(),
    };
  };
}

interface Outcome {
  readonly firstReached: number;
  readonly planningMs: number;
  readonly best: number;
  readonly returns: number[];
}

function outcome(r: EpisodeResult[]): Outcome {
  const planned = r.filter((e) => e.planningMs > 0);
  return {
    firstReached: (r.find((e) => e.return >= TARGET_RETURN)?.episode ?? Infinity) + 1,
    planningMs: planned.reduce((a, e) => a + e.planningMs, 0) / Math.max(1, planned.length),
    best: Math.max(...r.map((e) => e.return)),
    returns: r.map((e) => e.return),
  };
}

/** iCEM and iLQR on `seeds`, each printed as it ends; figures for the medians and the ratio. */
export async function ilqrLearnedComparison(f: Figures, seeds: readonly number[]): Promise<void> {
  await initTensorBackend();
  const actor = await ilqrActor();
  const icem: Outcome[] = [];
  const ilqr: Outcome[] = [];
  const quiet = (): void => {};
  for (const seed of seeds) {
    for (const [name, list, make] of [
      ['iCEM', icem, undefined],
      ['iLQR', ilqr, actor],
    ] as const) {
      const o = outcome(await petsCartpole(seed, quiet, PETS_CARTPOLE, make));
      list.push(o);
      process.stdout.write(
        `    ${name} seed ${seed}: returns ${o.returns.map((v) => v.toFixed(0)).join(' ')}; ≥ ${TARGET_RETURN} first in episode ${o.firstReached}; planning ${o.planningMs.toFixed(1)} ms/step\n`,
      );
    }
  }
  const n = seeds.length;
  const med = (l: Outcome[], k: 'firstReached' | 'planningMs' | 'best'): number => median(l.map((o) => o[k]));
  f.add(
    `learned cart-pole, iLQR: first episode with return ≥ ${TARGET_RETURN} (median of ${n})`,
    med(ilqr, 'firstReached'),
    'episode',
  );
  f.add(
    `learned cart-pole, iCEM: first episode with return ≥ ${TARGET_RETURN} (median of ${n})`,
    med(icem, 'firstReached'),
    'episode',
  );
  f.add(
    `learned cart-pole, iLQR: seeds reaching ${TARGET_RETURN} within ${PETS_CARTPOLE.episodes} episodes`,
    ilqr.filter((o) => o.firstReached <= PETS_CARTPOLE.episodes).length,
    `of ${n}`,
  );
  f.add(`learned cart-pole, iLQR: planning time per step (median of ${n})`, med(ilqr, 'planningMs'), 'ms');
  f.add(`learned cart-pole, iCEM: planning time per step (median of ${n})`, med(icem, 'planningMs'), 'ms');
  f.add(
    'learned cart-pole: planning time per step, iCEM ÷ iLQR',
    med(icem, 'planningMs') / med(ilqr, 'planningMs'),
    '×',
  );
}
