import type { Logger } from '../../src/util/log.js';
import type { ProtocolName } from '../protocol/types.js';
import type { RegisterName, ServoModel } from '../servos/control_table.js';
import type { PortFactory, ReopenPolicy } from './serial_link.js';
import type { BusCounters, ServoCounters, TransactionTiming } from './transaction.js';

// The public surface of ServoBus (hw/bus/servo_bus.ts), the arm-level driver that calibration and
// the hw_bridge node use. Kept in its own file so it stays stable while the driver evolves.
//
// Conventions:
//  - joints are addressed by their index in `joints` order, or by name (`JointRef`);
//  - "raw" values are register integers as the servo stores them (sign handled);
//  - SI values: positions in rad relative to the model's centre position (raw − centerPosition),
//    velocities rad/s, currents A, loads as a fraction of maximum torque, voltages V, °C;
//  - direction (drive mode) and calibration ranges are the caller's business (hw/calibration);
//    Dynamixel's Drive_Mode register acts in firmware and so is already in the raw values.

/** A joint by its index in `ServoBusOptions.joints` order, or by its name. */
export type JointRef = number | string;

export interface JointConfig {
  /** servo id on the bus */
  readonly id: number;
  /** joint name, e.g. 'shoulder_pan' */
  readonly name: string;
  /** a model name known to servoModel(), e.g. 'STS3215', 'XL430-W250' */
  readonly model: string;
}

export interface JointInfo {
  readonly index: number;
  readonly id: number;
  readonly name: string;
  readonly model: ServoModel;
}

/** What the bus does when a servo reports a hardware error (overload, overheat, voltage…). */
export type HardwareErrorPolicy = 'torque_off' | 'reboot';

export interface ServoBusOptions {
  /** device path, e.g. /dev/serial/by-id/usb-FTDI…, /dev/ttyACM0, or an emulator's pty link */
  readonly port: string;
  readonly baudRate: number;
  readonly protocol: ProtocolName;
  readonly joints: readonly JointConfig[];
  /** transaction timing; defaults: transaction.ts DEFAULT_TIMING */
  readonly timing?: Partial<Omit<TransactionTiming, 'baudRate'>>;
  /** default 'torque_off'; either way the fault is latched and the servo no longer commanded */
  readonly onHardwareError?: HardwareErrorPolicy;
  /** background reopen after the device vanishes (default serial_link.ts DEFAULT_REOPEN) */
  readonly reopen?: ReopenPolicy | false;
  /**
   * a port that does not exist yet at open is waited for this long (a launch starts the device's
   * maker, an emulator or a udev rule, in no fixed order); default 0: fail at once
   */
  readonly waitForPortMs?: number;
  /** Dynamixel: read the state with FAST_SYNC_READ (one combined reply; firmware ≥ v45/v46) */
  readonly fastSyncRead?: boolean;
  /** consecutive failed transactions after which a servo is left out of cycles and only probed (default 3) */
  readonly unresponsiveAfter?: number;
  /** how often an unresponsive servo is pinged to see whether it is back (default 500 ms) */
  readonly probeIntervalMs?: number;
  /** ping every joint at open and check its model number (default true) */
  readonly verifyModels?: boolean;
  /** port factory (tests: SerialPortMock) */
  readonly openPort?: PortFactory;
  readonly logger?: Logger;
}

/** Which effort a joint reports: motor current, or load as a fraction of maximum torque. */
export type EffortKind = 'current' | 'load';

/** One read of every joint's state, in joint order. */
export interface JointStateSample {
  /** performance.now() when the replies were in */
  readonly stamp: number;
  /** rad, relative to the centre position */
  readonly position: Float64Array;
  /** rad/s */
  readonly velocity: Float64Array;
  /** A for 'current' joints, fraction of max torque for 'load' joints */
  readonly effort: Float64Array;
  readonly effortKind: readonly EffortKind[];
  /** Present_Position as read */
  readonly rawPosition: readonly number[];
  /** false where a joint gave no usable reply this cycle (its values are NaN) */
  readonly valid: readonly boolean[];
}

/** Slow-changing health per joint (diagnostics rate). */
export interface JointStatus {
  readonly temperatureC: number | undefined;
  readonly voltageV: number | undefined;
  /** named hardware error bits currently set */
  readonly errorFlags: readonly string[];
}

/** A latched servo fault: the joint is no longer commanded until `clearFault`. */
export interface ServoFault {
  readonly index: number;
  readonly id: number;
  readonly joint: string;
  /** why: hardware error names (e.g. 'overload', 'overheating', 'input_voltage'), or 'no_reply' */
  readonly flags: readonly string[];
  /** the status error byte that revealed it (0 for 'no_reply') */
  readonly errorByte: number;
  /** what the bus did about it */
  readonly action: 'torque_off' | 'reboot' | 'none';
  /** Date.now() */
  readonly at: number;
}

