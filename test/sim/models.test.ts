import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { MujocoSim } from '../../sim/mujoco/sim.js';
import { makeForwardKinematics } from '../../sim/mujoco/kinematics.js';

// The models behave like the machines they stand for: an inverted pendulum is unstable, a hanging
// one is not, gravity torques hold the arm, and the TypeScript kinematics match MuJoCo's.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const model = (name: string): string => join(root, 'sim/models', name);

function spectralRadius(A: Float64Array, n: number): number {
  const rows = Array.from({ length: n }, (_, i) => Array.from(A.subarray(i * n, (i + 1) * n)));
  const evd = new EigenvalueDecomposition(new Matrix(rows));
  return Math.max(...evd.realEigenvalues.map((re, i) => Math.hypot(re, evd.imaginaryEigenvalues[i]!)));
}

test('cart-pole: A at upright has an unstable eigenvalue, at hanging none', async () => {
  using sim = await MujocoSim.fromFile(model('cartpole.xml'));
  sim.resetToKeyframe('upright');
  const up = sim.linearize();
  const rUp = spectralRadius(up.A, up.nx);
  // continuous-time growth rate of a 0.6 m rod on a 1 kg cart is ~6 s⁻¹: over 2 ms, |λ| ≈ e^(0.012)
  assert.ok(rUp > 1.005 && rUp < 1.03, `upright spectral radius ${rUp}`);
  // pushing the cart right (+u) tips the pole left (θ̇ decreases)
  assert.ok(up.B[1 * up.nu + 0]! < 0 && up.B[3 * up.nu + 0]! < 0, `B ${up.B.join(',')}`);
  assert.ok(up.B[2 * up.nu + 0]! > 0);
  sim.resetToKeyframe('hanging');
  const down = sim.linearize();
  const rDown = spectralRadius(down.A, down.nx);
  assert.ok(rDown <= 1 + 1e-9, `hanging spectral radius ${rDown}`);
});

test('cart-pole: upright is an equilibrium the pole falls away from', async () => {
  using sim = await MujocoSim.fromFile(model('cartpole.xml'));
  sim.resetToKeyframe('upright');
  sim.step(500);
  assert.equal(sim.jointQpos('pole_hinge'), 0);
  sim.resetToKeyframe('upright');
  sim.setQpos([0, 0.01]);
  sim.step(500);
  assert.ok(Math.abs(sim.jointQpos('pole_hinge')) > 0.3, 'a 0.01 rad tilt grows within a second');
});

test('so_arm: gravity compensation holds the torque-driven arm still; without it the arm falls', async () => {
  using sim = await MujocoSim.fromFile(model('so_arm.xml'));
  assert.deepEqual(
    sim.info.joints.map((j) => j.name),
    ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'],
  );
  assert.ok(sim.info.actuators.every((a) => a.kind === 'motor' && a.ctrlRange?.[1] === 2.9));
  sim.resetToKeyframe('home');
  const tau = sim.gravityCompensation();
  assert.ok(Math.abs(tau[1]!) > 0.1 && Math.abs(tau[2]!) > 0.1, `shoulder and elbow carry the arm: ${tau.join(',')}`);
  const u = sim.gravityCompensationCtrl();
  assert.deepEqual([...u], [...tau]); // gear 1 motors
  const q0 = sim.getQpos();
  sim.setCtrl(u);
  sim.step(Math.round(1 / sim.info.timestep));
  const qvel = sim.getQvel();
  const qpos = sim.getQpos();
  assert.ok(Math.max(...qvel.map(Math.abs)) < 1e-6, `after 1 s held: |qvel| ${Math.max(...qvel.map(Math.abs))}`);
  assert.ok(Math.max(...qpos.map((q, i) => Math.abs(q - q0[i]!))) < 1e-6);

  sim.resetToKeyframe('home');
  sim.setCtrl(new Float64Array(6));
  sim.step(50);
  assert.ok(
    Math.max(...sim.getQvel().map(Math.abs)) > 0.1,
    `unpowered, the arm falls: |qvel| ${Math.max(...sim.getQvel().map(Math.abs))}`,
  );
});

