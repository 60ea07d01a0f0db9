import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import definition from '../../nodes/hw_bridge.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { defineParams } from '../../src/util/param_schema.js';
import {
  DiagnosticLevel,
  type DiagnosticArray,
  type DiagnosticStatus,
  type JointState,
} from '../../framework/msgs/types.js';
import { timeToNs } from '../../framework/time/time.js';
import { packageRoot } from '../../src/util/paths.js';
import { createLogger } from '../../src/util/log.js';
import { Emulator } from '../../hw/emulator/emulator.js';
import { loadRobotConfig } from '../../hw/robot_config.js';
import { calibrationYaml } from '../../hw/calibration/file.js';
import { rawToAngle, type JointCalibration, type RobotCalibration } from '../../hw/calibration/calibration.js';
import { servoModel } from '../../hw/servos/index.js';
import { armYaml } from './bus_harness.js';

// The hw_bridge node on the embedded transport against the emulated SO-101 behind a pty:
// calibration onto the servos, calibrated joint states, commands checked and clamped, a joint
// reversed in software, the device vanishing and coming back, a servo fault and its clearing; and a
// servo chain that misbehaves (replies under shifted ids, one servo answering as another, a servo
// that stops answering): never a wrong joint state, never a goal from unverified data, torque off on
// every servo at deactivate, and ERROR on /diagnostics whenever no state is published.

const JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];
const TICK = (2 * Math.PI) / 4096;
const CENTRE = 2047;
const quiet = createLogger('emulator', 'error');
// the emulator answers from this process's event loop: on a machine busy with other tests a reply
// can wait tens of ms for its turn, which the default 20 ms slack would call a dead servo
const TIMEOUT_MARGIN_MS = 150;

// shoulder_pan is homed 100 ticks off, elbow_flex is reversed; ranges leave room to clamp
const calibration: RobotCalibration = {
  robot: 'so101',
  protocol: 'feetech_sts',
  joints: JOINTS.map((name, i): JointCalibration => ({
    name,
    id: i + 1,
    model: 'STS3215',
    drive_mode: name === 'elbow_flex' ? 1 : 0,
    homing_offset: name === 'shoulder_pan' ? 100 : 0,
    range_min: name === 'wrist_roll' ? 0 : 1000,
    range_max: name === 'wrist_roll' ? 4095 : 3000,
  })),
};

