import { STATUS_ERROR_BITS } from '../protocol/feetech/instructions.js';
import type { Encoding, Register, RegisterName, ServoModel, Unit } from './control_table.js';

// Feetech STS3215 control table (the servo of SO-100 / SO-101), little-endian (Feetech STS
// protocol), with the addresses of LeRobot's STS_SMS_SERIES_CONTROL_TABLE
// (lerobot/motors/feetech/tables.py) checked against Feetech's own STS memory table
// (ftservo/ftservo-wiki `docs/en/reference/parameter/memory-sts.md`, from the official SMS_STS.h).
//
// Addresses 0–39 are EEPROM (0–4 read-only version bytes); they persist only when written with
// Lock(55) = 0, and LeRobot writes them with torque off. 40 and up is RAM.
//
// Signed registers are sign-magnitude (hw/protocol/feetech/sign_magnitude.ts) with the sign bits
// of LeRobot's STS_SMS_SERIES_ENCODINGS_TABLE: bit 15 for goal/present position and velocity,
// bit 11 for Homing_Offset, bit 10 for Present_Load.
//
// Velocity unit: 1 step/s = 2π/4096 rad/s (0.0146 rpm), not 0.732 rpm. The evidence:
//  - Feetech's STS memory table gives Goal/Present Speed (46/58) the unit "0.732 RPM / 0.0146 RPM",
//    chosen by Phase(18) bit 2; 0.0146 rpm is 60/4096 rpm, exactly one encoder step per second,
//    and 0.732 rpm is 50 steps/s (also the unit of the one-byte factory speed limits 83/84). The
//    same table adds that in the fine unit the precision is still 0.732 rpm: readings move in
//    steps of about 50;
//  - Feetech's SCServo library examples (SMS_STS SyncWritePos / RegWritePos, "tested on the
//    STS3215") state "factory speed unit is 0.0146rpm", command V=3400 "steps/s" as full speed,
//    and say to use V=68 instead only on a servo set to 0.732 rpm (3400 / 50 = 68). In 0.732 rpm
//    units 3400 would be 2489 rpm, for a servo rated 0.238 s/60° (42 rpm) at 6 V;
//  - Rhoban/bam (`bam/feetech/record_feetech_sdk.py`) converts STS3215 Present_Speed with the
//    steps→radians factor, and the top speed it identified, 5.24 rad/s at 7.4 V
//    (apirrone/Open_Duck_Mini_Runtime#7), is 3416 steps/s — Feetech's 3400.
// One fork (ftservo/ftservo-bam `bam/feetech/record.py`) scales STS3215 speed by 0.732 rpm; it
// contradicts all of the above and is not followed. A servo whose Phase bit 2 was cleared would
// report in 50-step units: the table assumes the factory Phase.

/** Encoder steps per revolution (MODEL_RESOLUTION["sts3215"]). */
const RESOLUTION = 4096;
/** First RAM address (Torque_Enable); 0–39 is EEPROM. */
const EEPROM_END = 40;
const MODEL_NUMBER = 777;
/**
 * Firmware an STS3215 reports at addresses 0/1 (Firmware_Major/Minor_Version in LeRobot's table):
 * 3.10, the version LeRobot's SO-101 setup expects of all six servos (its firmware check reports a
 * mixed arm as e.g. {1: '3.10', 3: '3.9'}; huggingface/lerobot issues #532, #1010).
 */
const FIRMWARE = { major: 3, minor: 10 } as const;

const UNSIGNED: Encoding = { kind: 'unsigned' };
/** the sign bits of STS_SMS_SERIES_ENCODINGS_TABLE */
const SIGN_BIT_15: Encoding = { kind: 'sign_magnitude', signBit: 15 };
const SIGN_BIT_11: Encoding = { kind: 'sign_magnitude', signBit: 11 };
const SIGN_BIT_10: Encoding = { kind: 'sign_magnitude', signBit: 10 };

const RAD_PER_STEP = (2 * Math.PI) / RESOLUTION;
/** Acceleration(41) counts 100 steps/s² (SCServo examples: "A=50 (50*100 steps/s^2)"; Feetech's table: 8.7°/s²). */
const STEPS_S2_PER_ACCELERATION_UNIT = 100;

