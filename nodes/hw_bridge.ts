import { isMainThread } from 'node:worker_threads';
import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams } from '../src/util/param_schema.js';
import { nsToTime, periodNsFromHz } from '../framework/time/time.js';
import { packagePath } from '../src/util/paths.js';
import { Throttle } from '../src/util/log.js';
import type { Timer } from '../framework/time/clock.js';
import { DiagnosticLevel, type DiagnosticStatus } from '../framework/msgs/types.js';
import { ServoBus } from '../hw/bus/servo_bus.js';
import { jointsOf, loadRobotConfig } from '../hw/robot_config.js';
import { calibrationTarget, defaultCalibrationPath, readCalibrationFile } from '../hw/calibration/file.js';
import { ServoArm, type ArmState } from '../hw/arm/servo_arm.js';
import type { CommandInterface } from '../hw/arm/joint_mapping.js';

// A serial-servo arm as a robot on the graph, with the sim bridge's topics: /joint_states
// (stamped, SI, calibrated joint angles) at the loop rate, ros2_control-style Float64MultiArray
// commands in, /diagnostics per servo and for the bus. Each tick of the fixed-rate loop is one
// sync write of the newest command and one sync read of the state (hw/arm). A vanished device
// stops commanding and reports ERROR; the bus reopens it, and the bridge takes the arm back
// (holding where it is) before it accepts commands again. Torque goes off on deactivate. Main
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
});

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
      logger: node.logger,
    });
    let bridge: ServoArm;
    try {
      bridge = new ServoArm(bus, calibration, {
        commandInterface: p.command_interface as CommandInterface,
        torqueConstants: p.torque_constants,
        commandTimeoutMs: p.command_timeout_s * 1000,
        writeCalibration: p.write_calibration,
        logger: node.logger,
      });
      await bridge.setup();
    } catch (err) {
      await bus.close({ torqueOff: true });
      throw err;
    }
    node.logger.info(
      `${config.robot} on ${port}: ${bridge.names.length} joints (${bridge.names.join(', ')}), calibration ${calibrationPath}, ${p.command_interface} commands at ${p.rate_hz} Hz`,
    );

    const jointStates = node.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
    const diagnostics = node.createPublisher('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics');
    const throttle = new Throttle(2000);
    node.createSubscription('std_msgs/msg/Float64MultiArray', p.command_topic, (msg) => {
      const problem = bridge.command(msg.data);
      if (problem && throttle.allow(bridge.connected ? 'rejected' : 'lost')) {
        node.logger.warn(
          bridge.connected
            ? `command rejected (${bridge.counters.rejected} so far): ${problem}`
            : `command dropped: ${problem}`,
        );
      }
    });
    node.createSubscription('std_msgs/msg/Empty', '~/clear_faults', () => {
      bridge.clearFaults().then(
        (joints) => node.logger.info(joints.length ? `faults cleared: ${joints.join(', ')}` : 'no fault to clear'),
        (err: unknown) => node.logger.error(`clearing faults failed: ${(err as Error).message}`),
      );
    });

    const names = [...bridge.names];
    const publishState = (s: ArmState): void => {
      // stamped when the replies were in, on the node's clock
      const stampNs = node.clock.now() - BigInt(Math.round((performance.now() - s.stampMs) * 1e6));
      jointStates.publish({
        header: { stamp: nsToTime(stampNs), frame_id: '' },
        name: names,
        position: s.position,
        velocity: s.velocity,
        effort: s.effort,
      });
    };

    // per-servo counts at the last diagnostics, so WARN means "new errors in this period"
    const lastServoErrors = bus
      .diagnostics()
      .servos.map((sv) => sv.counters.timeouts + sv.counters.corrupt + sv.counters.errorReplies);
    const lastErrorReplies = bus.diagnostics().servos.map((sv) => sv.counters.errorReplies);
    let lastFailed = 0;
    const publishDiagnostics = (): void => {
      const d = bridge.diagnostics();
      const s = bridge.stats.summary();
      const c = bridge.counters;
      const faults = bridge.faults();
      const lost = !bridge.connected;
      const newFailures = s.failed - lastFailed;
      lastFailed = s.failed;
      const slow = s.cycles > 0 && s.rateHz < p.rate_hz / 2;
      const busLevel = lost
        ? DiagnosticLevel.ERROR
        : newFailures > 0 || slow || faults.length
          ? DiagnosticLevel.WARN
          : DiagnosticLevel.OK;
      const busMessage = lost
        ? `device lost (${bridge.lostReason ?? d.state}): not commanding, reopening ${d.port}`
        : `${s.rateHz.toFixed(1)} Hz (target ${p.rate_hz}), cycle p50 ${s.cycleP50Ms.toFixed(2)} ms, p99 ${s.cycleP99Ms.toFixed(2)} ms${newFailures ? `, ${newFailures} failed cycles` : ''}${faults.length ? `, ${faults.length} faulted servo(s)` : ''}`;
      const status: DiagnosticStatus[] = [
        {
          level: busLevel,
          name: `${node.fullyQualifiedName}: bus`,
          message: busMessage,
          hardware_id: d.port,
          values: [
            { key: 'state', value: d.state },
            { key: 'protocol', value: d.protocol },
            { key: 'baud_rate', value: String(d.baudRate) },
            { key: 'loop_rate_hz', value: s.rateHz.toFixed(2) },
            { key: 'cycle_p50_ms', value: s.cycleP50Ms.toFixed(3) },
            { key: 'cycle_p99_ms', value: s.cycleP99Ms.toFixed(3) },
            { key: 'cycle_max_ms', value: s.cycleMaxMs.toFixed(3) },
            { key: 'cycles', value: String(s.cycles) },
            { key: 'failed_cycles', value: String(s.failed) },
            { key: 'overruns', value: String(s.overruns) },
            { key: 'losses', value: String(d.counters.losses) },
            { key: 'reconnects', value: String(d.counters.reconnects) },
            { key: 'transactions', value: String(d.counters.transactions) },
            { key: 'timeouts', value: String(d.counters.timeouts) },
            { key: 'corrupt', value: String(d.counters.corrupt) },
            { key: 'retries', value: String(d.counters.retries) },
            { key: 'failures', value: String(d.counters.failures) },
            { key: 'commands', value: String(c.commands) },
            { key: 'commands_rejected', value: String(c.rejected) },
            { key: 'commands_clamped', value: String(c.clamped) },
            { key: 'commands_dropped_while_lost', value: String(c.droppedWhileLost) },
            { key: 'command_timeouts', value: String(c.commandTimeouts) },
            { key: 'incomplete_reads', value: String(c.incomplete) },
          ],
        },
      ];
      d.servos.forEach((sv, i) => {
        const errors = sv.counters.timeouts + sv.counters.corrupt + sv.counters.errorReplies;
        const fresh = errors - lastServoErrors[i]!;
        const st = sv.status;
        // a retried timeout is counted, not warned about; a servo that made a cycle fail, or reports error bits, is
        const freshReplies = sv.counters.errorReplies - lastErrorReplies[i]!;
        const level =
          lost || sv.fault || !sv.responsive
            ? DiagnosticLevel.ERROR
            : (fresh > 0 && newFailures > 0) || freshReplies > 0 || (st && st.errorFlags.length)
              ? DiagnosticLevel.WARN
              : DiagnosticLevel.OK;
        const message = sv.fault
          ? `fault: ${sv.fault.flags.join(', ') || 'hardware error'} (${sv.fault.action.replace('_', ' ')}); not commanded until ~/clear_faults`
          : !sv.responsive
            ? 'not answering: left out of cycles, pinged until it is back'
            : lost
              ? 'bus lost'
              : st
                ? `${st.temperatureC ?? '?'} °C, ${st.voltageV?.toFixed(1) ?? '?'} V${st.errorFlags.length ? `, ${st.errorFlags.join(', ')}` : ''}${fresh ? `, ${fresh} bus errors` : ''}`
                : 'ok';
        status.push({
          level,
          name: `${node.fullyQualifiedName}: ${sv.joint}`,
          message,
          hardware_id: `${d.port} id ${sv.id} (${sv.model})`,
          values: [
            { key: 'temperature_c', value: st?.temperatureC === undefined ? '' : String(st.temperatureC) },
            { key: 'voltage_v', value: st?.voltageV === undefined ? '' : st.voltageV.toFixed(2) },
            { key: 'error_flags', value: st ? st.errorFlags.join(' ') : '' },
            { key: 'fault', value: sv.fault ? sv.fault.flags.join(' ') : '' },
            { key: 'responsive', value: String(sv.responsive) },
            { key: 'timeouts', value: String(sv.counters.timeouts) },
            { key: 'corrupt', value: String(sv.counters.corrupt) },
            { key: 'error_replies', value: String(sv.counters.errorReplies) },
          ],
        });
        lastServoErrors[i] = errors;
        lastErrorReplies[i] = sv.counters.errorReplies;
      });
      diagnostics.publish({ header: { stamp: nsToTime(node.clock.now()), frame_id: '' }, status });
    };
    // a loss or a fault is reported at once, not at the next period
    const unsubscribe = [bus.on('lost', publishDiagnostics), bus.on('fault', () => publishDiagnostics())];

    let timer: Timer | undefined;
    let diagTimer: Timer | undefined;
    let active = false;
    const tick = (): void => {
      bridge.cycle().then(
        (state) => {
          if (state && active) publishState(state);
        },
        (err: unknown) => {
          if (throttle.allow('cycle'))
            node.logger.warn(`bus cycle failed (${bridge.stats.failed} so far): ${(err as Error).message}`);
        },
      );
    };
    const summary = (): string => {
      const s = bridge.stats.summary();
      return `${s.cycles} bus cycles (${s.failed} failed, ${s.overruns} overruns), cycle p50 ${s.cycleP50Ms.toFixed(2)} ms p99 ${s.cycleP99Ms.toFixed(2)} ms, ${bridge.counters.commands} commands (${bridge.counters.rejected} rejected, ${bridge.counters.clamped} values clamped), ${bridge.diagnostics().counters.reconnects} reconnects`;
    };
    let final: string | undefined;
    return {
      activate: async () => {
        if (p.torque_on_activate) await bridge.enable();
        active = true;
        timer = node.createTimer(periodNsFromHz(p.rate_hz), tick, node.steadyClock);
        diagTimer = node.createTimer(
          BigInt(Math.round(p.diagnostics_period_s * 1e9)),
          () => {
            bridge.requestStatus();
            publishDiagnostics();
          },
          node.steadyClock,
        );
      },
      deactivate: async () => {
        active = false;
        timer?.cancel();
        diagTimer?.cancel();
        // let a cycle on the bus finish before torque goes off
        for (let i = 0; i < 100 && bridge.busy; i++) await new Promise((r) => setTimeout(r, 5));
        await bridge
          .disable()
          .catch((err: unknown) => node.logger.error(`torque off at deactivate failed: ${(err as Error).message}`));
      },
      cleanup: async () => {
        final = summary();
        for (const off of unsubscribe) off();
        bridge.dispose();
        await bus.close({ torqueOff: true });
      },
      summary: () => final ?? summary(),
      metrics: () => {
        const s = bridge.stats.summary();
        const d = bridge.diagnostics();
        return {
          cycles: s.cycles,
          failed_cycles: s.failed,
          overruns: s.overruns,
          loop_rate_hz: s.rateHz,
          cycle_p50_ms: s.cycleP50Ms,
          cycle_p99_ms: s.cycleP99Ms,
          commands: bridge.counters.commands,
          commands_rejected: bridge.counters.rejected,
          commands_clamped: bridge.counters.clamped,
          commands_dropped_while_lost: bridge.counters.droppedWhileLost,
          incomplete_reads: bridge.counters.incomplete,
          reconnects: d.counters.reconnects,
          losses: d.counters.losses,
          faults: bridge.faults().length,
        };
      },
    };
  },
});
