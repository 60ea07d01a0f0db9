import { test } from 'node:test';
import assert from 'node:assert/strict';
import definition from '../../nodes/teleop.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { SteppedClock } from '../../framework/time/clock.js';
import { nsToTime } from '../../framework/time/time.js';
import { defineParams } from '../../src/util/param_schema.js';
import { LOG_LEVELS, type LogLevel } from '../../src/util/log.js';
import { QOS_EPISODE_EVENTS } from '../../framework/transport/qos.js';
import { EpisodeEventKind, type EpisodeEvent } from '../../framework/msgs/types.js';
import { GAMEPAD_LAYOUTS } from '../../src/control/teleop/gamepad.js';

// The teleop node on the embedded transport with a stepped clock, its source sensor_msgs/Joy on
// /joy: the joint states in, forward position commands out on the controller's topic, the e-stop
// latched from /emergency_stop, nothing non-finite on the command topic, episode buttons as
// EpisodeEvents, and the stop action when deactivated.

const PERIOD = 10_000_000n;
const JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];
const HOME = [0, -0.3, 1.9, 1.2, 0, 0];
const SDL = GAMEPAD_LAYOUTS.sdl;

async function start(values: Record<string, unknown> = {}) {
  const clock = new SteppedClock('ros', true);
  const transport = new EmbeddedTransport({ checkMessages: true, rosClock: clock });
  const handle = await transport.createNode({
    name: 'teleop',
    parameters: definition.parameters,
    parameterSources: [
      {
        origin: 'test',
        values: { source: 'joy_topic', joy_timeout_s: 0, 'safety.rate_limits': [1, 1, 1, 1, 1, 1], ...values },
        strict: true,
      },
    ],
  });
  const logs: { level: LogLevel; message: string }[] = [];
  for (const level of LOG_LEVELS) handle.logger[level] = (message: string) => void logs.push({ level, message });
  let lifecycle: Awaited<ReturnType<typeof definition.configure>>;
  try {
    lifecycle = await definition.configure(handle, handle.params);
  } catch (err) {
    handle.destroy();
    await transport.shutdown();
    throw err;
  }
  const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
  const states = probe.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
  const joys = probe.createPublisher('sensor_msgs/msg/Joy', '/joy');
  const estop = probe.createPublisher('std_msgs/msg/Bool', '/emergency_stop');
  const reset = probe.createPublisher('std_msgs/msg/Empty', '/teleop/reset_estop');
  const commands: number[][] = [];
  const events: EpisodeEvent[] = [];
  const all = { qos: { history: 'keep_all' as const } };
  probe.createSubscription(
    'std_msgs/msg/Float64MultiArray',
    'forward_command_controller/commands',
    (m) => commands.push(Array.from(m.data)),
    all,
  );
  probe.createSubscription('dynastack_msgs/msg/EpisodeEvent', 'episode', (m) => events.push(m), {
    qos: { ...QOS_EPISODE_EVENTS, history: 'keep_all' },
  });
  await lifecycle.activate?.();
  let k = 0;
  let active = true;
  return {
    commands,
    events,
    logs,
    lifecycle,
    /** the next tick: the state q stamped at it, then the clock set to it */
    async tick(q: readonly number[]) {
      k++;
      states.publish({
        header: { stamp: nsToTime(BigInt(k) * PERIOD), frame_id: '' },
        name: [...JOINTS],
        position: Float64Array.from(q),
        velocity: new Float64Array(6),
        effort: new Float64Array(0),
      });
      await transport.bus.idle();
      clock.set(BigInt(k) * PERIOD);
      await transport.bus.idle();
    },
    /** the clock to the next tick, no state */
    async advance() {
      k++;
      clock.set(BigInt(k) * PERIOD);
      await transport.bus.idle();
    },
    async joy(axes: Record<number, number>, pressed: number[]) {
      const a = new Float32Array(6);
      for (const [i, v] of Object.entries(axes)) a[Number(i)] = v;
      const b = new Int32Array(16);
      for (const i of pressed) b[i] = 1;
      joys.publish({ header: { stamp: nsToTime(BigInt(k) * PERIOD), frame_id: '' }, axes: a, buttons: b });
      await transport.bus.idle();
    },
    async estop() {
      estop.publish({ data: true });
      await transport.bus.idle();
    },
    async reset() {
      reset.publish({});
      await transport.bus.idle();
    },
    async deactivate() {
      await lifecycle.deactivate?.();
      active = false;
      await transport.bus.idle();
    },
    async close() {
      if (active) await lifecycle.deactivate?.();
      await lifecycle.cleanup?.();
      probe.destroy();
      handle.destroy();
      await transport.shutdown();
    },
  };
}

