import { CLEAR_MULTI_TURN, errorNumber, FACTORY_RESET_OPTION } from '../protocol/dynamixel/index.js';
import type { OperationKind } from '../protocol/types.js';
import type { RegisterName, Register, ServoModel } from '../servos/control_table.js';
import { decodeRegister, encodeRegister, representableRange, toSI, writableRange } from '../servos/registers.js';
import type { HardwareFault } from './faults.js';
import { motorCurrent, stepMotor, type DriveCommand, type MotorState } from './motor_dynamics.js';
import { motorParameters, type MotorParameters } from '../servos/motor_figures.js';

// One emulated servo: its control-table memory, the checks the real servo makes on writes, and a
// motor behind it. Memory starts from the table's power-on values; every read first refreshes the
// Present_* registers from the motor. Vendor differences, per the ROBOTIS e-manual (DYNAMIXEL
// Protocol 2.0 status packet; the X-series control tables: Homing Offset, Drive Mode, Shutdown,
// Hardware Error Status) and Feetech's SCServo SDK and STS memory table (LeRobot's
// motors/feetech/tables.py transcribes the STS3215's):
//  - Dynamixel answers bad writes with an error number (Access Error for read-only addresses and
//    for EEPROM writes with torque on, Data Range Error out of range, Data Limit Error for a goal
//    beyond the position limits) and rejects the whole write; a hardware error sets the alert bit
//    on every status and cuts the torque when its Shutdown bit is set; Present = actual + offset,
//    mirrored by Drive_Mode bit 0.
//  - Feetech has no instruction-error bits: a register it refuses is left as it was and the reply is
//    plain; its status error byte carries the hardware bits; Present = actual − offset, single-turn
//    0–4095 (the convention LeRobot's motors/feetech/feetech.py calibrates with); overload,
//    overheat and overcurrent unload the motor.
// REBOOT restores the RAM area, clears hardware errors and leaves torque off; the servo is deaf
// while it boots. Torque Enable 0 → 1 makes the goal the present position (the servo holds where
// it is instead of jumping to an old goal) unless the same write sets the goal.
// Status replies follow Status Return Level (DYNAMIXEL 68: 0 PING only, 1 PING and READ, 2 all) and
// Response Status Level (Feetech 8: 0 READ and PING only, 1 all); Registered Instruction (69) is 1
// while a REG_WRITE waits. DYNAMIXEL CLEAR 0x01 and FACTORY RESET (0xFF / 0x01 / 0x02) act as the
// e-manual's Protocol 2.0 page describes them. A Feetech goal stays inside Min/Max Angle Limit and
// in the single-turn frame of the reading (a goal of −100 stops at 0, it does not wrap to 3996).

export type InstructionErrorName =
  'result_fail' | 'instruction_error' | 'data_range_error' | 'data_length_error' | 'data_limit_error' | 'access_error';

export interface AccessResult {
  /** status error byte to send */
  readonly error: number;
  readonly data: Uint8Array;
}

export interface EmulatedServoOptions {
  readonly id: number;
  readonly model: ServoModel;
  /** Present_Position at power-on, raw (default: the model's centre position) */
  readonly position?: number;
  /** power-on register values besides the table's (raw), e.g. { return_delay_time: 0 } */
  readonly registers?: Partial<Record<RegisterName, number>>;
  readonly motor?: Partial<MotorParameters>;
  /**
   * at the firmware version address and (DYNAMIXEL) in PING replies; default the table's value
   * (STS3215: 3, with minor 10 at address 1), else 46 (DYNAMIXEL fast sync read needs ≥ 45/46)
   */
  readonly firmwareVersion?: number;
  /** how long REBOOT leaves the servo deaf, ms */
  readonly bootMs?: number;
}

/** Operating-mode meaning → what the motor is asked to do. */
type ModeMeaning = keyof ServoModel['operatingModes'];

