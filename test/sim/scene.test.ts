import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MujocoSim } from '../../sim/mujoco/sim.js';
import { BodyFrames, type FrameTransform } from '../../sim/robot/body_frames.js';
import { sceneOf, type SceneShape } from '../../sim/robot/scene.js';
import { packagePath } from '../../src/util/paths.js';

// The robot's frames and geoms as a 3D view gets them: the body transforms composed from the root
// give back where MuJoCo's own mj_forward puts a site (so the relative transforms, their
// quaternion order and their parents are right); moving one joint moves the frames below it and no
// other; the geoms become shapes of the right kind, size, colour and frame for the cart-pole, the
// arm and a model with every primitive type and two meshes (whose triangles, placed by the shape's
// pose, land on the vertices the MJCF wrote).

type Pose = { p: [number, number, number]; q: [number, number, number, number] };

function rotate(q: readonly number[], v: readonly number[]): [number, number, number] {
  const [w, x, y, z] = q as [number, number, number, number];
  const tx = 2 * (y * v[2]! - z * v[1]!);
  const ty = 2 * (z * v[0]! - x * v[2]!);
  const tz = 2 * (x * v[1]! - y * v[0]!);
  return [v[0]! + w * tx + (y * tz - z * ty), v[1]! + w * ty + (z * tx - x * tz), v[2]! + w * tz + (x * ty - y * tx)];
}

function multiply(a: readonly number[], b: readonly number[]): [number, number, number, number] {
  const [aw, ax, ay, az] = a as [number, number, number, number];
  const [bw, bx, by, bz] = b as [number, number, number, number];
  return [
    aw * bw - ax * bx - ay * by - az * bz,
    aw * bx + ax * bw + ay * bz - az * by,
    aw * by - ax * bz + ay * bw + az * bx,
    aw * bz + ax * by - ay * bx + az * bw,
  ];
}

/** A frame's world pose, composed from the transforms as a tf listener composes them. */
function worldPose(transforms: readonly FrameTransform[], frame: string, root = 'world'): Pose {
  const byChild = new Map(transforms.map((t) => [t.child, t]));
  const chain: FrameTransform[] = [];
  for (let f = frame; f !== root;) {
    const t = byChild.get(f);
    assert.ok(t, `no transform to '${f}'`);
    chain.unshift(t);
    f = t.parent;
  }
  let pose: Pose = { p: [0, 0, 0], q: [1, 0, 0, 0] };
  for (const t of chain) {
    const r = rotate(pose.q, t.translation);
    pose = { p: [pose.p[0] + r[0], pose.p[1] + r[1], pose.p[2] + r[2]], q: multiply(pose.q, t.rotation) };
  }
  return pose;
}

function close(a: readonly number[], b: readonly number[], tol: number, what: string): void {
  assert.equal(a.length, b.length, what);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= tol, `${what}[${i}]: ${v} vs ${b[i]!} (tolerance ${tol})`));
}

test('so_arm: the gripper frame composed from the transforms puts the ee site where mj_forward does', async () => {
  using sim = await MujocoSim.fromFile(packagePath('sim/models/so_arm.xml'));
  using check = await MujocoSim.fromFile(packagePath('sim/models/so_arm.xml'));
  const frames = new BodyFrames(sim.info.bodies, sim.bodyParents());
  assert.equal(frames.root, 'world');
  assert.equal(frames.parentOf(sim.info.bodies.indexOf('moving_jaw')), 'gripper');
  for (const q of [
    [0, 0, 0, 0, 0, 0],
    [0.4, -0.3, 1.9, 1.2, -0.7, 0.5],
    [-1.5, 1.2, 2.5, -1.6, 2.0, 1.0],
  ]) {
    const transforms = frames.transforms(sim.kinematics(q));
    assert.equal(transforms.length, sim.info.bodies.length - 1);
    const gripper = worldPose(transforms, 'gripper');
    const local = rotate(gripper.q, [0.01, 0, 0.1]); // the ee site's pos in so_arm_body.xml
    check.setQpos(q);
    close(
      [gripper.p[0] + local[0], gripper.p[1] + local[1], gripper.p[2] + local[2]],
      Array.from(check.sitePosition('ee')),
      1e-9,
      `ee at q = ${q.join(', ')}`,
    );
    // the site positions kinematics() reports are mj_forward's too
    close(
      Array.from(sim.kinematics(q).sitePos.subarray(0, 3)),
      Array.from(check.sitePosition('ee')),
      1e-12,
      'kinematics sitePos',
    );
  }
});

