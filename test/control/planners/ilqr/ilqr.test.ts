import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoxQp } from '../../../../src/control/planners/ilqr/box_qp.js';
import { BackwardPass } from '../../../../src/control/planners/ilqr/backward_pass.js';
import { IlqrSolver } from '../../../../src/control/planners/ilqr/solver.js';
import {
  ResidualCost,
  stageDerivatives,
  type ResidualTerm,
} from '../../../../src/control/planners/trajectory/residual_cost.js';
import { norm } from '../../../../src/control/planners/trajectory/norms.js';
import type { TrajectoryDynamics } from '../../../../src/control/planners/trajectory/dynamics.js';
import { finiteHorizonLqr } from '../../../../src/control/planners/lqr/lqr.js';

// iLQR's parts against answers known independently: on a linear-quadratic problem one iteration
// is the Riccati solution (the LQR code is the reference); the box QP and the clamped-gain rule
// on cases solved by hand; a step that would raise the cost is rejected and μ raised.

/** x' = A x + B u with fixed matrices; `lie` flips B's sign in the Jacobian it reports. */
function linearDynamics(A: number[], B: number[], nx: number, nu: number, lie = false): TrajectoryDynamics {
  const a = Float64Array.from(A);
  const b = Float64Array.from(B);
  const step = (xs: Float64Array, us: Float64Array, n: number, next: Float64Array): void => {
    for (let r = 0; r < n; r++)
      for (let i = 0; i < nx; i++) {
        let s = 0;
        for (let j = 0; j < nx; j++) s += a[i * nx + j]! * xs[r * nx + j]!;
        for (let j = 0; j < nu; j++) s += b[i * nu + j]! * us[r * nu + j]!;
        next[r * nx + i] = s;
      }
  };
  return {
    nx,
    nu,
    description: 'linear',
    step,
    linearize(xs, us, n, next, Aout, Bout) {
      step(xs, us, n, next);
      for (let r = 0; r < n; r++) {
        Aout.set(a, r * nx * nx);
        Bout.set(
          b.map((v) => (lie ? -v : v)),
          r * nx * nu,
        );
      }
    },
    dispose() {},
  };
}

/** ½‖L x‖² at every stage and the terminal (terminal times `scale`), plus ½‖√r u‖². */
function quadraticCost(nx: number, nu: number, L: number[][], r: number, terminalScale: number): ResidualCost {
  const state: ResidualTerm = {
    name: 'state',
    size: L.length,
    norm: norm('quadratic'),
    weight: 1,
    terminalWeight: terminalScale,
    usesAction: false,
    evaluate(x, _u, res, Jx) {
      L.forEach((row, i) => {
        res[i] = row.reduce((s, v, j) => s + v * x[j]!, 0);
        if (Jx) row.forEach((v, j) => (Jx[i * nx + j] = v));
      });
    },
  };
  const action: ResidualTerm = {
    name: 'action',
    size: nu,
    norm: norm('quadratic'),
    weight: r,
    terminalWeight: 0,
    usesAction: true,
    evaluate(_x, u, res, _Jx, Ju) {
      for (let i = 0; i < nu; i++) {
        res[i] = u[i]!;
        if (Ju) Ju[i * nu + i] = 1;
      }
    },
  };
  return new ResidualCost(nx, nu, [state, action]);
}

test('on a linear-quadratic problem one iLQR iteration is the finite-horizon LQR solution', () => {
  // a discretised double integrator, unstable enough to matter: x = [p, v], dt = 0.1
  const A = [1, 0.1, 0.2, 1];
  const B = [0.005, 0.1];
  const T = 30;
  const L = [
    [3, 0],
    [0, 1],
  ];
  const cost = quadraticCost(2, 1, L, 0.1, 5);
  const solver = new IlqrSolver(linearDynamics(A, B, 2, 1), cost, { horizon: T });
  const x0 = Float64Array.of(1, -0.5);
  const first = solver.iterate(x0, 1);
  assert.equal(first.iterations, 1);
  assert.equal(first.alpha, 1, 'the full step is taken');
  // the reference: Q = LᵀL, R = r, Q_f = 5 Q
  const Q = Float64Array.of(9, 0, 0, 1);
  const lqr = finiteHorizonLqr({
    nx: 2,
    nu: 1,
    horizon: T,
    A: Float64Array.from(A),
    B: Float64Array.from(B),
    Q,
    R: Float64Array.of(0.1),
    Qf: Q.map((v) => 5 * v),
  });
  let x = Float64Array.from(x0);
  for (let t = 0; t < T; t++) {
    const K = lqr.K[t]!;
    const u = K[0]! * x[0]! + K[1]! * x[1]!;
    assert.ok(Math.abs(solver.actions[t]! - u) < 1e-9, `u_${t}: iLQR ${solver.actions[t]}, LQR ${u}`);
    for (let j = 0; j < 2; j++)
      assert.ok(
        Math.abs(solver.gains[t * 2 + j]! - K[j]!) < 1e-9,
        `K_${t}[${j}]: ${solver.gains[t * 2 + j]} vs ${K[j]}`,
      );
    x = Float64Array.of(A[0]! * x[0]! + A[1]! * x[1]! + B[0]! * u, A[2]! * x[0]! + A[3]! * x[1]! + B[1]! * u);
  }
  // the optimum: a second iteration has nothing left to do
  const second = solver.iterate(x0, 1);
  assert.equal(second.stop, 'converged_gradient');
  assert.ok(Math.abs(second.cost - first.cost) < 1e-12 * Math.max(1, first.cost));
});

