import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import definition from '../../nodes/robot_state_publisher.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { SteppedClock } from '../../framework/time/clock.js';
import { nsToTime } from '../../framework/time/time.js';
import { QOS_LATCHED } from '../../framework/transport/qos.js';
import { planMessage } from '../../framework/msgs/plan.js';
import {
  MarkerAction,
  MarkerType,
  type MarkerArray,
  type TFMessage,
  type TransformStamped,
} from '../../framework/msgs/types.js';
import { defineParams } from '../../src/util/param_schema.js';
import { LOG_LEVELS, type LogLevel } from '../../src/util/log.js';
import { MujocoSim } from '../../sim/mujoco/sim.js';
import { packagePath } from '../../src/util/paths.js';

// The node on the embedded transport, every message checked against its .msg definition (CDR):
// the arm's scene arrives latched, one frame-locked marker set per geom in frames /tf has; joint
// states in give /tf, whose chain to the gripper, composed as a tf listener composes it, puts the
// ee site where MuJoCo's mj_forward does (1e-9); a joint left out is held at qpos0 and said once;
// a NaN position and an unknown joint are each said once and no NaN goes out; a plan from the
// controller becomes a LINE_STRIP through the site's positions at the planned states, the goal a
// SPHERE, a plan without states a DELETE and one warning; and the rate cap goes by stamp.

const JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];
const EE_LOCAL = [0.01, 0, 0.1]; // the ee site's pos in the gripper body (so_arm_body.xml)

function rotate(q: { x: number; y: number; z: number; w: number }, v: readonly number[]): number[] {
  const { w, x, y, z } = q;
  const tx = 2 * (y * v[2]! - z * v[1]!);
  const ty = 2 * (z * v[0]! - x * v[2]!);
  const tz = 2 * (x * v[1]! - y * v[0]!);
  return [v[0]! + w * tx + (y * tz - z * ty), v[1]! + w * ty + (z * tx - x * tz), v[2]! + w * tz + (x * ty - y * tx)];
}

/** A point given in `frame`, in the root frame: the transforms composed from the frame up. */
function toRoot(transforms: readonly TransformStamped[], frame: string, point: readonly number[]): number[] {
  const byChild = new Map(transforms.map((t) => [t.child_frame_id, t]));
  let p = [...point];
  for (let f = frame; f !== 'world';) {
    const t = byChild.get(f);
    assert.ok(t, `no transform to '${f}'`);
    const r = rotate(t.transform.rotation, p);
    const { x, y, z } = t.transform.translation;
    p = [r[0]! + x, r[1]! + y, r[2]! + z];
    f = t.header.frame_id;
  }
  return p;
}

function close(a: readonly number[], b: ArrayLike<number>, tol: number, what: string): void {
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= tol, `${what}[${i}]: ${v} vs ${b[i]!}`));
}

async function start(values: Record<string, unknown>) {
  const clock = new SteppedClock('ros', true);
  const transport = new EmbeddedTransport({ checkMessages: true, rosClock: clock });
  const handle = await transport.createNode({
    name: 'robot_state_publisher',
    parameters: definition.parameters,
    parameterSources: [{ origin: 'test', values: { model: 'sim/models/so_arm.xml', ...values }, strict: true }],
  });
  const logs: { level: LogLevel; message: string }[] = [];
  for (const level of LOG_LEVELS) handle.logger[level] = (message: string) => void logs.push({ level, message });
  const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
  const tf: TFMessage[] = [];
  const tfStatic: TFMessage[] = [];
  const scenes: MarkerArray[] = [];
  const planMarkers: MarkerArray[] = [];
  probe.createSubscription('tf2_msgs/msg/TFMessage', '/tf', (m) => tf.push(m), { qos: { history: 'keep_all' } });
  probe.createSubscription('tf2_msgs/msg/TFMessage', '/tf_static', (m) => tfStatic.push(m), { qos: QOS_LATCHED });
  probe.createSubscription('visualization_msgs/msg/MarkerArray', 'robot_scene', (m) => scenes.push(m), {
    qos: QOS_LATCHED,
  });
  probe.createSubscription(
    'visualization_msgs/msg/MarkerArray',
    '/robot_state_publisher/plan_markers',
    (m) => planMarkers.push(m),
    { qos: { ...QOS_LATCHED, history: 'keep_all' } },
  );
  const states = probe.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
  const lifecycle = await definition.configure(handle, handle.params);
  await lifecycle.activate?.();
  await transport.bus.idle();
  const send = async (stampNs: bigint, position: number[], name = JOINTS): Promise<void> => {
    states.publish({ header: { stamp: nsToTime(stampNs), frame_id: '' }, name, position, velocity: [], effort: [] });
    await transport.bus.idle();
  };
  const stop = async (): Promise<void> => {
    await lifecycle.deactivate?.();
    await lifecycle.cleanup?.();
    probe.destroy();
    handle.destroy();
    await transport.shutdown();
  };
  const warnings = () => logs.filter((l) => l.level === 'warn').map((l) => l.message);
  return { transport, probe, tf, tfStatic, scenes, planMarkers, send, stop, warnings, lifecycle };
}