const NO_DATA = new Uint8Array(0);
/** DYNAMIXEL firmware reported when neither the options nor the table give one */
const DEFAULT_DYNAMIXEL_FIRMWARE = 46;
/** The servo moves (Moving = 1) above this shaft speed, rad/s. */
const MOVING_SPEED = 0.01;
/** What each FACTORY RESET option leaves as it was (e-manual, Protocol 2.0, Factory Reset). */
const FACTORY_RESET_KEEPS: ReadonlyMap<number, readonly RegisterName[]> = new Map([
  [FACTORY_RESET_OPTION.all, []],
  [FACTORY_RESET_OPTION.all_but_id, ['id']],
  [FACTORY_RESET_OPTION.all_but_id_and_baud_rate, ['id', 'baud_rate']],
]);

export class EmulatedServo {
  readonly model: ServoModel;
  readonly motor: MotorParameters;
  readonly #dxl: boolean;
  readonly #memory: Uint8Array;
  /** power-on memory image, for REBOOT's RAM restore */
  readonly #powerOn: Uint8Array;
  /** registers by their first address */
  readonly #registers: readonly Register[];
  readonly #ticksPerRad: number;
  readonly #bootMs: number;
  readonly #state: MotorState;
  #pending: { address: number; data: Uint8Array } | undefined;
  #bootUntil = 0;
  /** hardware conditions injected: they stay until REBOOT */
  #faults = new Set<HardwareFault>();

  constructor(options: EmulatedServoOptions) {
    const { model } = options;
    this.model = model;
    this.motor = motorParameters(model.name, options.motor);
    this.#dxl = model.vendor === 'robotis';
    this.#memory = new Uint8Array(model.tableSize);
    this.#registers = Object.values(model.registers).sort((a, b) => a.address - b.address);
    this.#ticksPerRad = model.resolution / (2 * Math.PI);
    this.#bootMs = options.bootMs ?? 200;
    for (const register of this.#registers) {
      if (register.initial !== undefined) this.#set(register.name, register.initial);
    }
    const firmware = model.registers.firmware_version;
    if (firmware && (options.firmwareVersion !== undefined || firmware.initial === undefined))
      this.#set('firmware_version', options.firmwareVersion ?? DEFAULT_DYNAMIXEL_FIRMWARE);
    for (const [name, value] of Object.entries(options.registers ?? {}) as [RegisterName, number][]) {
      if (!model.registers[name])
        throw new Error(`emulated ${model.name} id ${options.id}: no register '${name}' to set`);
      try {
        this.#set(name, value);
      } catch (err) {
        throw new Error(`emulated ${model.name} id ${options.id}: ${(err as Error).message}`, { cause: err });
      }
    }
    this.#set('id', options.id);
    // the RAM image REBOOT restores: the table's power-on values, not the configured ones
    this.#powerOn = this.#memory.slice();
    const position = options.position ?? model.centerPosition;
    if (!Number.isFinite(position))
      throw new Error(`emulated ${model.name} id ${options.id}: position ${position} is not a number`);
    this.#state = { position: 0, velocity: 0, torque: 0, temperature: this.motor.ambientC };
    this.#state.position = this.#actualFromPresent(position) / this.#ticksPerRad;
    this.#holdHere();
    this.refresh();
  }

  get id(): number {
    return this.#get('id');
  }

