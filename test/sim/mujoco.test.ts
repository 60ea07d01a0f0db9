import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MujocoSim } from '../../sim/mujoco/sim.js';
import { wasmMemoryBytes } from '../../sim/mujoco/module.js';

// The wrapper's contract: readable load errors, named access, exact save/restore, checked inputs,
// finite-difference Jacobians that agree with stepping by hand, and the wasm traps kept inside.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const model = (name: string): string => join(root, 'sim/models', name);

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

test("bad XML: the Error carries MuJoCo's message, and the file name when loaded from a file", async () => {
  await assert.rejects(MujocoSim.fromXml('<mujoco><worldbody><bodyx/></worldbody></mujoco>'), (e: Error) => {
    assert.match(e.message, /Schema violation: unrecognized element/);
    assert.match(e.message, /bodyx/);
    return true;
  });
  await assert.rejects(
    MujocoSim.fromXml(
      '<mujoco><worldbody><body><joint name="j"/><geom size="0.1"/></body></worldbody><actuator><motor joint="nope"/></actuator></mujoco>',
    ),
    /unknown transmission target 'nope'/,
  );
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-mjcf-'));
  try {
    const file = join(dir, 'broken_robot.xml');
    writeFileSync(file, '<mujoco><worldbody><body></worldbody></mujoco>');
    await assert.rejects(MujocoSim.fromFile(file), (e: Error) => {
      assert.ok(e.message.includes(file), e.message);
      assert.match(e.message, /XML parse error/);
      return true;
    });
    await assert.rejects(MujocoSim.fromFile(join(dir, 'missing.xml')), /missing\.xml: ENOENT/);
    // an <include> is resolved beside the file; a missing one is named by MuJoCo
    writeFileSync(join(dir, 'top.xml'), '<mujoco><include file="part.xml"/></mujoco>');
    await assert.rejects(MujocoSim.fromFile(join(dir, 'top.xml')), /top\.xml.*part\.xml/);
    writeFileSync(
      join(dir, 'part.xml'),
      '<mujoco><worldbody><body name="b"><joint name="j"/><geom size="0.1"/></body></worldbody></mujoco>',
    );
    const sim = await MujocoSim.fromFile(join(dir, 'top.xml'));
    assert.deepEqual(
      sim.info.joints.map((j) => j.name),
      ['j'],
    );
    sim.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fromXml takes included files as assets', async () => {
  const part = '<mujoco><worldbody><body name="b"><joint name="j"/><geom size="0.1"/></body></worldbody></mujoco>';
  const sim = await MujocoSim.fromXml('<mujoco><include file="part.xml"/></mujoco>', { assets: { 'part.xml': part } });
  assert.equal(sim.info.nq, 1);
  sim.dispose();
});

test('model info and named access on the cart-pole', async () => {
  using sim = await MujocoSim.fromFile(model('cartpole.xml'));
  const { info } = sim;
  assert.equal(info.nq, 2);
  assert.equal(info.nv, 2);
  assert.equal(info.nu, 1);
  assert.equal(info.nx, 4);
  assert.equal(info.timestep, 0.002);
  assert.deepEqual(info.joints, [
    { name: 'cart_slide', type: 'slide', qposAdr: 0, dofAdr: 0, limited: true, range: [-1, 1] },
    { name: 'pole_hinge', type: 'hinge', qposAdr: 1, dofAdr: 1, limited: false },
  ]);
  assert.deepEqual(info.actuators, [
    { name: 'cart_force', joint: 'cart_slide', ctrlRange: [-20, 20], gear: 1, kind: 'motor' },
  ]);
  assert.deepEqual(info.sites, ['pole_tip']);
  assert.deepEqual(info.keyframes, ['upright', 'hanging']);
  assert.deepEqual(
    info.sensors.map((s) => [s.name, s.adr, s.dim]),
    [
      ['cart_pos', 0, 1],
      ['pole_angle', 1, 1],
      ['cart_vel', 2, 1],
      ['pole_vel', 3, 1],
    ],
  );
  assert.ok(Object.isFrozen(info.joints[0]));

  sim.setQpos([0.3, Math.PI / 2]);
  sim.setQvel([0.5, -1]);
  assert.equal(sim.jointQpos('cart_slide'), 0.3);
  assert.equal(sim.jointQvel('pole_hinge'), -1);
  // derived quantities describe the state just set (no explicit forward needed)
  const tip = sim.sitePosition('pole_tip');
  assert.ok(maxAbsDiff(tip, [0.9, 0, 0]) < 1e-12, `tip ${tip.join(',')}`);
  assert.deepEqual([...sim.getSensordata()], [0.3, Math.PI / 2, 0.5, -1]);
  // the tip frame: pole axis (site z) along world +x
  const R = sim.siteRotation('pole_tip');
  assert.ok(maxAbsDiff([R[2]!, R[5]!, R[8]!], [1, 0, 0]) < 1e-12);
  // Jacobian against a finite difference of the tip position
  const J = sim.siteJacobian('pole_tip');
  const h = 1e-6;
  for (let k = 0; k < 2; k++) {
    const q = sim.getQpos();
    q[k] = q[k]! + h;
    sim.setQpos(q);
    const plus = sim.sitePosition('pole_tip');
    q[k] = q[k]! - 2 * h;
    sim.setQpos(q);
    const minus = sim.sitePosition('pole_tip');
    q[k] = q[k]! + h;
    sim.setQpos(q);
    for (let r = 0; r < 3; r++) assert.ok(Math.abs((plus[r]! - minus[r]!) / (2 * h) - J.position[r * 2 + k]!) < 1e-8);
  }
  assert.deepEqual([...J.rotation], [0, 0, 0, 1, 0, 0]); // both axes: the pole turns about +y only via the hinge
  assert.throws(() => sim.jointQpos('elbow'), /no joint 'elbow' \(joints: cart_slide, pole_hinge\)/);
  assert.throws(() => sim.sitePosition('tip'), /no site 'tip'/);
  // out arrays are filled and returned
  const out = new Float64Array(3);
  assert.equal(sim.sitePosition('pole_tip', out), out);
});

test('keyframes reset by name and index; time and reset()', async () => {
  using sim = await MujocoSim.fromFile(model('cartpole.xml'));
  sim.resetToKeyframe('hanging');
  assert.equal(sim.jointQpos('pole_hinge'), Math.PI);
  assert.ok(maxAbsDiff(sim.sitePosition('pole_tip'), [0, 0, -0.6]) < 1e-12);
  sim.step(10);
  assert.ok(Math.abs(sim.time - 0.02) < 1e-12);
  sim.resetToKeyframe(0);
  assert.deepEqual([...sim.getQpos()], [0, 0]);
  assert.equal(sim.time, 0);
  assert.throws(() => sim.resetToKeyframe('inverted'), /no keyframe 'inverted' \(keyframes: upright, hanging\)/);
  assert.throws(() => sim.resetToKeyframe(2), /out of range/);
  sim.time = 5;
  sim.setQvel([1, 1]);
  sim.reset();
  assert.equal(sim.time, 0);
  assert.deepEqual([...sim.getQvel()], [0, 0]);
});

test('setCtrl and the other setters reject NaN and wrong lengths, leaving the state untouched', async () => {
  using sim = await MujocoSim.fromFile(model('cartpole.xml'));
  sim.setCtrl([5]);
  assert.throws(() => sim.setCtrl([Number.NaN]), /setCtrl: value 0 \('cart_force'\) is NaN/);
  assert.throws(() => sim.setCtrl([1, 2]), /setCtrl: the model has 1 actuator \(cart_force\), got 2 values/);
  assert.throws(() => sim.setCtrl([]), /1 actuator/);
  assert.throws(() => sim.setCtrl([Infinity]), /is Infinity/);
  assert.deepEqual([...sim.getCtrl()], [5]);
  assert.throws(() => sim.setQpos([0, Number.NaN]), /setQpos: value 1 \('pole_hinge'\) is NaN/);
  assert.throws(() => sim.setQvel([0]), /setQvel: expected 2 values/);
  assert.throws(() => sim.setState([1, 2, 3]), new RegExp(`setState: expected ${sim.info.stateSize} values`));
  assert.throws(() => sim.applyForce('cart', [Number.NaN, 0, 0]), /force: value 0 is NaN/);
  assert.deepEqual([...sim.getQpos()], [0, 0]);
});

test('getState/setState make stepping repeat bit for bit (ctrl, applied forces and warm start included)', async () => {
  using sim = await MujocoSim.fromFile(model('so_arm.xml'));
  sim.resetToKeyframe('home');
  const drive = (k: number): void => sim.setCtrl(Array.from({ length: 6 }, (_, i) => 2 * Math.sin(0.01 * k * (i + 1))));
  for (let k = 0; k < 500; k++) {
    drive(k);
    sim.step();
  }
  sim.applyForce('forearm', [0.5, 0, -1], [0, 0.01, 0]);
  const saved = sim.getState();
  const run = (): number[] => {
    const trace: number[] = [];
    for (let k = 0; k < 500; k++) {
      if (k % 2) drive(k); // the first step runs on the saved ctrl
      sim.step();
      trace.push(...sim.getQpos(), ...sim.getQvel());
    }
    return trace;
  };
  const first = run();
  const end = sim.getState();
  sim.setState(saved);
  assert.deepEqual(sim.getState(), saved);
  const second = run();
  assert.deepEqual(second, first); // exact equality of every double
  assert.deepEqual(sim.getState(), end);
});

/** One step from `state` with qpos/qvel/ctrl changed by `edit`; returns [qpos, qvel] after it. */
function stepFrom(
  sim: MujocoSim,
  state: Float64Array,
  edit: (q: Float64Array, v: Float64Array, u: Float64Array) => void,
): Float64Array {
  sim.setState(state);
  const q = sim.getQpos();
  const v = sim.getQvel();
  const u = sim.getCtrl();
  edit(q, v, u);
  sim.setQpos(q);
  sim.setQvel(v);
  sim.setCtrl(u);
  sim.step();
  return Float64Array.from([...sim.getQpos(), ...sim.getQvel()]);
}

/** A and B by centred differences, perturbing and stepping by hand (hinge/slide models: tangent = qpos). */
function handLinearization(sim: MujocoSim, eps: number): { A: Float64Array; B: Float64Array } {
  const { nv, nu, nx } = sim.info;
  const state = sim.getState();
  const A = new Float64Array(nx * nx);
  const B = new Float64Array(nx * nu);
  for (let j = 0; j < nx; j++) {
    const plus = stepFrom(sim, state, (q, v) => (j < nv ? (q[j] = q[j]! + eps) : (v[j - nv] = v[j - nv]! + eps)));
    const minus = stepFrom(sim, state, (q, v) => (j < nv ? (q[j] = q[j]! - eps) : (v[j - nv] = v[j - nv]! - eps)));
    for (let i = 0; i < nx; i++) A[i * nx + j] = (plus[i]! - minus[i]!) / (2 * eps);
  }
  for (let j = 0; j < nu; j++) {
    const plus = stepFrom(sim, state, (_q, _v, u) => (u[j] = u[j]! + eps));
    const minus = stepFrom(sim, state, (_q, _v, u) => (u[j] = u[j]! - eps));
    for (let i = 0; i < nx; i++) B[i * nu + j] = (plus[i]! - minus[i]!) / (2 * eps);
  }
  sim.setState(state);
  return { A, B };
}

for (const [file, key, ctrl] of [
  ['cartpole.xml', 'hanging', [3]],
  ['so_arm.xml', 'home', [0.1, -0.3, -0.2, 0.05, 0.02, 0.01]],
  ['so_arm_position.xml', 'home', [0.1, -0.2, 1.7, 1.0, 0.3, 0.2]],
] as const) {
  test(`linearize agrees with finite differences stepped by hand (${file})`, async () => {
    using sim = await MujocoSim.fromFile(model(file));
    sim.resetToKeyframe(key);
    sim.setQvel(Array.from({ length: sim.info.nv }, (_, i) => 0.3 - 0.1 * i));
    sim.setCtrl(ctrl);
    sim.step(20);
    const before = sim.getState();
    const lin = sim.linearize();
    assert.equal(lin.nx, sim.info.nx);
    assert.equal(lin.A.length, lin.nx * lin.nx);
    assert.equal(lin.B.length, lin.nx * lin.nu);
    assert.deepEqual(sim.getState(), before, 'linearize leaves the state as it was');
    const hand = handLinearization(sim, 1e-6);
    assert.ok(maxAbsDiff(lin.A, hand.A) < 1e-6, `A differs by ${maxAbsDiff(lin.A, hand.A)}`);
    assert.ok(maxAbsDiff(lin.B, hand.B) < 1e-6, `B differs by ${maxAbsDiff(lin.B, hand.B)}`);
    // and the linear model predicts a small step from nearby
    const forward = sim.linearize({ centered: false, eps: 1e-7 });
    assert.ok(maxAbsDiff(forward.A, lin.A) < 1e-4);
  });
}

test('applyForce pushes a body until clearForces', async () => {
  using sim = await MujocoSim.fromFile(model('cartpole.xml'));
  sim.resetToKeyframe('hanging');
  sim.applyForce('cart', [10, 0, 0]);
  sim.step(50);
  const v = sim.jointQvel('cart_slide');
  assert.ok(v > 0.5, `cart velocity ${v}`);
  sim.clearForces();
  const state = sim.getState();
  sim.setQvel([0, 0]);
  sim.step(10);
  assert.ok(Math.abs(sim.jointQvel('cart_slide')) < 0.05);
  assert.throws(() => sim.applyForce('wagon', [1, 0, 0]), /no body 'wagon' \(bodys: world, cart, pole\)/);
  sim.setState(state);
});

test('clone is an independent simulation that continues identically', async () => {
  using sim = await MujocoSim.fromFile(model('cartpole.xml'));
  sim.resetToKeyframe('hanging');
  sim.setCtrl([7]);
  sim.step(100);
  using copy = sim.clone();
  assert.deepEqual(copy.getState(), sim.getState());
  sim.step(200);
  copy.step(200);
  assert.deepEqual(copy.getQpos(), sim.getQpos());
  copy.setCtrl([-7]);
  copy.step(10);
  assert.notDeepEqual(copy.getQpos(), sim.getQpos());
  assert.deepEqual([...sim.getCtrl()], [7]);
});

test('views survive heap growth: controls set after many allocations still reach the model', async () => {
  using sim = await MujocoSim.fromFile(model('cartpole.xml'));
  sim.resetToKeyframe('hanging');
  sim.setCtrl([1]);
  const before = wasmMemoryBytes();
  const held: MujocoSim[] = [];
  try {
    const arm = await MujocoSim.fromFile(model('so_arm.xml'));
    held.push(arm);
    while (wasmMemoryBytes() === before) held.push(arm.clone());
    sim.setCtrl([20]);
    sim.step(100);
    assert.deepEqual([...sim.getCtrl()], [20]);
    const v = sim.jointQvel('cart_slide');
    assert.ok(v > 1.5, `the cart was pushed with 20 N (velocity ${v})`);
  } finally {
    for (const s of held) s.dispose();
  }
});

test('dispose frees once; later use throws', async () => {
  const sim = await MujocoSim.fromFile(model('cartpole.xml'));
  sim.dispose();
  sim.dispose();
  sim[Symbol.dispose]();
  assert.throws(() => sim.step(), /used after dispose/);
  assert.throws(() => sim.getQpos(), /used after dispose/);
});