test('the box QP solves a coupled case by hand: one bound active, the free entry re-optimised', () => {
  // min ½ xᵀ[[2,1],[1,2]]x + [−6, 0]ᵀx, x₀ ≤ 1: unconstrained (4, −2); with x₀ = 1, x₁ = −½
  const qp = new BoxQp(2);
  const x = new Float64Array(2);
  const result = qp.solve(
    Float64Array.of(2, 1, 1, 2),
    Float64Array.of(-6, 0),
    Float64Array.of(-10, -10),
    Float64Array.of(1, 10),
    x,
  );
  assert.equal(result.status, 'converged');
  assert.ok(Math.abs(x[0]! - 1) < 1e-12 && Math.abs(x[1]! + 0.5) < 1e-9, `x = ${Array.from(x).join(', ')}`);
  assert.deepEqual(Array.from(qp.clamped), [1, 0]);
  assert.equal(qp.freeCount, 1);
  assert.ok(Math.abs(qp.factor[0]! - Math.SQRT2) < 1e-12, 'the factor of the free block [2]');
});

test('the control-limited backward pass: the clamped row of K is zero, the free row −H_ff⁻¹ Q_ux', () => {
  // one step, nx = 1, nu = 2; no terminal cost and B = 0, so Q_uu = l_uu, Q_u = l_u, Q_ux = l_ux
  const pass = new BackwardPass(1, 2, 1);
  const stage = stageDerivatives(1, 2);
  stage.lu.set([-6, 0]);
  stage.luu.set([2, 1, 1, 2]);
  stage.lux.set([1, 3]);
  const terminal = stageDerivatives(1, 2);
  const out = pass.run(
    { A: Float64Array.of(1), B: Float64Array.of(0, 0), cost: [stage, terminal] },
    0,
    new Float64Array(2),
    {
      low: Float64Array.of(-10, -10),
      high: Float64Array.of(1, 10),
    },
  );
  assert.ok(out.ok);
  assert.ok(
    Math.abs(pass.k[0]! - 1) < 1e-12 && Math.abs(pass.k[1]! + 0.5) < 1e-9,
    `k = ${Array.from(pass.k).join(', ')}`,
  );
  assert.equal(pass.K[0], 0, 'the clamped control gets no feedback');
  assert.ok(Math.abs(pass.K[1]! + 1.5) < 1e-12, `K free row ${pass.K[1]} (expected −3/2)`);
  assert.equal(out.clampedSteps, 1);
  // unconstrained, the same problem gives the full Newton step and gain
  const free = new BackwardPass(1, 2, 1);
  const u = free.run(
    { A: Float64Array.of(1), B: Float64Array.of(0, 0), cost: [stage, terminal] },
    0,
    new Float64Array(2),
    undefined,
  );
  assert.ok(u.ok);
  assert.ok(Math.abs(free.k[0]! - 4) < 1e-12 && Math.abs(free.k[1]! + 2) < 1e-12);
});

test('control limits hold along the plan: every nominal action inside the box', () => {
  const solver = new IlqrSolver(
    linearDynamics([1, 0.1, 0, 1], [0.005, 0.1], 2, 1),
    quadraticCost(
      2,
      1,
      [
        [10, 0],
        [0, 1],
      ],
      1e-4,
      10,
    ),
    {
      horizon: 40,
      controlLimits: { low: Float64Array.of(-0.5), high: Float64Array.of(0.5) },
    },
  );
  const report = solver.iterate(Float64Array.of(2, 0), 20);
  assert.ok(report.cost < report.initialCost);
  assert.ok(report.clampedSteps > 0, 'the limits are active on this problem');
  for (const u of solver.actions) assert.ok(u >= -0.5 - 1e-12 && u <= 0.5 + 1e-12, `u = ${u}`);
});

test('a step that would raise the cost is rejected, μ is raised, and the nominal is kept', () => {
  // Jacobians that lie (B's sign flipped): the backward pass's step goes uphill
  const dynamics = linearDynamics([1, 0.1, 0, 1], [0.005, 0.1], 2, 1, true);
  const solver = new IlqrSolver(
    dynamics,
    quadraticCost(
      2,
      1,
      [
        [3, 0],
        [0, 1],
      ],
      0.1,
      5,
    ),
    { horizon: 20 },
  );
  const x0 = Float64Array.of(1, 0);
  const report = solver.iterate(x0, 3);
  assert.ok(report.rejectedSteps >= 1, `rejected ${report.rejectedSteps}`);
  assert.ok(report.cost <= report.initialCost, `cost ${report.cost} > initial ${report.initialCost}`);
  assert.ok(report.regularization > 0, 'μ raised after the rejection');
  assert.equal(report.alpha, 0, 'no step accepted');
  assert.ok(
    solver.actions.every((u) => u === 0),
    'the nominal actions are unchanged',
  );
});
