import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { writeFileAtomic } from '../../src/util/atomic_file.js';
import type { ProtocolName } from '../protocol/types.js';
import type { ServoModel } from '../servos/control_table.js';
import { servoModel } from '../servos/index.js';
import type { RobotConfig } from '../robot_config.js';
import { calibrationProblems, type DriveMode, type JointCalibration, type RobotCalibration } from './calibration.js';

// Calibration files: one YAML file per robot, by default
// $XDG_CONFIG_HOME/dynastack/calibration/<robot>.yaml (~/.config/…), written atomically
// (src/util/atomic_file.ts: a flushed temporary file renamed over the old one, so a crash never
// leaves half a calibration) and read
// back with every field checked. A LeRobot calibration JSON ({motor: {id, drive_mode,
// homing_offset, range_min, range_max}}) can be imported, so the poses a user calibrated with
// LeRobot carry over: the numbers mean the same on the servo.
//
//   robot: so101_follower
//   protocol: feetech_sts
//   joints:
//     shoulder_pan: {id: 1, model: STS3215, drive_mode: 0, homing_offset: -12, range_min: 758, range_max: 3292}

const PROTOCOLS: readonly ProtocolName[] = ['dynamixel2', 'feetech_sts', 'feetech_scs'];
const JOINT_KEYS = ['id', 'model', 'drive_mode', 'homing_offset', 'range_min', 'range_max'] as const;
const LEROBOT_KEYS = ['id', 'drive_mode', 'homing_offset', 'range_min', 'range_max'] as const;

/** What calibration files need to know of a robot: its joints' ids and servo models. */
export interface CalibrationTarget {
  readonly robot: string;
  readonly protocol: ProtocolName;
  readonly joints: readonly { readonly name: string; readonly id: number; readonly model: ServoModel }[];
}

/** The calibration target a robot.yaml describes. */
export function calibrationTarget(config: RobotConfig): CalibrationTarget {
  return {
    robot: config.robot,
    protocol: config.protocol,
    joints: config.servos.map((s) => ({ name: s.name, id: s.id, model: servoModel(s.model) })),
  };
}

/** Where a robot's calibration lives unless a path is given. */
export function defaultCalibrationPath(robot: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(robot))
    throw new Error(`robot name '${robot}' cannot name a calibration file (letters, digits, '_', '.', '-')`);
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'dynastack', 'calibration', `${robot}.yaml`);
}

/** The file's text: a comment saying where it came from, then the data, one joint a line. */
export function calibrationYaml(cal: RobotCalibration, comment?: string): string {
  const lines: string[] = [];
  if (comment) for (const c of comment.split('\n')) lines.push(`# ${c}`);
  lines.push(`robot: ${JSON.stringify(cal.robot)}`, `protocol: ${cal.protocol}`, 'joints:');
  for (const j of cal.joints) {
    lines.push(
      `  ${JSON.stringify(j.name)}: {id: ${j.id}, model: ${JSON.stringify(j.model)}, drive_mode: ${j.drive_mode}, homing_offset: ${j.homing_offset}, range_min: ${j.range_min}, range_max: ${j.range_max}}`,
    );
  }
  return lines.join('\n') + '\n';
}

/** Write atomically: a crash or a full disk leaves the previous file as it was. */
export function writeCalibrationFile(path: string, cal: RobotCalibration, comment?: string): void {
  const target = resolve(path);
  try {
    writeFileAtomic(target, calibrationYaml(cal, comment));
  } catch (err) {
    // the helper's error says 'cannot write <path>: <why>'; this one says what the file is
    const why =
      (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
    throw new Error(`cannot write calibration file ${target}: ${why}`, { cause: err });
  }
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Parse and check a calibration file's text. With a target robot, the joints must be the robot's
 * (same names, ids and models) and every value must fit its servo.
 */
export function parseCalibration(text: string, origin: string, target?: CalibrationTarget): RobotCalibration {
  const fail = (msg: string): never => {
    throw new Error(`calibration ${origin}: ${msg}`);
  };
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    return fail(`not valid YAML: ${(err as Error).message}`);
  }
  if (!isRecord(doc)) return fail('expected a mapping with robot, protocol and joints');
  const { robot, protocol, joints } = doc;
  if (typeof robot !== 'string' || !robot) fail(`'robot' must be a non-empty string, got ${JSON.stringify(robot)}`);
  if (!PROTOCOLS.includes(protocol as ProtocolName))
    fail(`'protocol' must be one of ${PROTOCOLS.join(', ')}, got ${JSON.stringify(protocol)}`);
  if (!isRecord(joints) || Object.keys(joints).length === 0)
    return fail("'joints' must map each joint name to {id, model, drive_mode, homing_offset, range_min, range_max}");
  const unknownTop = Object.keys(doc).filter((k) => !['robot', 'protocol', 'joints'].includes(k));
  if (unknownTop.length) fail(`unknown key(s) ${unknownTop.join(', ')}`);
  const out: JointCalibration[] = Object.entries(joints).map(([name, j]) => {
    if (!isRecord(j)) return fail(`joint '${name}': expected a mapping, got ${JSON.stringify(j)}`);
    const missing = JOINT_KEYS.filter((k) => !(k in j));
    if (missing.length) fail(`joint '${name}': missing ${missing.join(', ')}`);
    const extra = Object.keys(j).filter((k) => !(JOINT_KEYS as readonly string[]).includes(k));
    if (extra.length) fail(`joint '${name}': unknown key(s) ${extra.join(', ')}`);
    if (typeof j.model !== 'string')
      fail(`joint '${name}': model must be a servo model name, got ${JSON.stringify(j.model)}`);
    for (const k of ['id', 'drive_mode', 'homing_offset', 'range_min', 'range_max'] as const) {
      if (typeof j[k] !== 'number' || !Number.isInteger(j[k]))
        fail(`joint '${name}': ${k} must be an integer, got ${JSON.stringify(j[k])}`);
    }
    return {
      name,
      id: j.id as number,
      model: j.model as string,
      drive_mode: j.drive_mode as DriveMode,
      homing_offset: j.homing_offset as number,
      range_min: j.range_min as number,
      range_max: j.range_max as number,
    };
  });
  const cal: RobotCalibration = { robot: robot as string, protocol: protocol as ProtocolName, joints: out };
  if (target) checkAgainst(cal, target, fail);
  else {
    const ids = out.map((j) => j.id);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup !== undefined) fail(`id ${dup} is used by more than one joint`);
  }
  return cal;
}