test('so_arm_position: the servos hold home and track a step', async () => {
  using sim = await MujocoSim.fromFile(model('so_arm_position.xml'));
  assert.ok(sim.info.actuators.every((a) => a.kind === 'position' && a.forceRange?.[1] === 2.9));
  sim.resetToKeyframe('home');
  const home = sim.getQpos();
  sim.step(500);
  // a P servo holds against gravity with an offset of τ_g / kp (< 0.02 rad)
  assert.ok(Math.max(...sim.getQpos().map((q, i) => Math.abs(q - home[i]!))) < 0.02);
  const target = Float64Array.from(home);
  target[0] = 0.5;
  sim.setCtrl(target);
  sim.step(1000);
  assert.ok(Math.abs(sim.jointQpos('shoulder_pan') - 0.5) < 0.01, `pan ${sim.jointQpos('shoulder_pan')}`);
});

test('so_arm: keyframes are within the joint limits and the home end-effector is above the floor', async () => {
  for (const file of ['so_arm.xml', 'so_arm_position.xml']) {
    using sim = await MujocoSim.fromFile(model(file));
    assert.deepEqual(sim.info.keyframes, ['home', 'zero']);
    for (const key of sim.info.keyframes) {
      sim.resetToKeyframe(key);
      const q = sim.getQpos();
      for (const j of sim.info.joints)
        assert.ok(q[j.qposAdr]! > j.range![0] && q[j.qposAdr]! < j.range![1], `${file} ${key} ${j.name}`);
    }
    sim.resetToKeyframe('home');
    const ee = sim.sitePosition('ee');
    assert.ok(ee[2]! > 0.02 && ee[0]! > 0.1, `home ee ${ee.join(',')}`);
    assert.deepEqual([...sim.getSensordata()], [...ee]); // ee_pos sensor
  }
});

/** A small deterministic generator, so failures repeat. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test("forward kinematics in TypeScript matches MuJoCo's ee site at random q (1e-9)", async () => {
  using sim = await MujocoSim.fromFile(model('so_arm.xml'));
  const names = sim.info.joints.map((j) => j.name);
  const fk = makeForwardKinematics(sim.kinematicChain('ee'), names);
  const rand = random(42);
  let worst = 0;
  for (let k = 0; k < 200; k++) {
    const q = sim.info.joints.map((j) => j.range![0] + rand() * (j.range![1] - j.range![0]));
    sim.setQpos(q);
    const mine = fk.position(q);
    const theirs = sim.sitePosition('ee');
    for (let i = 0; i < 3; i++) worst = Math.max(worst, Math.abs(mine[i]! - theirs[i]!));
  }
  assert.ok(worst < 1e-9, `worst error ${worst}`);
});

test('forward kinematics handles body rotations, joint anchors, slides, refs and q in any order', async () => {
  const xml = `<mujoco><compiler angle="radian"/><worldbody>
    <body name="a" pos="0.1 0.2 0.3" euler="0.3 -0.2 0.5">
      <joint name="j1" axis="0.3 1 0.2" pos="0.05 0 -0.02" ref="0.4"/>
      <geom size="0.05" mass="1"/>
      <body name="b" pos="0 0 0.2" quat="0.9 0.1 -0.3 0.2">
        <joint name="s1" type="slide" axis="1 1 0" ref="0.1"/>
        <joint name="j2" axis="0 0 1" pos="0.01 0.02 0.03"/>
        <geom size="0.05" mass="1"/>
        <body name="c" pos="0.15 0 0" axisangle="1 0 0 0.7">
          <joint name="j3" axis="0 1 0"/>
          <geom size="0.05" mass="1"/>
          <site name="tip" pos="0.03 -0.04 0.1" euler="0.1 0.2 0.3"/>
        </body>
      </body>
    </body></worldbody></mujoco>`;
  using sim = await MujocoSim.fromXml(xml);
  const order = ['j3', 's1', 'j2', 'j1']; // not the model's order
  const fk = makeForwardKinematics(sim.kinematicChain('tip'), order);
  const rand = random(7);
  let worst = 0;
  const x = new Float64Array(10); // q embedded in a longer vector at an offset
  for (let k = 0; k < 100; k++) {
    const q = order.map(() => 4 * rand() - 2);
    x.set(q, 3);
    const byName = Object.fromEntries(order.map((n, i) => [n, q[i]!]));
    sim.setQpos(sim.info.joints.map((j) => byName[j.name]!));
    const out = new Float64Array(5);
    fk.position(x, out, 3, 2);
    const theirs = sim.sitePosition('tip');
    for (let i = 0; i < 3; i++) worst = Math.max(worst, Math.abs(out[2 + i]! - theirs[i]!));
  }
  assert.ok(worst < 1e-12, `worst error ${worst}`);
  assert.throws(
    () => makeForwardKinematics(sim.kinematicChain('tip'), ['j1', 'j2']),
    /joint 's1' is not in the joint order/,
  );
});
