import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { PROTOCOL_NAMES } from './protocol/index.js';
import { BROADCAST_ID, type ProtocolName } from './protocol/types.js';
import { servoModel } from './servos/index.js';
import type { RegisterName } from './servos/control_table.js';
import { writableRange } from './servos/registers.js';
import type { JointConfig } from './bus/servo_bus_api.js';
import { MOTOR_PARAMETERS, type MotorParameters } from './servos/motor_figures.js';

// robot.yaml: one serial servo bus — where it is, what it speaks, which servos hang on it — plus
// what the emulator needs to stand in for it. The same file serves the emulator and the host side
// (ServoBus joints via `jointsOf`). Every problem is reported with the file and the key:
//
//   robot: so101
//   port: /tmp/dynastack-so101        # device path; the emulator creates it as a pty link
//   protocol: feetech_sts             # dynamixel2 | feetech_sts | feetech_scs
//   baud_rate: 1000000
//   servos:
//     - { id: 1, name: shoulder_pan, model: STS3215, position: 2047 }
//   emulator:                         # optional
//     reply_delay_ms: 0               # extra delay before every reply
//     step_ms: 5                      # dynamics timer period
//     boot_ms: 200                    # how long REBOOT leaves a servo deaf
//     firmware_version: 46
//     faults:                         # scheduled fault injection (hw/emulator/faults.ts)
//       - { kind: late_reply, id: 3, delay_ms: 30, at_s: 5, for_s: 2 }
//       - { kind: shifted_ids, shift: 1, at_s: 10 }   # also: answer_as { id, as }, out_of_order
//
// Per servo, for the emulator: `position` (raw Present_Position at power-on), `registers`
// (power-on register values, raw, e.g. { return_delay_time: 0 }) and `motor` (motor figure
// overrides in snake_case, e.g. { max_speed_rad_s: 3 }).

export interface ServoConfig {
  readonly id: number;
  readonly name: string;
  /** canonical model name, e.g. 'STS3215' */
  readonly model: string;
  readonly position: number | undefined;
  readonly registers: Partial<Record<RegisterName, number>>;
  readonly motor: Partial<MotorParameters>;
}

/** The faults robot.yaml can schedule for the emulator (and a test can inject over IPC). */
export type HardwareFault = 'overload' | 'overheat' | 'voltage';
export const HARDWARE_FAULTS: readonly HardwareFault[] = ['overload', 'overheat', 'voltage'];

export type FaultSpec =
  /** the servo (or, without id, every servo) stays silent */
  | { readonly kind: 'no_reply'; readonly id?: number; readonly count?: number }
  /** replies go out `delayMs` late */
  | { readonly kind: 'late_reply'; readonly id?: number; readonly delayMs: number; readonly count?: number }
  /** one bit flipped in a reply: `byteFromEnd` 1 = the last byte; default the last data/error byte before the check bytes */
  | {
      readonly kind: 'corrupt_byte';
      readonly id?: number;
      readonly count?: number;
      readonly byteFromEnd?: number;
      readonly bit?: number;
    }
  /**
   * every servo answers under the id of the servo `shift` places after it in id order (default 1,
   * wrapping round the chain), as a chain whose ids were set one off would
   */
  | { readonly kind: 'shifted_ids'; readonly shift?: number; readonly count?: number }
  /** servo `id` answers under id `as` (another servo's, or one nobody has) */
  | { readonly kind: 'answer_as'; readonly id: number; readonly as: number; readonly count?: number }
  /** the replies to a request several servos answer (sync/bulk read) go out in reverse order; `count`: requests */
  | { readonly kind: 'out_of_order'; readonly count?: number }
  /** a hardware error in servo `id`, latched until REBOOT */
  | { readonly kind: 'hardware_error'; readonly id: number; readonly error: HardwareFault }
  /** the pty goes away (the emulator closes it); back after `durationMs` when given, else when cleared */
  | { readonly kind: 'disconnect'; readonly durationMs?: number; readonly signal?: 'SIGTERM' | 'SIGKILL' };

/** Every fault kind, for messages. */
export const FAULT_KINDS: readonly FaultSpec['kind'][] = [
  'no_reply',
  'late_reply',
  'corrupt_byte',
  'shifted_ids',
  'answer_as',
  'out_of_order',
  'hardware_error',
  'disconnect',
];

export interface ScheduledFault {
  readonly spec: FaultSpec;
  readonly atMs: number;
  readonly durationMs: number | undefined;
}

