import type { Logger } from '../../src/util/log.js';
import { driveModeInSoftware, type RobotCalibration } from '../calibration/calibration.js';
import type { BusDiagnostics, JointStateSample, JointStatus, ServoBusApi, ServoFault } from '../bus/servo_bus_api.js';
import type { RegisterName } from '../servos/control_table.js';
import { CycleStats } from './cycle_stats.js';
import { JointMapping, type CommandInterface } from './joint_mapping.js';
import { describeJump, MotionGuard, type Jump } from './motion_guard.js';

// The serial arm behind the hw_bridge node, without ROS: set up (calibration on the servos,
// operating mode, torque), then one bus cycle per tick — one sync write of the newest command,
// then one sync read of the state — and the bookkeeping around it: rejected and clamped commands,
// stale commands, latched servo faults, and a vanished device (no commands while it is gone, then
// hold where the arm is and go on once the bus is back). A state is published only when every
// joint answered and none moved further than its motor can (motion_guard.ts); why there is none
// is kept for the reports. A hold goal (at enable, after a loss, after clearing faults) comes only
// from verified data: two complete reads that agree within what the motors can move between them,
// and with the last reading accepted. Torque on is all or nothing: if it cannot be confirmed on
// every servo, torque goes off on all of them again.

export interface ServoArmOptions {
  readonly commandInterface: CommandInterface;
  /** N·m per A per joint (effort interface) */
  readonly torqueConstants?: readonly number[];
  /** after this long without a new command (ms): position holds the last goal; current/effort command zero */
  readonly commandTimeoutMs: number;
  /** write the calibration to servos whose offsets or limits differ (else refuse to start) */
  readonly writeCalibration: boolean;
  readonly logger: Logger;
}

/** One cycle's joint state in the stack's units, in joint order. */
export interface ArmState {
  /** performance.now() ms when the replies were in */
  readonly stampMs: number;
  readonly position: Float64Array;
  readonly velocity: Float64Array;
  /** A, or fraction of max torque where the servo reports load */
  readonly effort: Float64Array;
}

export interface ArmCounters {
  commands: number;
  rejected: number;
  clamped: number;
  commandTimeouts: number;
  /** commands that came while the bus was lost or being taken back (dropped, not replayed) */
  droppedWhileLost: number;
  /** cycles whose read lacked a joint (nothing published) */
  incomplete: number;
  restores: number;
  /** cycles whose state was published */
  published: number;
  /** cycles whose read had a joint move further than its motor can (nothing published) */
  implausible: number;
}

/** A joint's readings refused as impossible: how many, and the last one described. */
export interface JointImplausible {
  readonly count: number;
  readonly last: string | undefined;
}

/** How often taking the arm back after a loss is retried while it fails. */
const RESTORE_RETRY_MS = 200;