test('robot_state_publisher: the arm on /tf and robot_scene, bad joint states said once, no NaN out', async (t) => {
  const node = await start({ rate_hz: 0 });
  t.after(node.stop);
  using check = await MujocoSim.fromFile(packagePath('sim/models/so_arm.xml'));

  // the scene: latched, one namespace per geom, frame-locked, in frames /tf will have
  assert.equal(node.scenes.length, 1);
  const markers = node.scenes[0]!.markers;
  const namespaces = [...new Set(markers.map((m) => m.ns))];
  assert.deepEqual(namespaces, [
    'floor',
    'base',
    'shoulder',
    'upper_arm',
    'forearm',
    'wrist',
    'gripper_servo',
    'fixed_jaw',
    'moving_jaw',
  ]);
  assert.ok(markers.every((m) => m.frame_locked && m.action === MarkerAction.ADD));
  const servo = markers.find((m) => m.ns === 'gripper_servo')!;
  assert.equal(servo.type, MarkerType.CUBE);
  assert.equal(servo.header.frame_id, 'gripper');
  close([servo.scale.x, servo.scale.y, servo.scale.z], [0.04, 0.036, 0.05], 1e-12, 'servo');
  assert.deepEqual(
    markers.filter((m) => m.ns === 'forearm').map((m) => m.type),
    [MarkerType.CYLINDER, MarkerType.SPHERE, MarkerType.SPHERE],
  );

  // a first state without the gripper: held at qpos0, said once
  const q1 = [0.4, -0.3, 1.9, 1.2, -0.7];
  await node.send(1_000_000n, q1, JOINTS.slice(0, 5));
  assert.equal(node.tf.length, 1);
  assert.deepEqual(node.warnings(), ["joint_states does not carry gripper: held at the model's qpos0"]);
  const frames = new Set(['world', ...node.tf[0]!.transforms.map((x) => x.child_frame_id)]);
  for (const m of markers) assert.ok(frames.has(m.header.frame_id), `marker frame ${m.header.frame_id} is on /tf`);
  assert.deepEqual(nsToTime(1_000_000n), node.tf[0]!.transforms[0]!.header.stamp);

  // the chain to the gripper puts the ee site where mj_forward does
  const q = [0.4, -0.3, 1.9, 1.2, -0.7, 0.5];
  await node.send(2_000_000n, q);
  check.setQpos(q);
  close(toRoot(node.tf[1]!.transforms, 'gripper', EE_LOCAL), check.sitePosition('ee'), 1e-9, 'ee');
  // the elbow moved: the forearm's frame moves with it, the upper arm's does not
  const q2 = [0.4, -0.3, 1.2, 1.2, -0.7, 0.5];
  await node.send(3_000_000n, q2);
  const moved = (frame: string) =>
    toRoot(node.tf[2]!.transforms, frame, [0, 0, 0.05]).some(
      (v, i) => Math.abs(v - toRoot(node.tf[1]!.transforms, frame, [0, 0, 0.05])[i]!) > 1e-9,
    );
  assert.equal(moved('upper_arm'), false);
  assert.equal(moved('forearm'), true);
  assert.equal(moved('gripper'), true);

  // a NaN elbow and an unknown joint: one warning each, however often; the elbow held
  for (const stamp of [4_000_000n, 5_000_000n])
    await node.send(stamp, [0.4, -0.3, 7, Number.NaN, 1], [...JOINTS.slice(0, 2), 'bogus', 'elbow_flex', 'wrist_flex']);
  const later = node.warnings().slice(1);
  assert.equal(later.length, 2, later.join('\n'));
  assert.match(later[0]!, /names joints the model has no hinge or slide joint of: bogus/);
  assert.match(later[1]!, /joint 'elbow_flex' has a position that is not a finite number: held at its last value/);
  assert.equal(node.tf.length, 5);
  for (const m of node.tf)
    for (const x of m.transforms) {
      const { translation: p, rotation: r } = x.transform;
      assert.ok([p.x, p.y, p.z, r.x, r.y, r.z, r.w].every(Number.isFinite), `finite ${x.child_frame_id}`);
    }
  // the shoulder joints of that message were taken (q[0], q[1]), the elbow kept at q2's, the wrist set to 1
  check.setQpos([0.4, -0.3, 1.2, 1, -0.7, 0.5]);
  close(toRoot(node.tf[4]!.transforms, 'gripper', EE_LOCAL), check.sitePosition('ee'), 1e-9, 'ee after NaN');

  // names and positions of different lengths: refused whole
  await node.send(6_000_000n, [1, 2], JOINTS);
  assert.equal(node.tf.length, 5);
  assert.match(node.warnings().at(-1)!, /joint state ignored: 6 joint names but 2 positions/);
});

