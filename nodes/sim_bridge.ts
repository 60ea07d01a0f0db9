import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams, type ParamValues } from '../src/util/param_schema.js';
import { QOS_CLOCK_PUBLISHER, QOS_EPISODE_EVENTS } from '../framework/transport/qos.js';
import { nsToTime, periodNsFromHz, secondsToNs } from '../framework/time/time.js';
import { packagePath } from '../src/util/paths.js';
import { Throttle } from '../src/util/log.js';
import type { Timer } from '../framework/time/clock.js';
import { EpisodeEventKind, type EpisodeEvent, type JointState, type PoseStamped } from '../framework/msgs/types.js';
import { diagnosticArray } from '../framework/msgs/diagnostics.js';
import { MujocoSim } from '../sim/mujoco/sim.js';
import {
  SimulatedRobot,
  type EpisodeMark,
  type PoseSample,
  type SimulatedRobotConfig,
} from '../sim/robot/simulated_robot.js';
import type { JointSample } from '../sim/robot/sensor.js';
import { Lockstep, realtimeTick, type SteppingHooks } from '../sim/robot/lockstep.js';
import { CommandSourceWait } from '../sim/robot/command_source.js';
import { SimRun } from '../sim/robot/sim_run.js';
import {
  simFigures,
  simFinalSummary,
  simHealth,
  simMetrics,
  simProgress,
  simSummary,
} from '../sim/robot/sim_report.js';
import { rotationToQuaternion } from '../src/util/rotation.js';

// The MuJoCo simulation as a robot on the graph: /joint_states and /clock out, ros2_control-style
// commands in. Lockstep: publish the state of tick k, wait for that tick's command (or a
// timeout), step — deterministic and as fast as the graph can go. Real time: step on a wall timer
// (sim/robot/lockstep.ts). Episodes are declared on `episode` (dynastack_msgs/EpisodeEvent): START
// of episode 0 at activation, END then START at every reset (by episode_length_s or ~/reset), each
// before the new episode's first state, and END "shutdown" when the run reaches max_sim_time_s.
// Start-up across processes (ros2 launch): in both modes the sim is held at activation until its
// command source is there (a subscriber of joint_states and a publisher on command_topic,
// sim/robot/command_source.ts), said once when it waits and once when it starts; in lockstep a tick
// not answered before the first command is published again (the same messages) every
// resend_period_s under ROS 2, as DDS may drop what goes out before both ends have discovered each
// other (the embedded transport loses nothing, and a re-sent state answered twice would shift every
// later command by one tick, so it never re-sends there); in
// real time the robot is then held (its clock runs, its physics does not) until the first command.

