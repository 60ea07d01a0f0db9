import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MujocoSim } from '../../sim/mujoco/sim.js';

// What the wrapper must handle in a model a user brings (test/fixtures/models/double_pendulum.xml):
// an RK4 integrator, which MuJoCo's mjd_transitionFD refuses ("RK4 integrator is not supported"),
// is linearised on the same model with implicitfast while the simulation keeps stepping with RK4;
// the compiler's angle unit (MJCF's default is degrees) is read from the MJCF, so a controller can
// tell ranges written in radians but compiled as degrees.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = join(root, 'test/fixtures/models/double_pendulum.xml');
const XML = readFileSync(FIXTURE, 'utf8');

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** a state away from any equilibrium, with controls, so A and B are not trivial */
function prepare(sim: MujocoSim): void {
  sim.setQpos([2.9, 0.3]);
  sim.setQvel([0.4, -0.2]);
  sim.setCtrl([1.5, -0.5]);
}

test('an RK4 model linearises: mjd_transitionFD runs with implicitfast on the same model, stepping stays RK4', async () => {
  using sim = await MujocoSim.fromFile(FIXTURE);
  assert.equal(sim.info.integrator, 'rk4');
  assert.equal(sim.linearizationIntegrator, 'implicitfast');
  prepare(sim);
  const before = sim.getState();
  const lin = sim.linearize();
  assert.deepEqual(sim.getState(), before, 'linearize leaves the state as it was');

  // the same model compiled with implicitfast gives the same Jacobians
  using same = await MujocoSim.fromXml(XML.replace('integrator="RK4"', 'integrator="implicitfast"'));
  assert.equal(same.info.integrator, 'implicitfast');
  assert.equal(same.linearizationIntegrator, undefined, 'implicitfast is linearised as it is');
  prepare(same);
  const reference = same.linearize();
  assert.ok(maxAbsDiff(lin.A, reference.A) < 1e-12, `A differs by ${maxAbsDiff(lin.A, reference.A)}`);
  assert.ok(maxAbsDiff(lin.B, reference.B) < 1e-12, `B differs by ${maxAbsDiff(lin.B, reference.B)}`);

  // stepping after a linearisation is RK4's, bit for bit
  using untouched = await MujocoSim.fromFile(FIXTURE);
  prepare(untouched);
  sim.step(50);
  untouched.step(50);
  assert.deepEqual(sim.getQpos(), untouched.getQpos());
  assert.deepEqual(sim.getQvel(), untouched.getQvel());
  // and it is not what implicitfast steps
  same.step(50);
  assert.notDeepEqual(same.getQpos(), sim.getQpos());
});

test("the package's own models say their integrator and are linearised with it", async () => {
  for (const [file, integrator] of [
    ['cartpole.xml', 'euler'],
    ['so_arm.xml', 'euler'],
    ['so_arm_position.xml', 'euler'],
  ] as const) {
    using sim = await MujocoSim.fromFile(join(root, 'sim/models', file));
    assert.equal(sim.info.integrator, integrator, file);
    assert.equal(sim.linearizationIntegrator, undefined, file);
  }
});

test("the compiler's angle unit is read from the MJCF: radian when it says so, MJCF's default degree otherwise", async () => {
  using radian = await MujocoSim.fromFile(FIXTURE);
  assert.equal(radian.info.angleUnit, 'radian');
  using unsaid = await MujocoSim.fromXml(XML.replace('<compiler angle="radian"/>', ''));
  assert.equal(unsaid.info.angleUnit, 'degree');
  // ranges then compile as degrees: [-4, 4] becomes ±0.0698 rad
  assert.ok(Math.abs(unsaid.info.joints[0]!.range![1] - (4 * Math.PI) / 180) < 1e-12);
  using degree = await MujocoSim.fromXml(XML.replace('angle="radian"', 'angle="degree"'));
  assert.equal(degree.info.angleUnit, 'degree');
  // a clone keeps what its model was compiled with
  using copy = unsaid.clone();
  assert.equal(copy.info.angleUnit, 'degree');
  assert.equal(copy.info.integrator, 'rk4');
  assert.equal(copy.linearizationIntegrator, 'implicitfast');
});
