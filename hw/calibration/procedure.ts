import type { ProtocolName } from '../protocol/types.js';
import type { RegisterName, ServoModel } from '../servos/control_table.js';
import {
  driveModeInSoftware,
  homingOffsetFor,
  maxPosition,
  RangeRecorder,
  type DriveMode,
  type JointCalibration,
  type RobotCalibration,
} from './calibration.js';

// The calibration procedure, step by step as LeRobot's SO-100/SO-101 follower runs it (calibrate()
// in src/lerobot/robots/so_follower/so_follower.py, formerly so101_follower/so101_follower.py, with
// the helpers of src/lerobot/motors/motors_bus.py), over two small interfaces so it runs the same
// against the real bus and against a fake in tests:
//  1. torque off (Feetech: EEPROM unlocked), position mode, direction (Dynamixel: Drive_Mode);
//  2. calibration reset: homing offset 0, position limits the whole turn;
//  3. the user holds the arm in the middle of its range and presses Enter: the positions are read
//     and each servo gets the homing offset that makes that pose read the model's centre;
//  4. the user moves every joint through its whole range and presses Enter: positions are
//     sampled (every 20 ms) into a live table, keeping each joint's min and max;
//  5. the ranges are written to the servos' position limits (Feetech: EEPROM locked again);
//  6. the calibration is handed to `save`.
// Torque stays off at the end: the arm is in the user's hands.

/** What the procedure needs of the bus. Joints are addressed by their index in `joints` order. */
export interface CalibrationBus {
  /** Present_Position of every joint, raw, in joint order (one sync read) */
  readPositions(): Promise<number[]>;
  /** write a register of one joint, raw value */
  writeRegister(joint: number, register: RegisterName, value: number): Promise<void>;
}

/** What the procedure needs of the terminal. */
export interface CalibrationUi {
  /** a line of text for the user */
  say(text: string): void;
  /** show the prompt; resolves when the user presses Enter (rejects if input ends) */
  waitForEnter(prompt: string): Promise<void>;
  /** show a table, replacing the one shown before (called every sample) */
  live(lines: readonly string[]): void;
}

export interface CalibrationJoint {
  readonly name: string;
  readonly id: number;
  readonly model: ServoModel;
  readonly driveMode: DriveMode;
  /** a joint that turns all the way round (a wrist roll): its range is the whole turn */
  readonly fullTurn: boolean;
}