function checkAgainst(cal: RobotCalibration, target: CalibrationTarget, fail: (msg: string) => never): void {
  if (cal.protocol !== target.protocol) fail(`it is for protocol ${cal.protocol}, the robot uses ${target.protocol}`);
  const names = cal.joints.map((j) => j.name);
  const want = target.joints.map((j) => j.name);
  const missing = want.filter((n) => !names.includes(n));
  const extra = names.filter((n) => !want.includes(n));
  if (missing.length || extra.length) {
    fail(
      `its joints (${names.join(', ')}) are not the robot's (${want.join(', ')})${missing.length ? `; missing ${missing.join(', ')}` : ''}${extra.length ? `; not on the robot: ${extra.join(', ')}` : ''}`,
    );
  }
  const problems: string[] = [];
  for (const t of target.joints) {
    const j = cal.joints.find((x) => x.name === t.name)!;
    if (j.id !== t.id) problems.push(`joint '${t.name}': id ${j.id}, the robot has ${t.id}`);
    if (j.model !== t.model.name) problems.push(`joint '${t.name}': model ${j.model}, the robot has ${t.model.name}`);
    problems.push(...calibrationProblems(j, t.model));
  }
  if (problems.length) fail(problems.join('; '));
}

/** Calibration in the robot's joint order (files may list joints in any order). */
export function inJointOrder(cal: RobotCalibration, target: CalibrationTarget): JointCalibration[] {
  return target.joints.map((t) => {
    const j = cal.joints.find((x) => x.name === t.name);
    if (!j) throw new Error(`calibration for ${cal.robot} has no joint '${t.name}'`);
    return j;
  });
}

/** Read and check a calibration file. */
export function readCalibrationFile(path: string, target?: CalibrationTarget): RobotCalibration {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `calibration file ${path} does not exist: run \`dynastack calibrate --config <robot.yaml>\` first (or import a LeRobot calibration with --import-lerobot)`
        : `cannot read calibration file ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return parseCalibration(text, path, target);
}

/**
 * A LeRobot calibration JSON (as LeRobot caches it, e.g.
 * ~/.cache/huggingface/lerobot/calibration/robots/so101_follower/<id>.json) as a dynastack
 * calibration of `target`: the motors must be the robot's joints, by name and id.
 */
export function importLerobotCalibration(text: string, origin: string, target: CalibrationTarget): RobotCalibration {
  const fail = (msg: string): never => {
    throw new Error(`LeRobot calibration ${origin}: ${msg}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return fail(`not valid JSON: ${(err as Error).message}`);
  }
  if (!isRecord(doc))
    return fail('expected an object {motor name: {id, drive_mode, homing_offset, range_min, range_max}}');
  const joints: JointCalibration[] = Object.entries(doc).map(([name, m]) => {
    if (!isRecord(m)) return fail(`motor '${name}': expected an object, got ${JSON.stringify(m)}`);
    for (const k of LEROBOT_KEYS) {
      if (typeof m[k] !== 'number' || !Number.isInteger(m[k]))
        fail(`motor '${name}': ${k} must be an integer, got ${JSON.stringify(m[k])}`);
    }
    const t = target.joints.find((x) => x.name === name);
    if (!t)
      return fail(`motor '${name}' is not a joint of ${target.robot} (${target.joints.map((x) => x.name).join(', ')})`);
    return {
      name,
      id: m.id as number,
      model: t.model.name,
      drive_mode: m.drive_mode as DriveMode,
      homing_offset: m.homing_offset as number,
      range_min: m.range_min as number,
      range_max: m.range_max as number,
    };
  });
  const cal: RobotCalibration = { robot: target.robot, protocol: target.protocol, joints };
  checkAgainst(cal, target, fail);
  return { ...cal, joints: inJointOrder(cal, target) };
}

/** The reverse, for users going back to LeRobot: the JSON LeRobot reads. */
export function lerobotCalibrationJson(cal: RobotCalibration): string {
  const out: Record<string, Record<string, number>> = {};
  for (const j of cal.joints)
    out[j.name] = {
      id: j.id,
      drive_mode: j.drive_mode,
      homing_offset: j.homing_offset,
      range_min: j.range_min,
      range_max: j.range_max,
    };
  return JSON.stringify(out, null, 4) + '\n';
}
