import { defineNode } from '../framework/runtime/node_definition.js';
import { subscribeEstop } from './estop.js';
import { defineParams } from '../src/util/param_schema.js';
import { nsToTime, periodNsFromHz, secondsToNs } from '../framework/time/time.js';
import type { Timer } from '../framework/time/clock.js';
import { QOS_EPISODE_EVENTS } from '../framework/transport/qos.js';
import { EpisodeEventKind, type JointState } from '../framework/msgs/types.js';
import { jointStateFields, type JointStateFields } from '../framework/msgs/joint_state.js';
import { stampedCommand } from '../framework/msgs/stamped_command.js';
import { packagePath } from '../src/util/paths.js';
import { Throttle } from '../src/util/log.js';
import { MujocoSim } from '../sim/mujoco/sim.js';
import { SafetyLayer, type SafetyState } from '../src/control/safety.js';
import { SAFETY_PARAMETERS, actuatedJoints, safetyLimits } from '../src/control/safety_limits.js';
import { StateInput } from '../src/control/state_input.js';
import { EndEffectorJog, simKinematics, type JogJoint } from '../src/control/teleop/jog.js';
import { KeyDecoder } from '../src/control/teleop/key_decoder.js';
import { KeyboardTeleop, keyboardHelp } from '../src/control/teleop/keyboard.js';
import {
  GAMEPAD_LAYOUT_NAMES,
  GamepadTeleop,
  gamepadMapping,
  type GamepadLayout,
  type JoyState,
} from '../src/control/teleop/gamepad.js';
import { JogSource, type TeleopSource } from '../src/control/teleop/teleop_source.js';
import { RelativeTargetClip } from '../src/control/teleop/relative_target.js';
import { TeleopStage } from '../src/control/teleop/teleop_stage.js';
import { EpisodeControl } from '../src/control/teleop/episode_control.js';
import { JoystickDevice } from '../hw/input/joystick_device.js';
import { TerminalKeys } from '../hw/input/terminal_keys.js';
import { LEADER_PARAMETERS, openLeader, type LeaderInput } from './teleop_leader.js';

// Teleoperation of a position-controlled arm: joint position targets from the keyboard (jog a
// joint or the end effector), a gamepad read from /dev/input/jsN, sensor_msgs/Joy on a topic (ROS
// joy's joy_node or game_controller_node), or a leader arm, at rate_hz, through the teleop stage
// (src/control/teleop/teleop_stage.ts: each target clipped to lead the measured position by at most
// max_relative_target, then the safety layer of the controller: joint limits from the MJCF model,
// safety.* velocity and rate limits, the e-stop, the stale-state watchdog). Commands go out as the
// controller's do, std_msgs/Float64MultiArray forward commands in the model's actuator order on
// command_topic (command interface position), which hw_bridge and sim_bridge take. The e-stop topic
// latches the e-stop (~/reset_estop releases it). Episode keys and buttons (LeRobot's: → end early,
// ← re-record, Esc stop recording; Enter start, Backspace discard) go out as
// dynastack_msgs/EpisodeEvent on episode_topic, as the sim bridge declares episodes. No command goes
// out before the first state; deactivated, it sends the stop action (hold the measured position)
// once. Keyboard: the process's terminal in raw mode (restored on exit); Ctrl-C stops the run.