test('robot_state_publisher: the plan as the path of the ee site, the goal as a sphere', async (t) => {
  const node = await start({ plan_topic: '/controller/plan', ee_site: 'ee' });
  t.after(node.stop);
  using check = await MujocoSim.fromFile(packagePath('sim/models/so_arm.xml'));
  await node.send(1_000_000n, [0, 0, 0, 0, 0, 0]);
  const plans = node.probe.createPublisher('dynastack_msgs/msg/Plan', '/controller/plan', QOS_LATCHED);
  const goals = node.probe.createPublisher('geometry_msgs/msg/PoseStamped', 'goal', QOS_LATCHED);
  const stateNames = [...JOINTS.map((j) => `q.${j}`), ...JOINTS.map((j) => `qd.${j}`)];
  const planned = [
    [0, 0, 0, 0, 0, 0],
    [0.2, 0.3, 0.5, 0.2, 0, 0],
    [0.4, 0.6, 1.0, 0.4, 0, 0],
  ];
  const plan = (states: number[][], names = stateNames) =>
    planMessage({
      startNs: 2_000_000n,
      stepNs: 20_000_000n,
      planner: 'lqr',
      kind: 'feedback',
      interpolation: 'linear',
      stateNames: names,
      actionNames: JOINTS,
      steps: states.length,
      states: Float64Array.from(states.flatMap((q) => (names.length ? [...q, 0, 0, 0, 0, 0, 0] : []))),
      actions: new Float64Array(states.length * JOINTS.length),
      cost: 1,
      iterations: 0,
      status: [],
    });
  plans.publish(plan(planned));
  await node.transport.bus.idle();
  const path = node.planMarkers.at(-1)!.markers.find((m) => m.ns === 'plan')!;
  assert.equal(path.type, MarkerType.LINE_STRIP);
  assert.equal(path.header.frame_id, 'world');
  assert.equal(path.points.length, planned.length);
  planned.forEach((q, i) => {
    check.setQpos(q);
    const p = path.points[i]!;
    close([p.x, p.y, p.z], check.sitePosition('ee'), 1e-9, `path point ${i}`);
  });

  goals.publish({
    header: { stamp: nsToTime(3_000_000n), frame_id: 'world' },
    pose: { position: { x: 0.2, y: 0.1, z: 0.15 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
  });
  await node.transport.bus.idle();
  const both = node.planMarkers.at(-1)!.markers;
  assert.deepEqual(
    both.map((m) => `${m.ns} ${m.type}`),
    [`plan ${MarkerType.LINE_STRIP}`, `goal ${MarkerType.SPHERE}`],
  );
  const goal = both[1]!;
  close([goal.pose.position.x, goal.pose.position.y, goal.pose.position.z], [0.2, 0.1, 0.15], 0, 'goal');

  // a sequence plan carries no states: its path is deleted, and that said once
  for (let i = 0; i < 2; i++) {
    plans.publish(plan([[], []], []));
    await node.transport.bus.idle();
  }
  const deleted = node.planMarkers.at(-1)!.markers.find((m) => m.ns === 'plan')!;
  assert.equal(deleted.action, MarkerAction.DELETE);
  const said = node.warnings().filter((w) => /not drawn/.test(w));
  assert.equal(said.length, 1, said.join('\n'));
  assert.match(said[0]!, /plan of 'lqr' not drawn: the plan's states name no joint of the model/);
});

// a pendulum on a fixed pedestal with a camera mount on its link: the pedestal and the mount are
// fixed to their parents, the link is not
const MOUNTED = `<mujoco>
  <worldbody>
    <body name="pedestal" pos="0.1 0.2 0.3" euler="0 0 30">
      <geom type="box" size="0.05 0.05 0.05"/>
      <body name="link" pos="0 0 0.1">
        <joint name="hinge" type="hinge" axis="0 1 0"/>
        <geom type="capsule" fromto="0 0 0 0 0 0.4" size="0.02"/>
        <body name="camera_mount" pos="0 0.03 0.35" euler="20 0 0">
          <geom type="box" size="0.01 0.01 0.01"/>
          <site name="lens" pos="0.01 0 0.02"/>
        </body>
      </body>
    </body>
  </worldbody>
</mujoco>`;

test('robot_state_publisher: frames fixed to their parents once on /tf_static, the moving ones on /tf', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rsp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const model = join(dir, 'mounted.xml');
  writeFileSync(model, MOUNTED);
  const node = await start({ model, rate_hz: 0, goal_topic: '' });
  t.after(node.stop);
  // latched at activation, before any joint state: the pedestal in the world, the mount on the link
  assert.equal(node.tfStatic.length, 1);
  const fixed = node.tfStatic[0]!.transforms;
  assert.deepEqual(
    fixed.map((x) => `${x.header.frame_id}→${x.child_frame_id}`),
    ['world→pedestal', 'link→camera_mount'],
  );
  await node.send(1_000_000n, [0.7], ['hinge']);
  await node.send(2_000_000n, [-1.1], ['hinge']);
  assert.equal(node.tf.length, 2);
  for (const m of node.tf)
    assert.deepEqual(
      m.transforms.map((x) => `${x.header.frame_id}→${x.child_frame_id}`),
      ['pedestal→link'],
    );
  // static and moving composed as a tf listener composes them: the lens where mj_forward puts it
  using check = await MujocoSim.fromFile(model);
  check.setQpos([-1.1]);
  const all = [...fixed, ...node.tf[1]!.transforms];
  close(toRoot(all, 'camera_mount', [0.01, 0, 0.02]), check.sitePosition('lens'), 1e-9, 'lens');
  // no joint state moves a fixed frame: still the one static message
  assert.equal(node.tfStatic.length, 1);
  // the arm has no fixed body: nothing on /tf_static
  const arm = await start({ rate_hz: 0 });
  t.after(arm.stop);
  assert.equal(arm.tfStatic.length, 0);
});

test('robot_state_publisher: /tf at most rate_hz by stamp, at once after a stamp went back', async (t) => {
  const node = await start({ rate_hz: 10 });
  t.after(node.stop);
  // 100 Hz states over 0.5 s: one /tf per 0.1 s
  for (let k = 0; k < 50; k++) await node.send(BigInt(k) * 10_000_000n, [0, 0, 0.01 * k, 0, 0, 0]);
  assert.equal(node.tf.length, 5);
  // a reset to t = 0 (a sim's new episode): published at once
  await node.send(0n, [0, 0, 0, 0, 0, 0]);
  assert.equal(node.tf.length, 6);
});

test('robot_state_publisher: bad parameters are one clear error', async () => {
  const transport = new EmbeddedTransport();
  try {
    for (const [values, message] of [
      [{ plan_topic: 'plan' }, /plan_topic needs ee_site/],
      [{ plan_topic: 'plan', ee_site: 'nowhere' }, /the model has no site 'nowhere' \(sites: ee\)/],
      [{ model: 'sim/models/missing.xml' }, /cannot load MJCF .*missing\.xml: ENOENT/],
    ] as const) {
      const handle = await transport.createNode({
        name: 'robot_state_publisher',
        parameters: definition.parameters,
        parameterSources: [{ origin: 'test', values: { model: 'sim/models/so_arm.xml', ...values }, strict: true }],
      });
      await assert.rejects(async () => definition.configure(handle, handle.params), message);
      handle.destroy();
    }
  } finally {
    await transport.shutdown();
  }
});
