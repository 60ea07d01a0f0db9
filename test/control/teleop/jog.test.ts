import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MujocoSim } from '../../../sim/mujoco/sim.js';
import { packagePath } from '../../../src/util/paths.js';
import { actuatedJoints } from '../../../src/control/safety_limits.js';
import { EndEffectorJog, JointJog, simKinematics, type JogJoint } from '../../../src/control/teleop/jog.js';
import { JogSource, type JogInput } from '../../../src/control/teleop/teleop_source.js';

// Jogging on the real arm model: joint targets stay in the joint limits, and an end-effector
// velocity moves the end-effector site in that direction.

const HOME = [0, -0.3, 1.9, 1.2, 0, 0];

async function arm(): Promise<{ sim: MujocoSim; joints: JogJoint[] }> {
  const sim = await MujocoSim.fromFile(packagePath('sim/models/so_arm_position.xml'));
  const joints = actuatedJoints(sim.info).map((j) => ({
    name: j.name,
    qposAdr: j.qposAdr,
    dofAdr: j.dofAdr,
    ...(j.limited && j.range ? { range: j.range } : {}),
  }));
  return { sim, joints };
}

test('joint jog: velocities integrate into the target, which stops at the joint limits', async () => {
  const { sim, joints } = await arm();
  try {
    const jog = new JointJog(joints);
    assert.throws(() => jog.step([0, 0, 0, 0, 0, 0], 0.01), /before the first reset/);
    jog.reset(HOME);
    jog.step([1, 0, 0, 0, 0, Number.NaN], 0.1);
    assert.ok(Math.abs(jog.target[0]! - 0.1) < 1e-12);
    assert.equal(jog.target[5], 0, 'a NaN velocity moves nothing');
    for (let i = 0; i < 1000; i++) jog.step([5, -5, 5, 0, 0, 0], 0.01);
    const range = (i: number): readonly [number, number] => joints[i]!.range!;
    assert.equal(jog.target[0], range(0)[1]);
    assert.equal(jog.target[1], range(1)[0]);
    assert.equal(jog.target[2], range(2)[1]);
    assert.throws(() => jog.step([1], 0.01), /velocity has 1 values, expected 6/);
  } finally {
    sim.dispose();
  }
});

test('end-effector jog on so_arm: a velocity along ±x, ±y, ±z moves the site that way', async () => {
  const { sim, joints } = await arm();
  try {
    const ee = new EndEffectorJog(simKinematics(sim), 'ee', joints, sim.getQpos());
    const dt = 0.01;
    const directions: [number, number, number][] = [
      [1, 0, 0],
      [-1, 0, 0],
      [0, 1, 0],
      [0, -1, 0],
      [0, 0, 1],
      [0, 0, -1],
    ];
    for (const dir of directions) {
      const jog = new JointJog(joints);
      jog.reset(HOME);
      const start = ee.sitePosition(jog.target);
      const qd = new Float64Array(joints.length);
      const speed = 0.05;
      for (let k = 0; k < 40; k++) {
        ee.jointVelocities(jog.target, [dir[0] * speed, dir[1] * speed, dir[2] * speed], qd);
        jog.step(qd, dt);
      }
      const end = ee.sitePosition(jog.target);
      const moved = [end[0]! - start[0]!, end[1]! - start[1]!, end[2]! - start[2]!];
      const along = moved[0]! * dir[0] + moved[1]! * dir[1] + moved[2]! * dir[2];
      const length = Math.hypot(...moved);
      // 40 ticks of 0.01 s at 5 cm/s: about 2 cm, nearly all of it along the direction
      assert.ok(along > 0.015, `direction ${dir.join(',')}: ${along.toFixed(4)} m along it`);
      assert.ok(along / length > 0.95, `direction ${dir.join(',')}: off by ${Math.acos(along / length)} rad`);
    }
    assert.throws(() => new EndEffectorJog(simKinematics(sim), 'no_such_site', joints, sim.getQpos()), /no_such_site/);
  } finally {
    sim.dispose();
  }
});

test('JogSource: the motion scaled by the speeds, the end effector through the Jacobian, going on from what was sent', async () => {
  const { sim, joints } = await arm();
  try {
    const motion = { joint: new Float64Array(6), ee: [0, 0, 0] as [number, number, number], scale: 1 };
    const input: JogInput = { kind: 'test', motion: () => motion, takeEpisodeCommands: () => [] };
    const ee = new EndEffectorJog(simKinematics(sim), 'ee', joints, sim.getQpos());
    const source = new JogSource(input, joints, { jointSpeed: [0.5], eeSpeed: 0.05 }, 10_000_000n, ee);
    const measured = Float64Array.from(HOME);
    motion.joint[1] = 1;
    motion.scale = 0.5;
    const t1 = Float64Array.from(source.tick(0n, measured));
    assert.ok(Math.abs(t1[1]! - (HOME[1]! + 0.5 * 0.5 * 0.01)) < 1e-12, `target ${t1[1]}`);
    // the stage sent something else (the safety layer held it): the jog goes on from there
    source.sent(Float64Array.from(HOME));
    const t2 = source.tick(0n, measured);
    assert.ok(Math.abs(t2[1]! - (HOME[1]! + 0.0025)) < 1e-12);
    motion.joint[1] = 0;
    motion.ee[2] = 1;
    source.sent(Float64Array.from(HOME));
    const z0 = ee.sitePosition(HOME)[2]!;
    const t3 = Float64Array.from(source.tick(0n, measured));
    assert.ok(ee.sitePosition(t3)[2]! > z0, 'up');
    assert.throws(
      () => new JogSource(input, joints, { jointSpeed: [1, 2], eeSpeed: 0.05 }, 10_000_000n),
      /2 joint speeds for 6 joints/,
    );
  } finally {
    sim.dispose();
  }
});