const parameters = defineParams({
  source: {
    type: 'string',
    default: 'keyboard',
    choices: ['keyboard', 'gamepad', 'joy_topic', 'leader'],
    description:
      'where targets come from: the terminal (keyboard), a joystick device (gamepad.device), sensor_msgs/Joy on joy_topic, or a leader arm (leader.*)',
  },
  model: {
    type: 'string',
    default: 'sim/models/so_arm_position.xml',
    nonEmpty: true,
    description:
      "MJCF model of the follower, as the controller's: its actuated joints are the command's, their ranges the joint limits",
  },
  rate_hz: { type: 'double', default: 100, range: [1, 2000], description: 'command rate' },
  state_topic: {
    type: 'string',
    default: 'joint_states',
    nonEmpty: true,
    description: 'the measured joint state (of state_type)',
  },
  state_type: {
    type: 'string',
    default: 'sensor_msgs/msg/JointState',
    choices: ['sensor_msgs/msg/JointState', 'dynastack_msgs/msg/JointStateEstimate'],
    description: 'the message type of state_topic (a bridge: JointState; the state estimator: JointStateEstimate)',
  },
  command_topic: {
    type: 'string',
    default: 'forward_command_controller/commands',
    nonEmpty: true,
    description: 'std_msgs/Float64MultiArray position commands, one value per actuator',
  },
  stamped_command_topic: {
    type: 'string',
    default: '',
    description: "also publish each command as sensor_msgs/JointState stamped with its tick (for a recorder); '': none",
  },
  estop_topic: {
    type: 'string',
    default: '/emergency_stop',
    nonEmpty: true,
    description: 'std_msgs/Bool: true latches the e-stop (released only by ~/reset_estop)',
  },
  episode_topic: {
    type: 'string',
    default: 'episode',
    nonEmpty: true,
    description: "dynastack_msgs/EpisodeEvent: the operator's episode starts and ends",
  },
  first_episode: {
    type: 'integer',
    default: 0,
    range: [0, 1_000_000_000],
    description: 'the number of the first episode started',
  },
  max_relative_target: {
    type: 'double_array',
    default: [0.1],
    range: [0, 1e6],
    description:
      "LeRobot's max_relative_target: the most a target may lead the measured position per tick (rad or m), one for all joints or one per actuator; empty: no bound",
  },
  joint_speed: {
    type: 'double_array',
    default: [0.5],
    range: [0, 100],
    description: 'jog: rad/s (m/s) of a joint at full rate and speed 100 %, one for all or one per actuator',
  },
  ee_speed: {
    type: 'double',
    default: 0.05,
    range: [0, 10],
    description: 'jog: m/s of the end effector at full rate and speed 100 %',
  },
  ee_site: {
    type: 'string',
    default: '',
    description: "jog: the model site end-effector jogs move (e.g. 'ee'); '': joint jog only",
  },
  ee_damping: {
    type: 'double',
    default: 0.05,
    range: [1e-6, 10],
    description: "end-effector jog: damped least squares' λ (m)",
  },
  key_hold_s: {
    type: 'double',
    default: 0.2,
    range: [0.01, 5],
    description:
      "keyboard: a jog key moves this long after its latest press (longer than the terminal's auto-repeat interval)",
  },
  'gamepad.device': {
    type: 'string',
    default: '/dev/input/js0',
    nonEmpty: true,
    description: 'source gamepad: the Linux joystick device',
  },
  'gamepad.layout': {
    type: 'string',
    default: '',
    choices: ['', ...GAMEPAD_LAYOUT_NAMES],
    description:
      "button and axis order: 'sdl' (ROS 2 joy's game_controller_node, Xbox and PlayStation alike), 'xpad' (an Xbox pad on /dev/input/jsN); '': xpad for gamepad, sdl for joy_topic",
  },
  'gamepad.buttons': {
    type: 'integer_array',
    default: [],
    range: [-1, 1000],
    description:
      "button indices replacing the layout's, in the order deadman, previous joint, next joint, speed down, speed up, start, end, re-record, discard, stop (-1: none); empty: the layout's",
  },
  'gamepad.axes': {
    type: 'integer_array',
    default: [],
    range: [-1, 1000],
    description:
      "axis indices replacing the layout's, in the order x, y, z, selected joint (-1: none); empty: the layout's",
  },
  'gamepad.axis_scales': {
    type: 'double_array',
    default: [],
    range: [-1e3, 1e3],
    description: "factors of the axes (x, y, z, joint; -1 flips one); empty: the layout's",
  },
  'gamepad.deadzone': {
    type: 'double',
    default: 0.1,
    range: [0, 0.95],
    description: 'sticks closer than this to centre read 0',
  },
  joy_topic: {
    type: 'string',
    default: '/joy',
    nonEmpty: true,
    description: 'source joy_topic: sensor_msgs/Joy input',
  },
  joy_timeout_s: {
    type: 'double',
    default: 0.5,
    range: [0, 60],
    description:
      "source joy_topic: with no Joy message for this long nothing moves (joy_node's autorepeat_rate resends a held state); 0: no limit",
  },
  ...LEADER_PARAMETERS,
  ...SAFETY_PARAMETERS,
});