export class ServoArm {
  readonly mapping: JointMapping;
  readonly stats = new CycleStats();
  readonly counters: ArmCounters = {
    commands: 0,
    rejected: 0,
    clamped: 0,
    commandTimeouts: 0,
    droppedWhileLost: 0,
    incomplete: 0,
    restores: 0,
    published: 0,
    implausible: 0,
  };
  readonly #bus: ServoBusApi;
  readonly #options: ServoArmOptions;
  readonly #log: Logger;
  readonly #goals: Float64Array;
  readonly #state: ArmState;
  /** newest accepted command and when it came (performance.now() ms) */
  #command: Float64Array | undefined;
  #commandAt = 0;
  #timedOut = false;
  #torqueOn = false;
  #busy = false;
  #lostReason: string | undefined;
  #status: JointStatus[] | undefined;
  #statusDue = false;
  #nextRestoreAt = 0;
  #restoreFailures = 0;
  readonly #guard: MotionGuard;
  readonly #implausible: { count: number; last: string | undefined }[];
  /** performance.now() of the first cycle since enable/disable, and of the last state published */
  #cyclingSince: number | undefined;
  #lastStateAt: number | undefined;
  #noStateReason: string | undefined;
  /** the previous cycle had a joint move further than possible (logged once per run of them) */
  #jumping = false;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(bus: ServoBusApi, calibration: RobotCalibration, options: ServoArmOptions) {
    this.#bus = bus;
    this.#options = options;
    this.#log = options.logger;
    const byName = new Map(calibration.joints.map((j) => [j.name, j]));
    const ordered = bus.joints.map((j) => {
      const c = byName.get(j.name);
      if (!c)
        throw new Error(
          `calibration for ${calibration.robot} has no joint '${j.name}' (it has ${calibration.joints.map((x) => x.name).join(', ')})`,
        );
      return c;
    });
    this.mapping = new JointMapping(bus.joints, ordered, options.commandInterface, options.torqueConstants);
    this.#guard = new MotionGuard(bus.joints.map((j) => j.model));
    this.#implausible = bus.joints.map(() => ({ count: 0, last: undefined }));
    const n = bus.joints.length;
    this.#goals = new Float64Array(n);
    this.#state = {
      stampMs: 0,
      position: new Float64Array(n),
      velocity: new Float64Array(n),
      effort: new Float64Array(n),
    };
    this.#unsubscribe.push(
      bus.on('lost', (reason) => {
        this.#lostReason = reason;
        // a command from before the loss must not be replayed onto an arm that may have moved
        this.#command = undefined;
        this.#log.error(`bus lost (${reason}): no commands until it is back; reopening`);
      }),
      bus.on('restored', () => this.#log.warn('bus back: holding the arm where it is until a new command arrives')),
      bus.on('fault', (f: ServoFault) => {
        this.#log.error(
          `joint '${f.joint}' (id ${f.id}) fault: ${f.flags.join(', ')}; ${f.action === 'none' ? 'no action' : f.action.replace('_', ' ')}; it is no longer commanded (clear faults to resume)`,
        );
      }),
    );
  }

  /** Whether the device is there and the arm was taken back after a loss. */
  get connected(): boolean {
    return this.#bus.state === 'open' && this.#lostReason === undefined;
  }

  get lostReason(): string | undefined {
    return this.#lostReason;
  }

  /** A cycle or a status read is on the bus. */
  get busy(): boolean {
    return this.#busy;
  }

  get torqueOn(): boolean {
    return this.#torqueOn;
  }

  get names(): readonly string[] {
    return this.mapping.names;
  }

  /**
   * ms since a state was last published — or since cycling began, if none has been since; undefined
   * while not cycling (before the first cycle, after disable).
   */
  stateAgeMs(nowMs = performance.now()): number | undefined {
    const since = this.#lastStateAt ?? this.#cyclingSince;
    return since === undefined ? undefined : nowMs - since;
  }

  /** Why the last cycle published no state (undefined when it did). */
  get noStateReason(): string | undefined {
    return this.#noStateReason;
  }

  /** Per joint, in joint order: readings refused for moving further than the motor can. */
  implausible(): readonly JointImplausible[] {
    return this.#implausible.map((x) => ({ ...x }));
  }

  /**
   * Put the calibration on the servos and the operating mode the command interface needs; torque
   * off while doing so (both are EEPROM on most servos). Refuses when the servos hold another
   * calibration and writing is not allowed.
   */
  async setup(): Promise<void> {
    const bus = this.#bus;
    await bus.setTorque(false);
    this.#torqueOn = false;
    const mismatched: string[] = [];
    for (let i = 0; i < this.mapping.length; i++) {
      const j = this.mapping.joints[i]!;
      // Dynamixel reverses in firmware (Drive_Mode bit 0), ahead of the offset: it goes first
      const firmwareDirection = !driveModeInSoftware(j.model) && j.model.registers.drive_mode !== undefined;
      const want: [RegisterName, (have: number) => number][] = [
        ...(firmwareDirection
          ? [
              ['drive_mode', (have: number) => (have & ~1) | j.calibration.drive_mode] as [
                RegisterName,
                (have: number) => number,
              ],
            ]
          : []),
        ['homing_offset', () => j.calibration.homing_offset],
        ['min_position_limit', () => j.calibration.range_min],
        ['max_position_limit', () => j.calibration.range_max],
      ];
      const writes: [RegisterName, number][] = [];
      const differ: string[] = [];
      for (const [name, value] of want) {
        if (!j.model.registers[name]) continue;
        const have = await bus.readRegister(i, name);
        const wanted = value(have);
        if (have !== wanted) {
          differ.push(`${name} ${have} (file: ${wanted})`);
          writes.push([name, wanted]);
        }
      }
      if (differ.length === 0) continue;
      if (!this.#options.writeCalibration) {
        mismatched.push(`joint '${j.name}': ${differ.join(', ')}`);
        continue;
      }
      this.#log.warn(`joint '${j.name}': servo holds ${differ.join(', ')}: writing the calibration file's values`);
      const lock = j.model.registers.lock !== undefined;
      if (lock) await bus.writeRegister(i, 'lock', 0);
      for (const [name, value] of writes) await bus.writeRegister(i, name, value);
      if (lock) await bus.writeRegister(i, 'lock', 1);
    }
    if (mismatched.length) {
      throw new Error(
        `the servos hold another calibration than the file (${mismatched.join('; ')}): calibrate again, or let the bridge write the file's values (write_calibration: true)`,
      );
    }
    const mode = this.#options.commandInterface === 'position' ? 'position' : 'current';
    for (let i = 0; i < this.mapping.length; i++) {
      const j = this.mapping.joints[i]!;
      const value = j.model.operatingModes[mode];
      if (value === undefined || !j.model.registers.operating_mode) continue;
      if ((await bus.readRegister(i, 'operating_mode')) !== value) await bus.writeRegister(i, 'operating_mode', value);
    }
  }

  /**
   * Torque on, holding where the arm is (goal = present first, so nothing jumps). All or nothing:
   * when torque on cannot be confirmed on every servo, it is turned off on all of them again.
   */
  async enable(): Promise<void> {
    await this.#holdHere();
    try {
      await this.#bus.setTorque(true);
    } catch (err) {
      await this.#bus
        .setTorque(false)
        .catch((off: unknown) => this.#log.error(`torque off after a failed torque on: ${(off as Error).message}`));
      throw err;
    }
    this.#torqueOn = true;
  }

  /**
   * Torque off on every servo. Resolves only when every servo read torque off back; rejects naming
   * those it could not be confirmed on (a lost bus: all), and on a closed bus, where nothing can be
   * sent (so a caller never takes a closed bus for a confirmed torque off).
   */
  async disable(): Promise<void> {
    this.#torqueOn = false;
    this.#command = undefined;
    this.#cyclingSince = undefined;
    this.#lastStateAt = undefined;
    this.#noStateReason = undefined;
    if (this.#bus.state === 'closed') throw new Error('torque off not sent: the bus is closed');
    await this.#bus.setTorque(false);
  }

  /** Take a command; returns why it was refused, or undefined. */
  command(values: ArrayLike<number>, nowMs = performance.now()): string | undefined {
    const problem = this.mapping.problem(values);
    if (problem) {
      this.counters.rejected++;
      return problem;
    }
    if (!this.connected) {
      this.counters.droppedWhileLost++;
      return `the bus is ${this.#lostReason ? `lost (${this.#lostReason})` : this.#bus.state}`;
    }
    this.#command = Float64Array.from(values);
    this.#commandAt = nowMs;
    this.#timedOut = false;
    this.counters.commands++;
    return undefined;
  }

  /**
   * One bus cycle: the newest command as one sync write, then one sync read. Resolves with the
   * state, or undefined when there is none to publish (bus lost, a joint missing, the previous
   * cycle still on the bus). After a loss, the first cycle with the bus back takes the arm back
   * (goal = present, torque as it was) instead. A status read asked for by `requestStatus` follows
   * the state read, outside the cycle's timing. Rejects with the bus error of a failed cycle.
   */
  async cycle(): Promise<ArmState | undefined> {
    if (this.#busy) {
      this.stats.overrun();
      return undefined;
    }
    if (this.#bus.state !== 'open') return undefined;
    this.#busy = true;
    try {
      this.#cyclingSince ??= performance.now();
      if (this.#lostReason !== undefined) {
        // taking the arm back can fail while the servos are still waking up: retry, a few times a second
        if (performance.now() >= this.#nextRestoreAt) await this.#restore();
        return undefined;
      }
      const start = performance.now();
      let state: ArmState | undefined;
      try {
        await this.#writeCommand(start);
        const sentAt = performance.now();
        state = this.#accept(await this.#bus.readState(), sentAt);
      } catch (err) {
        this.stats.fail();
        this.#noStateReason = `the bus cycle failed: ${(err as Error).message}`;
        throw err;
      }
      this.stats.done(start, performance.now());
      if (this.#statusDue) {
        this.#statusDue = false;
        this.#status = await this.#bus.readStatus();
      }
      return state;
    } finally {
      this.#busy = false;
    }
  }

  /** Read temperature, voltage and error bits of every servo after the next cycle (diagnostics rate). */
  requestStatus(): void {
    this.#statusDue = true;
  }

  get status(): JointStatus[] | undefined {
    return this.#status;
  }

  faults(): ServoFault[] {
    return this.#bus.faults();
  }

  diagnostics(): BusDiagnostics {
    return this.#bus.diagnostics();
  }

  /** Reboot every faulted servo, unlatch its fault, and give it torque again holding where it is. */
  async clearFaults(): Promise<string[]> {
    const cleared: string[] = [];
    for (const f of this.#bus.faults()) {
      await this.#bus.clearFault(f.index);
      cleared.push(f.joint);
    }
    if (cleared.length && this.#torqueOn) {
      await this.#holdHere();
      await this.#bus.setTorque(true, cleared);
    }
    return cleared;
  }

  dispose(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  async #writeCommand(nowMs: number): Promise<void> {
    if (!this.#torqueOn || !this.#command) return;
    if (nowMs - this.#commandAt > this.#options.commandTimeoutMs) {
      if (!this.#timedOut) {
        this.#timedOut = true;
        this.counters.commandTimeouts++;
        this.#log.warn(
          `no command for ${this.#options.commandTimeoutMs} ms: ${this.#options.commandInterface === 'position' ? 'holding the last goal' : 'commanding zero current'}`,
        );
        if (this.#options.commandInterface !== 'position') {
          this.#goals.fill(0);
          await this.#bus.writeGoals(this.#goals, 'current');
        }
      }
      return;
    }
    const { clamped } = this.mapping.goals(this.#command, this.#goals);
    this.counters.clamped += clamped;
    await this.#bus.writeGoals(this.#goals, this.#options.commandInterface === 'position' ? 'position' : 'current');
  }

  /** The state to publish from a sample, or undefined (saying why) when a joint is missing or implausible. */
  #accept(sample: JointStateSample, sentAt: number): ArmState | undefined {
    const joint = (i: number) => `'${this.mapping.names[i]}' (id ${this.#bus.joints[i]!.id})`;
    const missing = this.#bus.joints.filter((_, i) => !sample.valid[i]).map((j) => joint(j.index));
    const jumps = this.#guard.check(sample, sentAt);
    for (const jump of jumps) {
      const record = this.#implausible[jump.index]!;
      record.count++;
      record.last = describeJump(jump);
    }
    if (jumps.length) {
      this.counters.implausible++;
      if (!this.#jumping)
        this.#log.warn(
          `joint state not published: ${jumps.map((j) => `${joint(j.index)}: ${describeJump(j)}`).join('; ')}`,
        );
    }
    this.#jumping = jumps.length > 0;
    if (missing.length) this.counters.incomplete++;
    if (missing.length || jumps.length) {
      this.#noStateReason = [
        ...(missing.length ? [`no reply from ${missing.join(', ')}`] : []),
        ...jumps.map((j) => `${joint(j.index)}: ${describeJump(j)}`),
      ].join('; ');
      return undefined;
    }
    const state = this.#convert(sample);
    this.counters.published++;
    this.#lastStateAt = performance.now();
    this.#noStateReason = undefined;
    return state;
  }

  #convert(sample: JointStateSample): ArmState {
    const s = this.#state as { stampMs: number } & ArmState;
    for (let i = 0; i < this.mapping.length; i++) {
      s.position[i] = this.mapping.position(i, sample.rawPosition[i]!);
      s.velocity[i] = this.mapping.directed(i, sample.velocity[i]!);
      s.effort[i] = this.mapping.directed(i, sample.effort[i]!);
    }
    s.stampMs = sample.stamp;
    return s;
  }

  /**
   * Goal := present for every joint (position interface), so torque-on or a restore moves nothing.
   * The present positions must be verified: two complete reads (each checked by the bus for ids
   * and order) that agree within what the motors can move between them, and agree likewise with
   * the last reading of each joint accepted before. Otherwise nothing is written.
   */
  async #holdHere(): Promise<void> {
    if (this.#options.commandInterface !== 'position') {
      this.#goals.fill(0);
      await this.#bus.writeGoals(this.#goals, 'current');
      return;
    }
    const firstSentAt = performance.now();
    const first = await this.#bus.readState();
    const sentAt = performance.now();
    const sample = await this.#bus.readState();
    for (let i = 0; i < this.mapping.length; i++) {
      if (!first.valid[i] || !sample.valid[i])
        throw new Error(`joint '${this.mapping.names[i]}' did not answer: cannot hold it where it is`);
    }
    const refuse = (jumps: readonly Jump[], why: string, verb: string): void => {
      if (jumps.length === 0) return;
      throw new Error(
        `cannot hold the arm where it is: ${why}: ${jumps.map((j) => `'${this.mapping.names[j.index]}' ${describeJump(j, verb)}`).join('; ')}`,
      );
    };
    refuse(this.#guard.compare(first, firstSentAt, sample), 'two reads disagree', 'changed by');
    refuse(this.#guard.check(sample, sentAt), 'the read disagrees with the last reading accepted', 'moved');
    for (let i = 0; i < this.mapping.length; i++) this.#goals[i] = sample.position[i]!;
    await this.#bus.writeGoals(this.#goals, 'position');
  }

  async #restore(): Promise<void> {
    this.#command = undefined;
    try {
      if (this.#torqueOn) {
        await this.#holdHere();
        await this.#bus.setTorque(true);
      }
      this.#lostReason = undefined;
      this.#restoreFailures = 0;
      this.counters.restores++;
      this.#log.info('arm taken back after the loss: commands are accepted again');
    } catch (err) {
      this.#nextRestoreAt = performance.now() + RESTORE_RETRY_MS;
      if (this.#restoreFailures++ === 0)
        this.#log.error(
          `bus back, but holding the arm failed: ${(err as Error).message}; retrying every ${RESTORE_RETRY_MS} ms`,
        );
    }
  }
}