const UNIT = {
  none: { quantity: 'none', scale: 1, raw: '-' },
  step: { quantity: 'angle', scale: RAD_PER_STEP, raw: '1 step (0.088°)' },
  velocity: { quantity: 'angular_velocity', scale: RAD_PER_STEP, raw: '1 step/s (0.0146 rpm)' },
  acceleration: {
    quantity: 'angular_acceleration',
    scale: STEPS_S2_PER_ACCELERATION_UNIT * RAD_PER_STEP,
    raw: '100 steps/s² (8.79°/s²)',
  },
  load: { quantity: 'load_ratio', scale: 0.001, raw: '0.1 %' },
  current: { quantity: 'current', scale: 0.0065, raw: '6.5 mA' },
  decivolt: { quantity: 'voltage', scale: 0.1, raw: '0.1 V' },
  celsius: { quantity: 'temperature', scale: 1, raw: '1 °C' },
  returnDelay: { quantity: 'time', scale: 2e-6, raw: '2 µs' },
} as const satisfies Record<string, Unit>;

type Spec = Omit<Register, 'name' | 'memory'>;

const SPECS: Partial<Record<RegisterName, Spec>> = {
  firmware_version: {
    address: 0,
    size: 1,
    access: 'r',
    encoding: UNSIGNED,
    unit: UNIT.none,
    initial: FIRMWARE.major,
    description: 'Firmware major version (minor at 1)',
  },
  firmware_minor_version: {
    address: 1,
    size: 1,
    access: 'r',
    encoding: UNSIGNED,
    unit: UNIT.none,
    initial: FIRMWARE.minor,
    description: 'Firmware minor version',
  },
  model_number: {
    address: 3,
    size: 2,
    access: 'r',
    encoding: UNSIGNED,
    unit: UNIT.none,
    initial: MODEL_NUMBER,
    description: 'Model number (servo major/minor version bytes 3–4)',
  },
  id: {
    address: 5,
    size: 1,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.none,
    range: [0, 253],
    initial: 1,
    description: 'ID',
  },
  baud_rate: {
    address: 6,
    size: 1,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.none,
    range: [0, 7],
    initial: 0,
    description: 'Baud rate (index into baudRates; 0 = 1 Mbps)',
  },
  return_delay_time: {
    address: 7,
    size: 1,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.returnDelay,
    description:
      "Return_Delay_Time per LeRobot (which writes 0); Feetech's STS table marks it reserved, without effect on STS",
  },
  status_return_level: {
    address: 8,
    size: 1,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.none,
    range: [0, 1],
    initial: 1,
    description: 'Response Status Level: 0 a status packet only for READ and PING, 1 for every instruction',
  },
  min_position_limit: {
    address: 9,
    size: 2,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.step,
    range: [0, RESOLUTION - 1],
    initial: 0,
    description: 'Min angle limit (0 in multi-turn mode); calibration range_min',
  },
  max_position_limit: {
    address: 11,
    size: 2,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.step,
    range: [0, RESOLUTION - 1],
    initial: RESOLUTION - 1,
    description: 'Max angle limit (0 in multi-turn mode); calibration range_max',
  },
  max_temperature_limit: {
    address: 13,
    size: 1,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.celsius,
    range: [0, 100],
    initial: 70,
    description: 'Max temperature limit',
  },
  max_voltage_limit: {
    address: 14,
    size: 1,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.decivolt,
    range: [0, 254],
    description: 'Max input voltage',
  },
  min_voltage_limit: {
    address: 15,
    size: 1,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.decivolt,
    range: [0, 254],
    initial: 40,
    description: 'Min input voltage',
  },
  max_torque_limit: {
    address: 16,
    size: 2,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.load,
    range: [0, 1000],
    initial: 1000,
    description: 'Max torque; copied to Torque_Limit(48) at power-on',
  },
  phase: {
    address: 18,
    size: 1,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.none,
    description:
      'Phase: bit 0 drive direction, bit 2 speed unit (1 = 1 step/s, the factory setting), bit 4 multi-turn feedback (LeRobot clears it), bit 7 feedback direction',
  },
  current_limit: {
    address: 28,
    size: 2,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.current,
    range: [0, 2047],
    initial: 511,
    description: 'Protection current',
  },
  homing_offset: {
    address: 31,
    size: 2,
    access: 'rw',
    encoding: SIGN_BIT_11,
    unit: UNIT.step,
    range: [-2047, 2047],
    initial: 0,
    description: 'Homing_Offset (position offset): Present = actual − offset; sign-magnitude with the sign in bit 11',
  },
  operating_mode: {
    address: 33,
    size: 1,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.none,
    range: [0, 3],
    initial: 0,
    description: 'Operating mode (values in operatingModes; 0 = position)',
  },
  torque_enable: {
    address: 40,
    size: 1,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.none,
    range: [0, 128],
    initial: 0,
    description: 'Torque enable: 0 off, 1 on, 2 damping, 128 make the present position 2048',
  },
  acceleration: {
    address: 41,
    size: 1,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.acceleration,
    range: [0, 254],
    initial: 0,
    description: 'Acceleration (0 = maximum)',
  },
  goal_position: {
    address: 42,
    size: 2,
    access: 'rw',
    encoding: SIGN_BIT_15,
    unit: UNIT.step,
    range: [-32_767, 32_767],
    description: 'Goal position; sign in bit 15',
  },
  goal_time: {
    address: 44,
    size: 2,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.none,
    description:
      "Goal_Time (the SDK writes 0 with position and speed); in PWM mode (2) Feetech's table uses it as the open-loop duty, 0.1 % with direction bit 10",
  },
  goal_velocity: {
    address: 46,
    size: 2,
    access: 'rw',
    encoding: SIGN_BIT_15,
    unit: UNIT.velocity,
    range: [-32_767, 32_767],
    description: 'Goal speed (0 = maximum in position mode); sign in bit 15',
  },
  torque_limit: {
    address: 48,
    size: 2,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.load,
    range: [0, 1000],
    initial: 1000,
    description: 'Torque limit',
  },
  lock: {
    address: 55,
    size: 1,
    access: 'rw',
    encoding: UNSIGNED,
    unit: UNIT.none,
    range: [0, 1],
    initial: 1,
    description: 'Lock: 0 lets EEPROM writes persist, 1 locks (LeRobot writes it with Torque_Enable)',
  },
  present_position: {
    address: 56,
    size: 2,
    access: 'r',
    encoding: SIGN_BIT_15,
    unit: UNIT.step,
    description: 'Present position (0–4095 single-turn); sign in bit 15',
  },
  present_velocity: {
    address: 58,
    size: 2,
    access: 'r',
    encoding: SIGN_BIT_15,
    unit: UNIT.velocity,
    description: 'Present speed; sign in bit 15',
  },
  present_load: {
    address: 60,
    size: 2,
    access: 'r',
    encoding: SIGN_BIT_10,
    unit: UNIT.load,
    description: 'Present load (drive duty cycle); sign in bit 10',
  },
  present_voltage: {
    address: 62,
    size: 1,
    access: 'r',
    encoding: UNSIGNED,
    unit: UNIT.decivolt,
    description: 'Present voltage',
  },
  present_temperature: {
    address: 63,
    size: 1,
    access: 'r',
    encoding: UNSIGNED,
    unit: UNIT.celsius,
    description: 'Present temperature',
  },
  status: {
    address: 65,
    size: 1,
    access: 'r',
    encoding: UNSIGNED,
    unit: UNIT.none,
    initial: 0,
    description: 'Status: the status error bits (hardwareErrorBits)',
  },
  moving: { address: 66, size: 1, access: 'r', encoding: UNSIGNED, unit: UNIT.none, initial: 0, description: 'Moving' },
  present_current: {
    address: 69,
    size: 2,
    access: 'r',
    encoding: UNSIGNED,
    unit: UNIT.current,
    description: 'Present (phase) current',
  },
};