export interface EmulatorSettings {
  readonly replyDelayMs: number;
  readonly stepMs: number;
  readonly bootMs: number;
  readonly firmwareVersion: number;
  readonly faults: readonly ScheduledFault[];
}

export interface RobotConfig {
  /** where it came from, for messages */
  readonly source: string;
  readonly robot: string;
  readonly port: string;
  readonly protocol: ProtocolName;
  readonly baudRate: number;
  readonly servos: readonly ServoConfig[];
  readonly emulator: EmulatorSettings;
}

export class RobotConfigError extends Error {
  override readonly name = 'RobotConfigError';
}

/** The joints of a robot config, for ServoBus. */
export function jointsOf(config: RobotConfig): JointConfig[] {
  return config.servos.map((s) => ({ id: s.id, name: s.name, model: s.model }));
}

export function loadRobotConfig(path: string): RobotConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RobotConfigError(`cannot read robot config ${path}: ${(err as Error).message}`);
  }
  return parseRobotConfig(text, path);
}

const MOTOR_KEYS: Record<string, keyof MotorParameters> = {
  max_speed_rad_s: 'maxSpeedRadS',
  stall_torque_nm: 'stallTorqueNm',
  stall_current_a: 'stallCurrentA',
  supply_v: 'supplyV',
  bandwidth_rad_s: 'bandwidthRadS',
  inertia_kg_m2: 'inertiaKgM2',
  damping_nms_per_rad: 'dampingNmsPerRad',
  ambient_c: 'ambientC',
  heating_c_per_a2: 'heatingCPerA2',
  thermal_time_constant_s: 'thermalTimeConstantS',
};

export function parseRobotConfig(text: string, source: string): RobotConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new RobotConfigError(`${source}: not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`);
  }
  const fail = (key: string, problem: string): never => {
    throw new RobotConfigError(`${source}: ${key}: ${problem}`);
  };
  const root = mapping(doc, '(top level)', fail);
  allowOnly(root, ['robot', 'port', 'protocol', 'baud_rate', 'servos', 'emulator'], '(top level)', fail);

  const robot = root.robot === undefined ? 'robot' : text_(root.robot, 'robot', fail);
  const port = text_(root.port, 'port', fail);
  const protocolName = text_(root.protocol, 'protocol', fail);
  if (!PROTOCOL_NAMES.includes(protocolName as ProtocolName))
    fail('protocol', `'${protocolName}' is not one of ${PROTOCOL_NAMES.join(', ')}`);
  const protocol = protocolName as ProtocolName;
  const baudRate = number_(root.baud_rate, 'baud_rate', fail);
  if (!(Number.isInteger(baudRate) && baudRate > 0))
    fail('baud_rate', `${baudRate} is not a positive whole number of bits per second`);

  if (!Array.isArray(root.servos) || root.servos.length === 0)
    fail('servos', 'must be a non-empty list of { id, name, model }');
  const maxId = protocol === 'dynamixel2' ? 252 : 253;
  const ids = new Set<number>();
  const names = new Set<string>();
  const servos = (root.servos as unknown[]).map((entry, i): ServoConfig => {
    const at = `servos[${i}]`;
    const s = mapping(entry, at, fail);
    allowOnly(s, ['id', 'name', 'model', 'position', 'registers', 'motor'], at, fail);
    const id = number_(s.id, `${at}.id`, fail);
    if (!(Number.isInteger(id) && id >= 0 && id <= maxId))
      fail(`${at}.id`, `${id} is not a servo id (0–${maxId} on ${protocol})`);
    if (ids.has(id)) fail(`${at}.id`, `id ${id} is used twice (two servos with one id answer over each other)`);
    ids.add(id);
    const name = text_(s.name, `${at}.name`, fail);
    if (names.has(name)) fail(`${at}.name`, `'${name}' is used twice`);
    names.add(name);
    let model;
    try {
      model = servoModel(text_(s.model, `${at}.model`, fail));
    } catch (err) {
      if (err instanceof RobotConfigError) throw err;
      return fail(`${at}.model`, (err as Error).message);
    }
    if (model.protocol !== protocol)
      fail(`${at}.model`, `${model.name} speaks ${model.protocol}, the bus is ${protocol}`);
    let position: number | undefined;
    if (s.position !== undefined) {
      position = number_(s.position, `${at}.position`, fail);
      if (!(Number.isInteger(position) && position >= 0 && position < model.resolution))
        fail(`${at}.position`, `${position} is not a raw position 0–${model.resolution - 1}`);
    }
    const registers: Partial<Record<RegisterName, number>> = {};
    if (s.registers !== undefined) {
      for (const [key, value] of Object.entries(mapping(s.registers, `${at}.registers`, fail))) {
        const register = model.registers[key as RegisterName];
        if (!register)
          fail(
            `${at}.registers.${key}`,
            `${model.name} has no register '${key}' (it has: ${Object.keys(model.registers).join(', ')})`,
          );
        const v = number_(value, `${at}.registers.${key}`, fail);
        const [lo, hi] = writableRange(register!);
        if (!(Number.isInteger(v) && v >= lo && v <= hi)) fail(`${at}.registers.${key}`, `${v} is outside ${lo}–${hi}`);
        registers[key as RegisterName] = v;
      }
    }
    const motor: Partial<Record<keyof MotorParameters, number>> = {};
    if (s.motor !== undefined) {
      if (!MOTOR_PARAMETERS[model.name]) fail(`${at}.motor`, `no motor figures for ${model.name}`);
      for (const [key, value] of Object.entries(mapping(s.motor, `${at}.motor`, fail))) {
        const field = MOTOR_KEYS[key];
        if (!field) fail(`${at}.motor.${key}`, `unknown motor figure (known: ${Object.keys(MOTOR_KEYS).join(', ')})`);
        const v = number_(value, `${at}.motor.${key}`, fail);
        if (!(v > 0) && field !== 'ambientC') fail(`${at}.motor.${key}`, `${v} must be > 0`);
        motor[field!] = v;
      }
    }
    return { id, name, model: model.name, position, registers, motor };
  });

  const emulator = parseEmulator(root.emulator, ids, fail);
  return { source, robot, port, protocol, baudRate, servos, emulator };
}

