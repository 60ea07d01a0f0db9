import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MujocoSim } from '../../sim/mujoco/sim.js';
import { ARM_MODEL_FILES, SO_ARM_JOINTS, armReachTask, readArmDescription } from '../../src/tasks/arm_reach.js';
import { ARM_REACH_TOLERANCE_M, ArmTargetSampler, reachOutcome } from '../../src/tasks/arm_targets.js';
import { PETS_ARM, petsArm, successAfter, type PetsArmConfig } from '../../src/rl/pets_arm.js';
import { initTensorBackend } from '../../src/tensor/backend.js';
import { packagePath } from '../../src/util/paths.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLaunch } from '../closed_loop/harness.js';

// The arm-reach PETS harness: its random targets must be reachable by the simulated arm (not
// merely by the pure-TS kinematics), clear of the floor and of the base, and repeat per seed; the
// 2 cm criterion and the success share; the loop's plumbing over two tiny episodes; and the
// launch's: the same targets per episode in the graph, judged alike by two nodes.

test('random arm targets: MuJoCo puts the end effector on them, within the joint limits, off the floor and the base', async () => {
  using sim = await MujocoSim.fromFile(packagePath(ARM_MODEL_FILES.position));
  const arm = readArmDescription(sim);
  const sampler = new ArmTargetSampler(arm.chain, { seed: 7 });
  const { clearance, minRadius } = sampler.options;
  const limits = SO_ARM_JOINTS.map((name) => sim.info.joints.find((j) => j.name === name)!.range!);
  const targets: [number, number, number][] = [];
  for (let k = 0; k < 100; k++) {
    const { position, q } = sampler.next();
    q.forEach((v, i) =>
      assert.ok(
        v >= limits[i]![0] && v <= limits[i]![1],
        `${SO_ARM_JOINTS[i]} = ${v} outside [${limits[i]!.join(',')}]`,
      ),
    );
    sim.setQpos(q);
    sim.forward();
    const site = sim.sitePosition('ee');
    for (let i = 0; i < 3; i++)
      assert.ok(
        Math.abs(site[i]! - position[i]!) < 1e-9,
        `target ${k}: MuJoCo's ee ${site.join(',')} ≠ ${position.join(',')}`,
      );
    assert.ok(position[2] >= clearance, `target ${k} at z = ${position[2]}`);
    assert.ok(Math.hypot(position[0], position[1]) >= minRadius, `target ${k} over the base`);
    targets.push(position);
  }
  // spread over the workspace, on both sides and in front of and behind the base
  const spread = (i: 0 | 1 | 2): number =>
    Math.max(...targets.map((t) => t[i])) - Math.min(...targets.map((t) => t[i]));
  assert.ok(
    spread(0) > 0.4 && spread(1) > 0.4 && spread(2) > 0.25,
    `spread ${([0, 1, 2] as const).map(spread).join(',')}`,
  );
  // the same seed repeats the targets, another does not
  const again = new ArmTargetSampler(arm.chain, { seed: 7 });
  assert.deepEqual(again.next().position, targets[0]);
  assert.notDeepEqual(new ArmTargetSampler(arm.chain, { seed: 8 }).next().position, targets[0]);
});

test('random arm targets: a configuration with a link under the floor is refused even when the end effector is above it', async () => {
  using sim = await MujocoSim.fromFile(packagePath(ARM_MODEL_FILES.position));
  const arm = readArmDescription(sim);
  const sampler = new ArmTargetSampler(arm.chain, { seed: 1, clearance: 0 });
  // upper arm leaning far forward, forearm pointing straight down (the wrist joint below the
  // floor), wrist bent back up so that the end effector is above it
  const q = [0, 1.4, 1.74, -1.8, 0, 0];
  sim.setQpos(q);
  sim.forward();
  assert.ok(sim.sitePosition('ee')[2]! > 0, 'the end effector is above the floor');
  assert.equal(sampler.admissible(q), false);
  assert.equal(sampler.admissible([0, -0.3, 1.9, 1.2, 0, 0]), true, 'home is admissible');
  assert.throws(() => new ArmTargetSampler(arm.chain, { jointBox: [[0, 1]] }), /6 ranges/);
  assert.throws(() => new ArmTargetSampler(arm.chain, { clearance: 5 }).next(), /no configuration/);
});

