import { initTensorBackend } from '../src/tensor/backend.js';
import { nativeKernels } from '../src/tensor/native_kernels.js';
import { ProbabilisticEnsemble, type EnsembleRuntimeOptions } from '../src/dynamics/ensemble.js';
import { finiteDifferenceJacobians } from '../src/dynamics/ensemble_jacobian_fd.js';
import { Rng } from '../src/util/random.js';
import { Figures, percentile, sortNumbers } from './report.js';

// What iLQR's linearisation costs: the learned ensemble's next-state mean over its 5 elites (of 7
// members, 4×200 SiLU) and its Jacobians for one horizon of 100 (state, action) rows, analytic
// (ProbabilisticEnsemble.meanJacobians: forward mode through the MLP) against central finite
// differences through the same engine (ensemble_jacobian_fd.ts: 2·(nx + nu) batched meanNext calls),
// on the native kernels (1 and 2 threads) and on TF.js (the backend initTensorBackend picks, wasm
// here), for a sin/cos-encoded cart-pole (5 + 1) and a 6-joint arm (12 + 6). Beside them, meanNext
// alone (the rollout's cost per row). Figures are Jacobian rows per second (one row: next [nx],
// ∂/∂x [nx×nx], ∂/∂u [nx×nu]) and the analytic ÷ finite-difference ratio — against the batched
// differences (all 100 rows per call: forward mode costs about (in + 1) forward passes against
// 2·in, so ≈ 2× is the most any exact method gains there) and against differences knot by knot
// (one state per call, as a linearisation that perturbs one state at a time does).

const MEMBERS = 7;
const ELITES = 5;
const HIDDEN = [200, 200, 200, 200];
const ROWS = 100;
const EPS = 1e-2;

interface Size {
  readonly label: string;
  readonly nx: number;
  readonly nu: number;
}
const SIZES: readonly Size[] = [
  { label: 'cart-pole 5+1', nx: 5, nu: 1 },
  { label: 'arm 12+6', nx: 12, nu: 6 },
];

interface EngineCase {
  readonly label: string;
  readonly runtime: EnsembleRuntimeOptions;
}

/** median seconds per call over at least `minIterations` calls and `minSeconds`, after warm-up */
function time(fn: () => void, minIterations: number, minSeconds: number): number {
  for (let i = 0; i < 2; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minIterations || performance.now() - start < minSeconds * 1000) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  return percentile(sortNumbers(times), 50);
}

export async function ensembleJacobianBenchmarks(f: Figures): Promise<void> {
  const backend = await initTensorBackend();
  const native = nativeKernels();
  const nativeCases: EngineCase[] = [
    { label: 'native 1 thread', runtime: { engine: 'native', threads: 1 } },
    { label: 'native 2 threads', runtime: { engine: 'native', threads: 2 } },
  ];
  const cases: EngineCase[] = [
    ...(native.kernels ? nativeCases : []),
    { label: `tfjs ${backend.backend}`, runtime: { engine: 'tfjs' } },
  ];
  process.stdout.write(
    `  (${backend.why}; ${native.why}; ${MEMBERS} members, mean over ${ELITES} elites, ${HIDDEN.length}×${HIDDEN[0]} SiLU, ${ROWS} rows, finite differences: central, eps ${EPS} on the normalised scale)\n`,
  );
  for (const size of SIZES) {
    const rng = new Rng(3);
    const states = Float64Array.from({ length: ROWS * size.nx }, () => rng.normal());
    const actions = Float64Array.from({ length: ROWS * size.nu }, () => rng.normal());
    for (const c of cases) {
      const model = ProbabilisticEnsemble.create(
        { stateSize: size.nx, actionSize: size.nu, members: MEMBERS, elites: ELITES, hidden: HIDDEN, seed: 1 },
        c.runtime,
      );
      try {
        const elites = model.elites;
        const out = {
          next: new Float64Array(ROWS * size.nx),
          dState: new Float64Array(ROWS * size.nx * size.nx),
          dAction: new Float64Array(ROWS * size.nx * size.nu),
        };
        const next = new Float64Array(ROWS * size.nx);
        const label = `ensemble Jacobians, ${size.label}, ${c.label}`;
        const forward = ROWS / time(() => model.meanNext(states, actions, ROWS, elites, next), 20, 1);
        const analytic = ROWS / time(() => model.meanJacobians(states, actions, ROWS, elites, out), 10, 1.5);
        const fd = ROWS / time(() => finiteDifferenceJacobians(model, states, actions, ROWS, elites, EPS), 5, 1.5);
        // knot by knot, as a linearisation that perturbs one state at a time (mjd_transitionFD's way)
        const perKnot =
          ROWS /
          time(
            () => {
              for (let r = 0; r < ROWS; r++)
                finiteDifferenceJacobians(
                  model,
                  states.subarray(r * size.nx, (r + 1) * size.nx),
                  actions.subarray(r * size.nu, (r + 1) * size.nu),
                  1,
                  elites,
                  EPS,
                );
            },
            3,
            1.5,
          );
        f.add(`${label}, meanNext (no Jacobian)`, forward, 'rows/s');
        f.add(`${label}, analytic`, analytic, 'Jacobian rows/s');
        f.add(`${label}, finite differences`, fd, 'Jacobian rows/s');
        f.add(`${label}, analytic ÷ finite differences`, analytic / fd, '×');
        f.add(`${label}, finite differences knot by knot`, perKnot, 'Jacobian rows/s');
        f.add(`${label}, analytic ÷ finite differences knot by knot`, analytic / perKnot, '×');
      } finally {
        model.dispose();
      }
    }
  }
}

// `node dist/bench/ensemble_jacobian.bench.js`: this suite alone
if (import.meta.url === `file://${process.argv[1]}`) await ensembleJacobianBenchmarks(new Figures());
