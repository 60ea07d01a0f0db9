import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IlqrSolver } from '../../../../src/control/planners/ilqr/solver.js';
import { GradientShooting } from '../../../../src/control/planners/gradient/shooting.js';
import { quadraticCost, unstablePendulum } from './linear.js';

// Why iLQR and not gradients through the model: on a linear-quadratic problem with a long horizon
// (an unstable pendulum about upright, 200 steps of 10 ms, open-loop growth e^{4·2} ≈ 3000) iLQR's
// backward pass solves the problem in its first iteration, while first-order steps on the actions
// are held back by the conditioning: ∂J/∂u_t carries the product A_{T−1}⋯A_{t+1}, so the early
// actions' gradients are thousands of times the late ones', and 200 Adam steps (at any of several
// step sizes) end far above the optimum. Deterministic: no timing.

const T = 200;
const x0 = Float64Array.of(0.1, 0);

function problem(): { dynamics: ReturnType<typeof unstablePendulum>; cost: ReturnType<typeof quadraticCost> } {
  return { dynamics: unstablePendulum(0.01, 16), cost: quadraticCost([10, 0.1], [0.01], 10) };
}

test('the adjoint gradient of the linear-quadratic problem equals its finite differences', () => {
  const { dynamics, cost } = problem();
  const shooting = new GradientShooting(dynamics, cost, { horizon: 30, learningRate: 0.1 });
  const u = Float64Array.from({ length: 30 }, (_, t) => Math.cos(0.3 * t));
  const g = new Float64Array(30);
  shooting.gradient(x0, g, u);
  const states = new Float64Array(31 * 2);
  const h = 1e-3;
  for (let k = 0; k < 30; k++) {
    const up = u.slice();
    const um = u.slice();
    up[k] = up[k]! + h;
    um[k] = um[k]! - h;
    // exact for a quadratic up to rounding
    const fd = (shooting.rollout(x0, up, states) - shooting.rollout(x0, um, states)) / (2 * h);
    assert.ok(Math.abs(fd - g[k]!) <= 1e-7 * Math.max(1, Math.abs(fd)), `∂J/∂u_${k}: adjoint ${g[k]}, fd ${fd}`);
  }
});

test('on a long unstable horizon iLQR reaches the optimum in one iteration; 200 Adam steps stay far above it', () => {
  const { dynamics, cost } = problem();
  const ilqr = new IlqrSolver(dynamics, cost, { horizon: T });
  const first = ilqr.iterate(x0, 1);
  const optimum = first.cost;
  // the optimum: the gradient there vanishes (relative to the gradient at the start), and further iterations gain nothing
  const shooting = new GradientShooting(dynamics, cost, { horizon: T, learningRate: 0.1 });
  const g0 = new Float64Array(T);
  shooting.gradient(x0, g0);
  const gStar = new Float64Array(T);
  shooting.gradient(x0, gStar, ilqr.actions);
  const norm = (a: Float64Array): number => Math.hypot(...a);
  assert.ok(norm(gStar) < 1e-6 * norm(g0), `‖∇J‖ at iLQR's plan ${norm(gStar)}, at u = 0 ${norm(g0)}`);
  assert.ok(ilqr.iterate(x0, 5).cost >= optimum * (1 - 1e-9));

  // the gradient at u = 0: the first action's is thousands of times the last's
  const ratio0 = Math.abs(g0[0]!) / Math.abs(g0[T - 1]!);
  assert.ok(ratio0 > 1000, `‖∂J/∂u_0‖ / ‖∂J/∂u_T−1‖ at u = 0 is ${ratio0}`);

  for (const learningRate of [0.03, 0.1, 0.3, 1]) {
    const s = new GradientShooting(dynamics, cost, { horizon: T, learningRate });
    const report = s.iterate(x0, 200);
    assert.equal(report.iterations, 200);
    assert.equal(report.stop, 'iterations');
    // it does descend (by five orders of magnitude from the open-loop fall) ...
    assert.ok(report.cost < 1e-4 * report.initialCost, `α ${learningRate}: ${report.initialCost} → ${report.cost}`);
    // ... but ends at several times the optimum
    assert.ok(
      report.cost - optimum > 2 * optimum,
      `α ${learningRate}: Adam's ${report.cost} is within 3× iLQR's one-iteration optimum ${optimum}`,
    );
    // and the early actions' gradients still dwarf the late ones'
    const ratio = report.firstGradientNorm / report.lastGradientNorm;
    assert.ok(ratio > 10, `α ${learningRate}: ‖∂J/∂u_0‖ / ‖∂J/∂u_T−1‖ = ${ratio}`);
  }
});