const finite = (rows: readonly number[][]): boolean => rows.every((u) => u.length === 6 && u.every(Number.isFinite));

test('teleop node: no command before a state; the deadman and a stick jog the selected joint; the follower holds otherwise', async () => {
  const t = await start();
  try {
    await t.advance();
    await t.advance();
    assert.equal(t.commands.length, 0, 'nothing measured: nothing sent');
    await t.tick(HOME);
    assert.deepEqual(t.commands.at(-1), HOME, 'holds where it is');
    // right stick pushed right (axis 2 negative) without the deadman: nothing moves
    await t.joy({ 2: -1 }, []);
    await t.tick(HOME);
    assert.deepEqual(t.commands.at(-1), HOME);
    await t.joy({ 2: -1 }, [SDL.deadman]);
    let q = [...HOME];
    for (let i = 0; i < 10; i++) {
      await t.tick(q);
      q = [...t.commands.at(-1)!];
    }
    // joint_speed 0.5 rad/s at speed 50 %: 2.5 mrad a tick
    assert.ok(Math.abs(q[0]! - 0.025) < 1e-9, `shoulder_pan after 10 ticks: ${q[0]}`);
    assert.deepEqual(q.slice(1), HOME.slice(1));
    assert.ok(finite(t.commands));
  } finally {
    await t.close();
  }
});

test('teleop node: the e-stop latches and holds until ~/reset_estop; NaN states and axes never reach the command topic', async () => {
  const t = await start();
  try {
    await t.tick(HOME);
    await t.joy({ 2: -1 }, [SDL.deadman]);
    let q = [...HOME];
    for (let i = 0; i < 5; i++) {
      await t.tick(q);
      q = [...t.commands.at(-1)!];
    }
    await t.estop();
    const latched = t.commands.length;
    for (let i = 0; i < 10; i++) await t.tick(q);
    const held = t.commands.slice(latched);
    assert.equal(held.length, 10);
    assert.ok(
      held.every((u) => JSON.stringify(u) === JSON.stringify(held[0])),
      'the same hold every tick',
    );
    assert.ok(t.logs.some((l) => l.level === 'error' && /EMERGENCY STOP latched/.test(l.message)));
    await t.reset();
    await t.tick(q);
    assert.ok(t.commands.at(-1)![0]! > held[0]![0]!, 'released, the jog moves on');
    // a NaN in the state and NaN axes: the commands stay finite
    await t.joy({ 2: Number.NaN, 1: Number.NaN }, [SDL.deadman]);
    await t.tick([Number.NaN, ...HOME.slice(1)]);
    await t.tick(q);
    assert.ok(finite(t.commands), JSON.stringify(t.commands.slice(-3)));
  } finally {
    await t.close();
  }
});

test('teleop node: episode buttons go out as EpisodeEvents; deactivated, it sends the stop action once', async () => {
  const t = await start({ first_episode: 2 });
  try {
    await t.tick(HOME);
    await t.joy({}, [SDL.start]);
    await t.tick(HOME);
    await t.joy({}, []);
    await t.joy({}, [SDL.end]);
    await t.tick(HOME);
    assert.deepEqual(
      t.events.map((e) => [e.event, e.episode, e.reason]),
      [
        [EpisodeEventKind.START, 2, ''],
        [EpisodeEventKind.END, 2, 'exit_early'],
      ],
    );
    const before = t.commands.length;
    await t.deactivate();
    assert.equal(t.commands.length, before + 1);
    assert.deepEqual(t.commands.at(-1), HOME);
    await t.tick(HOME);
    assert.equal(t.commands.length, before + 1, 'inactive: nothing more');
  } finally {
    await t.close();
  }
});

test('teleop node: a bad parameter is one clear configure error', async () => {
  await assert.rejects(start({ max_relative_target: [0.1, 0.1] }), /max_relative_target: 2 values for 6 joints/);
  await assert.rejects(start({ source: 'leader' }), /leader\.robot_config/);
});
