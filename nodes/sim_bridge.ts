import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams } from '../src/util/param_schema.js';
import { QOS_CLOCK_PUBLISHER } from '../framework/transport/qos.js';
import { nsToTime, periodNsFromHz, secondsToNs } from '../framework/time/time.js';
import { packagePath } from '../src/util/paths.js';
import { Throttle } from '../src/util/log.js';
import type { Timer } from '../framework/time/clock.js';
import { DiagnosticLevel } from '../framework/msgs/types.js';
import { MujocoSim } from '../sim/mujoco/sim.js';
import { SimulatedRobot } from '../sim/robot/simulated_robot.js';
import { rotationToQuaternion } from '../src/util/rotation.js';

// The MuJoCo simulation as a robot on the graph: /joint_states and /clock out, ros2_control-style
// commands in. Lockstep: publish the state of tick k, wait for that tick's command (or a
// timeout), step — deterministic and as fast as the graph can go. Real time: step on a wall timer.

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
    description: 'episode length in sim time; at the end the sim resets (0: one endless episode)',
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
  ee_site: { type: 'string', default: '', description: 'site whose pose is published on ee_pose (empty: none)' },
  frame_id: { type: 'string', default: 'world', description: 'frame of published poses' },
});

export default defineNode({
  name: 'sim_bridge',
  description: 'MuJoCo (WebAssembly) simulation: publishes /joint_states and /clock, takes ros2_control-style commands',
  parameters,
  async configure(node, p) {
    const sim = await MujocoSim.fromFile(packagePath(p.model));
    const actuated = sim.info.actuators.flatMap((a) => (a.joint ? [a.joint] : []));
    const joints = p.joints.length
      ? p.joints
      : sim.info.joints.filter((j) => j.type === 'hinge' || j.type === 'slide').map((j) => j.name);
    const periodNs = periodNsFromHz(p.rate_hz);
    const bridge = new SimulatedRobot(sim, {
      joints,
      commandJoints: p.command_joints.length ? p.command_joints : actuated,
      commandInterface: p.command_interface as 'effort' | 'position',
      controlPeriodNs: periodNs,
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
    });
    const jointStates = node.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
    const clock = node.createPublisher('rosgraph_msgs/msg/Clock', '/clock', QOS_CLOCK_PUBLISHER);
    const eePose = p.ee_site ? node.createPublisher('geometry_msgs/msg/PoseStamped', 'ee_pose') : undefined;
    const diagnostics = node.createPublisher('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics');
    const throttle = new Throttle(2000);
    const maxSimNs = secondsToNs(p.max_sim_time_s);
    let rejected = 0;
    let timeouts = 0;
    let commandArrived: (() => void) | undefined;

    node.createSubscription('std_msgs/msg/Float64MultiArray', p.command_topic, (msg) => {
      const problem = bridge.command(msg.data);
      if (problem) {
        rejected++;
        // as ros2_control's forward controllers do, a bad command is dropped (here, with a throttled warning)
        if (throttle.allow('command')) node.logger.warn(`command rejected (${rejected} so far): ${problem}`);
        return;
      }
      commandArrived?.();
    });
    node.createSubscription('std_msgs/msg/Empty', '~/reset', () => bridge.reset());

    const publishState = (): void => {
      const now = bridge.timeNs;
      clock.publish({ clock: nsToTime(now) });
      const sample = bridge.sample();
      if (sample) {
        jointStates.publish({
          header: { stamp: nsToTime(sample.stampNs), frame_id: '' },
          name: [...joints],
          position: sample.position,
          velocity: sample.velocity,
          effort: sample.effort,
        });
      }
      if (eePose) {
        const pose = bridge.sitePose(p.ee_site);
        const [x, y, z] = pose.position;
        eePose.publish({
          header: { stamp: nsToTime(now), frame_id: p.frame_id },
          pose: { position: { x: x!, y: y!, z: z! }, orientation: rotationToQuaternion(pose.rotation) },
        });
      }
    };

    let active = false;
    let wallStart = 0;
    let wallEnd: number | undefined;
    const wallSeconds = (): number => ((wallEnd ?? performance.now()) - wallStart) / 1000;
    let simStartNs = 0n;
    let timer: Timer | undefined;
    let finish: (reason: string) => void = () => {};
    const finished = maxSimNs > 0n ? new Promise<string>((resolve) => (finish = resolve)) : undefined;
    const summary = (): string => {
      const simS = Number(bridge.timeNs - simStartNs) / 1e9;
      const wallS = wallSeconds();
      return `simulated ${simS.toFixed(2)} s in ${wallS.toFixed(2)} s of wall time (${(simS / wallS).toFixed(1)}× real time, ${bridge.steps} ticks, ${bridge.episode + 1} episode(s))`;
    };
    const progressNs = secondsToNs(p.progress_period_s);
    let nextProgressNs = progressNs;
    const progress = (): void => {
      if (progressNs === 0n || bridge.timeNs - simStartNs < nextProgressNs) return;
      nextProgressNs += progressNs;
      node.logger.info(
        `t = ${(Number(bridge.timeNs - simStartNs) / 1e9).toFixed(1)} s: ${summary()}${bridge.pushesSoFar() ? `, ${bridge.pushesSoFar()} pushes` : ''}`,
      );
    };
    const done = (): boolean => {
      progress();
      if (maxSimNs === 0n || bridge.timeNs - simStartNs < maxSimNs) return false;
      active = false;
      wallEnd = performance.now();
      timer?.cancel();
      finish(summary());
      return true;
    };

    // lockstep: publish the state of tick k, wait for its command, step; tick 0 has none (no timer fires at t = 0)
    const lockstep = async (): Promise<void> => {
      let first = true;
      while (active) {
        publishState();
        if (!first) {
          const arrived = await new Promise<boolean>((resolve) => {
            const t = setTimeout(() => resolve(false), p.lockstep_timeout_s * 1000);
            commandArrived = () => {
              clearTimeout(t);
              resolve(true);
            };
          });
          commandArrived = undefined;
          // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- deactivate clears it during the await above, which TypeScript's narrowing does not see
          if (!active) break;
          if (!arrived) {
            timeouts++;
            if (throttle.allow('timeout'))
              node.logger.warn(
                `no command within ${p.lockstep_timeout_s} s at sim time ${Number(bridge.timeNs) / 1e9} s; stepping with the last one (${timeouts} timeouts)`,
              );
          }
        }
        bridge.advance();
        if (done()) break;
        // after tick 0 no command is awaited: let the graph see t = 0 before t = 1 follows
        if (first) await new Promise((r) => setImmediate(r));
        first = false;
      }
    };

    const fullSummary = (): string =>
      `${summary()}${bridge.pushesSoFar() ? `, ${bridge.pushesSoFar()} pushes of ${p.push_force} N` : ''}${rejected ? `, ${rejected} commands rejected` : ''}${timeouts ? `, ${timeouts} command timeouts` : ''}`;
    const metrics = () => {
      const wallS = wallSeconds();
      const simS = Number(bridge.timeNs - simStartNs) / 1e9;
      return {
        ticks: bridge.steps,
        sim_time_s: simS,
        wall_time_s: wallS,
        real_time_factor: simS / wallS,
        ticks_per_s: bridge.steps / wallS,
        episodes: bridge.episode + 1,
        pushes: bridge.pushesSoFar(),
        commands_rejected: rejected,
        command_timeouts: timeouts,
      };
    };
    let final: { metrics: ReturnType<typeof metrics>; summary: string } | undefined;
    let diagTimer: Timer | undefined;
    return {
      activate: () => {
        active = true;
        wallStart = performance.now();
        simStartNs = bridge.timeNs;
        if (p.mode === 'lockstep')
          void lockstep().catch((err: unknown) =>
            node.logger.error(`lockstep loop failed: ${(err as Error).stack ?? String(err)}`),
          );
        else {
          publishState();
          timer = node.createTimer(
            periodNs,
            () => {
              bridge.advance();
              publishState();
              done();
            },
            node.steadyClock,
          );
        }
        diagTimer = node.createTimer(
          1_000_000_000n,
          () => {
            const wallS = wallSeconds();
            diagnostics.publish({
              header: { stamp: nsToTime(bridge.timeNs), frame_id: '' },
              status: [
                {
                  level: rejected || timeouts ? DiagnosticLevel.WARN : DiagnosticLevel.OK,
                  name: `${node.fullyQualifiedName}: simulation`,
                  message: `${p.mode}, ${(Number(bridge.timeNs - simStartNs) / 1e9 / wallS).toFixed(1)}× real time`,
                  hardware_id: p.model,
                  values: [
                    { key: 'sim_time_s', value: (Number(bridge.timeNs) / 1e9).toFixed(3) },
                    { key: 'ticks', value: String(bridge.steps) },
                    { key: 'episode', value: String(bridge.episode) },
                    { key: 'commands_rejected', value: String(rejected) },
                    { key: 'command_timeouts', value: String(timeouts) },
                  ],
                },
              ],
            });
          },
          node.steadyClock,
        );
      },
      deactivate: () => {
        active = false;
        wallEnd ??= performance.now();
        commandArrived?.();
        timer?.cancel();
        diagTimer?.cancel();
      },
      cleanup: () => {
        // the figures need the sim: take them before it goes
        final = { metrics: metrics(), summary: fullSummary() };
        sim.dispose();
      },
      finished,
      summary: () => final?.summary ?? fullSummary(),
      metrics: () => final?.metrics ?? metrics(),
    };
  },
});
