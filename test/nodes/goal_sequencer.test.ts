import { test } from 'node:test';
import assert from 'node:assert/strict';
import definition from '../../nodes/goal_sequencer.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { defineParams } from '../../src/util/param_schema.js';
import { nsToTime } from '../../framework/time/time.js';
import { QOS_EPISODE_EVENTS, QOS_LATCHED } from '../../framework/transport/qos.js';
import { EpisodeEventKind, type Point } from '../../framework/msgs/types.js';
import { MujocoSim } from '../../sim/mujoco/sim.js';
import { ArmTargetSampler } from '../../src/tasks/arm_targets.js';
import { packagePath } from '../../src/util/paths.js';

// The goal sequencer's random targets follow the episodes the source declares: a target drawn at
// each START and published with the episode's first pose, judged at END by the episode's last
// pose; done after random_targets. The episodes follow each other with no dead time.

const PERIOD = 10_000_000n;
const SEED = 1001;

test('goal sequencer: a random target per declared episode, published with its first pose, judged at its END', async () => {
  const transport = new EmbeddedTransport({ checkMessages: true });
  try {
    const handle = await transport.createNode({
      name: 'goal_sequencer',
      parameters: definition.parameters,
      parameterSources: [
        { origin: 'test', values: { random_targets: 2, seed: SEED, tolerance_m: 0.02 }, strict: true },
      ],
    });
    const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
    const poses = probe.createPublisher('geometry_msgs/msg/PoseStamped', 'ee_pose');
    const events = probe.createPublisher('dynastack_msgs/msg/EpisodeEvent', 'episode', QOS_EPISODE_EVENTS);
    const goals: Point[] = [];
    probe.createSubscription('geometry_msgs/msg/PoseStamped', 'goal', (m) => goals.push(m.pose.position), {
      qos: { ...QOS_LATCHED, history: 'keep_all' },
    });
    const lifecycle = await definition.configure(handle, handle.params);
    let done = '';
    void lifecycle.finished!.then((s) => (done = s));

    const event = async (kind: number, episode: number, k: number): Promise<void> => {
      const reason = kind === EpisodeEventKind.END ? 'length' : '';
      events.publish({ header: { stamp: nsToTime(BigInt(k) * PERIOD), frame_id: '' }, episode, event: kind, reason });
      await transport.bus.idle();
    };
    const pose = async (k: number, p: Point): Promise<void> => {
      poses.publish({
        header: { stamp: nsToTime(BigInt(k) * PERIOD), frame_id: 'world' },
        pose: { position: p, orientation: { x: 0, y: 0, z: 0, w: 1 } },
      });
      await transport.bus.idle();
    };

    const sim = await MujocoSim.fromFile(packagePath('sim/models/so_arm_position.xml'));
    const sampler = new ArmTargetSampler(sim.kinematicChain('ee'), { seed: SEED });
    sim.dispose();
    const [t1, t2] = [sampler.next().position, sampler.next().position];

    await event(EpisodeEventKind.START, 0, 0);
    assert.equal(goals.length, 0, 'published with the first pose, not before');
    await pose(0, { x: 0, y: 0, z: 0 });
    assert.deepEqual(goals, [{ x: t1[0], y: t1[1], z: t1[2] }]);
    await pose(1, { x: t1[0] + 0.01, y: t1[1], z: t1[2] }); // the last pose of episode 0: 1 cm off
    await event(EpisodeEventKind.END, 0, 1);
    await event(EpisodeEventKind.START, 1, 2);
    await pose(2, { x: 0, y: 0, z: 0 });
    assert.deepEqual(goals[1], { x: t2[0], y: t2[1], z: t2[2] });
    await pose(3, { x: t2[0], y: t2[1] + 0.05, z: t2[2] }); // 5 cm off
    assert.equal(done, '');
    await event(EpisodeEventKind.END, 1, 3);
    await event(EpisodeEventKind.START, 2, 4);
    await pose(4, { x: 0, y: 0, z: 0 });
    await new Promise((r) => setImmediate(r));

    assert.equal(goals.length, 2, 'no target after the last');
    assert.equal(done, 'reached 1 of 2 random targets within 2.0 cm');
    const metrics = lifecycle.metrics!();
    assert.equal(metrics.judged, 2);
    assert.equal(metrics.errors_cm, '1.00 5.00');
    // judge_task (default): every target must be reached, and one was not
    assert.equal(metrics.task_achieved, false);
    assert.match(
      lifecycle.summary!(),
      /\ntask NOT achieved: 1 of 2 random targets within 2\.0 cm at their episode's end \(needed: all 2\)$/,
    );
  } finally {
    await transport.shutdown();
  }
});
