import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import definition from '../../nodes/episode_monitor.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { defineParams } from '../../src/util/param_schema.js';
import { nsToTime } from '../../framework/time/time.js';
import { EpisodeEventKind } from '../../framework/msgs/types.js';
import { swingupReward } from '../../src/tasks/cartpole_swingup.js';

// The episode monitor reads episodes from the source's EpisodeEvents, not from the stamps: the
// episodes here follow each other with no dead time, a sum starts at START and is taken at END,
// and a state that comes after its episode's END is not counted again. Done after `episodes`.

const PERIOD = 10_000_000n;

test('episode monitor: returns per declared episode, one period apart; done after `episodes`', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'episode-monitor-'));
  const transport = new EmbeddedTransport({ checkMessages: true });
  try {
    const handle = await transport.createNode({
      name: 'episode_monitor',
      parameters: definition.parameters,
      parameterSources: [
        {
          origin: 'test',
          values: { task: 'cartpole_swingup', episodes: 2, output: join(dir, 'curve.svg') },
          strict: true,
        },
      ],
    });
    const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
    const states = probe.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
    const commands = probe.createPublisher('std_msgs/msg/Float64MultiArray', 'forward_command_controller/commands');
    const events = probe.createPublisher('dynastack_msgs/msg/EpisodeEvent', 'episode');
    const lifecycle = await definition.configure(handle, handle.params);
    await lifecycle.activate?.();
    let done = '';
    void lifecycle.finished!.then((s) => (done = s));

    const event = async (kind: number, episode: number, k: number): Promise<void> => {
      const reason = kind === EpisodeEventKind.END ? 'length' : '';
      events.publish({ header: { stamp: nsToTime(BigInt(k) * PERIOD), frame_id: '' }, episode, event: kind, reason });
      await transport.bus.idle();
    };
    /** the state of tick k (cart at x, pole at θ), then the command u */
    const tick = async (k: number, x: number, theta: number, u: number): Promise<void> => {
      states.publish({
        header: { stamp: nsToTime(BigInt(k) * PERIOD), frame_id: '' },
        name: ['cart_slide', 'pole_hinge'],
        position: [x, theta],
        velocity: [0, 0],
        effort: [],
      });
      await transport.bus.idle();
      commands.publish({ layout: { dim: [], data_offset: 0 }, data: [u] });
      await transport.bus.idle();
    };
    // the reward of a tick: its state with the command in force then (the last one sent)
    const expected: number[] = [];
    let u = 0;
    let sum = 0;
    const step = async (k: number, x: number, theta: number, next: number): Promise<void> => {
      sum += swingupReward(x, theta, u);
      await tick(k, x, theta, next);
      u = next;
    };
    await event(EpisodeEventKind.START, 0, 0);
    for (const k of [0, 1, 2]) await step(k, 0.1 * k, Math.PI - 0.2 * k, 1);
    await event(EpisodeEventKind.END, 0, 2);
    expected.push(sum);
    sum = 0;
    await event(EpisodeEventKind.START, 1, 3);
    for (const k of [3, 4]) await step(k, 0, 0.1 * k, -2);
    // a state of episode 0 that comes late is not counted in episode 1
    await tick(2, 5, 5, -2);
    assert.equal(done, '', 'not done after one episode');
    await event(EpisodeEventKind.END, 1, 4);
    expected.push(sum);
    await new Promise((r) => setImmediate(r));

    const metrics = lifecycle.metrics!();
    assert.equal(metrics.episodes, 2);
    assert.equal(metrics.returns, expected.map((r) => r.toFixed(2)).join(' '));
    assert.match(done, /^2 episodes, best return/);
    await lifecycle.deactivate?.();
    await lifecycle.cleanup?.();
    assert.equal(readFileSync(join(dir, 'curve.csv'), 'utf8'), `episode,return\n1,${expected[0]}\n2,${expected[1]}\n`);
  } finally {
    await transport.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});
