import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import definition from '../../nodes/dynamics_learner.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { defineParams } from '../../src/util/param_schema.js';
import { SteppedClock } from '../../framework/time/clock.js';
import { nsToTime } from '../../framework/time/time.js';
import { QOS_EPISODE_EVENTS } from '../../framework/transport/qos.js';
import { ReplayBuffer } from '../../src/data/replay_buffer.js';
import { stampedCommand } from '../../framework/msgs/stamped_command.js';
import { EpisodeEventKind } from '../../framework/msgs/types.js';
import { Rng } from '../../src/util/random.js';

// The learner's transitions do not depend on the order in which its process handles the state, the
// command and the episode topics. Under `ros2 launch` each node is a process: DDS keeps each
// publisher's messages in order, but the command of tick k can be handled after the state of tick
// k+1 (and after /clock has moved on), or before the state it answers; the learner paired the
// command it had when a state came, stamped with its clock, and built other transitions than in one
// process (a PETS run under ros2 launch learned another model from episode 1 on). Here the same
// lockstep run — two episodes, each state answered by a command stamped with its tick, as the
// controller's stamped_command_topic publishes them — is handed to the learner in the order one
// process gives and in orders DDS may give; the saved buffers must be the same, transition for
// transition. Topics: the config's (controller/commands_stamped, sensor_msgs/JointState).

const PERIOD = 50_000_000n;
const TICKS = 40;
/** the second episode's first tick: two periods of dead time after the first's last (as the sim bridge) */
const SECOND = TICKS + 2;

type Message =
  | { readonly topic: 'state'; readonly k: number }
  | { readonly topic: 'command'; readonly k: number }
  | { readonly topic: 'episode'; readonly event: number; readonly k: number; readonly episode: number };

/** The messages of the run in the order they are published: START, then per tick its state and its command, END. */
function published(): Message[] {
  const out: Message[] = [];
  for (const [episode, k0] of [0, SECOND].entries()) {
    out.push({ topic: 'episode', event: EpisodeEventKind.START, k: k0, episode });
    for (let k = k0; k < k0 + TICKS; k++) out.push({ topic: 'state', k }, { topic: 'command', k });
    out.push({ topic: 'episode', event: EpisodeEventKind.END, k: k0 + TICKS - 1, episode });
  }
  return out;
}

/** One order a reader may handle them in: each topic's messages in order, the topics interleaved by `pick`. */
function interleaved(pick: (heads: Message[]) => number): Message[] {
  const queues = (['state', 'command', 'episode'] as const).map((topic) =>
    published().filter((m) => m.topic === topic),
  );
  const out: Message[] = [];
  while (queues.some((q) => q.length)) {
    const ready = queues.filter((q) => q.length);
    out.push(ready[pick(ready.map((q) => q[0]!))]!.shift()!);
  }
  return out;
}

/** The learner, handed `messages` in that order (the clock at the newest state handled), to cleanup: its saved buffer. */
async function learnFrom(messages: readonly Message[], dir: string, name: string): Promise<ReplayBuffer> {
  const bufferFile = join(dir, `${name}.bin`);
  const clock = new SteppedClock('ros', true);
  const transport = new EmbeddedTransport({ checkMessages: true, rosClock: clock });
  try {
    const handle = await transport.createNode({
      name: 'dynamics_learner',
      parameters: definition.parameters,
      parameterSources: [
        {
          origin: 'test',
          values: {
            use_sim_time: true,
            rate_hz: 20,
            joints: ['cart', 'hinge'],
            angle_joints: ['hinge'],
            command_topic: 'controller/commands_stamped',
            command_type: 'sensor_msgs/msg/JointState',
            retrain_on: 'episode',
            min_transitions: 10_000, // no training: the data is what is compared
            buffer_file: bufferFile,
            resume: false,
          },
          strict: true,
        },
      ],
    });
    const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
    const states = probe.createPublisher('dynastack_msgs/msg/JointStateEstimate', 'estimated_joint_states');
    const commands = probe.createPublisher('sensor_msgs/msg/JointState', 'controller/commands_stamped');
    const events = probe.createPublisher('dynastack_msgs/msg/EpisodeEvent', 'episode', QOS_EPISODE_EVENTS);
    const lifecycle = await definition.configure(handle, handle.params);
    await lifecycle.activate?.();
    let newest = 0n;
    for (const m of messages) {
      const t = BigInt(m.k) * PERIOD;
      if (m.topic === 'state') {
        // a clock that is at least at the newest state (under ROS 2 it is often ahead of the commands)
        if (t > newest) clock.set((newest = t));
        states.publish({
          state: {
            header: { stamp: nsToTime(t), frame_id: '' },
            name: ['cart', 'hinge'],
            position: [Math.sin(0.1 * m.k), 0.3 * m.k],
            velocity: [Math.cos(0.1 * m.k), 0.3],
            effort: [],
          },
          covariance: [],
        });
      } else if (m.topic === 'command') commands.publish(stampedCommand(t, ['cart'], 'effort', [m.k + 0.5]));
      else
        events.publish({
          header: { stamp: nsToTime(t), frame_id: '' },
          episode: m.episode,
          event: m.event,
          reason: m.event === EpisodeEventKind.END ? 'length' : '',
        });
      await transport.bus.idle();
    }
    await lifecycle.deactivate?.();
    await lifecycle.cleanup?.();
  } finally {
    await transport.shutdown();
  }
  return ReplayBuffer.load(bufferFile);
}

test('learner: the same transitions whatever order the state, command and episode topics are handled in', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'learner-order-'));
  try {
    const inOrder = (await learnFrom(published(), dir, 'in-order')).toTransitionData();
    // every transition of both episodes, each with the command of its first state's tick
    assert.equal(inOrder.n, 2 * (TICKS - 1));
    for (let i = 0; i < inOrder.n; i++) {
      const k = i < TICKS - 1 ? i : SECOND + i - (TICKS - 1);
      assert.equal(inOrder.actions[i], k + 0.5, `transition ${i}: the command of tick ${k}`);
    }
    const rng = new Rng(11);
    const orders: Record<string, Message[]> = {
      // each command after the next tick's state: the controller's process answers later than the
      // estimator's next state reaches the learner (the order of the ros2 launch run)
      'commands a tick late': interleaved((heads) => {
        const state = heads.findIndex((m) => m.topic === 'state');
        const command = heads.findIndex((m) => m.topic === 'command');
        if (state >= 0 && command >= 0 && heads[state]!.k <= heads[command]!.k + 1) return state;
        return command >= 0 ? command : 0;
      }),
      // commands before the states they answer, episode events last of all
      'commands first, events last': interleaved((heads) => {
        const command = heads.findIndex((m) => m.topic === 'command');
        if (command >= 0) return command;
        const state = heads.findIndex((m) => m.topic === 'state');
        return state >= 0 ? state : 0;
      }),
      // the states of a whole episode before its commands
      'states first': interleaved((heads) => {
        const state = heads.findIndex((m) => m.topic === 'state');
        return state >= 0 ? state : 0;
      }),
      'random interleaving': interleaved((heads) => Math.floor(rng.uniform() * heads.length)),
    };
    for (const [name, order] of Object.entries(orders)) {
      const got = (await learnFrom(order, dir, name.replace(/ /g, '-'))).toTransitionData();
      assert.equal(got.n, inOrder.n, `${name}: ${got.n} transitions, ${inOrder.n} in order`);
      for (const key of ['states', 'actions', 'nextStates'] as const)
        assert.deepEqual(Array.from(got[key]), Array.from(inOrder[key]), `${name}: the ${key} differ`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