export interface ProcedureOptions {
  readonly robot: string;
  readonly protocol: ProtocolName;
  readonly joints: readonly CalibrationJoint[];
  /** sampling period of the range recording (LeRobot: 20 ms) */
  readonly samplePeriodMs?: number;
  /** consecutive failed reads tolerated while recording ranges (a transient bus error is not a reason to start over) */
  readonly maxReadFailures?: number;
  /** store the result (the file is written only when every step succeeded) */
  readonly save?: (cal: RobotCalibration) => void | Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function has(model: ServoModel, name: RegisterName): boolean {
  return model.registers[name] !== undefined;
}

/** The table LeRobot shows while recording ranges: name, min, present, max. */
export function rangeTable(recorder: RangeRecorder, positions: readonly number[], note = ''): string[] {
  const label = (j: RangeRecorder['joints'][number]): string => j.name + (j.fullTurn ? ' (full turn)' : '');
  const width = Math.max(15, ...recorder.joints.map((j) => label(j).length));
  const row = (a: string, b: string, c: string, d: string): string =>
    `${a.padEnd(width)} | ${b.padStart(6)} | ${c.padStart(6)} | ${d.padStart(6)}`;
  const lines = [row('NAME', 'MIN', 'POS', 'MAX')];
  recorder.joints.forEach((j, i) => {
    const [lo, hi] = recorder.observed(i);
    const show = (x: number): string => (Number.isFinite(x) ? String(x) : '-');
    lines.push(row(label(j), show(lo), show(positions[i] ?? Number.NaN), show(hi)));
  });
  lines.push(`${recorder.samples} samples${note ? `, ${note}` : ''}`);
  return lines;
}

export async function runCalibration(
  bus: CalibrationBus,
  ui: CalibrationUi,
  options: ProcedureOptions,
): Promise<RobotCalibration> {
  const { joints } = options;
  if (joints.length === 0) throw new Error('calibration: the robot has no joints');
  const periodMs = options.samplePeriodMs ?? 20;
  const maxFailures = options.maxReadFailures ?? 25;
  const each = async (
    register: RegisterName,
    value: (j: CalibrationJoint, i: number) => number | undefined,
  ): Promise<void> => {
    for (let i = 0; i < joints.length; i++) {
      const j = joints[i]!;
      const v = value(j, i);
      if (v === undefined || !has(j.model, register)) continue;
      try {
        await bus.writeRegister(i, register, v);
      } catch (err) {
        const message = `joint '${j.name}' (id ${j.id}): writing ${register} = ${v} failed: ${(err as Error).message}`;
        throw new Error(message, { cause: err });
      }
    }
  };
  const read = async (what: string): Promise<number[]> => {
    try {
      const positions = await bus.readPositions();
      if (positions.length !== joints.length)
        throw new Error(`expected ${joints.length} positions, got ${positions.length}`);
      return positions;
    } catch (err) {
      throw new Error(`reading the positions ${what} failed: ${(err as Error).message}`, { cause: err });
    }
  };

  // 1. torque off, EEPROM writable, position mode, direction
  ui.say(`Calibrating ${options.robot}: ${joints.map((j) => `${j.name} (id ${j.id}, ${j.model.name})`).join(', ')}.`);
  ui.say('Torque off: the arm can be moved by hand. Support it so it does not fall.');
  await each('torque_enable', () => 0);
  await each('lock', () => 0);
  await each('operating_mode', (j) => j.model.operatingModes.position);
  await each('drive_mode', (j) => (driveModeInSoftware(j.model) ? undefined : j.driveMode));

  // 2. reset: zero offset and the whole turn, so the raw encoder reading comes through
  await each('homing_offset', () => 0);
  await each('min_position_limit', () => 0);
  await each('max_position_limit', (j) => maxPosition(j.model));

  // 3. homing
  await ui.waitForEnter('Move the arm to the middle of its range of motion, then press Enter.');
  const middle = await read('of the middle pose');
  const offsets = middle.map((p, i) => {
    try {
      return homingOffsetFor(joints[i]!.model, p);
    } catch (err) {
      throw new Error(`joint '${joints[i]!.name}': ${(err as Error).message}`, { cause: err });
    }
  });
  await each('homing_offset', (_, i) => offsets[i]);
  const homed = await read('after homing');
  ui.say('Homing offsets written; the middle pose now reads:');
  ui.say(
    joints
      .map((j, i) => `  ${j.name}: ${homed[i]} (centre ${j.model.centerPosition}, offset ${offsets[i]})`)
      .join('\n'),
  );

  // 4. ranges
  const recorder = new RangeRecorder(joints.map((j) => ({ name: j.name, model: j.model, fullTurn: j.fullTurn })));
  // set by the callbacks below while the loop awaits; read through pressed(), a call, so every check
  // reads the current value
  const input: { pressed: boolean; error?: Error } = { pressed: false };
  const pressed = (): boolean => input.pressed;
  const enter = ui.waitForEnter('Move every joint through its whole range of motion, then press Enter.').then(() => {
    input.pressed = true;
  });
  // an input error (stdin closed) must end the loop too, and surface below
  enter.catch((err: unknown) => {
    input.error = err instanceof Error ? err : new Error(String(err));
    input.pressed = true;
  });
  let failures = 0;
  let lastError = '';
  let positions: number[] = [];
  while (!pressed()) {
    try {
      positions = await read('while recording ranges');
      recorder.add(positions);
      failures = 0;
    } catch (err) {
      failures++;
      lastError = (err as Error).message;
      if (failures > maxFailures)
        throw new Error(`${maxFailures + 1} reads in a row failed while recording ranges: ${lastError}`, {
          cause: err,
        });
    }
    ui.live(rangeTable(recorder, positions, failures ? `read failing: ${lastError}` : ''));
    if (!pressed()) await sleep(periodMs);
  }
  if (input.error) throw input.error;
  // the pose at the moment Enter was pressed counts too
  try {
    recorder.add(await read('at the end of recording'));
  } catch {
    // the samples taken so far stand
  }
  const problems = recorder.problems();
  if (problems.length) throw new Error(`range recording: ${problems.join('; ')}`);

  // 5. limits into the servos (EEPROM), then lock it again
  const ranges = joints.map((_, i) => recorder.range(i));
  await each('min_position_limit', (_, i) => ranges[i]![0]);
  await each('max_position_limit', (_, i) => ranges[i]![1]);
  await each('lock', () => 1);

  const calibrated: JointCalibration[] = joints.map((j, i) => ({
    name: j.name,
    id: j.id,
    model: j.model.name,
    drive_mode: j.driveMode,
    homing_offset: offsets[i]!,
    range_min: ranges[i]![0],
    range_max: ranges[i]![1],
  }));
  const result: RobotCalibration = { robot: options.robot, protocol: options.protocol, joints: calibrated };
  ui.say('Homing offsets and ranges are on the servos.');
  await options.save?.(result);
  return result;
}