const parameters = defineParams({
  model: {
    type: 'string',
    default: 'sim/models/cartpole.xml',
    nonEmpty: true,
    description: 'MJCF file, absolute or relative to the package root',
  },
  mode: {
    type: 'string',
    default: 'lockstep',
    choices: ['lockstep', 'realtime'],
    description: "lockstep: wait for each tick's command; realtime: step on the wall clock",
  },
  rate_hz: {
    type: 'double',
    default: 100,
    range: [1, 2000],
    description: 'control rate: state published and a command taken every period (a whole number of physics steps)',
  },
  joints: {
    type: 'string_array',
    default: [],
    description: 'joints in /joint_states (empty: every hinge and slide joint, in model order)',
  },
  command_joints: {
    type: 'string_array',
    default: [],
    description: 'joints the command vector drives, in order (empty: the actuated joints, in actuator order)',
  },
  command_topic: {
    type: 'string',
    default: 'forward_command_controller/commands',
    nonEmpty: true,
    description: 'std_msgs/Float64MultiArray commands, one value per command joint',
  },
  command_interface: {
    type: 'string',
    default: 'effort',
    choices: ['effort', 'position'],
    description: "what a command value is (it must match the model's actuators: motor or position)",
  },
  position_noise: {
    type: 'double',
    default: 0,
    range: [0, 1],
    description: 'standard deviation of joint position noise (rad or m)',
  },
  velocity_noise: {
    type: 'double',
    default: 0,
    range: [0, 100],
    description: 'standard deviation of joint velocity noise (rad/s or m/s)',
  },
  latency_steps: {
    type: 'integer',
    default: 0,
    range: [0, 100],
    description: 'control periods between measuring and publishing a state',
  },
  seed: {
    type: 'integer',
    default: 1,
    range: [0, 2147483647],
    description: 'seed of every random draw (noise, pushes, initial states)',
  },
  episode_length_s: {
    type: 'double',
    default: 0,
    range: [0, 1e6],
    description:
      'episode length in sim time; at the end the sim resets, and says so on `episode` (0: one endless episode)',
  },
  reset_keyframe: {
    type: 'string',
    default: '',
    description: "keyframe an episode starts from (empty: the model's default state)",
  },
  initial_offsets: {
    type: 'double_array',
    default: [],
    description: "added to each joint's keyframe position at reset, in joints order (empty: none)",
  },
  progress_period_s: {
    type: 'double',
    default: 2,
    range: [0, 1e6],
    description: 'log progress every this much sim time (0: never)',
  },
  initial_position_noise: {
    type: 'double',
    default: 0,
    range: [0, 10],
    description: 'standard deviation added to each joint position at reset',
  },
  push_period_s: {
    type: 'double',
    default: 0,
    range: [0, 1e6],
    description: 'a horizontal push every this many seconds of sim time (0: none)',
  },
  push_duration_s: { type: 'double', default: 0.1, range: [0, 10], description: 'how long each push lasts' },
  push_force: { type: 'double', default: 0, range: [0, 1e4], description: 'push force (N), direction drawn per push' },
  push_body: { type: 'string', default: '', description: 'the body pushed' },
  max_sim_time_s: {
    type: 'double',
    default: 0,
    range: [0, 1e7],
    description: 'stop after this much sim time and report the run finished (0: run until stopped)',
  },
  lockstep_timeout_s: {
    type: 'double',
    default: 1,
    range: [0.001, 3600],
    description: "lockstep: wall time to wait for a tick's command before stepping with the last one",
  },
  wait_for_command_source: {
    type: 'bool',
    default: true,
    description:
      'hold the sim at activation until a subscriber of joint_states and a publisher on command_topic are matched (false: start at once, e.g. with no controller)',
  },
  min_state_subscribers: {
    type: 'integer',
    default: 1,
    range: [1, 1000],
    description:
      'with wait_for_command_source: hold until at least this many subscribers of joint_states are matched (a launch whose every state counts, e.g. an episode monitor in a process of its own, names its state consumers here)',
  },
  command_source_timeout_s: {
    type: 'double',
    default: 0,
    range: [0, 1e6],
    description:
      'wall time to hold for the command source before starting without it (0: hold until it comes, saying so every 10 s)',
  },
  resend_period_s: {
    type: 'double',
    default: 1,
    range: [0, 3600],
    description:
      "lockstep under ROS 2, until the first command of the run: publish a waiting tick's state and /clock again this often, as DDS may lose what goes out during discovery (0: never; the embedded transport never needs it)",
  },
  ee_site: { type: 'string', default: '', description: 'site whose pose is published on ee_pose (empty: none)' },
  frame_id: { type: 'string', default: 'world', description: 'frame of published poses' },
});

