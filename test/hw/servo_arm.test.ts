import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServoArm } from '../../hw/arm/servo_arm.js';
import type { RobotCalibration } from '../../hw/calibration/calibration.js';
import type {
  BusDiagnostics,
  BusState,
  JointInfo,
  JointStateSample,
  JointStatus,
  ServoBusApi,
  ServoFault,
} from '../../hw/bus/servo_bus_api.js';
import { servoModel } from '../../hw/servos/index.js';
import { MOTOR_PARAMETERS } from '../../hw/servos/motor_figures.js';
import type { Logger } from '../../src/util/log.js';

// ServoArm on a scripted bus, for what an emulated chain cannot stage on demand: a position that
// jumps further in one cycle than the motor can move (not published, the joint reported), a hold
// goal from two reads that disagree (refused, nothing written), torque on that does not take on
// every servo (all of it off again), and torque off asked of a lost bus (tried, and reported).

const STS = servoModel('STS3215');
const TICK = (2 * Math.PI) / STS.resolution;
const NAMES = ['shoulder_pan', 'gripper'];

const calibration: RobotCalibration = {
  robot: 'two',
  protocol: 'feetech_sts',
  joints: NAMES.map((name, i) => ({
    name,
    id: i + 1,
    model: 'STS3215',
    drive_mode: 0,
    homing_offset: 0,
    range_min: 0,
    range_max: 4095,
  })),
};

const quiet: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  level: 'error',
};

/** A bus whose reads are scripted (servo angles about the centre, rad) and whose writes are recorded. */
class ScriptedBus implements ServoBusApi {
  readonly joints: readonly JointInfo[] = NAMES.map((name, index) => ({ index, id: index + 1, name, model: STS }));
  state: BusState = 'open';
  /** the positions the next reads return, first first; the last one stays */
  readonly reads: number[][] = [];
  readonly goals: number[][] = [];
  readonly torque: { enabled: boolean; joints: string }[] = [];
  torqueOnFails = false;