function parseEmulator(
  value: unknown,
  ids: ReadonlySet<number>,
  fail: (key: string, problem: string) => never,
): EmulatorSettings {
  const e = value === undefined ? {} : mapping(value, 'emulator', fail);
  allowOnly(e, ['reply_delay_ms', 'step_ms', 'boot_ms', 'firmware_version', 'faults'], 'emulator', fail);
  const optional = (key: string, fallback: number, ok: (v: number) => boolean, rule: string): number => {
    if (e[key] === undefined) return fallback;
    const v = number_(e[key], `emulator.${key}`, fail);
    if (!ok(v)) fail(`emulator.${key}`, `${v} ${rule}`);
    return v;
  };
  const replyDelayMs = optional('reply_delay_ms', 0, (v) => v >= 0, 'must be ≥ 0');
  const stepMs = optional('step_ms', 5, (v) => v > 0 && v <= 100, 'must be in (0, 100]');
  const bootMs = optional('boot_ms', 200, (v) => v >= 0, 'must be ≥ 0');
  const firmwareVersion = optional(
    'firmware_version',
    46,
    (v) => Number.isInteger(v) && v >= 0 && v <= 255,
    'must be a byte',
  );
  const faults: ScheduledFault[] = [];
  if (e.faults !== undefined) {
    if (!Array.isArray(e.faults)) fail('emulator.faults', 'must be a list');
    (e.faults as unknown[]).forEach((entry, i) => faults.push(parseFault(entry, `emulator.faults[${i}]`, ids, fail)));
  }
  return { replyDelayMs, stepMs, bootMs, firmwareVersion, faults };
}