export default defineNode({
  name: 'teleop',
  description:
    'teleoperation of a position-controlled arm from the keyboard, a gamepad, /joy or a leader arm, through max_relative_target and the safety layer',
  parameters,
  // a terminal in raw mode and device reads belong to the main thread
  thread: 'main',
  async configure(node, p) {
    const sim = await MujocoSim.fromFile(packagePath(p.model));
    const periodNs = periodNsFromHz(p.rate_hz);
    const steady = (): bigint => node.steadyClock.now();
    const say = (line: string): void => node.logger.info(line);
    const closers: (() => void | Promise<void>)[] = [() => sim.dispose()];
    // source leader: the arm read once per period, whose readings drive the tick
    let leaderInput: LeaderInput | undefined;
    const closeAll = async (): Promise<void> => {
      for (const close of closers.splice(0).reverse()) await close();
    };
    const actuated = actuatedJoints(sim.info);
    const names = actuated.map((j) => j.name);
    const jogJoints: JogJoint[] = actuated.map((j) => ({
      name: j.name,
      qposAdr: j.qposAdr,
      dofAdr: j.dofAdr,
      ...(j.limited && j.range ? { range: j.range } : {}),
    }));
    // a bad parameter fails configure in one line, with what was opened closed again
    let safety: SafetyLayer;
    let stage: TeleopStage;
    try {
      safety = new SafetyLayer(
        safetyLimits(sim.info, p, {
          commandInterface: 'position',
          periodNs,
          watchdogTimeoutNs: secondsToNs(p['safety.watchdog_timeout_s']),
        }),
      );
      const clip = new RelativeTargetClip(p.max_relative_target, names.length);
      stage = new TeleopStage(await buildSource(), safety, clip);
    } catch (err) {
      await closeAll();
      throw err;
    }
    const source = stage.source;

    async function buildSource(): Promise<TeleopSource> {
      const jog = (input: KeyboardTeleop | GamepadTeleop): JogSource => {
        const ee = p.ee_site
          ? new EndEffectorJog(simKinematics(sim), p.ee_site, jogJoints, sim.getQpos(), p.ee_damping)
          : undefined;
        return new JogSource(input, jogJoints, { jointSpeed: p.joint_speed, eeSpeed: p.ee_speed }, periodNs, ee);
      };
      switch (p.source) {
        case 'keyboard': {
          const keyboard = new KeyboardTeleop(names, p.ee_site !== '', {
            holdNs: secondsToNs(p.key_hold_s),
            now: steady,
          });
          const decoder = new KeyDecoder();
          const onKeys = (events: ReturnType<KeyDecoder['feed']>): void => {
            for (const event of events) {
              const outcome = keyboard.handle(event);
              if (outcome.say) say(outcome.say);
            }
            // raw mode turns Ctrl-C into a byte: it stops the run as the SIGINT it would have been
            if (keyboard.quit) process.kill(process.pid, 'SIGINT');
          };
          const keys = TerminalKeys.open({
            onBytes: (bytes) => onKeys(decoder.feed(bytes)),
            onQuiet: () => onKeys(decoder.flush()),
          });
          closers.push(() => keys.close());
          say(keyboardHelp(names, p.ee_site !== ''));
          return jog(keyboard);
        }
        case 'gamepad':
        case 'joy_topic': {
          const layout = (p['gamepad.layout'] || (p.source === 'gamepad' ? 'xpad' : 'sdl')) as GamepadLayout;
          const mapping = gamepadMapping(layout, p['gamepad.buttons'], p['gamepad.axes'], p['gamepad.axis_scales']);
          const timeoutNs = p.source === 'joy_topic' ? secondsToNs(p.joy_timeout_s) : 0n;
          const pad = new GamepadTeleop(p.source, names, mapping, {
            deadzone: p['gamepad.deadzone'],
            now: steady,
            timeoutNs,
          });
          const update = (state: JoyState): void => pad.update(state).say.forEach(say);
          if (p.source === 'joy_topic') node.createSubscription('sensor_msgs/msg/Joy', p.joy_topic, update);
          else {
            const device = JoystickDevice.open(p['gamepad.device'], {
              onState: update,
              onLost: () => pad.release(),
              logger: node.logger,
            });
            closers.push(() => device.close());
          }
          say(`${p.source} (${layout} layout): hold button ${mapping.deadman} to move`);
          return jog(pad);
        }
        default: {
          const leader = await openLeader(p, names, node.logger, steady, periodNs);
          closers.push(() => leader.close());
          leaderInput = leader;
          return leader.source;
        }
      }
    }

    const input = new StateInput(
      sim.info.joints,
      actuated.map((j) => j.dofAdr),
      sim.info.nv,
    );
    const throttle = new Throttle(2000);
    let state: SafetyState | undefined;
    const onState = (m: JointStateFields): void => {
      const reading = input.read(m.names, m.position, m.velocity, m.stampNs);
      if ('missing' in reading) {
        if (throttle.allow('joints'))
          node.logger.error(
            `state on ${p.state_topic} lacks joints ${reading.missing.join(', ')}: no command until it has every model joint`,
          );
        return;
      }
      state = reading.state;
    };
    if (p.state_type === 'sensor_msgs/msg/JointState')
      node.createSubscription('sensor_msgs/msg/JointState', p.state_topic, (m) => onState(jointStateFields(m)));
    else
      node.createSubscription('dynastack_msgs/msg/JointStateEstimate', p.state_topic, (m) =>
        onState(jointStateFields(m)),
      );
    subscribeEstop(node, safety, p.estop_topic);

    const commands = node.createPublisher('std_msgs/msg/Float64MultiArray', p.command_topic);
    const stampedCommands = p.stamped_command_topic
      ? node.createPublisher('sensor_msgs/msg/JointState', p.stamped_command_topic)
      : undefined;
    const episodes = node.createPublisher('dynastack_msgs/msg/EpisodeEvent', p.episode_topic, QOS_EPISODE_EVENTS);
    const episodeControl = new EpisodeControl(p.first_episode);
    const layout = { dim: [{ label: 'actuators', size: names.length, stride: names.length }], data_offset: 0 };
    let published = 0;
    let clippedTicks = 0;
    let active = false;
    let saidNoState = false;

    const publish = (tickNs: bigint, u: Float64Array): void => {
      commands.publish({ layout, data: Float64Array.from(u) });
      const stamped: JointState | undefined = stampedCommands && stampedCommand(tickNs, names, 'position', u);
      if (stamped) stampedCommands?.publish(stamped);
      published++;
    };
    const tick = (): void => {
      if (!active) return;
      const nowNs = node.clock.now();
      for (const command of source.takeEpisodeCommands?.() ?? []) {
        const outcome = episodeControl.apply(command);
        for (const b of outcome.boundaries)
          episodes.publish({
            header: { stamp: nsToTime(nowNs), frame_id: '' },
            episode: b.episode,
            event: b.kind === 'start' ? EpisodeEventKind.START : EpisodeEventKind.END,
            reason: b.reason,
          });
        say(outcome.say);
      }
      if (state === undefined) {
        if (!saidNoState) say(`no state on ${p.state_topic} yet: no command until the first one`);
        saidNoState = true;
        return;
      }
      const t = stage.tick(nowNs, state);
      if (t.clipped) {
        clippedTicks++;
        if (throttle.allow('clip'))
          node.logger.warn(
            `target ${t.clipped === 1 ? 'of 1 joint' : `of ${t.clipped} joints`} clipped by max_relative_target`,
          );
      }
      if (!t.verdict.ok && throttle.allow('verdict')) node.logger.warn(`safety: ${t.verdict.detail}`);
      if (t.publish) publish(nowNs, t.command);
    };

    let timer: Timer | undefined;
    return {
      activate: () => {
        active = true;
        // a leader is read once per period and each reading is ticked at once; other sources on a timer
        if (leaderInput) leaderInput.onRead = tick;
        else timer = node.createTimer(periodNs, tick);
      },
      deactivate: () => {
        if (active) {
          const nowNs = node.clock.now();
          const stop = stage.stop(nowNs);
          if (stop.publish) {
            publish(nowNs, stop.command);
            say('deactivated: sent the stop action (hold the measured position)');
          } else node.logger.warn('deactivated without a stop action: no position has been measured yet');
        }
        active = false;
        if (leaderInput) leaderInput.onRead = undefined;
        timer?.cancel();
      },
      cleanup: closeAll,
      summary: () =>
        `${source.kind} teleop: ${published} commands, ${clippedTicks} ticks clipped by max_relative_target${safety.estopped ? `, e-stopped (${safety.estopReason})` : ''}`,
      metrics: () => ({
        commands_published: published,
        ticks_clipped: clippedTicks,
        estopped: safety.estopped,
        ...Object.fromEntries(Object.entries(safety.counters()).map(([k, v]) => [`safety_${k}`, v])),
      }),
    };
  },
});