  /** The line rate its Baud Rate register selects (undefined for a model without one). */
  get baudRate(): number | undefined {
    return this.model.registers.baud_rate ? this.model.baudRates.get(this.#get('baud_rate')) : undefined;
  }

  get torqueEnabled(): boolean {
    return this.#get('torque_enable') === 1;
  }

  /** Hardware conditions in effect (until REBOOT). */
  get hardwareFaults(): readonly HardwareFault[] {
    return [...this.#faults];
  }

  /** Deaf while booting after a REBOOT. */
  isAwake(nowMs: number): boolean {
    return nowMs >= this.#bootUntil;
  }

  /** One register's raw value (refreshed present values included). */
  register(name: RegisterName): number {
    return this.#get(name);
  }

  /** Output shaft state in SI, for tests and diagnostics. */
  get physical(): Readonly<MotorState> {
    return this.#state;
  }

  /** Move the shaft as a hand would (torque off), to a Present_Position reading. */
  moveTo(presentPosition: number): void {
    this.#state.position = this.#actualFromPresent(presentPosition) / this.#ticksPerRad;
    this.#state.velocity = 0;
    this.refresh();
  }

  // ---- instructions ----------------------------------------------------------------------

  /** Status error byte for a reply: the instruction error (Dynamixel) and the hardware state. */
  errorByte(instructionError?: InstructionErrorName): number {
    const hardware = this.#hardwareBits();
    if (this.#dxl) return (hardware ? 0x80 : 0) | (instructionError ? errorNumber(instructionError) : 0);
    return hardware;
  }

  /** PING reply parameters: Dynamixel model number + firmware; Feetech none. */
  ping(): AccessResult {
    if (!this.#dxl) return { error: this.errorByte(), data: NO_DATA };
    const data = new Uint8Array(3);
    data.set(this.#bytes('model_number'), 0);
    data[2] = this.#get('firmware_version');
    return { error: this.errorByte(), data };
  }

  read(address: number, length: number): AccessResult {
    if (address + length > this.#memory.length || length <= 0) {
      if (this.#dxl) return { error: this.errorByte('access_error'), data: NO_DATA };
      const data = new Uint8Array(Math.max(0, length));
      data.set(
        this.#memory.subarray(Math.min(address, this.#memory.length), Math.min(address + length, this.#memory.length)),
      );
      return { error: this.errorByte(), data };
    }
    return { error: this.errorByte(), data: this.#memory.slice(address, address + length) };
  }

  write(address: number, data: Uint8Array): AccessResult {
    const refused = this.#check(address, data);
    if (refused.instruction && this.#dxl) return { error: this.errorByte(refused.instruction), data: NO_DATA };
    this.#apply(address, data, refused.skip);
    return { error: this.errorByte(), data: NO_DATA };
  }

  regWrite(address: number, data: Uint8Array): AccessResult {
    const refused = this.#check(address, data);
    if (refused.instruction && this.#dxl) return { error: this.errorByte(refused.instruction), data: NO_DATA };
    this.#setPending({ address, data: data.slice() });
    return { error: this.errorByte(), data: NO_DATA };
  }

  action(): AccessResult {
    const pending = this.#pending;
    if (!pending) return { error: this.errorByte(this.#dxl ? 'instruction_error' : undefined), data: NO_DATA };
    this.#setPending(undefined);
    return this.write(pending.address, pending.data);
  }

  /**
   * Whether this servo sends a status packet for an instruction of this kind addressed to it
   * (undefined: an instruction it does not know). DYNAMIXEL Status Return Level (68): 0 PING only,
   * 1 PING and READ, 2 every instruction; Feetech Response Status Level (8): 0 READ and PING only,
   * 1 every instruction. Sync and bulk reads count as reads. What broadcasts get is the protocol's
   * rule (expectedReplies), not this one. The level is the one in effect when the status would go
   * out: after a WRITE that changes it (the e-manual does not say otherwise).
   */
  answers(kind: OperationKind | undefined): boolean {
    if (kind === 'ping' || !this.model.registers.status_return_level) return true;
    const level = this.#get('status_return_level');
    const read = kind === 'read' || kind === 'sync_read' || kind === 'bulk_read';
    if (this.#dxl) return level >= 2 || (level === 1 && read);
    return level >= 1 || read;
  }

  /**
   * CLEAR (DYNAMIXEL Protocol 2.0, 0x10), option 0x01: the multi-turn count is dropped, so Present
   * Position comes back within one turn of the encoder (plus Homing Offset). Only a servo at rest
   * does it — a moving one answers Result Fail; with torque on the goal moves along, so the servo
   * stays where it is. The other options are reserved: Data Range Error.
   */
  clear(option: number): AccessResult {
    if (!this.#dxl) throw new Error(`${this.model.name} has no CLEAR instruction`);
    if (option !== CLEAR_MULTI_TURN) return { error: this.errorByte('data_range_error'), data: NO_DATA };
    if (Math.abs(this.#state.velocity) > MOVING_SPEED) return { error: this.errorByte('result_fail'), data: NO_DATA };
    const n = this.model.resolution;
    const ticks = this.#state.position * this.#ticksPerRad;
    this.#state.position = (ticks - n * Math.floor(ticks / n)) / this.#ticksPerRad;
    if (this.torqueEnabled) this.#holdHere();
    else this.refresh();
    return { error: this.errorByte(), data: NO_DATA };
  }

  /**
   * FACTORY RESET (DYNAMIXEL Protocol 2.0, 0x06): every register back to the control table's factory
   * value — 0xFF all of them (ID 1, 57600 baud), 0x01 all but the ID, 0x02 all but the ID and the
   * baud rate — then the servo restarts (deaf while it boots, as after REBOOT). A broadcast Reset
   * All is not carried out (X-series firmware ≥ 42). Returns the status, which goes out before the
   * reset (`factoryResetStatus`): an option the e-manual does not list gets Data Range Error and
   * resets nothing.
   */
  factoryReset(option: number, nowMs: number, broadcast = false): AccessResult {
    const status = this.factoryResetStatus(option);
    const kept = FACTORY_RESET_KEEPS.get(option);
    if (!kept || (broadcast && option === FACTORY_RESET_OPTION.all)) return status;
    for (const register of this.#registers) {
      if (register.initial === undefined || kept.includes(register.name)) continue;
      const bytes = encodeRegister(this.model, register.name, register.initial);
      this.#memory.set(bytes, register.address);
      // what the servo now powers up with: the factory values, no longer the configured ones
      this.#powerOn.set(bytes, register.address);
    }
    this.reboot(nowMs);
    return status;
  }

  /** The status FACTORY RESET answers with, before it resets anything (its ID and baud rate may change). */
  factoryResetStatus(option: number): AccessResult {
    if (!this.#dxl) throw new Error(`${this.model.name} has no FACTORY RESET instruction`);
    return { error: this.errorByte(FACTORY_RESET_KEEPS.has(option) ? undefined : 'data_range_error'), data: NO_DATA };
  }

  /** REBOOT: RAM back to power-on values, hardware errors cleared, torque off, deaf for a while. */
  reboot(nowMs: number): void {
    for (const register of this.#registers) {
      if (register.memory !== 'ram') continue;
      this.#memory.set(this.#powerOn.subarray(register.address, register.address + register.size), register.address);
    }
    this.#faults.clear();
    this.#setPending(undefined);
    this.#set('torque_enable', 0);
    this.#holdHere();
    this.#bootUntil = nowMs + this.#bootMs;
    this.refresh();
  }

  /** Put a hardware condition on the servo; it stays until REBOOT. */
  injectHardwareFault(fault: HardwareFault): void {
    if (!this.#bitsFor(fault)) throw new Error(`${this.model.name} has no hardware error bit for '${fault}'`);
    this.#faults.add(fault);
    this.#applyShutdown();
    this.refresh();
  }

  // ---- dynamics --------------------------------------------------------------------------

  /** Advance the motor by `dt` seconds and refresh the Present_* registers. */
  step(dt: number): void {
    stepMotor(this.#state, this.#command(), this.motor, dt);
    this.refresh();
  }

  /** Present_* registers from the motor state. */
  refresh(): void {
    const s = this.#state;
    const m = this.model;
    const sign = this.#reversed() ? -1 : 1;
    this.#setClamped('present_position', this.#presentFromActual(s.position * this.#ticksPerRad));
    this.#setSI('present_velocity', sign * s.velocity);
    this.#setSI('present_current', sign * motorCurrent(s, this.motor));
    this.#setSI('present_load', (sign * s.torque) / this.motor.stallTorqueNm);
    const limits = m.registers.min_voltage_limit ? toSI(m, 'min_voltage_limit', this.#get('min_voltage_limit')) : 0;
    this.#setSI('present_voltage', this.#faults.has('voltage') ? Math.max(0, limits - 1) : this.motor.supplyV);
    const maxTemp = m.registers.max_temperature_limit
      ? toSI(m, 'max_temperature_limit', this.#get('max_temperature_limit'))
      : Infinity;
    this.#setSI('present_temperature', this.#faults.has('overheat') ? maxTemp + 3 : s.temperature);
    if (m.registers.moving) this.#setClamped('moving', Math.abs(s.velocity) > MOVING_SPEED ? 1 : 0);
    const bits = this.#hardwareBits();
    if (m.registers.hardware_error_status) this.#set('hardware_error_status', bits);
    if (m.registers.status) this.#set('status', bits);
  }

  // ---- internals -------------------------------------------------------------------------

  #check(
    address: number,
    data: Uint8Array,
  ): { instruction: InstructionErrorName | undefined; skip: Set<RegisterName> } {
    const skip = new Set<RegisterName>();
    const end = address + data.length;
    if (data.length === 0 || end > this.#memory.length) return { instruction: 'access_error', skip };
    const torqueOn = this.torqueEnabled;
    let instruction: InstructionErrorName | undefined;
    const refuse = (register: Register, why: InstructionErrorName) => {
      instruction ??= why;
      skip.add(register.name);
    };
    for (const register of this.#registers) {
      const rEnd = register.address + register.size;
      if (rEnd <= address || register.address >= end) continue;
      if (register.address < address || rEnd > end) {
        refuse(register, 'data_length_error');
        continue;
      }
      if (register.access === 'r') {
        refuse(register, 'access_error');
        continue;
      }
      // Dynamixel: EEPROM only with torque off
      if (this.#dxl && register.memory === 'eeprom' && torqueOn) {
        refuse(register, 'access_error');
        continue;
      }
      const value = decodeRegister(
        this.model,
        register.name,
        data.subarray(register.address - address, rEnd - address),
      );
      const [lo, hi] = writableRange(register);
      if (value < lo || value > hi) {
        refuse(register, 'data_range_error');
        continue;
      }
      // DYNAMIXEL: the position limits bound the goal in (single-turn) Position Control Mode only;
      // the multi-turn modes (extended, current-based position) take ±256 turns
      if (this.#dxl && register.name === 'goal_position' && this.#singleTurnPositionMode()) {
        const min = this.#get('min_position_limit');
        const max = this.#get('max_position_limit');
        if (value < min || value > max) refuse(register, 'data_limit_error');
      }
    }
    return { instruction, skip };
  }

  #apply(address: number, data: Uint8Array, skip: ReadonlySet<RegisterName>): void {
    const end = address + data.length;
    const torqueBefore = this.torqueEnabled;
    const written: Register[] = [];
    let cursor = address;
    for (const register of this.#registers) {
      const rEnd = register.address + register.size;
      if (rEnd <= address || register.address >= end) continue;
      // bytes between known registers are plain memory
      if (register.address > cursor)
        this.#memory.set(data.subarray(cursor - address, register.address - address), cursor);
      cursor = Math.max(cursor, rEnd);
      if (skip.has(register.name)) continue;
      this.#memory.set(data.subarray(register.address - address, rEnd - address), register.address);
      written.push(register);
    }
    if (cursor < end) this.#memory.set(data.subarray(cursor - address), cursor);
    const names = new Set(written.map((r) => r.name));
    if (names.has('torque_enable')) this.#afterTorqueWrite(torqueBefore, names.has('goal_position'));
    if (names.has('operating_mode') || names.has('homing_offset') || names.has('drive_mode')) this.refresh();
  }

  #afterTorqueWrite(wasOn: boolean, goalWritten: boolean): void {
    const value = this.#get('torque_enable');
    if (!this.#dxl && value === 128) {
      // Feetech "calibrate middle": the present position becomes 2048 (the offset absorbs it)
      const actual = Math.round(this.#state.position * this.#ticksPerRad);
      const offset = actual - this.model.resolution / 2;
      const [lo, hi] = writableRange(this.model.registers.homing_offset!);
      this.#set('homing_offset', Math.max(lo, Math.min(hi, offset)));
      this.#set('torque_enable', 0);
      this.refresh();
      return;
    }
    if (value !== 0 && this.#shutdownActive()) {
      // a shut-down servo keeps its torque off until rebooted
      this.#set('torque_enable', 0);
      return;
    }
    if (!wasOn && value !== 0 && !goalWritten) this.#holdHere();
  }

  /** Goal Position := Present Position. */
  #holdHere(): void {
    if (!this.model.registers.goal_position) return;
    this.refresh();
    this.#setClamped('goal_position', this.#get('present_position'));
  }

  #command(): DriveCommand {
    if (!this.torqueEnabled) return { mode: 'off' };
    const m = this.model;
    switch (this.#modeMeaning()) {
      case 'position': {
        const goal = this.#get('goal_position');
        const target = (this.#dxl ? this.#actualFromPresent(goal) : this.#feetechGoal(goal)) / this.#ticksPerRad;
        return { mode: 'position', target, maxSpeed: this.#speedLimit() };
      }
      case 'velocity': {
        const sign = this.#reversed() ? -1 : 1;
        return { mode: 'velocity', target: sign * toSI(m, 'goal_velocity', this.#get('goal_velocity')) };
      }
      case 'current': {
        const sign = this.#reversed() ? -1 : 1;
        return {
          mode: 'current',
          current: m.registers.goal_current ? sign * toSI(m, 'goal_current', this.#get('goal_current')) : 0,
        };
      }
      default:
        // PWM is not modelled: the motor gives no torque
        return { mode: 'off' };
    }
  }

  /**
   * The encoder count a Feetech goal takes the shaft to. The servo positions within the single-turn
   * frame of its reading (Present = actual − offset, 0–4095) and stops at Min/Max Angle Limit(9/11):
   * a goal below the minimum (−100 written sign-magnitude) stops at the minimum, one above the
   * maximum at the maximum, nothing wraps modulo a turn. Both limits 0 is multi-turn mode (STS
   * memory table): the goal counts whole turns from the offset's zero, unlimited.
   */
  #feetechGoal(goal: number): number {
    const offset = this.model.registers.homing_offset ? this.#get('homing_offset') : 0;
    const min = this.#get('min_position_limit');
    const max = this.#get('max_position_limit');
    if (min === 0 && max === 0) return goal + offset;
    const n = this.model.resolution;
    const turn = Math.floor((Math.round(this.#state.position * this.#ticksPerRad) - offset) / n);
    return turn * n + Math.max(min, Math.min(max, goal)) + offset;
  }

  /** Operating Mode is plain position control (not extended or current-based position). */
  #singleTurnPositionMode(): boolean {
    const value = this.model.registers.operating_mode ? this.#get('operating_mode') : undefined;
    return value === undefined || value === this.model.operatingModes.position;
  }

  /** What the Operating Mode register's value means, folded into the drive the emulator models. */
  #modeMeaning(): 'position' | 'velocity' | 'current' | 'pwm' {
    const value = this.model.registers.operating_mode ? this.#get('operating_mode') : undefined;
    const entry = Object.entries(this.model.operatingModes).find(([, v]) => v === value);
    const meaning = (entry?.[0] ?? 'position') as ModeMeaning;
    if (meaning === 'extended_position' || meaning === 'current_based_position' || meaning === 'step')
      return 'position';
    return meaning;
  }

  /** Speed cap in position mode: Dynamixel Profile Velocity, Feetech Goal Velocity (0 = none). */
  #speedLimit(): number {
    const m = this.model;
    const name: RegisterName | undefined = m.registers.profile_velocity
      ? 'profile_velocity'
      : m.registers.goal_velocity
        ? 'goal_velocity'
        : undefined;
    if (!name) return Infinity;
    const raw = Math.abs(this.#get(name));
    return raw === 0 ? Infinity : toSI(m, name, raw);
  }

  #reversed(): boolean {
    return this.#dxl && this.model.registers.drive_mode !== undefined && (this.#get('drive_mode') & 1) === 1;
  }

  /** Present_Position from the shaft's encoder count. */
  #presentFromActual(actual: number): number {
    const offset = this.model.registers.homing_offset ? this.#get('homing_offset') : 0;
    const n = this.model.resolution;
    if (this.#dxl) return Math.round((this.#reversed() ? n - actual : actual) + offset);
    return mod(Math.round(actual) - offset, n);
  }

  /** The shaft's encoder count that reads as `present`. */
  #actualFromPresent(present: number): number {
    const offset = this.model.registers.homing_offset ? this.#get('homing_offset') : 0;
    const n = this.model.resolution;
    if (this.#dxl) {
      const a = present - offset;
      return this.#reversed() ? n - a : a;
    }
    return mod(present + offset, n);
  }

  #bitsFor(fault: HardwareFault): number {
    const wanted = fault === 'overheat' ? 'overheat' : fault === 'voltage' ? 'voltage' : 'overload';
    let bits = 0;
    for (const [mask, name] of this.model.hardwareErrorBits) if (name.includes(wanted)) bits |= mask;
    return bits;
  }

  #hardwareBits(): number {
    let bits = 0;
    for (const fault of this.#faults) bits |= this.#bitsFor(fault);
    return bits;
  }

  #shutdownActive(): boolean {
    const bits = this.#hardwareBits();
    if (!bits) return false;
    if (this.#dxl) return this.model.registers.shutdown ? (this.#get('shutdown') & bits) !== 0 : true;
    // Feetech unloads on overheat, overcurrent and overload; a voltage error only flags
    return this.#faults.has('overload') || this.#faults.has('overheat');
  }

  #applyShutdown(): void {
    if (this.#shutdownActive()) this.#set('torque_enable', 0);
  }

  /** The REG_WRITE waiting for ACTION, mirrored in Registered Instruction (DYNAMIXEL 69). */
  #setPending(pending: { address: number; data: Uint8Array } | undefined): void {
    this.#pending = pending;
    if (this.model.registers.registered_instruction) this.#set('registered_instruction', pending ? 1 : 0);
  }

  #get(name: RegisterName): number {
    const r = this.model.registers[name]!;
    return decodeRegister(this.model, name, this.#memory.subarray(r.address, r.address + r.size));
  }

  #bytes(name: RegisterName): Uint8Array {
    const r = this.model.registers[name]!;
    return this.#memory.subarray(r.address, r.address + r.size);
  }

  #set(name: RegisterName, value: number): void {
    const r = this.model.registers[name];
    if (!r) throw new Error(`${this.model.name} has no register '${name}'`);
    this.#memory.set(encodeRegister(this.model, name, value), r.address);
  }

  /** Write an internally computed value, clamped to what the register can hold. */
  #setClamped(name: RegisterName, value: number): void {
    const r = this.model.registers[name];
    if (!r) return;
    const [lo, hi] = representableRange(r);
    const v = Math.max(lo, Math.min(hi, Math.round(value)));
    this.#memory.set(
      encodeRegister(this.model, name, r.range ? Math.max(r.range[0], Math.min(r.range[1], v)) : v),
      r.address,
    );
  }

  #setSI(name: RegisterName, si: number): void {
    const r = this.model.registers[name];
    if (!r) return;
    this.#setClamped(name, si / r.unit.scale);
  }
}

const mod = (x: number, n: number): number => ((x % n) + n) % n;
