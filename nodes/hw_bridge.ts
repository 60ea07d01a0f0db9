import { isMainThread } from 'node:worker_threads';
import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams, type ParamValues } from '../src/util/param_schema.js';
import { nsToTime, periodNsFromHz } from '../framework/time/time.js';
import { diagnosticArray } from '../framework/msgs/diagnostics.js';
import type { Float64MultiArray } from '../framework/msgs/types.js';
import { packagePath } from '../src/util/paths.js';
import { Throttle, type Logger } from '../src/util/log.js';
import type { Timer } from '../framework/time/clock.js';
import { ServoBus } from '../hw/bus/servo_bus.js';
import { jointsOf, loadRobotConfig } from '../hw/robot_config.js';
import { calibrationTarget, defaultCalibrationPath, readCalibrationFile } from '../hw/calibration/file.js';
import { ServoArm, type ArmState } from '../hw/arm/servo_arm.js';
import { ArmReporter, armMetrics, armSnapshot, armSummary } from '../hw/arm/arm_report.js';
import type { CommandInterface } from '../hw/arm/joint_mapping.js';
import { REALTIME_PARAMETERS, applyRealtime, realtimeMetrics, type RealtimeOutcome } from '../src/util/realtime.js';
import { CommandSourceWait } from '../sim/robot/command_source.js';

// A serial-servo arm as a robot on the graph, with the sim bridge's topics: /joint_states
// (stamped, SI, calibrated joint angles) at the loop rate, ros2_control-style Float64MultiArray
// commands in, /diagnostics per servo and for the bus. Each tick of the fixed-rate loop is one
// sync write of the newest command and one sync read of the state (hw/arm). A vanished device
// stops commanding and reports ERROR; the bus reopens it, and the bridge takes the arm back
// (holding where it is, from verified positions only) before it accepts commands again. A state is
// published only when every joint answered under its own id and none moved further than its motor
// can; while none is, /diagnostics is ERROR and says why. Torque goes off on deactivate, on every
// servo, and the bridge says in one line how that went: an info line when every servo read torque
// off back, else an error line naming the ones it could not be confirmed on (also on /diagnostics).
// Cleanup turns torque off again, saying so the same way, unless deactivate confirmed it. Until a
// command source is matched (a controller's process may start later, under ros2 launch) the arm
// holds where it was enabled, as it does between commands; the bridge says once that it waits,
// again every 10 s, and once when the source is there. Main
// thread only: serialport's native poller aborts the process when used from a worker (measured).

const parameters = defineParams({
  robot_config: {
    type: 'string',
    default: 'config/robots/so101_emulated.yaml',
    nonEmpty: true,
    description: 'robot.yaml: port, protocol, baud rate and servos (absolute, or relative to the package root)',
  },
  calibration_file: {
    type: 'string',
    default: '',
    description:
      "the robot's calibration (`dynastack calibrate`); '': $XDG_CONFIG_HOME (or ~/.config)/dynastack/calibration/<robot>.yaml",
  },
  port: {
    type: 'string',
    default: '',
    description: "serial device, e.g. /dev/serial/by-id/usb-FTDI_…; '': the robot config's port",
  },
  baud_rate: {
    type: 'integer',
    default: 0,
    range: [0, 10_000_000],
    description: "bits per second; 0: the robot config's",
  },
  protocol: {
    type: 'string',
    default: '',
    choices: ['', 'dynamixel2', 'feetech_sts', 'feetech_scs'],
    description: "'': the robot config's; otherwise it must agree with it (a guard against the wrong config)",
  },
  rate_hz: {
    type: 'double',
    default: 100,
    range: [1, 1000],
    description: 'loop rate: one sync write + one sync read per period, /joint_states published at this rate',
  },
  command_topic: {
    type: 'string',
    default: 'forward_command_controller/commands',
    nonEmpty: true,
    description: 'std_msgs/Float64MultiArray commands, one value per joint in the robot config order',
  },
  command_interface: {
    type: 'string',
    default: 'position',
    choices: ['position', 'effort', 'current'],
    description:
      'what a command value is: joint angle (rad), torque (N·m, through torque_constants) or motor current (A); effort and current need servos with current control',
  },
  torque_constants: {
    type: 'double_array',
    default: [],
    range: [0, 100],
    description: 'effort interface: N·m per A per joint (datasheet stall torque / stall current)',
  },
  port_wait_s: {
    type: 'double',
    default: 10,
    range: [0, 600],
    description:
      'a port not there yet at configure is waited for this long (an emulator, a udev link or a launch starting in another order); 0: fail at once',
  },
  command_timeout_s: {
    type: 'double',
    default: 0.5,
    range: [0.001, 3600],
    description: 'no new command for this long: position holds the last goal, effort/current command zero',
  },
  timeout_margin_ms: {
    type: 'double',
    default: 20,
    range: [0, 1000],
    description:
      'slack added to each transaction timeout (computed from byte counts, adapter latency and return delay)',
  },
  adapter_latency_ms: {
    type: 'double',
    default: 2,
    range: [0, 100],
    description: 'USB-serial adapter latency per direction (FTDI latency_timer: set it to 1)',
  },
  retries: { type: 'integer', default: 2, range: [0, 10], description: 'retries of a failed transaction' },
  on_fault: {
    type: 'string',
    default: 'torque_off',
    choices: ['torque_off', 'reboot'],
    description:
      'what a servo hardware error (overload, overheat, voltage) triggers; either way the joint is no longer commanded until ~/clear_faults',
  },
  fast_sync_read: {
    type: 'bool',
    default: false,
    description: 'Dynamixel: read the state with FAST_SYNC_READ (firmware ≥ 45/46)',
  },
  write_calibration: {
    type: 'bool',
    default: true,
    description: "write the calibration file's offsets and limits to servos that hold others (false: refuse to start)",
  },
  torque_on_activate: { type: 'bool', default: true, description: 'torque on at activate, holding where the arm is' },
  diagnostics_period_s: {
    type: 'double',
    default: 1,
    range: [0.05, 3600],
    description: 'servo status read (temperature, voltage, error bits) and /diagnostics period',
  },
  // realtime.*: the bus loop's thread (the main thread) SCHED_FIFO, opt-in, as for the controller
  ...REALTIME_PARAMETERS,
});