test('so_arm: moving elbow_flex moves the forearm and every frame below it, and no frame above', async () => {
  using sim = await MujocoSim.fromFile(packagePath('sim/models/so_arm.xml'));
  const frames = new BodyFrames(sim.info.bodies, sim.bodyParents(), 'arm/');
  const q = [0.3, 0.2, 1.0, 0.5, 0.1, 0.2];
  const before = frames.transforms(sim.kinematics(q));
  const after = frames.transforms(sim.kinematics([0.3, 0.2, 1.6, 0.5, 0.1, 0.2]));
  assert.ok(before.every((t) => t.parent.startsWith('arm/') && t.child.startsWith('arm/')));
  const moved = (frame: string): boolean => {
    const a = worldPose(before, frame, 'arm/world');
    const b = worldPose(after, frame, 'arm/world');
    return [...a.p, ...a.q].some((v, i) => Math.abs(v - [...b.p, ...b.q][i]!) > 1e-9);
  };
  for (const f of ['shoulder', 'upper_arm']) assert.equal(moved(`arm/${f}`), false, `${f} stays`);
  for (const f of ['forearm', 'wrist', 'gripper', 'moving_jaw']) assert.equal(moved(`arm/${f}`), true, `${f} moves`);
  // only the forearm's own transform changes: the ones below it are relative to their parents
  const changed = before.filter((t, i) => t.rotation.some((v, k) => Math.abs(v - after[i]!.rotation[k]!) > 1e-12));
  assert.deepEqual(
    changed.map((t) => t.child),
    ['arm/forearm'],
  );
});

const byNs = (shapes: readonly SceneShape[]): Map<string, SceneShape[]> => {
  const map = new Map<string, SceneShape[]>();
  for (const s of shapes) map.set(s.ns, [...(map.get(s.ns) ?? []), s]);
  return map;
};

test('cartpole: one shape per geom (three for a capsule), sizes and frames from the MJCF', async () => {
  using sim = await MujocoSim.fromFile(packagePath('sim/models/cartpole.xml'));
  const frames = new BodyFrames(sim.info.bodies, sim.bodyParents());
  const { shapes, notes } = sceneOf(sim.geoms(), frames.names);
  assert.deepEqual(notes, []);
  const geoms = byNs(shapes);
  assert.deepEqual([...geoms.keys()], ['floor', 'rail', 'cart', 'pole']);
  const [floor] = geoms.get('floor')!;
  assert.equal(floor!.kind, 'cube');
  assert.equal(floor!.frame, 'world');
  close(floor!.scale, [6, 2, 0.001], 1e-12, 'floor scale');
  close(floor!.position, [0, 0, -0.7005], 1e-12, 'floor top face at z = -0.7');
  const [cart] = geoms.get('cart')!;
  assert.equal(cart!.kind, 'cube');
  assert.equal(cart!.frame, 'cart');
  close(cart!.scale, [0.2, 0.15, 0.1], 1e-12, 'cart scale');
  close(cart!.color, [0.2, 0.4, 0.8, 1], 1e-6, 'cart colour');
  const pole = geoms.get('pole')!;
  assert.deepEqual(
    pole.map((s) => `${s.id} ${s.kind} ${s.frame}`),
    ['0 cylinder pole', '1 sphere pole', '2 sphere pole'],
  );
  close(pole[0]!.scale, [0.03, 0.03, 0.6], 1e-9, 'pole cylinder');
  close(pole[0]!.position, [0, 0, 0.3], 1e-9, 'pole centre');
  // one cap at the tip, one at the pivot (fromto may turn the geom's z either way along the pole)
  const caps = [pole[1]!, pole[2]!].sort((a, b) => a.position[2] - b.position[2]);
  close(caps[0]!.position, [0, 0, 0], 1e-9, 'pole pivot cap');
  close(caps[1]!.position, [0, 0, 0.6], 1e-9, 'pole tip cap');
  close(pole[1]!.scale, [0.03, 0.03, 0.03], 1e-9, 'cap diameter');
  // the rail: a capsule along x (fromto), so its cylinder's z axis is turned onto x
  const rail = geoms.get('rail')!;
  close(rotate(rail[0]!.orientation, [0, 0, 1]).map(Math.abs), [1, 0, 0], 1e-9, 'rail axis');
  close(rail[0]!.scale, [0.02, 0.02, 2.2], 1e-9, 'rail');
  close(rail[1]!.position.map(Math.abs), [1.1, 0, 0], 1e-9, 'rail end cap');
});

