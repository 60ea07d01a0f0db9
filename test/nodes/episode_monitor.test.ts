import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import definition from '../../nodes/episode_monitor.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { defineParams } from '../../src/util/param_schema.js';
import { nsToTime } from '../../framework/time/time.js';
import { EpisodeEventKind, type EpisodeReturn } from '../../framework/msgs/types.js';
import { swingupReward } from '../../src/tasks/cartpole_swingup.js';
import { until } from '../wait.js';
import { QOS_EPISODE_EVENTS, QOS_LATCHED } from '../../framework/transport/qos.js';

// The episode monitor reads episodes from the source's EpisodeEvents, not from the stamps: the
// episodes here follow each other with no dead time, a sum starts at START and is taken at END,
// and a state that comes after its episode's END, or again, is not counted again. Done after `episodes`.
// The learning curve (CSV and SVG) is written after every episode, so a killed run keeps it; a
// resumed run reads it back and goes on counting; a viewer joining late gets every outcome so far
// on ~/returns.

const PERIOD = 10_000_000n;

/** An episode monitor of cartpole_swingup with `values` on `transport`, configured and active, and a probe node beside it. */
async function startMonitor(transport: EmbeddedTransport, values: Record<string, unknown>) {
  const handle = await transport.createNode({
    name: 'episode_monitor',
    parameters: definition.parameters,
    parameterSources: [{ origin: 'test', values: { task: 'cartpole_swingup', ...values }, strict: true }],
  });
  const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
  const lifecycle = await definition.configure(handle, handle.params);
  await lifecycle.activate?.();
  return { lifecycle, probe };
}

