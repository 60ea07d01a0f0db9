import type { ProtocolName } from '../protocol/types.js';

// The shape of a servo's control table: every register the stack uses, with its address, size,
// memory (EEPROM items can only be written with torque off), access, encoding and SI unit. The
// tables themselves (one file per family) are the only place addresses and unit factors live;
// the bus driver, the emulator, calibration and the bridge read them from here.

/** Registers under one name across vendors; a model lists those it has. */
export type RegisterName =
  | 'model_number'
  | 'firmware_version'
  | 'firmware_minor_version'
  | 'id'
  | 'baud_rate'
  | 'return_delay_time'
  | 'status_return_level'
  | 'drive_mode'
  | 'operating_mode'
  | 'phase'
  | 'homing_offset'
  | 'min_position_limit'
  | 'max_position_limit'
  | 'max_temperature_limit'
  | 'max_voltage_limit'
  | 'min_voltage_limit'
  | 'current_limit'
  | 'max_torque_limit'
  | 'shutdown'
  | 'torque_enable'
  | 'led'
  | 'registered_instruction'
  | 'hardware_error_status'
  | 'bus_watchdog'
  | 'goal_current'
  | 'goal_velocity'
  | 'goal_position'
  | 'goal_time'
  | 'acceleration'
  | 'profile_acceleration'
  | 'profile_velocity'
  | 'torque_limit'
  | 'lock'
  | 'present_current'
  | 'present_load'
  | 'present_velocity'
  | 'present_position'
  | 'present_voltage'
  | 'present_temperature'
  | 'status'
  | 'moving';

/** How raw bytes become an integer. */
export type Encoding =
  | { readonly kind: 'unsigned' }
  | { readonly kind: 'twos_complement' }
  /** Feetech: magnitude in the low bits, sign in `signBit` */
  | { readonly kind: 'sign_magnitude'; readonly signBit: number };

/** The SI quantity a register holds and the factor from one raw unit to it. */
export type Quantity =
  | 'angle'
  | 'angular_velocity'
  | 'angular_acceleration'
  | 'current'
  | 'load_ratio'
  | 'voltage'
  | 'temperature'
  | 'time'
  | 'none';

export interface Unit {
  readonly quantity: Quantity;
  /** SI value per raw unit: rad, rad/s, rad/s², A, fraction of max torque, V, °C, s */
  readonly scale: number;
  /** human name of the raw unit, e.g. '0.229 rpm' */
  readonly raw: string;
}

export interface Register {
  readonly name: RegisterName;
  readonly address: number;
  readonly size: 1 | 2 | 4;
  readonly memory: 'eeprom' | 'ram';
  readonly access: 'r' | 'rw';
  readonly encoding: Encoding;
  readonly unit: Unit;
  /** raw value range accepted on write, when documented */
  readonly range?: readonly [number, number];
  /** value at power-on / factory default, when documented (the emulator starts from it) */
  readonly initial?: number;
  readonly description: string;
}

export interface ServoModel {
  /** e.g. 'XL330-M288', 'STS3215' */
  readonly name: string;
  readonly vendor: 'robotis' | 'feetech';
  readonly protocol: ProtocolName;
  readonly modelNumber: number;
  /** encoder ticks per revolution */
  readonly resolution: number;
  /** raw position that reads as the middle of the range (calibration makes the chosen pose read this) */
  readonly centerPosition: number;
  /** the bytes of the whole table (emulator memory) */
  readonly tableSize: number;
  readonly registers: Partial<Record<RegisterName, Register>>;
  /** operating-mode register values by meaning, as this model numbers them */
  readonly operatingModes: Partial<
    Record<
      'current' | 'velocity' | 'position' | 'extended_position' | 'current_based_position' | 'pwm' | 'step',
      number
    >
  >;
  /** baud-rate register value → bits per second */
  readonly baudRates: ReadonlyMap<number, number>;
  /** hardware error bits (Dynamixel register 70, Feetech status/error byte) → name */
  readonly hardwareErrorBits: ReadonlyMap<number, string>;
}
