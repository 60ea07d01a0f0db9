import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, type Logger } from '../../src/util/log.js';
import { protocolByName } from '../protocol/index.js';
import type { Operation, ProtocolName, ReadResult, ServoProtocol } from '../protocol/types.js';
import type { Register, RegisterName } from '../servos/control_table.js';
import { servoModel } from '../servos/index.js';
import {
  decodeRegister,
  encodeRegister,
  fromSI,
  hardwareErrorNames,
  toSI,
  writableRange,
} from '../servos/registers.js';
import { busHints, HintPrinter, readLatencyTimer, type HintContext } from './hints.js';
import { SerialLink, waitForPort } from './serial_link.js';
import type {
  BusDiagnostics,
  BusState,
  EffortKind,
  GoalKind,
  JointInfo,
  JointRef,
  JointStateSample,
  JointStatus,
  ServoBusApi,
  ServoBusEvents,
  ServoBusOptions,
  ServoDiagnostics,
  ServoFault,
} from './servo_bus_api.js';
import {
  BusError,
  DEFAULT_TIMING,
  TransactionQueue,
  type TransactionResult,
  type TransactionTiming,
} from './transaction.js';

export type * from './servo_bus_api.js';
export { BusError } from './transaction.js';

// The arm-level driver: one serial bus, a set of named joints, registers by name through the
// control tables, a whole arm per sync read / sync write. What it does about trouble (the error
// bits: ROBOTIS e-manual "DYNAMIXEL Protocol 2.0", Status Packet, and the X-series control tables'
// Shutdown and Hardware Error Status; Feetech's scservo_sdk protocol_packet_handler.py, ERRBIT_*;
// docs/servo-protocols.md has the details):
//  - every status error byte is checked; a hardware error (Dynamixel alert bit, Feetech overload /
//    overheat / voltage bits) makes it read why (Hardware Error Status where the model has it),
//    turn that servo's torque off (or reboot it, by option), latch the fault, stop commanding that
//    joint and emit 'fault'; the other joints carry on;
//  - a servo missing from several transactions in a row is left out of the cycles (so one dead
//    servo does not cost every cycle its timeouts) and pinged now and then until it is back;
//  - a vanished device rejects every request at once (nothing is written), emits 'lost', reopens
//    in the background and emits 'restored' when commands work again;
//  - replies under an id or in an order the request does not allow fail the transaction
//    (transaction.ts): they are counted, reported, and never state;
//  - torque on/off (and so every stop) is attempted on every servo: one SYNC_WRITE, a read-back of
//    Torque Enable, then per-servo writes and read-backs of the servos it did not take on; the ones
//    still not confirmed are named in a TorqueError and in each servo's diagnostics;
//  - the first timeouts print hints (latency timer, return delay, baud rate, protocol), once; a bus
//    on which no servo answers at open is pinged once in the other protocol, to say so if they
//    speak it.

/** A servo refused an instruction (Dynamixel error number: access, range, limit…). */
export class ServoError extends Error {
  constructor(
    message: string,
    readonly id: number,
    readonly joint: string,
    readonly errorByte: number,
  ) {
    super(message);
    this.name = 'ServoError';
  }
}

/** Torque on/off that could not be confirmed on every servo asked (the others did confirm it). */
export class TorqueError extends Error {
  override readonly name = 'TorqueError';
  constructor(
    message: string,
    readonly enabled: boolean,
    readonly unconfirmed: readonly {
      readonly index: number;
      readonly id: number;
      readonly joint: string;
      readonly reason: string;
    }[],
  ) {
    super(message);
  }
}

interface JointRuntime {
  misses: number;
  responsive: boolean;
  lastProbe: number;
  fault: ServoFault | undefined;
  handlingFault: boolean;
  status: JointStatus | undefined;
  /** Torque Enable as last confirmed (read back, or acknowledged), 'unknown' when it could not be */
  torque: ServoDiagnostics['torque'];
  torqueProblem: string | undefined;
  lastFailure: ServoDiagnostics['lastFailure'];
}

/** Rounds of per-servo write + read-back after the sync write, for servos torque did not take on. */
const TORQUE_RETRY_ROUNDS = 2;

/** A sync read covering the same bytes on every joint of a group. */
interface ReadGroup {
  readonly address: number;
  readonly length: number;
  readonly joints: readonly number[];
}

const STATE_REGISTERS = ['present_position', 'present_velocity'] as const;

type Listeners = { [K in keyof ServoBusEvents]: Set<ServoBusEvents[K]> };

export class ServoBus implements ServoBusApi {
  readonly joints: readonly JointInfo[];
  readonly #options: ServoBusOptions;
  readonly #protocol: ServoProtocol;
  readonly #link: SerialLink;
  readonly #queue: TransactionQueue;
  readonly #log: Logger;
  readonly #runtime: JointRuntime[];
  readonly #listeners: Listeners = { fault: new Set(), lost: new Set(), restored: new Set() };
  readonly #hints: HintPrinter;
  readonly #returnDelayUs = new Map<number, number>();
  readonly #effortName: readonly RegisterName[];
  #state: BusState = 'open';
  /** a protocol the servos answered a PING in, when they answered none in the configured one */
  #otherProtocol: HintContext['otherProtocol'];