test('so_arm: every geom drawn in its body frame, the frames those of the transforms', async () => {
  using sim = await MujocoSim.fromFile(packagePath('sim/models/so_arm.xml'));
  const frames = new BodyFrames(sim.info.bodies, sim.bodyParents());
  const { shapes } = sceneOf(sim.geoms(), frames.names);
  const geoms = byNs(shapes);
  assert.deepEqual(
    [...geoms.keys()],
    ['floor', 'base', 'shoulder', 'upper_arm', 'forearm', 'wrist', 'gripper_servo', 'fixed_jaw', 'moving_jaw'],
  );
  const known = new Set([frames.root, ...frames.transforms(sim.kinematics(new Float64Array(6))).map((t) => t.child)]);
  for (const s of shapes) assert.ok(known.has(s.frame), `${s.ns} is in frame '${s.frame}', which /tf has`);
  assert.equal(geoms.get('upper_arm')![0]!.frame, 'upper_arm');
  close(geoms.get('upper_arm')![0]!.scale, [0.04, 0.04, 0.116], 1e-9, 'upper arm');
  const [servo] = geoms.get('gripper_servo')!;
  assert.equal(servo!.kind, 'cube');
  assert.equal(servo!.frame, 'gripper');
  close(servo!.position, [-0.01, 0, 0.025], 1e-12, 'servo offset');
  close(servo!.scale, [0.04, 0.036, 0.05], 1e-12, 'servo size');
  close(servo!.color, [0.95, 0.8, 0.2, 1], 1e-6, 'colour from the default class');
});

const PRIMITIVES = `
<mujoco>
  <asset>
    <material name="red" rgba="1 0 0 1"/>
    <mesh name="block" vertex="1 2 3  1.1 2 3  1 2.2 3  1.1 2.2 3  1 2 3.3  1.1 2 3.3  1 2.2 3.3  1.1 2.2 3.3"/>
    <mesh name="wedge" vertex="0 0 0  0.2 0 0  0 0.1 0  0 0 0.3"/>
  </asset>
  <worldbody>
    <body name="thing" pos="0.5 0 1" euler="0 0 90">
      <freejoint/>
      <geom name="ball" type="sphere" size="0.05"/>
      <geom name="egg" type="ellipsoid" size="0.1 0.2 0.3" material="red"/>
      <geom name="can" type="cylinder" size="0.05 0.2" material="red" rgba="0 1 0 1"/>
      <geom name="block" type="mesh" mesh="block"/>
      <geom name="wedge" type="mesh" mesh="wedge" euler="0 90 0"/>
      <geom name="hidden" type="box" size="0.1 0.1 0.1" group="3"/>
      <geom type="box" size="0.1 0.2 0.3"/>
    </body>
  </worldbody>
</mujoco>`;

/** The shape's triangle points in the body frame (the shape's pose applied), as x, y, z triples. */
function bodyPoints(shape: SceneShape): [number, number, number][] {
  const out: [number, number, number][] = [];
  const pts = shape.points!;
  for (let i = 0; i < pts.length; i += 3) {
    const r = rotate(shape.orientation, [pts[i]!, pts[i + 1]!, pts[i + 2]!]);
    out.push([shape.position[0] + r[0], shape.position[1] + r[1], shape.position[2] + r[2]]);
  }
  return out;
}

