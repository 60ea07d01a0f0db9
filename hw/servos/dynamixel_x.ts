import type { Encoding, Register, RegisterName, ServoModel, Unit } from './control_table.js';

// ROBOTIS DYNAMIXEL X-series control tables (Protocol 2.0, little-endian, signed values in two's
// complement): XL330-M288, XL430-W250 and XM430-W350, per the Control Table section of each model's
// e-manual page (https://emanual.robotis.com/docs/en/dxl/x/xl330-m288/, …/xl430-w250/,
// …/xm430-w350/), which LeRobot's X_SERIES_CONTROL_TABLE (lerobot/motors/dynamixel/tables.py)
// agrees with. Only the registers the stack uses are listed.
//
// Everything below address 64 (Torque Enable) is EEPROM: writable only while torque is off.
// The SI factors of the profile registers assume the velocity-based profile (Drive Mode bit 2 = 0,
// the factory setting); in the time-based profile they hold milliseconds instead.

/** Encoder pulses per revolution of every X-series servo (0.088° per pulse). */
const RESOLUTION = 4096;
/** First RAM address; the EEPROM area is 0–63. */
const EEPROM_END = 64;

const UNSIGNED: Encoding = { kind: 'unsigned' };
const SIGNED: Encoding = { kind: 'twos_complement' };

const RAD_PER_PULSE = (2 * Math.PI) / RESOLUTION;
/** 0.229 rev/min in rad/s */
const RAD_S_PER_VELOCITY_UNIT = (0.229 * 2 * Math.PI) / 60;
/** 214.577 rev/min² in rad/s² */
const RAD_S2_PER_ACCELERATION_UNIT = (214.577 * 2 * Math.PI) / 3600;

const UNIT = {
  none: { quantity: 'none', scale: 1, raw: '-' },
  pulse: { quantity: 'angle', scale: RAD_PER_PULSE, raw: '1 pulse (0.088°)' },
  velocity: { quantity: 'angular_velocity', scale: RAD_S_PER_VELOCITY_UNIT, raw: '0.229 rpm' },
  acceleration: { quantity: 'angular_acceleration', scale: RAD_S2_PER_ACCELERATION_UNIT, raw: '214.577 rev/min²' },
  milliamp: { quantity: 'current', scale: 0.001, raw: '1 mA' },
  current269: { quantity: 'current', scale: 0.00269, raw: '2.69 mA' },
  load: { quantity: 'load_ratio', scale: 0.001, raw: '0.1 %' },
  decivolt: { quantity: 'voltage', scale: 0.1, raw: '0.1 V' },
  celsius: { quantity: 'temperature', scale: 1, raw: '1 °C' },
  returnDelay: { quantity: 'time', scale: 2e-6, raw: '2 µs' },
  watchdog: { quantity: 'time', scale: 0.02, raw: '20 ms' },
} as const satisfies Record<string, Unit>;

type Spec = Omit<Register, 'name' | 'memory'>;

function table(specs: Partial<Record<RegisterName, Spec>>): Partial<Record<RegisterName, Register>> {
  const out: Partial<Record<RegisterName, Register>> = {};
  for (const [name, spec] of Object.entries(specs) as [RegisterName, Spec][]) {
    out[name] = { name, memory: spec.address < EEPROM_END ? 'eeprom' : 'ram', ...spec };
  }
  return out;
}

/** What differs between the three models. */
interface Variant {
  readonly name: string;
  readonly modelNumber: number;
  readonly tableSize: number;
  readonly maxBaudIndex: number;
  /** Drive Mode range, where the e-manual page gives one */
  readonly driveModeRange?: readonly [number, number];
  readonly temperatureLimit: number;
  readonly temperatureLimitRange?: readonly [number, number];
  readonly voltageLimits: { readonly max: number; readonly min: number; readonly range?: readonly [number, number] };
  /** top of the Velocity Limit(44) range: Goal Velocity is bounded by ±Velocity Limit */
  readonly velocityLimitMax: number;
  readonly shutdown: number;
  /** Current Limit(38), Goal Current(102), Present Current(126); absent on the XL430 (no current sensing) */
  readonly current?: { readonly unit: Unit; readonly limit: number };
  readonly operatingModes: ServoModel['operatingModes'];
}

