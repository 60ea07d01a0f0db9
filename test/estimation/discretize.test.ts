import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discretize, type DiscreteModel } from '../../src/estimation/discretize.js';

// Exact discretisation of the joint model (constant velocity, with damping) against the
// continuous model, across the series/closed-form switch.

const close = (actual: number, expected: number, rel: number, what: string): void => {
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected) + 1e-300, `${what}: ${actual} vs ${expected}`);
};

const fields = ['f01', 'f11', 'bp', 'bv', 'qpp', 'qpv', 'qvv'] as const;

/**
 * The same model by brute force: RK4 on the continuous equations (mean with a unit input, and
 * the covariance ODE Ṗ = AP + PAᵀ + GqGᵀ from P = 0 with q = 1).
 */
function integrated(dt: number, a: number): DiscreteModel {
  const steps = 20_000;
  const h = dt / steps;
  type V = number[];
  const rk4 = (x: V, f: (x: V) => V): V => {
    for (let i = 0; i < steps; i++) {
      const k1 = f(x);
      const k2 = f(x.map((v, j) => v + (h / 2) * k1[j]!));
      const k3 = f(x.map((v, j) => v + (h / 2) * k2[j]!));
      const k4 = f(x.map((v, j) => v + h * k3[j]!));
      x = x.map((v, j) => v + (h / 6) * (k1[j]! + 2 * k2[j]! + 2 * k3[j]! + k4[j]!));
    }
    return x;
  };
  const motion =
    (u: number) =>
    ([, v]: V) => [v!, -a * v! + u];
  const [f01, f11] = rk4([0, 1], motion(0));
  const [bp, bv] = rk4([0, 0], motion(1));
  const [qpp, qpv, qvv] = rk4([0, 0, 0], ([, pv, vv]) => [2 * pv!, vv! - a * pv!, -2 * a * vv! + 1]);
  return { f01: f01!, f11: f11!, bp: bp!, bv: bv!, qpp: qpp!, qpv: qpv!, qvv: qvv! };
}

test('without damping it is the textbook constant-velocity model', () => {
  const dt = 0.013;
  const m = discretize(dt);
  assert.deepEqual(
    [m.f01, m.f11, m.bp, m.bv, m.qpp, m.qpv, m.qvv].map((x) => +x.toPrecision(14)),
    [dt, 1, dt ** 2 / 2, dt, dt ** 3 / 3, dt ** 2 / 2, dt].map((x) => +x.toPrecision(14)),
  );
  assert.deepEqual(discretize(0), { f01: 0, f11: 1, bp: 0, bv: 0, qpp: 0, qpv: 0, qvv: 0 });
});

test('with damping it matches the integrated continuous model, on both sides of the series switch', () => {
  for (const [dt, a] of [
    [0.01, 3],
    [0.1, 2],
    [0.3, 1.5],
    [1, 2],
    [0.05, 40],
  ] as const) {
    const exact = discretize(dt, a);
    const brute = integrated(dt, a);
    for (const f of fields) close(exact[f], brute[f], 1e-9, `${f} at dt=${dt}, a=${a}`);
  }
});

test('the series and the closed form agree where they meet (a·dt = 0.5)', () => {
  const below = discretize(0.5 - 1e-9, 1);
  const above = discretize(0.5 + 1e-9, 1);
  for (const f of fields) close(below[f], above[f], 1e-7, f);
});

test('a tiny damping rate stays accurate (no cancellation)', () => {
  const dt = 0.01;
  const m = discretize(dt, 1e-9);
  close(m.qpp, dt ** 3 / 3, 1e-8, 'qpp');
  close(m.bp, dt ** 2 / 2, 1e-8, 'bp');
});

test('bad steps are refused', () => {
  assert.throws(() => discretize(-0.01), /time step -0.01 s must be finite and not negative/);
  assert.throws(() => discretize(Number.NaN), /must be finite/);
  assert.throws(() => discretize(0.01, -1), /damping rate -1/);
});