function parseFault(
  value: unknown,
  at: string,
  ids: ReadonlySet<number>,
  fail: (key: string, problem: string) => never,
): ScheduledFault {
  const f = mapping(value, at, fail);
  const kind = text_(f.kind, `${at}.kind`, fail);
  const num = (key: string): number | undefined =>
    f[key] === undefined ? undefined : number_(f[key], `${at}.${key}`, fail);
  const id = num('id');
  if (id !== undefined && !ids.has(id)) fail(`${at}.id`, `no servo with id ${id} in this config`);
  const count = num('count');
  const atS = num('at_s') ?? 0;
  const forS = num('for_s');
  if (!(atS >= 0)) fail(`${at}.at_s`, 'must be ≥ 0');
  if (forS !== undefined && !(forS > 0)) fail(`${at}.for_s`, 'must be > 0');
  const common = ['kind', 'at_s', 'for_s'];
  let spec: FaultSpec;
  switch (kind) {
    case 'no_reply':
      allowOnly(f, [...common, 'id', 'count'], at, fail);
      spec = { kind, ...(id !== undefined ? { id } : {}), ...(count !== undefined ? { count } : {}) };
      break;
    case 'late_reply': {
      allowOnly(f, [...common, 'id', 'count', 'delay_ms'], at, fail);
      const delayMs = num('delay_ms');
      if (delayMs === undefined || !(delayMs > 0)) fail(`${at}.delay_ms`, 'a late reply needs delay_ms > 0');
      spec = {
        kind,
        delayMs: delayMs,
        ...(id !== undefined ? { id } : {}),
        ...(count !== undefined ? { count } : {}),
      };
      break;
    }
    case 'corrupt_byte': {
      allowOnly(f, [...common, 'id', 'count', 'byte_from_end', 'bit'], at, fail);
      const byteFromEnd = num('byte_from_end');
      const bit = num('bit');
      spec = {
        kind,
        ...(id !== undefined ? { id } : {}),
        ...(count !== undefined ? { count } : {}),
        ...(byteFromEnd !== undefined ? { byteFromEnd } : {}),
        ...(bit !== undefined ? { bit } : {}),
      };
      break;
    }
    case 'shifted_ids': {
      allowOnly(f, [...common, 'shift', 'count'], at, fail);
      const shift = num('shift');
      if (shift !== undefined && !(Number.isInteger(shift) && shift !== 0))
        fail(`${at}.shift`, `${shift} is not a whole number other than 0`);
      spec = {
        kind,
        ...(shift !== undefined ? { shift } : {}),
        ...(count !== undefined ? { count } : {}),
      };
      break;
    }
    case 'answer_as': {
      allowOnly(f, [...common, 'id', 'as', 'count'], at, fail);
      if (id === undefined) fail(`${at}.id`, 'answer_as needs the id of the servo that answers under another');
      const as = num('as');
      if (as === undefined || !(Number.isInteger(as) && as >= 0 && as < BROADCAST_ID) || as === id)
        fail(`${at}.as`, `needs the id (0–${BROADCAST_ID - 1}, not the servo's own) to answer under`);
      spec = { kind, id, as, ...(count !== undefined ? { count } : {}) };
      break;
    }
    case 'out_of_order':
      allowOnly(f, [...common, 'count'], at, fail);
      spec = { kind, ...(count !== undefined ? { count } : {}) };
      break;
    case 'hardware_error': {
      allowOnly(f, [...common, 'id', 'error'], at, fail);
      if (id === undefined) fail(`${at}.id`, 'a hardware error needs the id of a servo');
      const error = text_(f.error, `${at}.error`, fail);
      if (!['overload', 'overheat', 'voltage'].includes(error))
        fail(`${at}.error`, `'${error}' is not one of overload, overheat, voltage`);
      spec = { kind, id: id, error: error as HardwareFault };
      break;
    }
    case 'disconnect': {
      allowOnly(f, [...common, 'signal'], at, fail);
      const signal = f.signal === undefined ? undefined : text_(f.signal, `${at}.signal`, fail);
      if (signal !== undefined && signal !== 'SIGTERM' && signal !== 'SIGKILL')
        fail(`${at}.signal`, `'${signal}' is not SIGTERM or SIGKILL`);
      spec = { kind, ...(signal ? { signal: signal } : {}) };
      break;
    }
    default:
      return fail(`${at}.kind`, `'${kind}' is not one of ${FAULT_KINDS.join(', ')}`);
  }
  return { spec, atMs: atS * 1000, durationMs: forS === undefined ? undefined : forS * 1000 };
}

type Fail = (key: string, problem: string) => never;

function mapping(value: unknown, key: string, fail: Fail): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail(key, 'must be a mapping');
  return value as Record<string, unknown>;
}

function allowOnly(m: Record<string, unknown>, keys: readonly string[], at: string, fail: Fail): void {
  for (const key of Object.keys(m))
    if (!keys.includes(key)) fail(`${at}.${key}`, `unknown key (allowed: ${keys.join(', ')})`);
}

function text_(value: unknown, key: string, fail: Fail): string {
  if (typeof value !== 'string' || value.trim() === '')
    return fail(key, value === undefined ? 'missing' : `must be a non-empty string, got ${JSON.stringify(value)}`);
  return value.trim();
}

function number_(value: unknown, key: string, fail: Fail): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    return fail(key, value === undefined ? 'missing' : `must be a number, got ${JSON.stringify(value)}`);
  return value;
}