interface Rig {
  emulator: Emulator;
  transport: EmbeddedTransport;
  states: JointState[];
  diagnostics: DiagnosticArray[];
  command(values: number[]): void;
  clearFaults(): void;
  lifecycle: Awaited<ReturnType<typeof definition.configure>>;
  bus(): DiagnosticStatus | undefined;
  servo(name: string): DiagnosticStatus | undefined;
  waitFor(what: string, ok: () => boolean, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

/** A robot file of the package, as text. */
const robotFile = (name: string): string =>
  readFileSync(join(packageRoot(), `config/robots/${name}_emulated.yaml`), 'utf8');

async function rig(
  params: Record<string, unknown> = {},
  robotText = robotFile('so101'),
  cal: RobotCalibration = calibration,
): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-hwb-'));
  const link = join(dir, 'tty');
  const robotPath = join(dir, 'robot.yaml');
  writeFileSync(robotPath, robotText.replace(/^port: .*$/m, `port: ${link}`));
  const calibrationPath = join(dir, 'calibration.yaml');
  writeFileSync(calibrationPath, calibrationYaml(cal));
  const emulator = await Emulator.start({ config: loadRobotConfig(robotPath), logger: quiet });
  const transport = new EmbeddedTransport({ checkMessages: true });
  const stopAll = async (): Promise<void> => {
    await transport.shutdown();
    await emulator.stop();
  };
  try {
    const handle = await transport.createNode({
      name: 'hw_bridge',
      parameters: definition.parameters,
      parameterSources: [
        {
          origin: 'test',
          values: {
            robot_config: robotPath,
            calibration_file: calibrationPath,
            rate_hz: 100,
            diagnostics_period_s: 0.2,
            command_timeout_s: 5,
            timeout_margin_ms: TIMEOUT_MARGIN_MS,
            ...params,
          },
          strict: true,
        },
      ],
    });
    const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
    const states: JointState[] = [];
    const diagnostics: DiagnosticArray[] = [];
    probe.createSubscription('sensor_msgs/msg/JointState', 'joint_states', (m) => states.push(m), {
      qos: { history: 'keep_all' },
    });
    probe.createSubscription('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics', (m) => diagnostics.push(m), {
      qos: { history: 'keep_all' },
    });
    const commands = probe.createPublisher('std_msgs/msg/Float64MultiArray', 'forward_command_controller/commands');
    const clear = probe.createPublisher('std_msgs/msg/Empty', '/hw_bridge/clear_faults');
    const lifecycle = await definition.configure(handle, handle.params);
    const last = (name: string): DiagnosticStatus | undefined =>
      diagnostics.at(-1)?.status.find((s) => s.name === `/hw_bridge: ${name}`);
    return {
      emulator,
      transport,
      states,
      diagnostics,
      lifecycle,
      command: (values) => commands.publish({ layout: { dim: [], data_offset: 0 }, data: Float64Array.from(values) }),
      clearFaults: () => clear.publish({}),
      bus: () => last('bus'),
      servo: (name) => last(name),
      // generous: the deadline only matters when the condition never comes
      waitFor: async (what, ok, ms = 15_000) => {
        const deadline = performance.now() + ms;
        while (!ok()) {
          if (performance.now() > deadline)
            throw new Error(
              `${what}: not within ${ms} ms; last diagnostics: ${JSON.stringify(diagnostics.at(-1)?.status.map((s) => `${s.level} ${s.name}: ${s.message}`))}`,
            );
          await sleep(10);
        }
      },
      stop: async () => {
        await lifecycle.deactivate?.();
        await lifecycle.cleanup?.();
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

const value = (s: DiagnosticStatus | undefined, key: string): string | undefined =>
  s?.values.find((v) => v.key === key)?.value;

/** OK — or WARN only because a machine busy with other tests slowed the loop below half its rate. */
function assertBusHealthy(bus: DiagnosticStatus | undefined): void {
  assert.ok(bus, 'no bus diagnostics');
  if (
    bus.level === DiagnosticLevel.WARN &&
    /^[\d.]+ Hz \(target 100\), cycle p50 [\d.]+ ms, p99 [\d.]+ ms$/.test(bus.message)
  ) {
    assert.ok(Number(value(bus, 'loop_rate_hz')) < 50, bus.message);
    return;
  }
  assert.equal(bus.level, DiagnosticLevel.OK, bus.message);
}
const angle = (st: JointState, name: string): number => st.position[st.name.indexOf(name)]!;

test('hw_bridge: calibration onto the servos, calibrated joint states, checked and clamped position commands, torque off at deactivate', async () => {
  const r = await rig();
  try {
    // configure wrote the file's offsets and limits to the servos
    for (const j of calibration.joints) {
      const servo = r.emulator.servo(j.name);
      assert.equal(servo.register('homing_offset'), j.homing_offset, j.name);
      assert.equal(servo.register('min_position_limit'), j.range_min, j.name);
      assert.equal(servo.register('max_position_limit'), j.range_max, j.name);
    }
    await r.lifecycle.activate?.();
    for (const name of JOINTS) assert.equal(r.emulator.servo(name).torqueEnabled, true, `${name}: torque on`);
    await r.waitFor('joint states', () => r.states.length >= 20);
    const st = r.states.at(-1)!;
    assert.deepEqual(st.name, JOINTS);
    // every servo powered on at raw 2047; shoulder_pan's offset of 100 makes it read 1947
    assert.ok(Math.abs(angle(st, 'shoulder_pan') - -100 * TICK) < 1e-9, `shoulder_pan ${angle(st, 'shoulder_pan')}`);
    for (const name of JOINTS.slice(1)) assert.ok(Math.abs(angle(st, name)) < 1e-9, `${name} ${angle(st, name)}`);
    const stamps = r.states.map((m) => timeToNs(m.header.stamp));
    assert.ok(
      stamps.every((t, i) => i === 0 || t > stamps[i - 1]!),
      'stamps increase',
    );

    // a position command: elbow_flex is reversed in software, so +0.3 rad is a smaller raw goal
    const target = [-100 * TICK, 0.1, 0.3, -0.2, 1.0, 0.05];
    r.command(target);
    await r.waitFor('the arm at the command', () => {
      const last = r.states.at(-1)!;
      return target.every((t, i) => Math.abs(angle(last, JOINTS[i]!) - t) < 1.5 * TICK);
    });
    assert.equal(r.emulator.servo('elbow_flex').register('goal_position'), CENTRE - Math.round(0.3 / TICK));
    assert.equal(r.emulator.servo('shoulder_lift').register('goal_position'), CENTRE + Math.round(0.1 / TICK));

    // beyond the recorded range: clamped to it; wrong length and NaN: rejected whole
    r.command([0, 3, 0.3, -0.2, 1.0, 0.05]);
    await r.waitFor('clamped goal', () => r.emulator.servo('shoulder_lift').register('goal_position') === 3000);
    r.command([0, 0]);
    r.command([0, Number.NaN, 0, 0, 0, 0]);
    await r.waitFor(
      'counts in /diagnostics',
      () => value(r.bus(), 'commands_rejected') === '2' && Number(value(r.bus(), 'commands_clamped')) >= 1,
    );
    assert.equal(
      r.emulator.servo('shoulder_lift').register('goal_position'),
      3000,
      'a rejected command changes nothing',
    );
    assertBusHealthy(r.bus());
    for (const name of JOINTS) {
      const s = r.servo(name)!;
      assert.equal(s.level, DiagnosticLevel.OK, `${name}: ${s.message}`);
      assert.match(value(s, 'temperature_c')!, /^\d+(\.\d+)?$/);
      assert.match(value(s, 'voltage_v')!, /^\d+\.\d\d$/);
    }
    assert.ok(Number(value(r.bus(), 'cycles')) > 0 && value(r.bus(), 'failed_cycles') === '0');

    await r.lifecycle.deactivate?.();
    for (const name of JOINTS) assert.equal(r.emulator.servo(name).torqueEnabled, false, `${name}: torque off`);
  } finally {
    await r.stop();
  }
});

test('hw_bridge: the device vanishes — ERROR, commands dropped, reopened, the arm held where it is, commands again', async () => {
  const r = await rig();
  try {
    await r.lifecycle.activate?.();
    await r.waitFor('joint states', () => r.states.length >= 5);
    r.command([0, 0.2, 0, 0, 0, 0]);
    await r.waitFor(
      'first goal',
      () => r.emulator.servo('shoulder_lift').register('goal_position') === CENTRE + Math.round(0.2 / TICK),
    );
    // the arm arrives and stops there first: after the reconnect the bridge holds it where it is
    await r.waitFor(
      'shoulder_lift at its goal, stopped',
      () =>
        r.emulator.servo('shoulder_lift').register('present_position') === CENTRE + Math.round(0.2 / TICK) &&
        r.emulator.servo('shoulder_lift').register('moving') === 0,
    );
    // unplugged until the ERROR has been seen (a timed window could close before a busy machine published it)
    const unplugged = r.emulator.inject({ kind: 'disconnect' });
    await r.waitFor(
      'ERROR on loss',
      () => r.bus()?.level === DiagnosticLevel.ERROR && /device lost/.test(r.bus()!.message),
    );
    assert.ok(
      r.diagnostics.at(-1)!.status.every((s) => s.level === DiagnosticLevel.ERROR),
      'every servo reported lost',
    );
    const published = r.states.length;
    r.command([0, -0.4, 0, 0, 0, 0]); // while lost: dropped, never replayed
    await r.waitFor('the dropped command counted', () => Number(value(r.bus(), 'commands_dropped_while_lost')) >= 1);
    r.emulator.faults.clear(unplugged);
    await r.waitFor(
      'bus back and joint states again',
      () =>
        r.bus()?.level !== DiagnosticLevel.ERROR && value(r.bus(), 'state') === 'open' && r.states.length > published,
    );
    assertBusHealthy(r.bus());
    assert.ok(Number(value(r.bus(), 'reconnects')) >= 1);
    assert.ok(Number(value(r.bus(), 'commands_dropped_while_lost')) >= 1);
    // the dropped command was not replayed: the arm still holds where it was
    assert.equal(r.emulator.servo('shoulder_lift').register('goal_position'), CENTRE + Math.round(0.2 / TICK));
    assert.ok(r.emulator.servo('shoulder_lift').torqueEnabled);
    r.command([0, -0.4, 0, 0, 0, 0]);
    await r.waitFor(
      'commands work again',
      () => r.emulator.servo('shoulder_lift').register('goal_position') === CENTRE - Math.round(0.4 / TICK),
    );
  } finally {
    await r.stop();
  }
});

test('hw_bridge: a servo overload is latched, reported and left uncommanded while the others go on, until ~/clear_faults', async () => {
  const r = await rig();
  try {
    await r.lifecycle.activate?.();
    await r.waitFor('joint states', () => r.states.length >= 5);
    r.emulator.inject({ kind: 'hardware_error', id: 2, error: 'overload' });
    await r.waitFor(
      'fault reported',
      () =>
        r.servo('shoulder_lift')?.level === DiagnosticLevel.ERROR && /overload/.test(r.servo('shoulder_lift')!.message),
    );
    assert.equal(r.emulator.servo('shoulder_lift').torqueEnabled, false, 'torque off on the faulted servo');
    const faultedGoal = r.emulator.servo('shoulder_lift').register('goal_position');
    r.command([0.2, 0.5, 0, 0, 0, 0]);
    await r.waitFor(
      'the others still commanded',
      () => r.emulator.servo('shoulder_pan').register('goal_position') === CENTRE + Math.round(0.2 / TICK),
    );
    assert.equal(
      r.emulator.servo('shoulder_lift').register('goal_position'),
      faultedGoal,
      'the faulted joint is not commanded',
    );
    assert.equal(r.bus()!.level, DiagnosticLevel.WARN, 'the bus warns of a faulted servo');
    r.clearFaults();
    await r.waitFor(
      'fault cleared',
      () => r.servo('shoulder_lift')?.level === DiagnosticLevel.OK && r.emulator.servo('shoulder_lift').torqueEnabled,
    );
    await r.waitFor(
      'commanded again',
      () => r.emulator.servo('shoulder_lift').register('goal_position') === CENTRE + Math.round(0.5 / TICK),
    );
  } finally {
    await r.stop();
  }
});

test('hw_bridge refuses servos holding another calibration when it may not write its own, and a command interface they cannot do', async () => {
  await assert.rejects(
    rig({ write_calibration: false }),
    /servos hold another calibration than the file \(joint 'shoulder_pan': homing_offset 0 \(file: 100\)/,
  );
  await assert.rejects(
    rig({ command_interface: 'current' }),
    /STS3215 has no current control, so command interface 'current' cannot drive it/,
  );
});

test('hw_bridge on a Dynamixel arm (Koch): the direction goes into Drive_Mode, so a positive command turns the reversed shaft the other way', async () => {
  const koch: RobotCalibration = {
    robot: 'koch',
    protocol: 'dynamixel2',
    joints: JOINTS.map((name, i): JointCalibration => ({
      name,
      id: i + 1,
      model: i < 2 ? 'XL430-W250' : 'XL330-M288',
      drive_mode: name === 'elbow_flex' ? 1 : 0,
      homing_offset: name === 'shoulder_pan' ? -100 : 0,
      range_min: 500,
      range_max: 3600,
    })),
  };
  const r = await rig({}, robotFile('koch'), koch);
  try {
    const elbow = r.emulator.servo('elbow_flex');
    assert.equal(elbow.register('drive_mode') & 1, 1, 'Drive_Mode reverse bit written');
    assert.equal(r.emulator.servo('shoulder_pan').register('homing_offset'), -100);
    await r.lifecycle.activate?.();
    await r.waitFor('joint states', () => r.states.length >= 5);
    // Dynamixel: Present = Actual + Homing_Offset, so the pan reads 100 ticks low
    assert.ok(Math.abs(angle(r.states.at(-1)!, 'shoulder_pan') - -100 * TICK) < 1e-9);
    const shaftBefore = elbow.physical.position;
    const elbowBefore = angle(r.states.at(-1)!, 'elbow_flex');
    r.command([-100 * TICK, 0, elbowBefore + 0.3, 0, 0, 0]);
    await r.waitFor(
      'elbow at the command',
      () => Math.abs(angle(r.states.at(-1)!, 'elbow_flex') - (elbowBefore + 0.3)) < 2 * TICK,
    );
    // the firmware reversed it: the joint went up, the shaft went down
    assert.ok(
      elbow.physical.position - shaftBefore < -0.29,
      `shaft moved ${elbow.physical.position - shaftBefore} rad`,
    );
    assertBusHealthy(r.bus());
  } finally {
    await r.stop();
  }
});

test('hw_bridge with current control (Dynamixel XM430): current and effort commands become Goal Current, zero current when commands stop', async () => {
  const robot = [
    'robot: omx',
    'port: PLACEHOLDER',
    'protocol: dynamixel2',
    'baud_rate: 1000000',
    'servos:',
    '  - { id: 11, name: joint1, model: XM430-W350, registers: { baud_rate: 3, return_delay_time: 0 } }',
    '  - { id: 12, name: joint2, model: XM430-W350, registers: { baud_rate: 3, return_delay_time: 0 } }',
    '',
  ].join('\n');
  const cal: RobotCalibration = {
    robot: 'omx',
    protocol: 'dynamixel2',
    joints: ['joint1', 'joint2'].map((name, i): JointCalibration => ({
      name,
      id: 11 + i,
      model: 'XM430-W350',
      drive_mode: 0,
      homing_offset: 0,
      range_min: 0,
      range_max: 4095,
    })),
  };
  const AMP = 0.00269; // XM430 Goal Current unit
  // the command timeout is long enough that no stall of a busy machine can pass for it before the
  // test stops commanding; the test then waits for it to act
  const current = await rig({ command_interface: 'current', command_timeout_s: 2 }, robot, cal);
  try {
    const j1 = current.emulator.servo('joint1');
    assert.equal(j1.register('operating_mode'), 0, 'current control mode set at configure');
    await current.lifecycle.activate?.();
    current.command([0.1, -0.05]);
    await current.waitFor('goal current', () => j1.register('goal_current') === Math.round(0.1 / AMP));
    assert.equal(current.emulator.servo('joint2').register('goal_current'), Math.round(-0.05 / AMP));
    // beyond the register's limit: clamped, not refused by the servo
    current.command([50, 0]);
    await current.waitFor('clamped', () => j1.register('goal_current') === 1193);
    // no command for command_timeout_s: the servos are told zero current, not left pushing
    await current.waitFor(
      'zero current after the command timeout',
      () => j1.register('goal_current') === 0 && value(current.bus(), 'command_timeouts') === '1',
    );
  } finally {
    await current.stop();
  }
  await assert.rejects(
    rig({ command_interface: 'effort' }, robot, cal),
    /command interface 'effort' needs a torque constant \(N·m\/A/,
  );
  const effort = await rig({ command_interface: 'effort', torque_constants: [1.5, 2] }, robot, cal);
  try {
    await effort.lifecycle.activate?.();
    effort.command([0.3, -0.2]);
    await effort.waitFor(
      'goal current from torque',
      () => effort.emulator.servo('joint1').register('goal_current') === Math.round(0.3 / 1.5 / AMP),
    );
    assert.equal(effort.emulator.servo('joint2').register('goal_current'), Math.round(-0.2 / 2 / AMP));
  } finally {
    await effort.stop();
  }
});

// ---- a misbehaving servo chain ------------------------------------------------------------------

/** The test arm with its servos at different positions (1847, 1947, … 2347): a neighbour's value shows. */
const distinctArm = (): string => armYaml('so101', 'PLACEHOLDER');
const STS = servoModel('STS3215');

/** The joint angles the servos stand at now, as the bridge must publish them. */
function trueAngles(r: Rig): number[] {
  return calibration.joints.map((j) => rawToAngle(j, STS, r.emulator.servo(j.name).register('present_position')));
}

/** Every state published is the servos' own (the arm is held still, so the angles do not change). */
function assertStatesTrue(states: readonly JointState[], want: readonly number[], what: string): void {
  for (const st of states)
    JOINTS.forEach((name, i) =>
      assert.ok(
        Math.abs(angle(st, name) - want[i]!) < 2 * TICK,
        `${what}: ${name} published at ${angle(st, name)} rad, its servo stands at ${want[i]} rad`,
      ),
    );
}

const goalRegisters = (r: Rig): number[] => JOINTS.map((n) => r.emulator.servo(n).register('goal_position'));
const presentRegisters = (r: Rig): number[] => JOINTS.map((n) => r.emulator.servo(n).register('present_position'));

test('hw_bridge: replies under shifted ids mid-run — no wrong joint state, ERROR while none is published, no goal moved', async () => {
  const r = await rig({}, distinctArm());
  let shifted: number | undefined;
  try {
    await r.lifecycle.activate?.();
    await r.waitFor('joint states and a bus report', () => r.states.length >= 5 && r.bus() !== undefined);
    const want = trueAngles(r);
    assertStatesTrue(r.states, want, 'before the fault');
    const goals = goalRegisters(r);
    assert.deepEqual(goals, presentRegisters(r), 'held where it stands');
    const from = r.states.length;
    const failed = Number(value(r.bus(), 'failed_cycles'));
    shifted = r.emulator.inject({ kind: 'shifted_ids' });
    await r.waitFor(
      'the bridge to read under the fault',
      () => Number(value(r.bus(), 'failed_cycles')) >= failed + 3 || r.states.length >= from + 20,
    );
    assertStatesTrue(r.states.slice(from), want, 'shifted ids');
    await r.waitFor(
      'ERROR: no joint state published',
      () => r.bus()?.level === DiagnosticLevel.ERROR && /no joint state published/.test(r.bus()!.message),
    );
    assertStatesTrue(r.states.slice(from), want, 'shifted ids');
    for (const name of JOINTS)
      assert.equal(r.servo(name)!.level, DiagnosticLevel.ERROR, `${name}: ${r.servo(name)!.message}`);
    assert.ok(Number(value(r.bus(), 'mismatched')) >= 1, 'the refused transactions are counted');
    assert.deepEqual(goalRegisters(r), goals, 'no goal was written from the shifted replies');
    // the chain behaves again: states again, the servos' own
    r.emulator.faults.clear(shifted);
    shifted = undefined;
    const again = r.states.length;
    await r.waitFor('joint states again', () => r.states.length >= again + 5);
    assertStatesTrue(r.states.slice(from), want, 'after the fault');
    assert.deepEqual(goalRegisters(r), goals);
  } finally {
    if (shifted !== undefined) r.emulator.faults.clear(shifted);
    await r.stop();
  }
});

test('hw_bridge: the hold at activate is never computed from replies under shifted ids', async () => {
  const r = await rig({}, distinctArm());
  const shifted = r.emulator.inject({ kind: 'shifted_ids' });
  try {
    const goals = goalRegisters(r);
    await assert.rejects(async () => r.lifecycle.activate?.(), /id|order/);
    assert.deepEqual(goalRegisters(r), goals, 'no servo was sent a neighbour position');
    for (const name of JOINTS) assert.equal(r.emulator.servo(name).torqueEnabled, false, `${name}: torque stays off`);
  } finally {
    r.emulator.faults.clear(shifted);
    await r.stop();
  }
});

test('hw_bridge: the restore after a loss holds nothing while replies come under shifted ids, then holds where the arm is', async () => {
  const r = await rig({}, distinctArm());
  let shifted: number | undefined;
  try {
    await r.lifecycle.activate?.();
    await r.waitFor('joint states and a bus report', () => r.states.length >= 5 && r.bus() !== undefined);
    const want = trueAngles(r);
    const goals = goalRegisters(r);
    const unplugged = r.emulator.inject({ kind: 'disconnect' });
    await r.waitFor('ERROR on loss', () => /device lost/.test(r.bus()?.message ?? ''));
    const mismatched = Number(value(r.bus(), 'mismatched'));
    const from = r.states.length;
    shifted = r.emulator.inject({ kind: 'shifted_ids' });
    r.emulator.faults.clear(unplugged);
    await r.waitFor(
      'the restore to read under the fault (or to hold somewhere)',
      () =>
        Number(value(r.bus(), 'reconnects')) >= 1 &&
        (Number(value(r.bus(), 'mismatched')) >= mismatched + 2 || goalRegisters(r).join() !== goals.join()),
    );
    assert.deepEqual(goalRegisters(r), goals, 'no hold from shifted replies');
    assertStatesTrue(r.states.slice(from), want, 'while shifted');
    r.emulator.faults.clear(shifted);
    shifted = undefined;
    await r.waitFor('joint states after the restore', () => r.states.length >= from + 5);
    assertStatesTrue(r.states.slice(from), want, 'after the restore');
    assert.deepEqual(goalRegisters(r), presentRegisters(r), 'held where each servo stands');
    for (const name of JOINTS) assert.equal(r.emulator.servo(name).torqueEnabled, true, `${name}: torque back on`);
  } finally {
    if (shifted !== undefined) r.emulator.faults.clear(shifted);
    await r.stop();
  }
});

test('hw_bridge: one servo answering as another — no wrong joint state, the impostor named, ERROR while nothing is published', async () => {
  const r = await rig({}, distinctArm());
  try {
    await r.lifecycle.activate?.();
    await r.waitFor('joint states', () => r.states.length >= 5);
    const want = trueAngles(r);
    const from = r.states.length;
    const impostor = r.emulator.inject({ kind: 'answer_as', id: 3, as: 4 });
    await r.waitFor(
      'ERROR naming elbow_flex',
      () =>
        r.bus()?.level === DiagnosticLevel.ERROR &&
        /no joint state published/.test(r.bus()!.message) &&
        r.servo('elbow_flex')?.level === DiagnosticLevel.ERROR &&
        /wrong id/.test(r.servo('elbow_flex')!.message),
    );
    assertStatesTrue(r.states.slice(from), want, 'servo 3 answering as 4');
    for (const name of JOINTS)
      assert.equal(r.servo(name)!.level, DiagnosticLevel.ERROR, `${name}: ${r.servo(name)!.message}`);
    r.emulator.faults.clear(impostor);
    await r.waitFor('joint states again', () => r.states.length >= from + 5);
    assertStatesTrue(r.states.slice(from), want, 'after the fault');
  } finally {
    await r.stop();
  }
});

test('hw_bridge: a servo missing — no joint state, so the bus and every joint are ERROR, the missing one named', async () => {
  const r = await rig({}, distinctArm());
  try {
    await r.lifecycle.activate?.();
    await r.waitFor('joint states', () => r.states.length >= 5);
    const silent = r.emulator.inject({ kind: 'no_reply', id: 3 });
    await r.waitFor(
      'ERROR naming elbow_flex',
      () =>
        r.bus()?.level === DiagnosticLevel.ERROR &&
        /no joint state published for [\d.]+ s/.test(r.bus()!.message) &&
        /elbow_flex/.test(r.bus()!.message),
    );
    for (const name of JOINTS)
      assert.equal(r.servo(name)!.level, DiagnosticLevel.ERROR, `${name}: ${r.servo(name)!.message}`);
    // the silent one is named: not answering, or (before it is left out) as the reason for no state
    assert.match(r.servo('elbow_flex')!.message, /not answering|no reply from 'elbow_flex'/);
    assert.match(r.servo('shoulder_pan')!.message, /no joint state published/);
    r.emulator.faults.clear(silent);
    const from = r.states.length;
    await r.waitFor('joint states again', () => r.states.length >= from + 5);
    await r.waitFor('no longer ERROR', () => r.bus()?.level !== DiagnosticLevel.ERROR);
  } finally {
    await r.stop();
  }
});

test('hw_bridge: a servo that stops answering during deactivate — torque off on every servo, the failure on /diagnostics', async () => {
  const r = await rig({}, distinctArm());
  try {
    await r.lifecycle.activate?.();
    await r.waitFor('joint states', () => r.states.length >= 5);
    for (const name of JOINTS) assert.equal(r.emulator.servo(name).torqueEnabled, true);
    r.emulator.inject({ kind: 'no_reply', id: 1 });
    await r.lifecycle.deactivate?.();
    for (const name of JOINTS) assert.equal(r.emulator.servo(name).torqueEnabled, false, `${name}: torque off`);
    // the report published at deactivate
    await r.waitFor('the report after deactivate', () => /torque/.test(r.servo('shoulder_pan')?.message ?? ''));
    const pan = r.servo('shoulder_pan')!;
    assert.equal(pan.level, DiagnosticLevel.ERROR, pan.message);
    assert.match(pan.message, /torque off not confirmed/);
    assert.equal(r.bus()!.level, DiagnosticLevel.ERROR);
    assert.match(r.bus()!.message, /torque off not confirmed on 'shoulder_pan' \(id 1\)/);
    for (const name of JOINTS.slice(1)) assert.doesNotMatch(r.servo(name)!.message, /torque/, name);
  } finally {
    await r.stop();
  }
});