export type BusState = 'open' | 'lost' | 'closed';

export interface ServoDiagnostics {
  readonly index: number;
  readonly id: number;
  readonly joint: string;
  readonly model: string;
  /** answering; false once left out of cycles for missing replies */
  readonly responsive: boolean;
  /** how its last failed transaction failed: no reply, corrupt, or a reply under a wrong id / out of order */
  readonly lastFailure: 'timeout' | 'corrupt' | 'mismatch' | undefined;
  readonly fault: ServoFault | undefined;
  readonly counters: ServoCounters;
  /** from the last readStatus() */
  readonly status: JointStatus | undefined;
  /** Torque Enable as last confirmed by a read-back (or a REBOOT); 'unknown' before any, or when it could not be */
  readonly torque: 'on' | 'off' | 'unknown';
  /** why the last torque change could not be confirmed on this servo, e.g. "torque off not confirmed: no reply to the read-back" */
  readonly torqueProblem: string | undefined;
}

export interface BusDiagnostics {
  readonly state: BusState;
  readonly port: string;
  readonly protocol: ProtocolName;
  readonly baudRate: number;
  readonly counters: BusCounters & { readonly losses: number; readonly reconnects: number };
  readonly servos: readonly ServoDiagnostics[];
}

export interface ServoBusEvents {
  /** a servo fault was latched */
  fault: (fault: ServoFault) => void;
  /** the device vanished: commands stop, the port is reopened in the background */
  lost: (reason: string) => void;
  /** the device is back and commands work again */
  restored: () => void;
}

/** What goal a sync write sets: Goal Position (rad), Goal Velocity (rad/s) or Goal Current (A). */
export type GoalKind = 'position' | 'velocity' | 'current';

export interface ServoBusApi {
  readonly joints: readonly JointInfo[];
  readonly state: BusState;

  /** Ping one joint: its model number (Dynamixel; undefined on Feetech, whose ping carries none). */
  ping(joint: JointRef): Promise<{ readonly modelNumber: number | undefined }>;
  /** One register of one joint, raw. */
  readRegister(joint: JointRef, name: RegisterName): Promise<number>;
  /** Write one register of one joint, raw; rejects with the servo's error (e.g. EEPROM write with torque on). */
  writeRegister(joint: JointRef, name: RegisterName, value: number): Promise<void>;
  /** One register of one joint in SI units. */
  readSI(joint: JointRef, name: RegisterName): Promise<number>;
  writeSI(joint: JointRef, name: RegisterName, value: number): Promise<void>;
  /** One register of every joint (sync read where possible), raw, joint order; NaN where a joint did not answer. */
  syncRead(name: RegisterName): Promise<number[]>;
  /** Present_Position of every joint, raw, joint order (one sync read); rejects if any joint is missing. */
  readPositions(): Promise<number[]>;
  /**
   * Position, velocity and effort of every joint in one sync read of their contiguous block. A
   * joint whose reply is missing is invalid in the sample; replies under a wrong id or out of order
   * make the whole read fail (BusError 'mismatch') rather than be used.
   */
  readState(): Promise<JointStateSample>;
  /** Temperature, voltage and hardware error bits of every joint. */
  readStatus(): Promise<JointStatus[]>;
  /** Goals for every joint in one sync write, SI, joint order; faulted and unresponsive joints are skipped. */
  writeGoals(values: ArrayLike<number>, kind?: GoalKind): Promise<void>;
  /**
   * Torque on/off for the given joints (default all), attempted on every one of them: one sync
   * write, a read-back of Torque Enable, then per-servo writes and read-backs of those it did not
   * take on. Rejects with a TorqueError naming the joints it could not be confirmed on (their
   * diagnostics say so too). Feetech: EEPROM lock follows, as in LeRobot.
   */
  setTorque(enabled: boolean, joints?: readonly JointRef[]): Promise<void>;
  /** REBOOT a joint and wait until it answers again (torque is off afterwards). */
  reboot(joint: JointRef): Promise<void>;
  /** Reboot a faulted joint and unlatch its fault; it is commanded again (torque stays off until setTorque). */
  clearFault(joint: JointRef): Promise<void>;
  faults(): ServoFault[];
  diagnostics(): BusDiagnostics;
  on<K extends keyof ServoBusEvents>(event: K, listener: ServoBusEvents[K]): () => void;
  /** Close the port (optionally turning torque off first). */
  close(options?: { readonly torqueOff?: boolean }): Promise<void>;
}
