import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { discretize } from '../../src/estimation/discretize.js';
import { JointFilter } from '../../src/estimation/joint_filter.js';
import { gaussian } from './signals.js';

// One joint's Kalman filter: convergence, tracking without lag, fused velocity, the outlier gate,
// and a covariance that stays symmetric positive definite.

const sigma = 1e-3;
const r = sigma * sigma;
const dt = 0.01;

function started(position = 0): JointFilter {
  const f = new JointFilter();
  f.initialise(position, r, 0, 100);
  return f;
}

function assertSpd(f: JointFilter, what: string): void {
  const cov = new Float64Array(4);
  f.covarianceInto(cov, 0);
  assert.equal(cov[1], cov[2], `${what}: symmetric`);
  assert.ok(cov[0]! > 0 && cov[3]! > 0, `${what}: positive diagonal ${cov.join(',')}`);
  assert.ok(cov[0]! * cov[3]! - cov[1]! * cov[2]! > 0, `${what}: positive determinant ${cov.join(',')}`);
}

test('a stationary joint converges: position within the noise, velocity to zero, covariance shrinks', () => {
  const noise = gaussian(1);
  const f = started(0.3 + sigma * noise());
  const model = discretize(dt);
  const initialVelocityVariance = f.pvv;
  let lastVelocityVariance = f.pvv;
  for (let k = 1; k <= 500; k++) {
    f.predict(model, 0.01);
    f.updatePosition(0.3 + sigma * noise(), r);
    if (k <= 10) {
      assert.ok(f.pvv < lastVelocityVariance, `velocity variance shrinks while it converges (step ${k})`);
      lastVelocityVariance = f.pvv;
    }
  }
  assert.ok(f.pvv < initialVelocityVariance * 1e-4, `velocity variance ${f.pvv}`);
  assert.ok(Math.abs(f.position - 0.3) < 3 * Math.sqrt(f.ppp), `position ${f.position} ± ${Math.sqrt(f.ppp)}`);
  assert.ok(f.ppp < r, 'the filtered position is better than one measurement');
  assert.ok(Math.abs(f.velocity) < 0.05, `velocity ${f.velocity}`);
  assertSpd(f, 'after 500 steps');
});

test('a constant-velocity joint is tracked with the right velocity, without lag', () => {
  const noise = gaussian(2);
  const v = 0.7;
  const f = started(sigma * noise());
  const model = discretize(dt);
  // q small: the motion is exactly the model's (zero acceleration), so the filter may trust it
  for (let k = 1; k <= 300; k++) {
    f.predict(model, 0.01);
    f.updatePosition(v * k * dt + sigma * noise(), r);
  }
  assert.ok(Math.abs(f.velocity - v) < 0.03, `velocity ${f.velocity} vs ${v}`);
  assert.ok(Math.abs(f.position - v * 300 * dt) < 3 * sigma, `position ${f.position}`);
  assert.ok(Math.abs(f.velocity - v) < 4 * Math.sqrt(f.pvv), 'the error is within the stated uncertainty');
});

test('a velocity measurement is fused as a 2-D measurement and settles the velocity at once', () => {
  const f = started(0);
  f.predict(discretize(dt), 1);
  const inn = f.updatePositionVelocity(0.01, 1, r, 1e-4, 0);
  assert.ok(inn.accepted);
  assert.ok(Math.abs(f.velocity - 1) < 0.01, `velocity ${f.velocity}`);
  assert.ok(f.pvv < 1e-4, 'no more uncertain than the velocity measurement');
  assertSpd(f, 'after a 2-D update');
});

test('the outlier gate rejects a measurement far outside the predicted spread and leaves the state alone', () => {
  const f = started(0);
  const model = discretize(dt);
  for (let k = 0; k < 50; k++) {
    f.predict(model, 1);
    f.updatePosition(0, r);
  }
  f.predict(model, 1);
  const before = [f.position, f.velocity, f.ppp, f.ppv, f.pvv];
  const inn = f.updatePosition(0.05, r, 5);
  assert.equal(inn.accepted, false);
  assert.ok(inn.nis > 25);
  assert.deepEqual([f.position, f.velocity, f.ppp, f.ppv, f.pvv], before);
  assert.equal(f.updatePosition(2 * sigma, r, 5).accepted, true, 'a measurement within the gate is fused');
});

test('property: the covariance stays symmetric positive definite and every update shrinks it', () => {
  const step = fc.record({
    dt: fc.double({ min: 1e-5, max: 5, noNaN: true }),
    damping: fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 100, noNaN: true })),
    q: fc.double({ min: 1e-6, max: 1e4, noNaN: true }),
    r: fc.double({ min: 1e-10, max: 1, noNaN: true }),
    rv: fc.double({ min: 1e-8, max: 10, noNaN: true }),
    z: fc.double({ min: -10, max: 10, noNaN: true }),
    zv: fc.double({ min: -10, max: 10, noNaN: true }),
    accel: fc.double({ min: -50, max: 50, noNaN: true }),
    withVelocity: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
      const f = started(0);
      for (const s of steps) {
        f.predict(discretize(s.dt, s.damping), s.q, s.accel);
        assertSpd(f, 'after predict');
        const [ppp, pvv] = [f.ppp, f.pvv];
        if (s.withVelocity) f.updatePositionVelocity(s.z, s.zv, s.r, s.rv);
        else f.updatePosition(s.z, s.r);
        assertSpd(f, 'after update');
        assert.ok(f.ppp <= ppp * (1 + 1e-12) && f.pvv <= pvv * (1 + 1e-12), 'an update never adds uncertainty');
        assert.ok(Number.isFinite(f.position) && Number.isFinite(f.velocity));
      }
    }),
    { seed: 20240607, numRuns: 300 },
  );
});