test('the reach criterion: strictly within 2 cm at the end of the episode; the share counts only the episodes after learning', () => {
  assert.equal(ARM_REACH_TOLERANCE_M, 0.02);
  const inside = reachOutcome([0.2, 0.019, 0.1], [0.2, 0, 0.1]);
  assert.ok(Math.abs(inside.finalDistance - 0.019) < 1e-12);
  assert.equal(inside.success, true);
  assert.equal(reachOutcome([0.2, 0.0201, 0.1], [0.2, 0, 0.1]).success, false);
  assert.throws(() => reachOutcome([0, 0], [0, 0, 0]), /\[x, y, z\]/);
  assert.throws(() => reachOutcome([0, Number.NaN, 0], [0, 0, 0]), /not finite/);
  const episodes = [false, false, true, true, false, true].map((success) => ({ success }));
  assert.equal(successAfter(episodes, 2), 3 / 4);
  assert.equal(successAfter(episodes, 0), 3 / 6);
  assert.throws(() => successAfter(episodes, 6), /only 6 episodes/);
});

test('the arm PETS harness: a random episode, then a planned one toward a new target, judged from the final state', async () => {
  await initTensorBackend();
  const tiny: PetsArmConfig = {
    ...PETS_ARM,
    episodes: 2,
    episodeLength: 6,
    horizon: 3,
    ensemble: { members: 2, elites: 2, hidden: [16], probabilistic: true },
    training: { epochs: 3, batchSize: 4, holdoutRatio: 0.2, patience: 3 },
    optimizer: {
      ...PETS_ARM.optimizer,
      iterations: 2,
      values: { ...PETS_ARM.optimizer.values, 'sampling.population': 12 },
    },
  };
  const lines: string[] = [];
  const episodes = await petsArm(3, tiny, (line) => lines.push(line));
  assert.equal(episodes.length, 2);
  assert.equal(lines.length, 2);
  const [random, planned] = episodes as [(typeof episodes)[0], (typeof episodes)[0]];
  assert.equal(random.training, undefined);
  assert.ok(planned.training, 'the second episode plans with a trained model');
  assert.ok(planned.planningMs > 0);
  assert.equal(random.steps, 6);
  assert.equal(planned.transitions, 12);
  assert.notDeepEqual(random.target, planned.target, 'a new target each episode');
  using sim = await MujocoSim.fromFile(packagePath(ARM_MODEL_FILES.position));
  const task = armReachTask(readArmDescription(sim), { actuation: 'position' });
  for (const e of episodes) {
    assert.equal(e.finalState.length, 12);
    assert.ok(e.finalState.every(Number.isFinite));
    const ee = task.endEffector(e.finalState);
    assert.ok(
      Math.abs(e.finalDistance - Math.hypot(ee[0]! - e.target[0], ee[1]! - e.target[1], ee[2]! - e.target[2])) < 1e-9,
    );
    assert.equal(e.success, e.finalDistance < 0.02);
  }
});

test("the arm PETS launch: a random target per episode (the harness's seed-1 targets), judged alike by the goal sequencer and the episode monitor", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-'));
  const goals: [number, number, number][] = [];
  const run = await runLaunch(
    'pets_arm_reach.launch.yaml',
    { episodes: '3', curve: join(dir, 'curve.svg') },
    {
      during: (probe) =>
        probe.createSubscription(
          'geometry_msgs/msg/PoseStamped',
          '/goal',
          (m) => goals.push([m.pose.position.x, m.pose.position.y, m.pose.position.z]),
          { qos: { history: 'keep_all', durability: 'transient_local' } },
        ),
    },
  );
  using sim = await MujocoSim.fromFile(packagePath(ARM_MODEL_FILES.position));
  const sampler = new ArmTargetSampler(readArmDescription(sim).chain, { seed: 1001 });
  assert.deepEqual(goals, [sampler.next().position, sampler.next().position, sampler.next().position]);
  const sequencer = run.metrics('/goal_sequencer');
  assert.equal(sequencer.judged, 3);
  const monitor = run.metrics('/episode_monitor');
  assert.equal(monitor.episodes, 3);
  // the sequencer reads the bridge's ee pose, the monitor forward kinematics of the (noisy) joint states
  const bySequencer = String(sequencer.errors_cm).split(' ').map(Number);
  const byMonitor = String(monitor.final_distances_cm).split(' ').map(Number);
  bySequencer.forEach((d, i) =>
    assert.ok(
      Math.abs(d - byMonitor[i]!) < 0.1,
      `episode ${i + 1}: ${d} cm by the sequencer, ${byMonitor[i]} cm by the monitor`,
    ),
  );
  assert.ok(
    Number(run.metrics('/controller').planner_model_version) >= 1,
    'the controller planned with a learned model',
  );
  const csv = readFileSync(join(dir, 'curve.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'episode,return,final_distance_m,success');
  assert.equal(csv.length, 4);
});