test('primitives and meshes: types, sizes, material colours, groups, and mesh triangles on the written vertices', async () => {
  using sim = await MujocoSim.fromXml(PRIMITIVES);
  const frames = new BodyFrames(sim.info.bodies, sim.bodyParents());
  const geoms = sim.geoms();
  const { shapes, notes } = sceneOf(geoms, frames.names);
  assert.deepEqual(notes, []);
  const by = byNs(shapes);
  assert.deepEqual([...by.keys()], ['ball', 'egg', 'can', 'block', 'wedge', 'geom6'], 'group 3 left out');
  const one = (ns: string): SceneShape => {
    const list = by.get(ns)!;
    assert.equal(list.length, 1, ns);
    return list[0]!;
  };
  assert.equal(one('ball').kind, 'sphere');
  close(one('ball').scale, [0.1, 0.1, 0.1], 1e-12, 'ball');
  assert.equal(one('egg').kind, 'sphere');
  close(one('egg').scale, [0.2, 0.4, 0.6], 1e-12, 'egg');
  close(one('egg').color, [1, 0, 0, 1], 1e-6, 'material colour where the geom has the default rgba');
  assert.equal(one('can').kind, 'cylinder');
  close(one('can').scale, [0.1, 0.1, 0.4], 1e-12, 'can');
  close(one('can').color, [0, 1, 0, 1], 1e-6, "the geom's own rgba over its material");
  assert.equal(one('geom6').kind, 'cube');
  for (const s of shapes) assert.equal(s.frame, 'thing');
  // the box's bounding box is the box
  const box = geoms[6]!;
  close(box.aabb.halfSize, box.size, 1e-9, 'geom_aabb holds half-sizes');

  const written = {
    block: [0, 1].flatMap((k) => [0, 1].flatMap((j) => [0, 1].map((i) => [1 + 0.1 * i, 2 + 0.2 * j, 3 + 0.3 * k]))),
    wedge: [
      [0, 0, 0],
      [0.2, 0, 0],
      [0, 0.1, 0],
      [0, 0, 0.3],
    ].map(([x, y, z]) => rotate([Math.SQRT1_2, 0, Math.SQRT1_2, 0], [x!, y!, z!])), // euler 0 90 0 (degrees)
  };
  for (const name of ['block', 'wedge'] as const) {
    const shape = one(name);
    assert.equal(shape.kind, 'triangle_list');
    const points = bodyPoints(shape);
    assert.ok(points.length >= 12 && points.length % 3 === 0, `${name}: ${points.length} points`);
    const near = (a: readonly number[], b: readonly number[]) => a.every((v, i) => Math.abs(v - b[i]!) < 1e-5);
    for (const p of points)
      assert.ok(
        written[name].some((v) => near(p, v)),
        `${name}: point ${p.join(', ')} is a vertex`,
      );
    for (const v of written[name])
      assert.ok(
        points.some((p) => near(p, v)),
        `${name}: vertex ${v.join(', ')} is drawn`,
      );
  }

  // a mesh over the triangle budget is drawn as its bounding box, and said so
  const capped = sceneOf(geoms, frames.names, { maxMeshTriangles: 4, groups: [0, 3] });
  const cappedBlock = byNs(capped.shapes).get('block')!;
  assert.equal(cappedBlock[0]!.kind, 'cube');
  // the compiler may turn a mesh to its principal axes, in either order: compare the extents sorted
  close(
    [...cappedBlock[0]!.scale].sort((x, y) => x - y),
    [0.1, 0.2, 0.3],
    1e-6,
    'block bounding box',
  );
  assert.equal(capped.notes.length, 1);
  assert.match(capped.notes[0]!, /geom 'block' \(mesh\) is drawn as its bounding box: 12 triangles/);
  assert.ok(byNs(capped.shapes).has('hidden'), 'group 3 drawn when asked for');
});
