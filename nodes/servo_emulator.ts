import { isMainThread } from 'node:worker_threads';
import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams } from '../src/util/param_schema.js';
import { packagePath } from '../src/util/paths.js';
import { loadRobotConfig } from '../hw/robot_config.js';
import { DEFAULT_QUIET_MS, Emulator, type StopOutcome } from '../hw/emulator/emulator.js';
import { attachLeaderMotion, leaderScriptFor } from '../hw/emulator/leader_motion.js';
import { calibrationTarget, readCalibrationFile } from '../hw/calibration/file.js';

// The servo emulator (hw/emulator) as a node, so a launch file can put an emulated arm on the
// graph and it stops with the graph: the servo bus of robot.yaml behind a pseudo-terminal (opened
// in this process by the native pty support, no helper process) whose slave is linked where the
// hw_bridge looks. It publishes nothing — it is the hardware. It is kept on the main thread, as
// when its end of the bus was a serialport port (serialport's native poller aborts the process on a
// worker thread, measured); the pty end itself has run on a worker thread in a trial.
// On stop it keeps answering until the host has closed the bus (host_close_timeout_s): Ctrl-C and
// ros2 launch stop the emulator and hw_bridge at the same moment, and the bridge's torque off at
// deactivate needs the servos to answer.
// With leader_motion it is a leader arm for teleoperation (hw/emulator/leader_motion.ts): its
// shafts replay a scripted or recorded motion, read through leader_calibration, instead of
// following goals — what a person moving a leader arm looks like on the bus.

const parameters = defineParams({
  robot_config: {
    type: 'string',
    default: 'config/robots/so101_emulated.yaml',
    nonEmpty: true,
    description:
      'robot.yaml whose servo bus is emulated (absolute, or relative to the package root); its emulator section holds the dynamics and scheduled faults',
  },
  link: {
    type: 'string',
    default: '',
    description: "device path the host opens (a pty link made here); '': the robot config's port",
  },
  initial_positions: {
    type: 'integer_array',
    default: [],
    range: [0, 65535],
    description: "raw Present_Position of each servo at start, in robot config order; empty: the config's",
  },
  leader_motion: {
    type: 'string',
    default: '',
    description:
      "a leader arm: its shafts replay 'sweep[:AMPLITUDE_RAD[:FREQUENCY_HZ]]' or a recorded .csv/.json of joint angles over time (relative to the package root); '': an ordinary arm",
  },
  leader_calibration: {
    type: 'string',
    default: '',
    description: "with leader_motion: the leader's calibration file the motion's angles are read through",
  },
  host_close_timeout_s: {
    type: 'double',
    default: 3,
    range: [0, 60],
    description: `on stop, keep answering until the host (hw_bridge) has closed the bus or sent nothing for ${DEFAULT_QUIET_MS / 1000} s, at most this long, so its stop actions (torque off) are answered; 0: close at once. Under ros2 launch, below its 5 s before SIGTERM`,
  },
});

export default defineNode({
  name: 'servo_emulator',
  description:
    'emulated serial servo bus (Dynamixel Protocol 2.0 / Feetech STS) behind a pty: an arm for hw_bridge with no hardware attached',
  parameters,
  thread: 'main',
  async configure(node, p) {
    if (!isMainThread)
      throw new Error(
        'servo_emulator must run on the main thread (embedded_thread: main): serialport cannot be used from a worker thread',
      );
    const config = loadRobotConfig(packagePath(p.robot_config));
    if (p.initial_positions.length && p.initial_positions.length !== config.servos.length) {
      throw new Error(
        `parameter 'initial_positions': expected ${config.servos.length} values (${config.servos.map((s) => s.name).join(', ')}), got ${p.initial_positions.length}`,
      );
    }
    const servos = config.servos.map((s, i) =>
      p.initial_positions.length ? { ...s, position: p.initial_positions[i]! } : s,
    );
    if (p.leader_calibration && !p.leader_motion)
      throw new Error("parameter 'leader_calibration' needs 'leader_motion'");
    const leader = p.leader_motion
      ? {
          script: leaderScriptFor(
            /\.(csv|json)$/i.test(p.leader_motion) ? packagePath(p.leader_motion) : p.leader_motion,
            config.servos.map((s) => s.name),
          ),
          calibration: p.leader_calibration
            ? readCalibrationFile(packagePath(p.leader_calibration), calibrationTarget(config))
            : undefined,
        }
      : undefined;
    const emulator = await Emulator.start({
      config: { ...config, servos },
      ...(p.link ? { link: p.link } : {}),
      logger: node.logger,
    });
    if (leader)
      attachLeaderMotion(emulator, leader.script, leader.calibration ? { calibration: leader.calibration } : {});
    node.logger.info(
      `emulating ${config.robot}${leader ? ` as a leader arm replaying ${p.leader_motion}` : ''}: ${config.servos.length} servos (${config.protocol}, ${config.baudRate} baud) on ${emulator.devicePath}`,
    );
    const counts = emulator.chain.counters;
    let stopped: StopOutcome | undefined;
    return {
      cleanup: async () => {
        stopped = await emulator.stop({ waitForHostMs: p.host_close_timeout_s * 1000 });
      },
      summary: () =>
        `emulated ${config.servos.length} servos on ${emulator.devicePath}: ${counts.packets} requests, ${counts.replies} replies, ${counts.corrupt} corrupt requests${
          stopped
            ? `; at the end torque ${stopped.torqueOn.length ? `still on: ${stopped.torqueOn.join(', ')}` : `off on all ${config.servos.length}`}`
            : ''
        }`,
      metrics: () => ({ ...counts, ...(stopped ? { torque_on_at_stop: stopped.torqueOn.length } : {}) }),
    };
  },
});