function xSeries(v: Variant): ServoModel {
  const specs: Partial<Record<RegisterName, Spec>> = {
    model_number: {
      address: 0,
      size: 2,
      access: 'r',
      encoding: UNSIGNED,
      unit: UNIT.none,
      initial: v.modelNumber,
      description: 'Model Number',
    },
    firmware_version: {
      address: 6,
      size: 1,
      access: 'r',
      encoding: UNSIGNED,
      unit: UNIT.none,
      description: 'Firmware Version',
    },
    id: {
      address: 7,
      size: 1,
      access: 'rw',
      encoding: UNSIGNED,
      unit: UNIT.none,
      range: [0, 252],
      initial: 1,
      description: 'ID',
    },
    baud_rate: {
      address: 8,
      size: 1,
      access: 'rw',
      encoding: UNSIGNED,
      unit: UNIT.none,
      range: [0, v.maxBaudIndex],
      initial: 1,
      description: 'Baud Rate (index into baudRates; 1 = 57600)',
    },
    return_delay_time: {
      address: 9,
      size: 1,
      access: 'rw',
      encoding: UNSIGNED,
      unit: UNIT.returnDelay,
      range: [0, 254],
      initial: 250,
      description: 'Return Delay Time before a status packet (factory 250 = 500 µs; LeRobot sets 0)',
    },
    drive_mode: {
      address: 10,
      size: 1,
      access: 'rw',
      encoding: UNSIGNED,
      unit: UNIT.none,
      ...(v.driveModeRange ? { range: v.driveModeRange } : {}),
      initial: 0,
      description: 'Drive Mode: bit 0 reverse direction, bit 2 time-based profile',
    },
    operating_mode: {
      address: 11,
      size: 1,
      access: 'rw',
      encoding: UNSIGNED,
      unit: UNIT.none,
      range: [0, 16],
      initial: 3,
      description: 'Operating Mode (values in operatingModes; 3 = position)',
    },
    homing_offset: {
      address: 20,
      size: 4,
      access: 'rw',
      encoding: SIGNED,
      unit: UNIT.pulse,
      range: [-1_044_479, 1_044_479],
      initial: 0,
      description: 'Homing Offset: Present Position = actual + offset',
    },
    max_temperature_limit: {
      address: 31,
      size: 1,
      access: 'rw',
      encoding: UNSIGNED,
      unit: UNIT.celsius,
      ...(v.temperatureLimitRange ? { range: v.temperatureLimitRange } : {}),
      initial: v.temperatureLimit,
      description: 'Temperature Limit: the overheating error above it',
    },
    max_voltage_limit: {
      address: 32,
      size: 2,
      access: 'rw',
      encoding: UNSIGNED,
      unit: UNIT.decivolt,
      ...(v.voltageLimits.range ? { range: v.voltageLimits.range } : {}),
      initial: v.voltageLimits.max,
      description: 'Max Voltage Limit',
    },
    min_voltage_limit: {
      address: 34,
      size: 2,
      access: 'rw',
      encoding: UNSIGNED,
      unit: UNIT.decivolt,
      ...(v.voltageLimits.range ? { range: v.voltageLimits.range } : {}),
      initial: v.voltageLimits.min,
      description: 'Min Voltage Limit',
    },
    max_position_limit: {
      address: 48,
      size: 4,
      access: 'rw',
      encoding: UNSIGNED,
      unit: UNIT.pulse,
      range: [0, RESOLUTION - 1],
      initial: RESOLUTION - 1,
      description: 'Max Position Limit (position mode)',
    },
    min_position_limit: {
      address: 52,
      size: 4,
      access: 'rw',
      encoding: UNSIGNED,
      unit: UNIT.pulse,
      range: [0, RESOLUTION - 1],
      initial: 0,
      description: 'Min Position Limit (position mode)',
    },
    shutdown: {
      address: 63,
      size: 1,
      access: 'rw',
      encoding: UNSIGNED,
      unit: UNIT.none,
      initial: v.shutdown,
      description: 'Shutdown: which hardware error bits cut the torque (bits as hardwareErrorBits)',
    },
    torque_enable: {
      address: 64,
      size: 1,
      access: 'rw',
      encoding: UNSIGNED,
      unit: UNIT.none,
      range: [0, 1],
      initial: 0,
      description: 'Torque Enable (EEPROM writes need 0)',
    },
    led: {
      address: 65,
      size: 1,
      access: 'rw',
      encoding: UNSIGNED,
      unit: UNIT.none,
      range: [0, 1],
      initial: 0,
      description: 'LED: 0 off, 1 on',
    },
    status_return_level: {
      address: 68,
      size: 1,
      access: 'rw',
      encoding: UNSIGNED,
      unit: UNIT.none,
      range: [0, 2],
      initial: 2,
      description:
        'Status Return Level: which instructions get a status packet (0 PING only, 1 PING and READ, 2 all); broadcasts other than PING and the sync/bulk reads never do',
    },
    registered_instruction: {
      address: 69,
      size: 1,
      access: 'r',
      encoding: UNSIGNED,
      unit: UNIT.none,
      initial: 0,
      description: 'Registered Instruction: 1 while a REG_WRITE waits for ACTION',
    },
    hardware_error_status: {
      address: 70,
      size: 1,
      access: 'r',
      encoding: UNSIGNED,
      unit: UNIT.none,
      initial: 0,
      description: 'Hardware Error Status (bits as hardwareErrorBits); set together with the status alert bit',
    },
    bus_watchdog: {
      address: 98,
      size: 1,
      access: 'rw',
      encoding: SIGNED,
      unit: UNIT.watchdog,
      range: [0, 127],
      initial: 0,
      description: 'Bus Watchdog: stop when the host is silent this long (0 = off); reads −1 after it fired',
    },
    goal_velocity: {
      address: 104,
      size: 4,
      access: 'rw',
      encoding: SIGNED,
      unit: UNIT.velocity,
      range: [-v.velocityLimitMax, v.velocityLimitMax],
      description: 'Goal Velocity (velocity mode), bounded by ±Velocity Limit(44)',
    },
    profile_acceleration: {
      address: 108,
      size: 4,
      access: 'rw',
      encoding: UNSIGNED,
      unit: UNIT.acceleration,
      range: [0, 32_767],
      initial: 0,
      description: 'Profile Acceleration (0 = infinite)',
    },
    profile_velocity: {
      address: 112,
      size: 4,
      access: 'rw',
      encoding: UNSIGNED,
      unit: UNIT.velocity,
      range: [0, 32_767],
      initial: 0,
      description: 'Profile Velocity (0 = infinite)',
    },
    goal_position: {
      address: 116,
      size: 4,
      access: 'rw',
      encoding: SIGNED,
      unit: UNIT.pulse,
      range: [-1_048_575, 1_048_575],
      description: 'Goal Position: within the position limits in position mode, ±256 rev in extended position mode',
    },
    moving: {
      address: 122,
      size: 1,
      access: 'r',
      encoding: UNSIGNED,
      unit: UNIT.none,
      initial: 0,
      description: 'Moving',
    },
    present_velocity: {
      address: 128,
      size: 4,
      access: 'r',
      encoding: SIGNED,
      unit: UNIT.velocity,
      description: 'Present Velocity',
    },
    present_position: {
      address: 132,
      size: 4,
      access: 'r',
      encoding: SIGNED,
      unit: UNIT.pulse,
      description: 'Present Position (0–4095 in position mode)',
    },
    present_voltage: {
      address: 144,
      size: 2,
      access: 'r',
      encoding: UNSIGNED,
      unit: UNIT.decivolt,
      description: 'Present Input Voltage',
    },
    present_temperature: {
      address: 146,
      size: 1,
      access: 'r',
      encoding: UNSIGNED,
      unit: UNIT.celsius,
      description: 'Present Temperature',
    },
  };
  if (v.current) {
    const { unit, limit } = v.current;
    specs.current_limit = {
      address: 38,
      size: 2,
      access: 'rw',
      encoding: UNSIGNED,
      unit,
      range: [0, limit],
      initial: limit,
      description: 'Current Limit',
    };
    specs.goal_current = {
      address: 102,
      size: 2,
      access: 'rw',
      encoding: SIGNED,
      unit,
      range: [-limit, limit],
      description: 'Goal Current (current modes), bounded by ±Current Limit(38)',
    };
    specs.present_current = {
      address: 126,
      size: 2,
      access: 'r',
      encoding: SIGNED,
      unit,
      description: 'Present Current',
    };
  } else {
    specs.present_load = {
      address: 126,
      size: 2,
      access: 'r',
      encoding: SIGNED,
      unit: UNIT.load,
      description: 'Present Load: ±1000 = ±100 % of maximum torque (no current sensing)',
    };
  }
  return {
    name: v.name,
    vendor: 'robotis',
    protocol: 'dynamixel2',
    modelNumber: v.modelNumber,
    resolution: RESOLUTION,
    // LeRobot's half-turn homing makes the calibration pose read (resolution − 1) / 2, rounded down
    centerPosition: Math.floor((RESOLUTION - 1) / 2),
    tableSize: v.tableSize,
    registers: table(specs),
    operatingModes: v.operatingModes,
    baudRates: new Map([...BAUD_RATES].filter(([index]) => index <= v.maxBaudIndex)),
    hardwareErrorBits: HARDWARE_ERROR_BITS,
  };
}