export default defineNode({
  name: 'sim_bridge',
  description: 'MuJoCo (WebAssembly) simulation: publishes /joint_states and /clock, takes ros2_control-style commands',
  parameters,
  async configure(node, p) {
    const sim = await MujocoSim.fromFile(packagePath(p.model));
    const robot = new SimulatedRobot(sim, robotConfig(sim, p));
    const joints = robot.config.joints;
    const jointStates = node.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
    const clock = node.createPublisher('rosgraph_msgs/msg/Clock', '/clock', QOS_CLOCK_PUBLISHER);
    const eePose = p.ee_site ? node.createPublisher('geometry_msgs/msg/PoseStamped', 'ee_pose') : undefined;
    // transient local: a node that starts after this one still gets the START of the episode under way
    const episodes = node.createPublisher('dynastack_msgs/msg/EpisodeEvent', 'episode', QOS_EPISODE_EVENTS);
    const diagnostics = node.createPublisher('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics');
    const throttle = new Throttle(2000);
    const run = new SimRun({ maxSimNs: secondsToNs(p.max_sim_time_s), progressNs: secondsToNs(p.progress_period_s) });
    let timer: Timer | undefined;
    let diagTimer: Timer | undefined;
    let startPublished = false;

    // the messages of the newest tick, kept so that lockstep can publish them again unchanged
    let last: { clock: { clock: ReturnType<typeof nsToTime> }; state?: JointState; pose?: PoseStamped } | undefined;
    function publishState(): void {
      const now = robot.timeNs;
      const sample = robot.sample();
      last = {
        clock: { clock: nsToTime(now) },
        ...(sample ? { state: jointStateMessage(sample, joints) } : {}),
        ...(eePose ? { pose: poseMessage(robot.sitePose(p.ee_site), now, p.frame_id) } : {}),
      };
      republishState();
    }
    function republishState(): void {
      if (!last) return;
      clock.publish(last.clock);
      if (last.state) jointStates.publish(last.state);
      if (last.pose) eePose?.publish(last.pose);
    }
    function publishEpisode(mark: EpisodeMark, event: number): void {
      episodes.publish(episodeEvent(mark, event));
    }
    function advance(): void {
      const boundary = robot.advance();
      if (!boundary) return;
      publishEpisode(boundary.end, EpisodeEventKind.END);
      publishEpisode(boundary.start, EpisodeEventKind.START);
    }
    function done(): boolean {
      const { progress, finished } = run.afterTick(robot.timeNs);
      if (progress) node.logger.info(simProgress(figures()));
      if (!finished) return false;
      timer?.cancel();
      publishEpisode(robot.episodeEnd('shutdown'), EpisodeEventKind.END);
      run.finish(() => simSummary(figures()));
      return true;
    }
    const hooks: SteppingHooks = { publishState, republishState, advance, done };
    // real time: held (time runs, the physics does not) from the start until the first command
    let holding = p.mode === 'realtime' && p.wait_for_command_source;
    const commands = node.createSubscription('std_msgs/msg/Float64MultiArray', p.command_topic, (msg) => {
      const problem = robot.command(msg.data);
      if (!problem) {
        if (holding) {
          holding = false;
          run.start(robot.timeNs);
          node.logger.info(`first command at sim time ${Number(robot.timeNs) / 1e9} s: the sim runs`);
        }
        lockstep.commandArrived();
        return;
      }
      // as ros2_control's forward controllers do, a bad command is dropped (here, with a throttled warning)
      if (throttle.allow('command'))
        node.logger.warn(`command rejected (${robot.commandsRejected} so far): ${problem}`);
    });
    const source = p.wait_for_command_source
      ? new CommandSourceWait(
          {
            stateTopic: jointStates.topic,
            commandTopic: commands.topic,
            stateSubscribers: () => jointStates.subscriptionCount(),
            minStateSubscribers: p.min_state_subscribers,
            commandPublishers: () => commands.publisherCount(),
          },
          {
            pollMs: 20,
            reportMs: 10_000,
            limitMs: p.command_source_timeout_s * 1000,
            holding: 'the sim paused',
            log: (level, line) => node.logger[level](line),
          },
        )
      : undefined;
    const lockstep = new Lockstep(hooks, {
      source,
      // nothing sent to a matched endpoint is lost on the embedded transport: re-sending is for DDS
      resendMs: node.transportKind === 'ros2' ? p.resend_period_s * 1000 : 0,
      onResend: (resends) => {
        if (resends === 1)
          node.logger.warn(
            `no command yet for the tick at sim time ${Number(robot.timeNs) / 1e9} s: publishing its state and /clock again every ${p.resend_period_s} s until the first command comes (said once)`,
          );
      },
      timeoutMs: p.lockstep_timeout_s * 1000,
      onTimeout: (timeouts) => {
        if (throttle.allow('timeout'))
          node.logger.warn(
            `no command within ${p.lockstep_timeout_s} s at sim time ${Number(robot.timeNs) / 1e9} s; stepping with the last one (${timeouts} timeouts)`,
          );
      },
    });
    const figures = () => simFigures(robot, run, lockstep.timeouts);
    const publishDiagnostics = (): void => {
      const about = { name: `${node.fullyQualifiedName}: simulation`, mode: p.mode, model: p.model };
      diagnostics.publish(diagnosticArray(robot.timeNs, [simHealth(figures(), about)]));
    };

    node.createSubscription('std_msgs/msg/Empty', '~/reset', () => robot.requestReset());

    let final: { metrics: ReturnType<typeof simMetrics>; summary: string } | undefined;
    return {
      activate: () => {
        run.start(robot.timeNs);
        // episode 0 is declared once, before its first state
        if (!startPublished) publishEpisode(robot.episodeStart(), EpisodeEventKind.START);
        startPublished = true;
        if (p.mode === 'lockstep')
          void lockstep
            .run()
            .catch((err: unknown) => node.logger.error(`lockstep loop failed: ${(err as Error).stack ?? String(err)}`));
        else {
          // until the first command the robot is held: its clock runs (a controller on /clock ticks)
          // and its state is published at the rate, but the physics stands still, so nothing falls
          // while the controller's process finds its state
          const tick = (): void => {
            if (!holding) realtimeTick(hooks);
            else {
              robot.hold();
              publishState();
            }
          };
          const start = (): void => {
            publishState();
            timer = node.createTimer(robot.config.controlPeriodNs, tick, node.steadyClock);
          };
          // real time: the sim stays paused until the controller is there (it would fall meanwhile)
          if (!source || source.present()) start();
          else
            void source.wait().then((outcome) => {
              if (outcome !== 'stopped') start();
            });
        }
        diagTimer = node.createTimer(1_000_000_000n, publishDiagnostics, node.steadyClock);
      },
      deactivate: () => {
        run.stop();
        lockstep.stop();
        source?.stop();
        timer?.cancel();
        diagTimer?.cancel();
      },
      cleanup: () => {
        // the figures need the sim: take them before it goes
        const f = figures();
        final = { metrics: simMetrics(f), summary: simFinalSummary(f, p.push_force) };
        sim.dispose();
      },
      finished: run.finished,
      summary: () => final?.summary ?? simFinalSummary(figures(), p.push_force),
      metrics: () => final?.metrics ?? simMetrics(figures()),
    };
  },
});