  readState(): Promise<JointStateSample> {
    const q = (this.reads.length > 1 ? this.reads.shift() : this.reads[0]) ?? [0, 0];
    return Promise.resolve({
      stamp: performance.now(),
      position: Float64Array.from(q),
      velocity: new Float64Array(q.length),
      effort: new Float64Array(q.length),
      effortKind: q.map(() => 'load' as const),
      rawPosition: q.map((x) => STS.centerPosition + Math.round(x / TICK)),
      valid: q.map(() => true),
    });
  }
  /** the goal kind is the arm's business (position here) */
  writeGoals(values: ArrayLike<number>): Promise<void> {
    this.goals.push(Array.from(values));
    return Promise.resolve();
  }
  setTorque(enabled: boolean, joints?: readonly (number | string)[]): Promise<void> {
    this.torque.push({ enabled, joints: joints ? joints.join(',') : 'all' });
    if (this.state !== 'open') return Promise.reject(new Error(`torque ${enabled ? 'on' : 'off'} not sent: bus lost`));
    if (enabled && this.torqueOnFails)
      return Promise.reject(new Error("torque on not confirmed on 'gripper' (id 2): reads 0"));
    return Promise.resolve();
  }
  readRegister(): Promise<number> {
    return Promise.resolve(0);
  }
  ping(): Promise<{ modelNumber: number | undefined }> {
    return Promise.resolve({ modelNumber: STS.modelNumber });
  }
  writeRegister(): Promise<void> {
    return Promise.resolve();
  }
  readSI(): Promise<number> {
    return Promise.resolve(0);
  }
  writeSI(): Promise<void> {
    return Promise.resolve();
  }
  syncRead(): Promise<number[]> {
    return Promise.resolve([0, 0]);
  }
  readPositions(): Promise<number[]> {
    return Promise.resolve([0, 0]);
  }
  readStatus(): Promise<JointStatus[]> {
    return Promise.resolve([]);
  }
  reboot(): Promise<void> {
    return Promise.resolve();
  }
  clearFault(): Promise<void> {
    return Promise.resolve();
  }
  faults(): ServoFault[] {
    return [];
  }
  diagnostics(): BusDiagnostics {
    throw new Error('not used');
  }
  /** no events: the scripted bus never faults, gets lost by itself or comes back */
  on(): () => void {
    return () => undefined;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function arm(bus: ScriptedBus): ServoArm {
  return new ServoArm(bus, calibration, {
    commandInterface: 'position',
    commandTimeoutMs: 1000,
    writeCalibration: true,
    logger: quiet,
  });
}

test('servo arm: a position that jumps further than the motor can move in the time is not published, and the joint is reported', async () => {
  const bus = new ScriptedBus();
  const a = arm(bus);
  bus.reads.push([0.2, -0.1], [0.2 + 1.0, -0.1], [0.2 + TICK, -0.1]);
  const first = await a.cycle();
  assert.ok(first, 'the first sample is published');
  assert.ok(Math.abs(first.position[0]! - 0.2) < TICK);
  // a whole radian within microseconds: an STS3215 does at most 4.7 rad/s
  assert.ok(MOTOR_PARAMETERS.STS3215!.maxSpeedRadS < 10);
  assert.equal(await a.cycle(), undefined, 'the jumped sample is not published');
  assert.equal(a.counters.implausible, 1);
  const report = a.implausible();
  assert.equal(report[0]!.count, 1);
  assert.match(report[0]!.last ?? '', /^position jumped 1\.000 rad in [\d.]+ ms \(at most [\d.]+ rad possible\)$/);
  assert.equal(report[1]!.count, 0, 'the other joint is fine');
  assert.match(a.noStateReason ?? '', /'shoulder_pan' \(id 1\): position jumped 1\.000 rad/);
  // back where it was: published again (the jump is judged against the last sample published)
  const back = await a.cycle();
  assert.ok(back, 'a plausible sample is published again');
  assert.equal(a.noStateReason, undefined);
  assert.equal(a.counters.published, 2);
});

test('servo arm: the hold at enable comes from two reads that agree; reads that disagree hold nothing', async () => {
  const bus = new ScriptedBus();
  const a = arm(bus);
  bus.reads.push([0.3, 0.1], [0.3 + 0.8, 0.1]);
  await assert.rejects(
    a.enable(),
    /two reads disagree: 'shoulder_pan' changed by 0\.800 rad in [\d.]+ ms \(at most [\d.]+ rad possible\)/,
  );
  assert.equal(bus.goals.length, 0, 'no goal written');
  assert.equal(bus.torque.length, 0, 'torque not touched');
  assert.equal(a.torqueOn, false);

  bus.reads.length = 0;
  bus.reads.push([0.3, 0.1]);
  await a.enable();
  assert.equal(bus.goals.length, 1);
  const [pan, gripper] = bus.goals[0]!;
  assert.ok(Math.abs(pan! - 0.3) < TICK && Math.abs(gripper! - 0.1) < TICK);
  assert.deepEqual(bus.torque, [{ enabled: true, joints: 'all' }]);
});

test('servo arm: torque on that does not take on every servo is turned off on all of them again', async () => {
  const bus = new ScriptedBus();
  bus.torqueOnFails = true;
  const a = arm(bus);
  await assert.rejects(a.enable(), /torque on not confirmed on 'gripper'/);
  assert.deepEqual(bus.torque, [
    { enabled: true, joints: 'all' },
    { enabled: false, joints: 'all' },
  ]);
  assert.equal(a.torqueOn, false);
});

test('servo arm: disable on a lost bus still asks for torque off, and says it could not be sent', async () => {
  const bus = new ScriptedBus();
  const a = arm(bus);
  await a.enable();
  bus.state = 'lost';
  await assert.rejects(a.disable(), /torque off not sent: bus lost/);
  assert.deepEqual(bus.torque.at(-1), { enabled: false, joints: 'all' });
  assert.equal(a.torqueOn, false);
});
