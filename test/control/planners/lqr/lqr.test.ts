import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finiteHorizonLqr, infiniteHorizonLqr, lqrPolicyAbout } from '../../../../src/control/planners/lqr/lqr.js';
import { evaluatePolicy } from '../../../../src/control/policy.js';

// LQR's Riccati recursion against cases worked by hand (finite and infinite horizon, time-varying),
// the feedback policy it yields, and the errors for systems it cannot stabilise.

const f = (...xs: number[]): Float64Array => Float64Array.from(xs);

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} differs from ${expected} by more than ${tol}`);
}

test('scalar LQR, 2-step finite horizon, matches the recursion worked by hand', () => {
  // x_{t+1} = x_t + u_t, cost ½x² + ½u² per step, terminal ½x_2², linear state cost 1·x per step.
  // V_2 = 1, v_2 = 0.
  // t = 1: Q_uu = r + b²V_2 = 2, Q_ux = abV_2 = 1 → K_1 = −1/2
  //        V_1 = q + a²V_2 − (abV_2)²/Q_uu = 1 + 1 − 1/2 = 1.5
  //        Q_x = q + a v_2 = 1, Q_u = r + b v_2 = 0 → k_1 = 0, v_1 = Q_x − Q_xu Q_uu⁻¹ Q_u = 1
  // t = 0: Q_uu = 1 + 1.5 = 2.5, Q_ux = 1.5 → K_0 = −1.5/2.5 = −0.6
  //        V_0 = 1 + 1.5 − 1.5²/2.5 = 2.5 − 0.9 = 1.6
  //        Q_x = 1 + 1 = 2, Q_u = 0 + 1 = 1 → k_0 = −1/2.5 = −0.4, v_0 = 2 − 1.5·1/2.5 = 1.4
  const sol = finiteHorizonLqr({ nx: 1, nu: 1, horizon: 2, A: f(1), B: f(1), Q: f(1), R: f(1), q: f(1), Qf: f(1) });
  const eps = 1e-12;
  close(sol.K[1]![0]!, -0.5, eps, 'K_1');
  close(sol.K[0]![0]!, -0.6, eps, 'K_0');
  close(sol.k[1]![0]!, 0, eps, 'k_1');
  close(sol.k[0]![0]!, -0.4, eps, 'k_0');
  assert.equal(sol.V.length, 3);
  close(sol.V[2]![0]!, 1, eps, 'V_2');
  close(sol.V[1]![0]!, 1.5, eps, 'V_1');
  close(sol.V[0]![0]!, 1.6, eps, 'V_0');
  close(sol.v[2]![0]!, 0, eps, 'v_2');
  close(sol.v[1]![0]!, 1, eps, 'v_1');
  close(sol.v[0]![0]!, 1.4, eps, 'v_0');
});

test('scalar LQR, time-varying A_t, matches the recursion worked by hand', () => {
  // a_0 = 1, a_1 = 2, b = 1, q = r = q_f = 1.
  // t = 1 (a = 2): Q_uu = 1 + 1 = 2, Q_ux = 2·1 = 2 → K_1 = −1, V_1 = 1 + 4 − 2²/2 = 3
  // t = 0 (a = 1): Q_uu = 1 + 3 = 4, Q_ux = 3 → K_0 = −0.75, V_0 = 1 + 3 − 9/4 = 1.75
  const sol = finiteHorizonLqr({ nx: 1, nu: 1, horizon: 2, A: [f(1), f(2)], B: f(1), Q: f(1), R: f(1), Qf: f(1) });
  close(sol.K[1]![0]!, -1, 1e-12, 'K_1');
  close(sol.K[0]![0]!, -0.75, 1e-12, 'K_0');
  close(sol.V[1]![0]!, 3, 1e-12, 'V_1');
  close(sol.V[0]![0]!, 1.75, 1e-12, 'V_0');
});

test('scalar infinite-horizon LQR matches the algebraic Riccati equation solved by hand', () => {
  // P = q + a²P − (abP)²/(r + b²P). Multiplying out by (r + b²P):
  //   b²P² + (r − q b² − a² r) P − q r = 0,  so  P = (−β + √(β² + 4b²qr)) / (2b²),  β = r − qb² − a²r
  // and K = −abP/(r + b²P).
  // a = b = q = r = 1: P² − P − 1 = 0, P = φ = (1 + √5)/2, K = −φ/(1 + φ) = −1/φ.
  const phi = (1 + Math.sqrt(5)) / 2;
  const golden = infiniteHorizonLqr({ nx: 1, nu: 1, A: f(1), B: f(1), Q: f(1), R: f(1) });
  close(golden.V[0]!, phi, 1e-9, 'P');
  close(golden.K[0]!, -1 / phi, 1e-9, 'K');
  close(golden.spectralRadius, 1 - 1 / phi, 1e-9, 'a + bK');
  assert.ok(golden.residual <= 1e-10 && golden.iterations > 1);

  // a = 1.2 (unstable), b = 0.5, q = 2, r = 0.3: β = 0.3 − 0.5 − 0.432 = −0.632,
  // P = (0.632 + √(0.632² + 4·0.25·2·0.3)) / 0.5 = (0.632 + √0.999424) / 0.5 ≈ 3.26342
  const [a, b, q, r] = [1.2, 0.5, 2, 0.3];
  const beta = r - q * b * b - a * a * r;
  const P = (-beta + Math.sqrt(beta * beta + 4 * b * b * q * r)) / (2 * b * b);
  close(P, 3.26342, 1e-5, 'hand P');
  const K = (-a * b * P) / (r + b * b * P);
  const sol = infiniteHorizonLqr({ nx: 1, nu: 1, A: f(a), B: f(b), Q: f(q), R: f(r) });
  close(sol.V[0]!, P, 1e-8, 'P');
  close(sol.K[0]!, K, 1e-8, 'K');
  close(sol.spectralRadius, Math.abs(a + b * K), 1e-8, 'closed loop');
});

// x = [position, velocity], u = acceleration, dt = 0.1
const dt = 0.1;
const DI = { nx: 2, nu: 1, A: f(1, dt, 0, 1), B: f((dt * dt) / 2, dt), Q: f(1, 0, 0, 0.1), R: f(0.01) };

/** Eigenvalue moduli of a 2×2 matrix from its characteristic polynomial λ² − tr λ + det. */
function spectralRadius2(m: Float64Array): number {
  const tr = m[0]! + m[3]!;
  const det = m[0]! * m[3]! - m[1]! * m[2]!;
  const disc = tr * tr - 4 * det;
  if (disc < 0) return Math.sqrt(det); // complex pair: |λ|² = det
  return Math.max(Math.abs((tr + Math.sqrt(disc)) / 2), Math.abs((tr - Math.sqrt(disc)) / 2));
}

test('double integrator: the infinite-horizon gain stabilises, finite-horizon gains converge to it', () => {
  const inf = infiniteHorizonLqr(DI);
  const K = inf.K;
  assert.equal(K.length, 2);
  // A + BK
  const cl = f(1 + DI.B[0]! * K[0]!, dt + DI.B[0]! * K[1]!, DI.B[1]! * K[0]!, 1 + DI.B[1]! * K[1]!);
  const rho = spectralRadius2(cl);
  assert.ok(rho < 1, `closed-loop spectral radius ${rho}`);
  close(inf.spectralRadius, rho, 1e-9, 'reported spectral radius');
  // pushing toward the origin: negative feedback on position and velocity
  assert.ok(K[0]! < 0 && K[1]! < 0);

  let previous = Infinity;
  for (const horizon of [5, 20, 80, 320]) {
    const sol = finiteHorizonLqr({ ...DI, horizon, Qf: DI.Q });
    assert.equal(sol.K.length, horizon);
    const err = Math.hypot(sol.K[0]![0]! - K[0]!, sol.K[0]![1]! - K[1]!);
    assert.ok(err <= previous, `horizon ${horizon}: error ${err} grew from ${previous}`);
    previous = err;
  }
  assert.ok(previous < 1e-6, `K_0 for horizon 320 is ${previous} from the stationary gain`);
});

test('the LQR feedback policy evaluates to u = uEq + K(x − xEq), per step for a finite horizon', () => {
  const { K } = infiniteHorizonLqr(DI);
  const xEq = f(0.5, 0);
  const uEq = f(0.2);
  const policy = lqrPolicyAbout({ xEq, uEq, K, startNs: 1_000n, stepNs: 100_000_000n });
  assert.equal(policy.kind, 'feedback');
  const out = new Float64Array(1);
  for (const [x0, x1] of [
    [0.5, 0],
    [1, -2],
    [-3, 0.25],
  ] as const) {
    for (const t of [0n, 1_000n, 10_000_000_000n]) {
      evaluatePolicy(policy, t, [x0, x1], out);
      close(out[0]!, 0.2 + K[0]! * (x0 - 0.5) + K[1]! * (x1 - 0), 1e-12, `u at x = (${x0}, ${x1})`);
    }
  }

  const sol = finiteHorizonLqr({ ...DI, horizon: 3, Qf: f(10, 0, 0, 10) });
  const timed = lqrPolicyAbout({ xEq, uEq, K: sol.K, startNs: 0n, stepNs: 10n });
  const x = [1, 1];
  for (const [t, step] of [
    [0n, 0],
    [15n, 1],
    [20n, 2],
    [1000n, 2],
  ] as const) {
    evaluatePolicy(timed, t, x, out);
    const Kt = sol.K[step]!;
    close(out[0]!, 0.2 + Kt[0]! * 0.5 + Kt[1]! * 1, 1e-12, `u at t = ${t}`);
  }
});

test('an unstabilisable or undetectable system gives a clear error', () => {
  // an unstable mode the input cannot reach: V grows like 4^i
  assert.throws(
    () => infiniteHorizonLqr({ nx: 2, nu: 1, A: f(2, 0, 0, 0.5), B: f(0, 1), Q: f(1, 0, 0, 1), R: f(1) }),
    /diverged .*not stabilisable/,
  );
  // a marginal mode the input cannot reach: V grows linearly, never settles
  assert.throws(
    () => infiniteHorizonLqr({ nx: 1, nu: 1, A: f(1), B: f(0), Q: f(1), R: f(1), maxIterations: 500 }),
    /did not converge in 500 iterations .* is \(A, B\) stabilisable/,
  );
  // controllable, but Q does not see the unstable mode: the optimal gain is 0 and A + BK = 2
  assert.throws(
    () => infiniteHorizonLqr({ nx: 1, nu: 1, A: f(2), B: f(1), Q: f(0), R: f(1) }),
    /does not stabilise .*is 2\.00000\).*detectable/,
  );
  const lazy = infiniteHorizonLqr({ nx: 1, nu: 1, A: f(2), B: f(1), Q: f(0), R: f(1), requireStable: false });
  assert.ok(lazy.K[0] === 0 && lazy.spectralRadius === 2);
});

test('bad sizes and bad weights give errors that name the matrix', () => {
  const base = { nx: 2, nu: 1, horizon: 3, A: DI.A, B: DI.B, Q: DI.Q, R: DI.R, Qf: DI.Q };
  assert.throws(
    () => finiteHorizonLqr({ ...base, A: f(1, 2, 3) }),
    /A must be 2×2 \(4 values, row-major\), got 3 values/,
  );
  assert.throws(
    () => finiteHorizonLqr({ ...base, B: f(1, 2, 3) }),
    /B must be 2×1 \(2 values, row-major\), got 3 values/,
  );
  assert.throws(
    () => finiteHorizonLqr({ ...base, A: [DI.A, DI.A] }),
    /A has 2 steps, expected one per step of the horizon \(3\)/,
  );
  assert.throws(() => finiteHorizonLqr({ ...base, B: [DI.B, DI.B, f(1)] }), /B\[2\] must be 2×1/);
  assert.throws(() => finiteHorizonLqr({ ...base, Qf: f(1) }), /Qf must be 2×2/);
  assert.throws(() => finiteHorizonLqr({ ...base, horizon: 0 }), /horizon must be a positive integer/);
  assert.throws(() => finiteHorizonLqr({ ...base, R: f(0) }), /R must be positive definite/);
  assert.throws(() => finiteHorizonLqr({ ...base, R: f(-1) }), /R must be positive definite/);
  assert.throws(() => finiteHorizonLqr({ ...base, Q: f(1, 0.5, 0, 1) }), /Q must be symmetric/);
  assert.throws(() => finiteHorizonLqr({ ...base, Q: f(-1, 0, 0, 1) }), /must be positive semi-definite/);
  assert.throws(() => finiteHorizonLqr({ ...base, A: f(1, NaN, 0, 1) }), /A has a non-finite entry at \(0, 1\)/);
  assert.throws(() => infiniteHorizonLqr({ ...DI, nx: 0 }), /nx must be a positive integer/);
  // round-off asymmetry is averaged away rather than refused
  const sol = finiteHorizonLqr({ ...base, Q: f(1, 1e-17, 0, 0.1) });
  assert.equal(sol.K.length, 3);

  assert.throws(
    () => lqrPolicyAbout({ xEq: f(0, 0), uEq: f(0), K: f(1, 2, 3), startNs: 0n, stepNs: 1n }),
    /K\[0\] must be 1×2 \(2 values\), got 3/,
  );
  assert.throws(
    () => lqrPolicyAbout({ xEq: f(0, 0), uEq: f(0), K: f(1, 2), startNs: 0n, stepNs: 0n }),
    /stepNs must be positive/,
  );
  assert.throws(
    () => lqrPolicyAbout({ xEq: f(0, NaN), uEq: f(0), K: f(1, 2), startNs: 0n, stepNs: 1n }),
    /xEq\[1\] is not finite/,
  );
});