type Params = ParamValues<typeof parameters>;

function jointStateMessage(sample: JointSample, joints: readonly string[]): JointState {
  return {
    header: { stamp: nsToTime(sample.stampNs), frame_id: '' },
    name: [...joints],
    position: sample.position,
    velocity: sample.velocity,
    effort: sample.effort,
  };
}

function poseMessage(pose: PoseSample, stampNs: bigint, frameId: string): PoseStamped {
  const [x, y, z] = pose.position;
  return {
    header: { stamp: nsToTime(stampNs), frame_id: frameId },
    pose: { position: { x: x!, y: y!, z: z! }, orientation: rotationToQuaternion(pose.rotation) },
  };
}

function episodeEvent(mark: EpisodeMark, event: number): EpisodeEvent {
  return { header: { stamp: nsToTime(mark.stampNs), frame_id: '' }, episode: mark.episode, event, reason: mark.reason };
}

/** The simulated robot from the parameters and the model: its joints default to the model's. */
function robotConfig(sim: MujocoSim, p: Params): SimulatedRobotConfig {
  const actuated = sim.info.actuators.flatMap((a) => (a.joint ? [a.joint] : []));
  return {
    joints: p.joints.length
      ? p.joints
      : sim.info.joints.filter((j) => j.type === 'hinge' || j.type === 'slide').map((j) => j.name),
    commandJoints: p.command_joints.length ? p.command_joints : actuated,
    commandInterface: p.command_interface as 'effort' | 'position',
    controlPeriodNs: periodNsFromHz(p.rate_hz),
    sensors: {
      positionNoise: p.position_noise,
      velocityNoise: p.velocity_noise,
      latencySteps: p.latency_steps,
      seed: p.seed,
    },
    pushes:
      p.push_force > 0
        ? {
            body: p.push_body,
            periodNs: secondsToNs(p.push_period_s),
            durationNs: secondsToNs(p.push_duration_s),
            force: p.push_force,
            seed: p.seed + 1,
          }
        : undefined,
    episodeLengthNs: secondsToNs(p.episode_length_s),
    resetKeyframe: p.reset_keyframe,
    initialOffsets: p.initial_offsets,
    initialPositionNoise: p.initial_position_noise,
    seed: p.seed + 2,
  };
}