test('episode monitor: returns per declared episode, one period apart; done after `episodes`', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'episode-monitor-'));
  const transport = new EmbeddedTransport({ checkMessages: true });
  try {
    const { lifecycle, probe } = await startMonitor(transport, { episodes: 2, output: join(dir, 'curve.svg') });
    const states = probe.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
    const commands = probe.createPublisher('std_msgs/msg/Float64MultiArray', 'forward_command_controller/commands');
    const events = probe.createPublisher('dynastack_msgs/msg/EpisodeEvent', 'episode', QOS_EPISODE_EVENTS);
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
    // tick 4 published again (a lockstep bridge re-sends a tick until its first command): counted once
    await tick(4, 0, 0.4, -2);
    // a state of episode 0 that comes late is not counted in episode 1
    await tick(2, 5, 5, -2);
    assert.equal(done, '', 'not done after one episode');
    await event(EpisodeEventKind.END, 1, 4);
    expected.push(sum);
    await new Promise((r) => setImmediate(r));

    const metrics = lifecycle.metrics!();
    assert.equal(metrics.episodes, 2);
    assert.equal(metrics.returns, expected.map((r) => r.toFixed(2)).join(' '));
    // no criterion configured: no verdict
    assert.equal(metrics.task_achieved, undefined);
    assert.doesNotMatch(lifecycle.summary!(), /task/);
    assert.match(done, /^2 episodes, best return/);
    await lifecycle.deactivate?.();
    await lifecycle.cleanup?.();
    assert.equal(readFileSync(join(dir, 'curve.csv'), 'utf8'), `episode,return\n1,${expected[0]}\n2,${expected[1]}\n`);
  } finally {
    await transport.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('episode monitor, stamped commands: the next START before the last state of an episode is complete takes none of its states', async () => {
  // Under ros2 launch the sim's END and the next START (one process) can reach the monitor before the
  // controller's command for the episode's last tick (another process): that last state is held for
  // its command, and the START must not drop the episode's states counted before it.
  const run = async (commandLast: 'before events' | 'after events'): Promise<string> => {
    const dir = mkdtempSync(join(tmpdir(), 'episode-monitor-'));
    const transport = new EmbeddedTransport({ checkMessages: true });
    try {
      const { lifecycle, probe } = await startMonitor(transport, {
        episodes: 2,
        output: join(dir, 'curve.svg'),
        command_topic: 'controller/commands_stamped',
        command_type: 'sensor_msgs/msg/JointState',
      });
      const states = probe.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
      const commands = probe.createPublisher('sensor_msgs/msg/JointState', 'controller/commands_stamped');
      const events = probe.createPublisher('dynastack_msgs/msg/EpisodeEvent', 'episode', QOS_EPISODE_EVENTS);
      const at = (k: number) => ({ stamp: nsToTime(BigInt(k) * PERIOD), frame_id: '' });
      const state = (k: number): void =>
        states.publish({
          header: at(k),
          name: ['cart_slide', 'pole_hinge'],
          position: [0.05 * k, 0.1 * k],
          velocity: [0, 0],
          effort: [],
        });
      const command = (k: number): void =>
        commands.publish({ header: at(k), name: ['cart_slide'], position: [], velocity: [], effort: [k % 2 ? 1 : -1] });
      const event = (kind: number, episode: number, k: number): void =>
        events.publish({ header: at(k), episode, event: kind, reason: kind === EpisodeEventKind.END ? 'length' : '' });
      event(EpisodeEventKind.START, 0, 0);
      for (const k of [0, 1, 2, 3]) {
        state(k);
        if (k < 3 || commandLast === 'before events') command(k);
        await transport.bus.idle();
      }
      event(EpisodeEventKind.END, 0, 3);
      event(EpisodeEventKind.START, 1, 4);
      await transport.bus.idle();
      if (commandLast === 'after events') command(3);
      for (const k of [4, 5]) {
        state(k);
        command(k);
        await transport.bus.idle();
      }
      event(EpisodeEventKind.END, 1, 5);
      await transport.bus.idle();
      await new Promise((r) => setImmediate(r));
      const metrics = lifecycle.metrics!();
      await lifecycle.deactivate?.();
      await lifecycle.cleanup?.();
      assert.equal(metrics.episodes, 2);
      return String(metrics.returns);
    } finally {
      await transport.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const inOrder = await run('before events');
  const late = await run('after events');
  assert.equal(late, inOrder, 'the same returns whichever comes first');
  // episode 1 holds its four states: its return is more than its last state's reward can be (≤ 1)
  assert.ok(Number(inOrder.split(' ')[0]) > 1, `episode 1's return ${inOrder}`);
});

/** a monitor of cartpole_swingup writing its curve to `output`, and a probe that declares episodes */
async function monitor(values: Record<string, unknown>) {
  const transport = new EmbeddedTransport({ checkMessages: true });
  const { lifecycle, probe } = await startMonitor(transport, values);
  const states = probe.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
  const events = probe.createPublisher('dynastack_msgs/msg/EpisodeEvent', 'episode', QOS_EPISODE_EVENTS);
  let done = '';
  void lifecycle.finished?.then((s) => (done = s));
  /** an episode of two states at ticks k, k+1, the pole at θ */
  const episode = async (k: number, theta: number): Promise<void> => {
    const event = (kind: number, at: number): void =>
      events.publish({
        header: { stamp: nsToTime(BigInt(at) * PERIOD), frame_id: '' },
        episode: 0,
        event: kind,
        reason: kind === EpisodeEventKind.END ? 'length' : '',
      });
    event(EpisodeEventKind.START, k);
    await transport.bus.idle();
    for (const at of [k, k + 1]) {
      states.publish({
        header: { stamp: nsToTime(BigInt(at) * PERIOD), frame_id: '' },
        name: ['cart_slide', 'pole_hinge'],
        position: [0, theta],
        velocity: [0, 0],
        effort: [],
      });
      await transport.bus.idle();
    }
    event(EpisodeEventKind.END, k + 1);
    await transport.bus.idle();
  };
  const stop = async (): Promise<void> => {
    await lifecycle.deactivate?.();
    await lifecycle.cleanup?.();
    await transport.shutdown();
  };
  /** what a subscriber that joins now gets on ~/returns (transient local: the run so far) */
  const lateReturns = async (): Promise<EpisodeReturn[]> => {
    const got: EpisodeReturn[] = [];
    probe.createSubscription('dynastack_msgs/msg/EpisodeReturn', '/episode_monitor/returns', (m) => got.push(m), {
      qos: { ...QOS_LATCHED, depth: 10_000 },
    });
    await transport.bus.idle();
    return got;
  };
  return { transport, lifecycle, episode, done: () => done, stop, lateReturns };
}

test('episode monitor: the learning curve after every episode, CSV and SVG; resume goes on counting from it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'episode-monitor-'));
  const output = join(dir, 'curve.svg');
  const csv = join(dir, 'curve.csv');
  const rows = (): string[] => (existsSync(csv) ? readFileSync(csv, 'utf8').trim().split('\n').slice(1) : []);
  try {
    const first = await monitor({ episodes: 10, output });
    let firstReturns: string[] = [];
    try {
      await first.episode(0, Math.PI);
      await until('the curve after episode 1', () => rows().length === 1 && existsSync(output));
      await first.episode(2, 0);
      await until('the curve after episode 2', () => rows().length === 2);
      assert.match(readFileSync(output, 'utf8'), /^<svg/);
      firstReturns = rows().map((r) => r.split(',')[1]!);
      // killed here: no cleanup; the files are whole and hold both episodes
    } finally {
      await first.lifecycle.deactivate?.();
      await first.transport.shutdown();
    }
    assert.deepEqual(readdirSync(dir).sort(), ['curve.csv', 'curve.svg'], 'no temporary left');

    const again = await monitor({ episodes: 3, output, resume: true });
    try {
      assert.equal(again.lifecycle.metrics!().episodes, 2, 'the two episodes of the earlier run');
      await again.episode(0, 0.5);
      await until('the third episode counted', () => again.done() !== '');
      assert.match(again.done(), /^3 episodes/);
      const m = again.lifecycle.metrics!();
      assert.equal(m.episodes, 3);
      assert.equal(String(m.returns).split(' ').length, 3);
      // a viewer that joins now gets the whole curve on ~/returns: the resumed episodes, then the new one
      const outcomes = await again.lateReturns();
      assert.deepEqual(
        outcomes.map((o) => o.episode),
        [1, 2, 3],
      );
      assert.deepEqual(
        outcomes.slice(0, 2).map((o) => o.total_reward),
        firstReturns.map(Number),
      );
      assert.ok(Math.abs(outcomes[2]!.total_reward - Number(String(m.returns).split(' ')[2])) < 0.01);
      assert.ok(outcomes.every((o) => !o.judged && !o.success && Number.isNaN(o.final_distance)));
      assert.deepEqual(outcomes[2]!.header.stamp, nsToTime(PERIOD));
    } finally {
      await again.stop();
    }
    const after = rows();
    assert.deepEqual(
      after.map((r) => r.split(',')[0]),
      ['1', '2', '3'],
    );
    assert.deepEqual(
      after.slice(0, 2).map((r) => r.split(',')[1]),
      firstReturns,
      'the earlier returns kept as they were',
    );

    // not resuming: a new curve
    const fresh = await monitor({ episodes: 1, output });
    try {
      assert.equal(fresh.lifecycle.metrics!().episodes, 0);
      await fresh.episode(0, 1);
      await until('the new curve', () => rows().length === 1);
    } finally {
      await fresh.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