  private constructor(
    options: ServoBusOptions,
    joints: JointInfo[],
    link: SerialLink,
    timing: TransactionTiming,
    log: Logger,
  ) {
    this.#options = options;
    this.joints = joints;
    this.#protocol = protocolByName(options.protocol);
    this.#link = link;
    this.#log = log;
    this.#queue = new TransactionQueue(this.#protocol, link, timing);
    this.#runtime = joints.map(() => ({
      misses: 0,
      responsive: true,
      lastProbe: 0,
      fault: undefined,
      handlingFault: false,
      status: undefined,
      torque: 'unknown',
      torqueProblem: undefined,
      lastFailure: undefined,
    }));
    this.#effortName = joints.map((j) => (j.model.registers.present_current ? 'present_current' : 'present_load'));
    this.#hints = new HintPrinter(log, () => this.#hintContext());
    link.on('lost', (reason) => {
      this.#state = 'lost';
      this.#emit('lost', reason);
    });
    link.on('open', (reopened) => {
      if (!reopened || this.#state === 'closed') return;
      this.#state = 'open';
      for (const r of this.#runtime) r.misses = 0;
      this.#log.info(`${options.port} is back: commanding resumes`);
      this.#emit('restored');
    });
  }

  /** Open the port and (by default) check that every joint answers with its configured model. */
  static async open(options: ServoBusOptions): Promise<ServoBus> {
    const log = options.logger ?? createLogger('servo_bus');
    const joints = resolveJoints(options);
    const waitMs = options.waitForPortMs ?? 0;
    if (!options.openPort && waitMs > 0 && !(await waitForPort(options.port, waitMs, log)))
      throw new Error(
        `cannot open ${options.port}: no such device after waiting ${waitMs / 1000} s (unplugged, or a different name such as /dev/ttyACM0; prefer /dev/serial/by-id/…)`,
      );
    // an FTDI adapter's latency timer holds every reply that long: budget for it unless told otherwise
    const latency = readLatencyTimer(options.port);
    const adapterLatencyMs =
      options.timing?.adapterLatencyMs ?? Math.max(DEFAULT_TIMING.adapterLatencyMs, latency?.ms ?? 0);
    const timing: TransactionTiming = {
      ...DEFAULT_TIMING,
      ...options.timing,
      adapterLatencyMs,
      baudRate: options.baudRate,
    };
    const link = new SerialLink({
      path: options.port,
      baudRate: options.baudRate,
      ...(options.openPort ? { openPort: options.openPort } : {}),
      ...(options.reopen !== undefined ? { reopen: options.reopen } : {}),
      logger: log,
    });
    await link.open();
    const bus = new ServoBus(options, joints, link, timing, log);
    bus.#hints.onOpen();
    if (options.verifyModels ?? true) {
      try {
        await bus.#verify();
      } catch (err) {
        await bus.close();
        throw err;
      }
    }
    return bus;
  }

  get state(): BusState {
    return this.#state;
  }

  /** The transaction timing in use (timeouts are derived from it). */
  get timing(): TransactionTiming {
    return this.#queue.timing;
  }

  on<K extends keyof ServoBusEvents>(event: K, listener: ServoBusEvents[K]): () => void {
    this.#listeners[event].add(listener);
    return () => void this.#listeners[event].delete(listener);
  }

  // ---- single registers ------------------------------------------------------------------

  async ping(ref: JointRef): Promise<{ readonly modelNumber: number | undefined }> {
    const j = this.#joint(ref);
    const { replies } = await this.#request({ kind: 'ping', id: j.id });
    const data = replies[0]!.data;
    // Dynamixel: model number (little-endian) + firmware version; Feetech: nothing
    return { modelNumber: data.length >= 2 ? data[0]! | (data[1]! << 8) : undefined };
  }

  async readRegister(ref: JointRef, name: RegisterName): Promise<number> {
    const j = this.#joint(ref);
    const register = this.#register(j, name);
    const { replies } = await this.#request({
      kind: 'read',
      id: j.id,
      address: register.address,
      length: register.size,
    });
    const reply = replies[0]!;
    this.#throwIfRefused(j, reply, `reading ${name}`);
    return decodeRegister(j.model, name, reply.data);
  }

  async writeRegister(ref: JointRef, name: RegisterName, value: number): Promise<void> {
    const j = this.#joint(ref);
    const register = this.#register(j, name);
    let data: Uint8Array;
    try {
      data = encodeRegister(j.model, name, value);
    } catch (err) {
      throw new RangeError(`joint '${j.name}' (id ${j.id}): ${(err as Error).message}`, { cause: err });
    }
    const { replies } = await this.#request({ kind: 'write', id: j.id, address: register.address, data });
    this.#throwIfRefused(j, replies[0]!, `writing ${name} = ${value}`);
  }

  async readSI(ref: JointRef, name: RegisterName): Promise<number> {
    const j = this.#joint(ref);
    return this.#rawToSI(j, name, await this.readRegister(ref, name));
  }

  async writeSI(ref: JointRef, name: RegisterName, value: number): Promise<void> {
    const j = this.#joint(ref);
    await this.writeRegister(ref, name, this.#siToRaw(j, name, value, false));
  }

  // ---- whole arm -------------------------------------------------------------------------

  async syncRead(name: RegisterName): Promise<number[]> {
    const all = this.joints.map((j) => j.index);
    const blocks = await this.#readBlocks(all, (j) => {
      const r = this.#register(j, name);
      return [r.address, r.address + r.size];
    });
    return this.joints.map((j) => {
      const block = blocks.get(j.index);
      if (!block) return Number.NaN;
      const r = this.#register(j, name);
      return decodeRegister(
        j.model,
        name,
        block.data.subarray(r.address - block.address, r.address - block.address + r.size),
      );
    });
  }

  async readPositions(): Promise<number[]> {
    const positions = await this.syncRead('present_position');
    const missing = this.joints.filter((j) => Number.isNaN(positions[j.index]!));
    if (missing.length)
      throw new BusError(
        'timeout',
        `no position from ${missing.map((j) => `'${j.name}' (id ${j.id})`).join(', ')}`,
        { kind: 'ping', id: missing[0]!.id },
        missing.map((j) => j.id),
      );
    return positions;
  }

  async readState(): Promise<JointStateSample> {
    this.#throwIfLost('readState');
    await this.#probeUnresponsive();
    const active = this.joints.filter((j) => this.#runtime[j.index]!.responsive).map((j) => j.index);
    const n = this.joints.length;
    const position = new Float64Array(n).fill(Number.NaN);
    const velocity = new Float64Array(n).fill(Number.NaN);
    const effort = new Float64Array(n).fill(Number.NaN);
    const rawPosition: number[] = new Array<number>(n).fill(Number.NaN);
    const valid: boolean[] = new Array<boolean>(n).fill(false);
    const effortKind: EffortKind[] = this.#effortName.map((name) => (name === 'present_current' ? 'current' : 'load'));
    if (active.length === 0)
      throw new BusError(
        'timeout',
        'no joint is answering (all left out after missing replies; they are pinged every few hundred ms)',
        { kind: 'ping', id: this.joints[0]!.id },
        this.joints.map((j) => j.id),
      );
    const blocks = await this.#readBlocks(active, (j) =>
      this.#span(j, [...STATE_REGISTERS, this.#effortName[j.index]!]),
    );
    for (const [index, block] of blocks) {
      const j = this.joints[index]!;
      const value = (name: RegisterName): number => {
        const r = this.#register(j, name);
        return decodeRegister(
          j.model,
          name,
          block.data.subarray(r.address - block.address, r.address - block.address + r.size),
        );
      };
      const raw = value('present_position');
      rawPosition[index] = raw;
      position[index] = this.#rawToSI(j, 'present_position', raw);
      velocity[index] = this.#rawToSI(j, 'present_velocity', value('present_velocity'));
      effort[index] = this.#rawToSI(j, this.#effortName[index]!, value(this.#effortName[index]!));
      valid[index] = true;
    }
    return { stamp: performance.now(), position, velocity, effort, effortKind, rawPosition, valid };
  }

  async readStatus(): Promise<JointStatus[]> {
    this.#throwIfLost('readStatus');
    const names = (j: JointInfo): RegisterName[] =>
      (['present_voltage', 'present_temperature', 'hardware_error_status', 'status'] as const).filter(
        (n) => j.model.registers[n] !== undefined,
      );
    const active = this.joints.filter((j) => this.#runtime[j.index]!.responsive).map((j) => j.index);
    const blocks = active.length
      ? await this.#readBlocks(active, (j) => this.#span(j, names(j)))
      : new Map<number, { address: number; data: Uint8Array }>();
    return this.joints.map((j) => {
      const block = blocks.get(j.index);
      const runtime = this.#runtime[j.index]!;
      if (!block) return runtime.status ?? { temperatureC: undefined, voltageV: undefined, errorFlags: [] };
      const value = (name: RegisterName): number | undefined => {
        const r = j.model.registers[name];
        if (!r) return undefined;
        return decodeRegister(
          j.model,
          name,
          block.data.subarray(r.address - block.address, r.address - block.address + r.size),
        );
      };
      const errorBits = value('hardware_error_status') ?? value('status') ?? 0;
      const voltage = value('present_voltage');
      const temperature = value('present_temperature');
      const status: JointStatus = {
        voltageV: voltage === undefined ? undefined : toSI(j.model, 'present_voltage', voltage),
        temperatureC: temperature === undefined ? undefined : toSI(j.model, 'present_temperature', temperature),
        errorFlags: hardwareErrorNames(j.model, errorBits),
      };
      runtime.status = status;
      return status;
    });
  }

  async writeGoals(values: ArrayLike<number>, kind: GoalKind = 'position'): Promise<void> {
    this.#throwIfLost('writeGoals');
    if (values.length !== this.joints.length)
      throw new Error(
        `writeGoals: ${values.length} values for ${this.joints.length} joints (${this.joints.map((j) => j.name).join(', ')})`,
      );
    const name: RegisterName =
      kind === 'position' ? 'goal_position' : kind === 'velocity' ? 'goal_velocity' : 'goal_current';
    // joints grouped by where the goal register is, one SYNC_WRITE per group (one for a uniform arm)
    const groups = new Map<string, { address: number; size: number; entries: { id: number; data: Uint8Array }[] }>();
    for (const j of this.joints) {
      const runtime = this.#runtime[j.index]!;
      if (runtime.fault || !runtime.responsive) continue;
      const si = values[j.index]!;
      if (!Number.isFinite(si)) throw new RangeError(`writeGoals: the ${kind} goal for '${j.name}' is ${si}`);
      const register = this.#register(j, name);
      const data = encodeRegister(j.model, name, this.#siToRaw(j, name, si, true));
      const key = `${register.address}:${register.size}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { address: register.address, size: register.size, entries: [] }));
      group.entries.push({ id: j.id, data });
    }
    for (const g of groups.values())
      await this.#request({ kind: 'sync_write', address: g.address, length: g.size, entries: g.entries });
  }

  async setTorque(enabled: boolean, refs?: readonly JointRef[]): Promise<void> {
    const joints = refs ? refs.map((r) => this.#joint(r)) : [...this.joints];
    if (enabled) {
      const faulted = joints.filter((j) => this.#runtime[j.index]!.fault);
      if (faulted.length) {
        throw new Error(
          `torque on refused: ${faulted.map((j) => `'${j.name}' has a latched fault (${this.#runtime[j.index]!.fault!.flags.join(', ')})`).join('; ')}; clearFault first`,
        );
      }
    }
    if (joints.length === 0) return;
    const value = enabled ? 1 : 0;
    const what = `torque ${enabled ? 'on' : 'off'}`;
    // joint index → why it is not confirmed yet
    let pending = new Map<number, string>(joints.map((j) => [j.index, 'not sent']));
    try {
      // every servo at once, so that one that does not answer delays none of the others; Feetech:
      // the EEPROM lock follows the torque, as LeRobot does it
      await this.#writeAll(joints, 'torque_enable', value);
      await this.#writeAll(
        joints.filter((j) => j.model.registers.lock),
        'lock',
        value,
      );
      pending = new Map(joints.map((j) => [j.index, 'sent, not read back']));
      pending = await this.#readBackTorque(joints, value, true);
      // the ones it did not take on (or that did not say): each on its own, read back each time
      for (let round = 0; round < TORQUE_RETRY_ROUNDS && pending.size > 0; round++) {
        const again = [...pending.keys()].map((i) => this.joints[i]!);
        for (const j of again) {
          await this.#writeOnce(j, 'torque_enable', value);
          if (j.model.registers.lock) await this.#writeOnce(j, 'lock', value);
        }
        pending = await this.#readBackTorque(again, value, false);
      }
    } catch (err) {
      if (!(err instanceof BusError) || (err.kind !== 'lost' && err.kind !== 'closed')) throw err;
      for (const [index, why] of pending) pending.set(index, `${why}: ${err.message}`);
    }
    for (const j of joints) {
      const runtime = this.#runtime[j.index]!;
      const why = pending.get(j.index);
      runtime.torque = why === undefined ? (enabled ? 'on' : 'off') : 'unknown';
      runtime.torqueProblem = why === undefined ? undefined : `${what} not confirmed: ${why}`;
    }
    if (pending.size === 0) return;
    const unconfirmed = [...pending].map(([index, reason]) => {
      const j = this.joints[index]!;
      return { index, id: j.id, joint: j.name, reason };
    });
    const others = joints.length - unconfirmed.length;
    throw new TorqueError(
      `${what} not confirmed on ${unconfirmed.map((u) => `'${u.joint}' (id ${u.id}): ${u.reason}`).join('; ')}${others ? `; confirmed on the other ${others}` : ''}`,
      enabled,
      unconfirmed,
    );
  }

  async reboot(ref: JointRef, bootTimeoutMs = 2000): Promise<void> {
    const j = this.#joint(ref);
    await this.#request({ kind: 'reboot', id: j.id });
    const deadline = performance.now() + bootTimeoutMs;
    for (;;) {
      await sleep(20);
      try {
        await this.#queue.request({ kind: 'ping', id: j.id }, { retries: 0 });
        break;
      } catch (err) {
        if (err instanceof BusError && err.kind === 'lost') throw err;
        if (performance.now() > deadline)
          throw new Error(`joint '${j.name}' (id ${j.id}) did not answer within ${bootTimeoutMs} ms of REBOOT`, {
            cause: err,
          });
      }
    }
    const runtime = this.#runtime[j.index]!;
    runtime.misses = 0;
    runtime.responsive = true;
    // a rebooted servo starts with torque off
    runtime.torque = 'off';
    runtime.torqueProblem = undefined;
  }

  async clearFault(ref: JointRef): Promise<void> {
    const j = this.#joint(ref);
    const runtime = this.#runtime[j.index]!;
    await this.reboot(j.index);
    if (runtime.fault)
      this.#log.info(`joint '${j.name}' (id ${j.id}): fault cleared (${runtime.fault.flags.join(', ')})`);
    runtime.fault = undefined;
  }

  faults(): ServoFault[] {
    return this.#runtime.flatMap((r) => (r.fault ? [r.fault] : []));
  }

  diagnostics(): BusDiagnostics {
    const servos: ServoDiagnostics[] = this.joints.map((j) => {
      const r = this.#runtime[j.index]!;
      return {
        index: j.index,
        id: j.id,
        joint: j.name,
        model: j.model.name,
        responsive: r.responsive,
        lastFailure: r.lastFailure,
        fault: r.fault,
        counters: { ...this.#queue.servoCounters(j.id) },
        status: r.status,
        torque: r.torque,
        torqueProblem: r.torqueProblem,
      };
    });
    return {
      state: this.#state,
      port: this.#options.port,
      protocol: this.#options.protocol,
      baudRate: this.#options.baudRate,
      counters: { ...this.#queue.counters, losses: this.#link.losses, reconnects: this.#link.reconnects },
      servos,
    };
  }

  async close(options: { readonly torqueOff?: boolean } = {}): Promise<void> {
    if (this.#state === 'closed') return;
    if (options.torqueOff && this.#state === 'open') {
      await this.setTorque(false).catch((err: unknown) =>
        this.#log.error(`torque off at close failed: ${(err as Error).message}`),
      );
    }
    this.#state = 'closed';
    this.#queue.close();
    await this.#link.close();
  }

  // ---- internals -------------------------------------------------------------------------

  /** Run one operation; on the way back check error bytes, count misses, print hints. */
  async #request(op: Operation, retries?: number): Promise<TransactionResult> {
    this.#throwIfLost(op.kind);
    let result: TransactionResult;
    try {
      result = await this.#queue.request(op, retries === undefined ? {} : { retries });
    } catch (err) {
      if (err instanceof BusError) {
        if (err.kind === 'timeout' || err.kind === 'corrupt') this.#hints.onTimeout();
        // a mismatched transaction hands nothing on: every servo it addressed missed it
        if (err.kind === 'timeout' || err.kind === 'corrupt' || err.kind === 'mismatch')
          for (const id of err.missing) this.#missed(id, err.kind);
        await this.#checkReplies(err.received);
      }
      throw err;
    }
    await this.#checkReplies(result.replies);
    return result;
  }

  async #checkReplies(replies: readonly ReadResult[]): Promise<void> {
    for (const reply of replies) {
      const index = this.joints.findIndex((j) => j.id === reply.id);
      if (index < 0) continue;
      const runtime = this.#runtime[index]!;
      runtime.misses = 0;
      if (!runtime.responsive) {
        runtime.responsive = true;
        this.#log.info(`joint '${this.joints[index]!.name}' (id ${reply.id}) answers again`);
      }
      if (reply.error && this.#protocol.describeError(reply.error).hardware)
        await this.#onHardwareError(index, reply.error);
    }
  }

  #missed(id: number, kind: 'timeout' | 'corrupt' | 'mismatch'): void {
    const index = this.joints.findIndex((j) => j.id === id);
    if (index < 0) return;
    const runtime = this.#runtime[index]!;
    runtime.misses++;
    runtime.lastFailure = kind;
    if (runtime.responsive && runtime.misses >= (this.#options.unresponsiveAfter ?? 3)) {
      runtime.responsive = false;
      runtime.lastProbe = performance.now();
      const j = this.joints[index]!;
      this.#log.warn(
        `joint '${j.name}' (id ${j.id}) ${kind === 'mismatch' ? 'was in' : 'missed'} ${runtime.misses} ${kind === 'mismatch' ? 'transactions refused for replies under a wrong id or out of order' : 'replies'} in a row: left out of cycles, pinged until it answers`,
      );
    }
  }

  async #probeUnresponsive(): Promise<void> {
    const interval = this.#options.probeIntervalMs ?? 500;
    const now = performance.now();
    for (const j of this.joints) {
      const runtime = this.#runtime[j.index]!;
      if (runtime.responsive || now - runtime.lastProbe < interval) continue;
      runtime.lastProbe = now;
      try {
        const { replies } = await this.#queue.request({ kind: 'ping', id: j.id }, { retries: 0 });
        await this.#checkReplies(replies);
      } catch (err) {
        if (err instanceof BusError && err.kind === 'lost') throw err;
      }
    }
  }

  /**
   * A hardware error from joint `index`: find out why, make it safe, latch it. Runs once per
   * fault: the reads it makes carry the same alert bit.
   */
  async #onHardwareError(index: number, errorByte: number): Promise<void> {
    const runtime = this.#runtime[index]!;
    if (runtime.fault || runtime.handlingFault) return;
    runtime.handlingFault = true;
    const j = this.joints[index]!;
    try {
      let flags = this.#protocol.describeError(errorByte).flags;
      if (j.model.registers.hardware_error_status) {
        try {
          flags = hardwareErrorNames(j.model, await this.readRegister(index, 'hardware_error_status'));
        } catch (err) {
          this.#log.warn(
            `joint '${j.name}' (id ${j.id}): reading Hardware Error Status failed: ${(err as Error).message}`,
          );
        }
      }
      const policy = this.#options.onHardwareError ?? 'torque_off';
      let action: ServoFault['action'] = 'none';
      try {
        if (policy === 'reboot') await this.reboot(index);
        else await this.writeRegister(index, 'torque_enable', 0);
        runtime.torque = 'off';
        action = policy;
      } catch (err) {
        this.#log.error(
          `joint '${j.name}' (id ${j.id}): ${policy} after a hardware error failed: ${(err as Error).message}`,
        );
      }
      const fault: ServoFault = { index, id: j.id, joint: j.name, flags, errorByte, action, at: Date.now() };
      runtime.fault = fault;
      this.#log.error(
        `joint '${j.name}' (id ${j.id}): hardware error ${flags.join(', ') || `0x${errorByte.toString(16)}`}: ${action === 'none' ? 'could not be made safe' : action === 'reboot' ? 'rebooted' : 'torque off'}; no longer commanded until clearFault`,
      );
      this.#emit('fault', fault);
    } finally {
      runtime.handlingFault = false;
    }
  }

  /** One register of every listed joint, in one SYNC_WRITE per register layout (per servo without one). */
  async #writeAll(joints: readonly JointInfo[], name: RegisterName, value: number): Promise<void> {
    const groups = new Map<string, { address: number; size: number; entries: { id: number; data: Uint8Array }[] }>();
    for (const j of joints) {
      const register = this.#register(j, name);
      const key = `${register.address}:${register.size}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { address: register.address, size: register.size, entries: [] }));
      group.entries.push({ id: j.id, data: encodeRegister(j.model, name, value) });
    }
    for (const g of groups.values()) {
      if (this.#protocol.supports.has('sync_write'))
        await this.#request({ kind: 'sync_write', address: g.address, length: g.size, entries: g.entries });
      else for (const e of g.entries) await this.#writeOnce(this.#jointById(e.id), name, value);
    }
  }

  /** One WRITE, one attempt; whether it took is for a read-back to say (only a lost bus throws). */
  async #writeOnce(j: JointInfo, name: RegisterName, value: number): Promise<void> {
    const register = this.#register(j, name);
    try {
      await this.#request(
        { kind: 'write', id: j.id, address: register.address, data: encodeRegister(j.model, name, value) },
        0,
      );
    } catch (err) {
      if (!(err instanceof BusError) || err.kind === 'lost' || err.kind === 'closed') throw err;
    }
  }

  /**
   * Read Torque Enable (and Feetech's Lock, which follows it) back from each joint, one attempt per
   * read: the joints whose registers do not read `value`, or that gave no usable reply, with why.
   * `sync`: one sync read per register layout where the protocol has it, else one read per joint.
   */
  async #readBackTorque(joints: readonly JointInfo[], value: number, sync: boolean): Promise<Map<number, string>> {
    const names = (j: JointInfo): RegisterName[] =>
      j.model.registers.lock ? ['torque_enable', 'lock'] : ['torque_enable'];
    const pending = new Map<number, string>();
    const groups = new Map<string, { address: number; length: number; joints: JointInfo[] }>();
    for (const j of joints) {
      const [start, end] = this.#span(j, names(j));
      const key = `${start}:${end}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { address: start, length: end - start, joints: [] }));
      g.joints.push(j);
    }
    const canSync = sync && this.#protocol.supports.has('sync_read');
    for (const g of groups.values()) {
      const ids = g.joints.map((j) => j.id);
      const ops: Operation[] =
        canSync && ids.length > 1
          ? [{ kind: 'sync_read', address: g.address, length: g.length, ids }]
          : ids.map((id) => ({ kind: 'read', id, address: g.address, length: g.length }));
      for (const op of ops) {
        let replies: readonly ReadResult[];
        let why = 'no reply to the read-back';
        try {
          replies = (await this.#request(op, 0)).replies;
        } catch (err) {
          if (!(err instanceof BusError) || err.kind === 'lost' || err.kind === 'closed') throw err;
          replies = err.received;
          if (err.kind === 'mismatch') why = 'the read-back came under a wrong id or out of order';
          else if (err.kind === 'corrupt') why = 'the read-back came corrupt';
        }
        const asked = op.kind === 'sync_read' ? op.ids : op.kind === 'read' ? [op.id] : [];
        for (const id of asked) {
          const j = this.#jointById(id);
          const reply = replies.find((r) => r.id === id);
          if (!reply || reply.data.length !== g.length || this.#protocol.describeError(reply.error).instruction) {
            pending.set(j.index, reply ? 'the read-back was refused' : why);
            continue;
          }
          const wrong = names(j).flatMap((name) => {
            const r = this.#register(j, name);
            const have = decodeRegister(
              j.model,
              name,
              reply.data.subarray(r.address - g.address, r.address - g.address + r.size),
            );
            return have === value ? [] : [`${name} reads ${have}`];
          });
          if (wrong.length) pending.set(j.index, wrong.join(', '));
        }
      }
    }
    return pending;
  }

  #jointById(id: number): JointInfo {
    const j = this.joints.find((x) => x.id === id);
    if (!j) throw new Error(`servo bus: no joint with id ${id}`);
    return j;
  }

  /**
   * Read [start, end) of each listed joint, as few transactions as the protocol allows: one sync
   * read per group of joints whose span is the same, else one read per joint. Joints that gave no
   * usable reply are absent from the result.
   */
  async #readBlocks(
    indices: readonly number[],
    span: (j: JointInfo) => readonly [number, number],
  ): Promise<Map<number, { address: number; data: Uint8Array }>> {
    const out = new Map<number, { address: number; data: Uint8Array }>();
    const groups = new Map<string, ReadGroup & { joints: number[] }>();
    for (const index of indices) {
      const [start, end] = span(this.joints[index]!);
      const key = `${start}:${end}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { address: start, length: end - start, joints: [] }));
      g.joints.push(index);
    }
    const canSync = this.#protocol.supports.has('sync_read');
    let failure: BusError | undefined;
    const take = (g: ReadGroup, replies: readonly ReadResult[]) => {
      for (const r of replies) {
        const index = g.joints.find((i) => this.joints[i]!.id === r.id);
        if (index === undefined || r.data.length !== g.length) continue;
        if (r.error && this.#protocol.describeError(r.error).instruction) continue;
        out.set(index, { address: g.address, data: r.data });
      }
    };
    for (const g of groups.values()) {
      const ids = g.joints.map((i) => this.joints[i]!.id);
      const ops: Operation[] = canSync
        ? [
            {
              kind: 'sync_read',
              address: g.address,
              length: g.length,
              ids,
              ...(this.#options.fastSyncRead && this.#protocol.supports.has('fast_sync_read') ? { fast: true } : {}),
            },
          ]
        : ids.map((id) => ({ kind: 'read', id, address: g.address, length: g.length }));
      for (const op of ops) {
        try {
          take(g, (await this.#request(op)).replies);
        } catch (err) {
          if (!(err instanceof BusError) || err.kind === 'lost' || err.kind === 'closed') throw err;
          take(g, err.received);
          failure = err;
        }
      }
    }
    if (out.size === 0 && failure) throw failure;
    return out;
  }

  /** The smallest [start, end) covering the named registers of a joint's model. */
  #span(j: JointInfo, names: readonly RegisterName[]): readonly [number, number] {
    let start = Infinity;
    let end = -Infinity;
    for (const name of names) {
      const r = this.#register(j, name);
      start = Math.min(start, r.address);
      end = Math.max(end, r.address + r.size);
    }
    return [start, end];
  }

  #rawToSI(j: JointInfo, name: RegisterName, raw: number): number {
    const si = toSI(j.model, name, raw);
    return isPositionRegister(name) ? si - toSI(j.model, name, j.model.centerPosition) : si;
  }

  /** SI → raw; `clamp` keeps goals within what the register accepts (the servo would refuse them). */
  #siToRaw(j: JointInfo, name: RegisterName, si: number, clamp: boolean): number {
    const register = this.#register(j, name);
    const value = isPositionRegister(name) ? si + toSI(j.model, name, j.model.centerPosition) : si;
    if (!clamp) {
      try {
        return fromSI(j.model, name, value);
      } catch (err) {
        throw new RangeError(`joint '${j.name}' (id ${j.id}): ${(err as Error).message}`, { cause: err });
      }
    }
    const [lo, hi] = writableRange(register);
    return Math.max(lo, Math.min(hi, Math.round(value / register.unit.scale)));
  }

  #joint(ref: JointRef): JointInfo {
    if (typeof ref === 'number') {
      const j = this.joints[ref];
      if (!Number.isInteger(ref) || !j)
        throw new RangeError(`joint index ${ref} is not in 0–${this.joints.length - 1}`);
      return j;
    }
    const j = this.joints.find((x) => x.name === ref);
    if (!j) throw new RangeError(`no joint named '${ref}' (joints: ${this.joints.map((x) => x.name).join(', ')})`);
    return j;
  }

  #register(j: JointInfo, name: RegisterName): Register {
    const r = j.model.registers[name];
    if (!r) throw new Error(`joint '${j.name}' (id ${j.id}): ${j.model.name} has no register '${name}'`);
    return r;
  }

  #throwIfRefused(j: JointInfo, reply: ReadResult, what: string): void {
    const info = this.#protocol.describeError(reply.error);
    if (info.instruction)
      throw new ServoError(
        `joint '${j.name}' (id ${j.id}) refused ${what}: ${info.instruction}`,
        j.id,
        j.name,
        reply.error,
      );
  }

  #throwIfLost(what: string): void {
    if (this.#state === 'lost')
      throw new BusError('lost', `${this.#options.port} is gone (reopening in the background): ${what} not sent`, {
        kind: 'ping',
        id: this.joints[0]!.id,
      });
    if (this.#state === 'closed')
      throw new BusError('closed', `the bus is closed: ${what} not sent`, { kind: 'ping', id: this.joints[0]!.id });
  }

  async #verify(): Promise<void> {
    const problems: string[] = [];
    let silent = false;
    let answered = 0;
    for (const j of this.joints) {
      try {
        const modelNumber =
          j.model.vendor === 'robotis'
            ? (await this.ping(j.index)).modelNumber
            : await this.readRegister(j.index, 'model_number');
        if (modelNumber !== j.model.modelNumber)
          problems.push(
            `'${j.name}' (id ${j.id}) reports model number ${modelNumber}, configured as ${j.model.name} (${j.model.modelNumber})`,
          );
        if (j.model.registers.return_delay_time)
          this.#returnDelayUs.set(
            j.id,
            toSI(j.model, 'return_delay_time', await this.readRegister(j.index, 'return_delay_time')) * 1e6,
          );
        answered++;
      } catch (err) {
        if (err instanceof BusError && err.kind !== 'lost') silent = true;
        else if (!(err instanceof BusError)) answered++;
        problems.push(`'${j.name}' (id ${j.id}): ${(err as Error).message}`);
      }
    }
    if (answered === 0 && silent && this.#queue.counters.packets === 0) {
      await this.#probeOtherProtocol();
      this.#hints.onTimeout();
    }
    if (problems.length) {
      const hints = silent ? busHints(this.#hintContext()).map((h) => `  hint: ${h.text}`) : [];
      throw new Error(
        `servo bus ${this.#options.port}: ${problems.join('; ')}${hints.length ? '\n' + hints.join('\n') : ''}`,
      );
    }
  }

  /**
   * No servo answered anything: PING the first joint's id in the other protocol family (a
   * PING changes nothing on a servo; a servo ignores the other protocol's packets, whose headers
   * differ: FF FF FD 00 for DYNAMIXEL 2.0, FF FF for Feetech), so the hint can say which it speaks.
   */
  async #probeOtherProtocol(): Promise<void> {
    const other: ProtocolName = this.#options.protocol === 'dynamixel2' ? 'feetech_sts' : 'dynamixel2';
    const id = this.joints[0]!.id;
    const probe = new TransactionQueue(protocolByName(other), this.#link, this.#queue.timing);
    try {
      // the bus's retries: a host too busy to catch one reply in time must not lose the hint
      await probe.request({ kind: 'ping', id });
      this.#otherProtocol = { protocol: other, id };
    } catch {
      // silent in that one too: the other hints stand
    } finally {
      probe.close();
    }
  }

  #hintContext(): HintContext {
    const c = this.#queue.counters;
    return {
      devicePath: this.#options.port,
      baudRate: this.#options.baudRate,
      protocol: this.#options.protocol,
      returnDelayUs: this.#returnDelayUs,
      traffic: { receivedBytes: c.receivedBytes, packets: c.packets },
      ...(this.#otherProtocol ? { otherProtocol: this.#otherProtocol } : {}),
    };
  }

  #emit<K extends keyof ServoBusEvents>(event: K, ...args: Parameters<ServoBusEvents[K]>): void {
    for (const listener of this.#listeners[event]) {
      try {
        (listener as (...a: Parameters<ServoBusEvents[K]>) => void)(...args);
      } catch (err) {
        this.#log.error(`a '${event}' listener threw: ${(err as Error).stack ?? String(err)}`);
      }
    }
  }
}

function isPositionRegister(name: RegisterName): boolean {
  return (
    name === 'present_position' ||
    name === 'goal_position' ||
    name === 'min_position_limit' ||
    name === 'max_position_limit'
  );
}

function resolveJoints(options: ServoBusOptions): JointInfo[] {
  if (!options.joints.length) throw new Error('servo bus: no joints configured');
  const ids = new Set<number>();
  const names = new Set<string>();
  return options.joints.map((c, index) => {
    if (ids.has(c.id)) throw new Error(`servo bus: id ${c.id} is configured twice`);
    if (names.has(c.name)) throw new Error(`servo bus: joint name '${c.name}' is configured twice`);
    ids.add(c.id);
    names.add(c.name);
    const model = servoModel(c.model);
    if (model.protocol !== options.protocol)
      throw new Error(
        `servo bus: joint '${c.name}' is a ${model.name}, which speaks ${model.protocol}, not ${options.protocol}`,
      );
    return { index, id: c.id, name: c.name, model };
  });
}