function table(specs: Partial<Record<RegisterName, Spec>>): Partial<Record<RegisterName, Register>> {
  const out: Partial<Record<RegisterName, Register>> = {};
  for (const [name, spec] of Object.entries(specs) as [RegisterName, Spec][]) {
    out[name] = { name, memory: spec.address < EEPROM_END ? 'eeprom' : 'ram', ...spec };
  }
  return out;
}

/**
 * Baud-rate register value → bits per second, per Feetech (FTServo `sms_sts.py` and the STS memory
 * table). ⚠ LeRobot's STS_SMS_SERIES_BAUDRATE_TABLE disagrees from index 5 on (57600 → 5,
 * 38400 → 6); the vendor is trusted here. Index 0 (1 Mbps) is what everyone uses.
 */
const BAUD_RATES: ReadonlyMap<number, number> = new Map([
  [0, 1_000_000],
  [1, 500_000],
  [2, 250_000],
  [3, 128_000],
  [4, 115_200],
  [5, 76_800],
  [6, 57_600],
  [7, 38_400],
]);

export const sts3215: ServoModel = {
  name: 'STS3215',
  vendor: 'feetech',
  protocol: 'feetech_sts',
  modelNumber: MODEL_NUMBER,
  resolution: RESOLUTION,
  // LeRobot's half-turn homing makes the calibration pose read (resolution − 1) / 2, rounded down
  centerPosition: Math.floor((RESOLUTION - 1) / 2),
  // addresses 0–86, through the factory parameters
  tableSize: 87,
  registers: table(SPECS),
  operatingModes: { position: 0, velocity: 1, pwm: 2, step: 3 },
  baudRates: BAUD_RATES,
  // the Status register (65) holds the same bits as a status packet's error byte
  hardwareErrorBits: STATUS_ERROR_BITS,
};
