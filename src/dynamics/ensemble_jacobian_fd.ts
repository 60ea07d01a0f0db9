import type { MeanJacobians, ProbabilisticEnsemble } from './ensemble.js';

// Finite-difference Jacobians of ProbabilisticEnsemble.meanNext, the reference the analytic ones
// (meanJacobians, forward mode through the MLP) are checked and timed against. Central differences,
//   ∂f/∂z_c ≈ (f(z + h·e_c) − f(z − h·e_c)) / 2h,  h = eps·inStd_c,
// so `eps` is a step on the network's normalised input scale whatever the robot's units. Each input
// column c costs one batched meanNext call of 2n rows (the n rows pushed up, then down), through the
// same engine: 2·(nx + nu) forward passes of n rows per member, the usual cost of this method, so
// the benchmark compares like with like.

export function finiteDifferenceJacobians(
  ensemble: ProbabilisticEnsemble,
  states: ArrayLike<number>,
  actions: ArrayLike<number>,
  n: number,
  members: readonly number[],
  eps: number,
): MeanJacobians {
  const { stateSize: nx, actionSize: nu } = ensemble.config;
  if (!(eps > 0)) throw new Error(`finiteDifferenceJacobians: eps must be positive, not ${eps}`);
  const next = ensemble.meanNext(states, actions, n, members);
  const dState = new Float64Array(n * nx * nx);
  const dAction = new Float64Array(n * nx * nu);
  const inStd = ensemble.inputNormaliser.std;
  // rows 0…n−1 pushed up by h in column c, rows n…2n−1 pushed down
  const s2 = new Float64Array(2 * n * nx);
  const a2 = new Float64Array(2 * n * nu);
  const f = new Float64Array(2 * n * nx);
  for (let c = 0; c < nx + nu; c++) {
    const h = eps * inStd[c]!;
    for (let half = 0; half < 2; half++) {
      const sign = half === 0 ? 1 : -1;
      for (let r = 0; r < n; r++) {
        const row = half * n + r;
        for (let j = 0; j < nx; j++) s2[row * nx + j] = states[r * nx + j]!;
        for (let j = 0; j < nu; j++) a2[row * nu + j] = actions[r * nu + j]!;
        if (c < nx) s2[row * nx + c]! += sign * h;
        else a2[row * nu + c - nx]! += sign * h;
      }
    }
    ensemble.meanNext(s2, a2, 2 * n, members, f);
    for (let r = 0; r < n; r++) {
      for (let i = 0; i < nx; i++) {
        // a state column's ±h passes straight through to next: the identity part of ∂next/∂x
        const up = f[r * nx + i]!;
        const down = f[(n + r) * nx + i]!;
        const d = (up - down) / (2 * h);
        if (c < nx) dState[(r * nx + i) * nx + c] = d;
        else dAction[(r * nx + i) * nu + c - nx] = d;
      }
    }
  }
  return { next, dState, dAction };
}