type Params = ParamValues<typeof parameters>;

/** The bus of the robot config (with the parameters' overrides) and the arm on it, set up. */
async function openArm(p: Params, logger: Logger): Promise<{ bus: ServoBus; arm: ServoArm }> {
  const config = loadRobotConfig(packagePath(p.robot_config));
  if (p.protocol && p.protocol !== config.protocol)
    throw new Error(`parameter 'protocol' is ${p.protocol}, but ${config.source} describes a ${config.protocol} bus`);
  const calibrationPath = p.calibration_file ? packagePath(p.calibration_file) : defaultCalibrationPath(config.robot);
  const calibration = readCalibrationFile(calibrationPath, calibrationTarget(config));
  const port = p.port || config.port;
  const bus = await ServoBus.open({
    port,
    baudRate: p.baud_rate || config.baudRate,
    protocol: config.protocol,
    joints: jointsOf(config),
    timing: { marginMs: p.timeout_margin_ms, adapterLatencyMs: p.adapter_latency_ms, retries: p.retries },
    onHardwareError: p.on_fault as 'torque_off' | 'reboot',
    fastSyncRead: p.fast_sync_read,
    waitForPortMs: p.port_wait_s * 1000,
    logger,
  });
  let arm: ServoArm;
  try {
    arm = new ServoArm(bus, calibration, {
      commandInterface: p.command_interface as CommandInterface,
      torqueConstants: p.torque_constants,
      commandTimeoutMs: p.command_timeout_s * 1000,
      writeCalibration: p.write_calibration,
      logger,
    });
    await arm.setup();
  } catch (err) {
    await bus.close({ torqueOff: true });
    throw err;
  }
  logger.info(
    `${config.robot} on ${port}: ${arm.names.length} joints (${arm.names.join(', ')}), calibration ${calibrationPath}, ${p.command_interface} commands at ${p.rate_hz} Hz`,
  );
  return { bus, arm };
}

