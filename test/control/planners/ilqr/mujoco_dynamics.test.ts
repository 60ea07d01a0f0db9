import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MujocoSim } from '../../../../sim/mujoco/sim.js';
import { MujocoDynamics } from '../../../../src/control/planners/trajectory/mujoco_dynamics.js';
import { packagePath } from '../../../../src/util/paths.js';

// The MJCF model's Jacobians over a control period (mjd_transitionFD per physics step, chained or
// held) against central differences of the period's own step map, on the cart-pole mid-swing and on
// the arm; and a model iLQR cannot plan on as x = [q, q̇] is refused in one line.

async function dynamics(file: string, jacobians: 'held' | 'chained'): Promise<MujocoDynamics> {
  return new MujocoDynamics(await MujocoSim.fromFile(packagePath(file)), {
    stepNs: 10_000_000n,
    jacobians,
    centered: true,
  });
}

function finiteDifferences(
  d: MujocoDynamics,
  x: Float64Array,
  u: Float64Array,
  eps = 1e-6,
): { A: Float64Array; B: Float64Array } {
  const { nx, nu } = d;
  const A = new Float64Array(nx * nx);
  const B = new Float64Array(nx * nu);
  const plus = new Float64Array(nx);
  const minus = new Float64Array(nx);
  for (let j = 0; j < nx + nu; j++) {
    const xp = Float64Array.from(x);
    const xm = Float64Array.from(x);
    const up = Float64Array.from(u);
    const um = Float64Array.from(u);
    if (j < nx) {
      xp[j]! += eps;
      xm[j]! -= eps;
    } else {
      up[j - nx]! += eps;
      um[j - nx]! -= eps;
    }
    d.step(xp, up, 1, plus);
    d.step(xm, um, 1, minus);
    for (let i = 0; i < nx; i++) {
      const v = (plus[i]! - minus[i]!) / (2 * eps);
      if (j < nx) A[i * nx + j] = v;
      else B[i * nu + j - nx] = v;
    }
  }
  return { A, B };
}

function maxError(a: Float64Array, b: Float64Array): number {
  let e = 0;
  let scale = 1e-9;
  for (let i = 0; i < a.length; i++) {
    e = Math.max(e, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return e / scale;
}

for (const [file, x, u] of [
  ['sim/models/cartpole.xml', [0.1, 2.0, 0.5, -3.0], [7]],
  ['sim/models/so_arm.xml', [0.1, -0.4, 0.6, 0.2, 0.1, 0.2, 0.3, -0.2, 0.1, 0.4, 0, 0], [0.1, 0.3, -0.2, 0.05, 0, 0]],
] as const) {
  test(`${file}: chained Jacobians over a period match central differences; held ones are close`, async () => {
    const chained = await dynamics(file, 'chained');
    const held = await dynamics(file, 'held');
    try {
      const xs = Float64Array.from(x);
      const us = Float64Array.from(u);
      const { nx, nu } = chained;
      const next = new Float64Array(nx);
      const A = new Float64Array(nx * nx);
      const B = new Float64Array(nx * nu);
      chained.linearize(xs, us, 1, next, A, B);
      const stepped = new Float64Array(nx);
      chained.step(xs, us, 1, stepped);
      assert.deepEqual(Array.from(next), Array.from(stepped), 'linearize also returns the step');
      const fd = finiteDifferences(chained, xs, us);
      assert.ok(maxError(A, fd.A) < 1e-4, `chained A: relative error ${maxError(A, fd.A)}`);
      assert.ok(maxError(B, fd.B) < 1e-4, `chained B: relative error ${maxError(B, fd.B)}`);
      const Ah = new Float64Array(nx * nx);
      const Bh = new Float64Array(nx * nu);
      held.linearize(xs, us, 1, next, Ah, Bh);
      assert.ok(maxError(Ah, fd.A) < 0.05, `held A: relative error ${maxError(Ah, fd.A)}`);
      assert.ok(maxError(Bh, fd.B) < 0.05, `held B: relative error ${maxError(Bh, fd.B)}`);
    } finally {
      chained.dispose();
      held.dispose();
    }
  });
}

test('a model with a free joint is refused in one line naming the joint', async () => {
  const sim = await MujocoSim.fromXml(
    '<mujoco><worldbody><body name="b"><freejoint name="float"/><geom size="0.1"/></body></worldbody><actuator><motor name="m" site="s" gear="0 0 1 0 0 0"/></actuator><worldbody><site name="s"/></worldbody></mujoco>',
  ).catch(() => undefined);
  const model =
    sim ??
    (await MujocoSim.fromXml(
      '<mujoco><worldbody><body name="b"><freejoint name="float"/><geom size="0.1"/></body></worldbody></mujoco>',
    ));
  assert.throws(
    () => new MujocoDynamics(model, { stepNs: 10_000_000n }),
    (err: Error) => /free joint/.test(err.message) && /'float'/.test(err.message) && !err.message.includes('\n'),
  );
  model.dispose();
});