/** Baud Rate(8) value → bits per second (e-manual control_table_baudrate_2); the XL330 stops at 6. */
const BAUD_RATES: ReadonlyMap<number, number> = new Map([
  [0, 9_600],
  [1, 57_600],
  [2, 115_200],
  [3, 1_000_000],
  [4, 2_000_000],
  [5, 3_000_000],
  [6, 4_000_000],
  [7, 4_500_000],
]);

/** Hardware Error Status(70) and Shutdown(63) bits by mask (e-manual control_table_shutdown). */
const HARDWARE_ERROR_BITS: ReadonlyMap<number, string> = new Map([
  [0x01, 'input_voltage'],
  [0x04, 'overheating'],
  [0x08, 'motor_encoder'],
  [0x10, 'electrical_shock'],
  [0x20, 'overload'],
]);

const CURRENT_SENSING_MODES = {
  current: 0,
  velocity: 1,
  position: 3,
  extended_position: 4,
  current_based_position: 5,
  pwm: 16,
} as const;

/** Koch follower's wrist and gripper joints (LeRobot); 1 mA current units. */
export const xl330M288: ServoModel = xSeries({
  name: 'XL330-M288',
  modelNumber: 1200,
  tableSize: 228,
  maxBaudIndex: 6,
  driveModeRange: [0, 5],
  temperatureLimit: 70,
  temperatureLimitRange: [0, 100],
  voltageLimits: { max: 70, min: 35, range: [31, 70] },
  velocityLimitMax: 2047,
  shutdown: 53,
  current: { unit: UNIT.milliamp, limit: 1750 },
  operatingModes: CURRENT_SENSING_MODES,
});

/** Koch follower's shoulder joints (LeRobot); no current sensing: Present Load instead, no current modes. */
export const xl430W250: ServoModel = xSeries({
  name: 'XL430-W250',
  modelNumber: 1060,
  tableSize: 662,
  maxBaudIndex: 7,
  driveModeRange: [0, 13],
  temperatureLimit: 72,
  temperatureLimitRange: [0, 100],
  voltageLimits: { max: 140, min: 60, range: [60, 140] },
  velocityLimitMax: 1023,
  shutdown: 52,
  operatingModes: { velocity: 1, position: 3, extended_position: 4, pwm: 16 },
});

/** OpenManipulator-X; 2.69 mA current units. The stored e-manual page gives no ranges for some EEPROM items, so none are enforced there. */
export const xm430W350: ServoModel = xSeries({
  name: 'XM430-W350',
  modelNumber: 1020,
  tableSize: 662,
  maxBaudIndex: 7,
  temperatureLimit: 80,
  voltageLimits: { max: 160, min: 95 },
  velocityLimitMax: 1023,
  shutdown: 52,
  current: { unit: UNIT.current269, limit: 1193 },
  operatingModes: CURRENT_SENSING_MODES,
});