export default defineNode({
  name: 'hw_bridge',
  description:
    'serial servo arm (Dynamixel Protocol 2.0, Feetech STS/SCS): publishes /joint_states and /diagnostics, takes ros2_control-style commands',
  parameters,
  thread: 'main',
  async configure(node, p) {
    if (!isMainThread)
      throw new Error(
        'hw_bridge must run on the main thread (embedded_thread: main): serialport cannot be used from a worker thread',
      );
    const { bus, arm } = await openArm(p, node.logger);
    const jointStates = node.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
    const diagnostics = node.createPublisher('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics');
    const throttle = new Throttle(2000);
    function onCommand(msg: Float64MultiArray): void {
      const problem = arm.command(msg.data);
      if (problem && throttle.allow(arm.connected ? 'rejected' : 'lost')) {
        node.logger.warn(
          arm.connected
            ? `command rejected (${arm.counters.rejected} so far): ${problem}`
            : `command dropped: ${problem}`,
        );
      }
    }
    function onClearFaults(): void {
      arm.clearFaults().then(
        (joints) => node.logger.info(joints.length ? `faults cleared: ${joints.join(', ')}` : 'no fault to clear'),
        (err: unknown) => node.logger.error(`clearing faults failed: ${(err as Error).message}`),
      );
    }
    const commands = node.createSubscription('std_msgs/msg/Float64MultiArray', p.command_topic, onCommand);
    // the arm holds by itself (goal = where it is, at enable); this only says so while no controller is there
    const source = new CommandSourceWait(
      {
        stateTopic: jointStates.topic,
        commandTopic: commands.topic,
        stateSubscribers: () => jointStates.subscriptionCount(),
        commandPublishers: () => commands.publisherCount(),
      },
      {
        pollMs: 50,
        reportMs: 10_000,
        limitMs: 0,
        holding: p.torque_on_activate ? 'the arm where it is' : 'the arm (torque off)',
        log: (level, line) => node.logger[level](line),
      },
    );
    node.createSubscription('std_msgs/msg/Empty', '~/clear_faults', onClearFaults);

    const names = [...arm.names];
    function publishState(s: ArmState): void {
      // stamped when the replies were in, on the node's clock
      const stampNs = node.clock.now() - BigInt(Math.round((performance.now() - s.stampMs) * 1e6));
      jointStates.publish({
        header: { stamp: nsToTime(stampNs), frame_id: '' },
        name: names,
        position: s.position,
        velocity: s.velocity,
        effort: s.effort,
      });
    }

    const reporter = new ArmReporter(node.fullyQualifiedName, p.rate_hz, bus.diagnostics());
    function publishDiagnostics(): void {
      diagnostics.publish(diagnosticArray(node.clock.now(), reporter.reports(armSnapshot(arm))));
    }
    // a loss or a fault is reported at once, not at the next period
    const unsubscribe = [bus.on('lost', publishDiagnostics), bus.on('fault', publishDiagnostics)];

    let timer: Timer | undefined;
    let diagTimer: Timer | undefined;
    let realtime: RealtimeOutcome | undefined;
    let active = false;
    /** every servo read torque off back at the last torque off, and nothing has turned it on since */
    let confirmedOff = false;
    /** Torque off on every servo, said in one line: info when all read it back, else the error naming the others. */
    async function torqueOff(when: 'deactivate' | 'cleanup'): Promise<void> {
      try {
        await arm.disable();
        confirmedOff = true;
        node.logger.info(`torque off on every servo (all ${names.length} confirmed by read-back) at ${when}`);
      } catch (err) {
        confirmedOff = false;
        node.logger.error(`torque off at ${when} failed: ${(err as Error).message}`);
      }
    }
    function tick(): void {
      arm.cycle().then(
        (state) => {
          if (state && active) publishState(state);
        },
        (err: unknown) => {
          if (throttle.allow('cycle'))
            node.logger.warn(`bus cycle failed (${arm.stats.failed} so far): ${(err as Error).message}`);
        },
      );
    }
    let final: string | undefined;
    return {
      activate: async () => {
        if (p.torque_on_activate) {
          confirmedOff = false;
          await arm.enable();
        }
        active = true;
        // the bus loop's timer runs on this thread: realtime.* applies to it (and all else on it)
        realtime = applyRealtime(p, { loop: 'bus loop' });
        node.logger[realtime.level](realtime.line);
        timer = node.createTimer(periodNsFromHz(p.rate_hz), tick, node.steadyClock);
        if (!source.present()) void source.wait();
        diagTimer = node.createTimer(
          BigInt(Math.round(p.diagnostics_period_s * 1e9)),
          () => {
            arm.requestStatus();
            publishDiagnostics();
          },
          node.steadyClock,
        );
      },
      deactivate: async () => {
        active = false;
        source.stop();
        timer?.cancel();
        diagTimer?.cancel();
        realtime?.restore();
        // let a cycle on the bus finish before torque goes off
        for (let i = 0; i < 100 && arm.busy; i++) await new Promise((r) => setTimeout(r, 5));
        await torqueOff('deactivate');
        // what torque off reached, and what it could not be confirmed on, is on /diagnostics at once
        publishDiagnostics();
      },
      cleanup: async () => {
        final = armSummary(armSnapshot(arm));
        for (const off of unsubscribe) off();
        // never activated, or deactivate could not confirm it: torque off (again) before the bus closes
        if (!confirmedOff) await torqueOff('cleanup');
        arm.dispose();
        await bus.close();
      },
      summary: () => final ?? armSummary(armSnapshot(arm)),
      metrics: () => ({ ...armMetrics(armSnapshot(arm)), ...realtimeMetrics(realtime) }),
    };
  },
});
