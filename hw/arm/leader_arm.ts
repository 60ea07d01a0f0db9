import { createLogger, type Logger } from '../../src/util/log.js';
import type { RobotCalibration } from '../calibration/calibration.js';
import { BusError, ServoBus } from '../bus/servo_bus.js';
import type { PortFactory, ReopenPolicy } from '../bus/serial_link.js';
import type { BusDiagnostics, JointConfig, ServoBusApi, ServoBusOptions } from '../bus/servo_bus_api.js';
import type { ProtocolName } from '../protocol/types.js';
import type { JointMapping } from './joint_mapping.js';
import { ServoArm } from './servo_arm.js';

// The leader arm of leader/follower teleoperation: a chain the user moves by hand, read once per
// tick. As LeRobot's leaders do it (src/lerobot/teleoperators/so_leader/so_leader.py and
// koch_leader/koch_leader.py: `configure` turns torque off and sets position mode, `get_action` is
// one `sync_read("Present_Position")`): at open the leader's calibration goes on the servos (or
// the open is refused when they hold another and writing is not allowed), torque goes off on every
// servo and is read back, and each `read()` is one sync read of Present_Position, converted
// through the leader's own calibration into joint angles (rad about its calibration pose, in the
// joint's direction). A reading is used only when every servo answered under its own id, in the
// request's order, with the length asked (the bus refuses anything else) and with a value one turn
// of the servo can give; otherwise `read()` resolves undefined and the counters say why. The Koch
// leader's gripper trigger (current-based position mode, torque on, a goal it springs back to) is
// an option, for servos that have that mode. A vanished device is said once, in one error line,
// and its return in one info line; reads in between resolve undefined (counted as `lost`).
// Transactions are not retried by default: at a teleop rate the next tick's fresh read is worth
// more than a late retry of this one.

/** The Koch leader's gripper as a trigger: torque on in current-based position mode, held at `goal`. */
export interface LeaderTrigger {
  readonly joint: string;
  /** rad in the leader's calibration: the position the trigger springs back to */
  readonly goal: number;
}

export interface LeaderSetupOptions {
  /** write the calibration to servos that hold other offsets/limits (default true; false: refuse to open) */
  readonly writeCalibration?: boolean;
  readonly trigger?: LeaderTrigger;
  readonly logger?: Logger;
}

export interface LeaderArmOptions extends LeaderSetupOptions {
  /** device path, as ServoArm's bus takes it */
  readonly port: string;
  readonly baudRate: number;
  readonly protocol: ProtocolName;
  /** the leader's servos: id, joint name, model (robot_config.ts jointsOf) */
  readonly joints: readonly JointConfig[];
  /** the leader's own calibration file (each arm has its own) */
  readonly calibration: RobotCalibration;
  /** transaction timing; retries default 0 here */
  readonly timing?: ServoBusOptions['timing'];
  readonly waitForPortMs?: number;
  readonly reopen?: ReopenPolicy | false;
  readonly openPort?: PortFactory;
}

export interface LeaderCounters {
  /** read() calls */
  reads: number;
  /** readings handed out */
  accepted: number;
  /** reads with a joint missing (no reply, a corrupt or short reply, a reply under a wrong id) */
  incomplete: number;
  /** reads with a value no single turn of the servo gives */
  implausible: number;
  /** reads that failed as a whole on the bus */
  failed: number;
  /** reads while the device was gone */
  lost: number;
  /** reads asked while the previous one was still on the bus */
  busy: number;
}

export class LeaderArm {
  readonly jointNames: readonly string[];
  readonly calibration: RobotCalibration;
  readonly #bus: ServoBusApi;
  readonly #ownsBus: boolean;
  readonly #mapping: JointMapping;
  readonly #log: Logger;
  readonly #trigger: LeaderTrigger | undefined;
  /** per joint: the raw readings a servo can give (one turn about the calibrated range's middle) */
  readonly #lo: Float64Array;
  readonly #hi: Float64Array;
  readonly #counters: LeaderCounters = {
    reads: 0,
    accepted: 0,
    incomplete: 0,
    implausible: 0,
    failed: 0,
    lost: 0,
    busy: 0,
  };
  readonly #unsubscribe: (() => void)[] = [];
  #problem: string | undefined;
  #busy = false;
  #closed = false;

  private constructor(
    bus: ServoBusApi,
    ownsBus: boolean,
    mapping: JointMapping,
    calibration: RobotCalibration,
    log: Logger,
    trigger: LeaderTrigger | undefined,
  ) {
    this.#bus = bus;
    this.#ownsBus = ownsBus;
    this.#mapping = mapping;
    this.#log = log;
    this.#trigger = trigger;
    this.calibration = calibration;
    this.jointNames = mapping.names;
    const n = mapping.length;
    this.#lo = new Float64Array(n);
    this.#hi = new Float64Array(n);
    mapping.joints.forEach((j, i) => {
      const middle = (j.calibration.range_min + j.calibration.range_max) / 2;
      this.#lo[i] = Math.ceil(middle - j.model.resolution / 2);
      this.#hi[i] = Math.floor(middle + j.model.resolution / 2);
    });
    const port = bus.diagnostics().port;
    this.#unsubscribe.push(
      bus.on('lost', (reason) => {
        this.#problem = `the leader device is gone (${reason})`;
        this.#log.error(`leader arm: ${port} vanished (${reason}): no leader readings until it is back; reopening`);
      }),
      bus.on('restored', () => this.#log.info(`leader arm: ${port} is back: reading the leader again`)),
    );
  }

  /** Open the leader's bus, put its calibration on the servos and turn torque off (read back). */
  static async open(options: LeaderArmOptions): Promise<LeaderArm> {
    const log = options.logger ?? createLogger('leader_arm');
    let bus: ServoBus;
    try {
      bus = await ServoBus.open({
        port: options.port,
        baudRate: options.baudRate,
        protocol: options.protocol,
        joints: options.joints,
        timing: { retries: 0, ...options.timing },
        ...(options.waitForPortMs !== undefined ? { waitForPortMs: options.waitForPortMs } : {}),
        ...(options.reopen !== undefined ? { reopen: options.reopen } : {}),
        ...(options.openPort ? { openPort: options.openPort } : {}),
        logger: log,
      });
    } catch (err) {
      throw new Error(`leader arm: ${(err as Error).message}`, { cause: err });
    }
    try {
      return await LeaderArm.#setUp(bus, true, options.calibration, { ...options, logger: log });
    } catch (err) {
      await bus.close({ torqueOff: true });
      throw err;
    }
  }

  /** A leader on a bus opened elsewhere (set up as `open` does; `close` leaves the bus open). */
  static attach(bus: ServoBusApi, calibration: RobotCalibration, options: LeaderSetupOptions = {}): Promise<LeaderArm> {
    return LeaderArm.#setUp(bus, false, calibration, options);
  }

  static async #setUp(
    bus: ServoBusApi,
    ownsBus: boolean,
    calibration: RobotCalibration,
    options: LeaderSetupOptions,
  ): Promise<LeaderArm> {
    const log = options.logger ?? createLogger('leader_arm');
    // the follower's setup does what a leader needs too: torque off (read back), the calibration
    // checked against the servos (written when allowed), position mode (LeRobot's leaders likewise)
    const setup = new ServoArm(bus, calibration, {
      commandInterface: 'position',
      commandTimeoutMs: Number.POSITIVE_INFINITY,
      writeCalibration: options.writeCalibration ?? true,
      logger: log,
    });
    try {
      await setup.setup();
    } catch (err) {
      throw new Error(`leader arm ${calibration.robot}: ${(err as Error).message}`, { cause: err });
    } finally {
      setup.dispose();
    }
    const mapping = setup.mapping;
    const trigger = options.trigger;
    if (trigger) await LeaderArm.#setTrigger(bus, mapping, trigger);
    // torque off, read back once more now that everything is written: a leader must be free to move
    const torque = await bus.syncRead('torque_enable');
    const stillOn = mapping.joints
      .map((j, i) => ({ name: j.name, value: torque[i]! }))
      .filter((x) => x.name !== trigger?.joint && x.value !== 0);
    if (stillOn.length)
      throw new Error(
        `leader arm ${calibration.robot}: torque is not off on ${stillOn.map((x) => `'${x.name}' (Torque_Enable reads ${x.value})`).join(', ')}: the leader cannot be moved by hand`,
      );
    log.info(
      `leader arm ${calibration.robot}: ${mapping.length} joints (${mapping.names.join(', ')}), torque off${trigger ? ` but on '${trigger.joint}' (trigger)` : ''}`,
    );
    return new LeaderArm(bus, ownsBus, mapping, calibration, log, trigger);
  }

  /** The Koch leader's gripper trigger (koch_leader.py `configure`): current-based position mode, goal, torque on. */
  static async #setTrigger(bus: ServoBusApi, mapping: JointMapping, trigger: LeaderTrigger): Promise<void> {
    const i = mapping.names.indexOf(trigger.joint);
    if (i < 0)
      throw new Error(`leader arm: trigger joint '${trigger.joint}' is not a joint (${mapping.names.join(', ')})`);
    const j = mapping.joints[i]!;
    const mode = j.model.operatingModes.current_based_position;
    if (mode === undefined)
      throw new Error(
        `leader arm: trigger joint '${j.name}' is a ${j.model.name}, which has no current-based position mode`,
      );
    if (!Number.isFinite(trigger.goal)) throw new Error(`leader arm: trigger goal ${trigger.goal} is not a number`);
    await bus.writeRegister(i, 'operating_mode', mode);
    // goal after torque on, as koch_leader.py does it: torque on makes the goal the present position
    await bus.setTorque(true, [i]);
    const goal = Math.min(j.upper, Math.max(j.lower, trigger.goal));
    await bus.writeSI(i, 'goal_position', j.sign * goal);
  }

  /** Torque on at the trigger joint, if there is one (it is the only joint that may have it). */
  get trigger(): LeaderTrigger | undefined {
    return this.#trigger;
  }

  /** Whether the device is there. */
  get connected(): boolean {
    return this.#bus.state === 'open';
  }

  /** Why the last read gave nothing (undefined after a good one). */
  get lastProblem(): string | undefined {
    return this.#problem;
  }

  counters(): LeaderCounters {
    return { ...this.#counters };
  }

  diagnostics(): BusDiagnostics {
    return this.#bus.diagnostics();
  }

  /**
   * One sync read of Present_Position: joint angles (rad, leader calibration, `jointNames` order),
   * or undefined — counted, the reason in `lastProblem` — when a joint is missing, a value is
   * impossible, the read failed or the device is gone. Rejects only after `close`.
   */
  async read(): Promise<Float64Array | undefined> {
    if (this.#closed) throw new Error('leader arm: read() after close()');
    const c = this.#counters;
    c.reads++;
    if (this.#busy) {
      c.busy++;
      return undefined;
    }
    if (this.#bus.state !== 'open') {
      c.lost++;
      return undefined;
    }
    this.#busy = true;
    let raw: number[];
    try {
      raw = await this.#bus.syncRead('present_position');
    } catch (err) {
      if (err instanceof BusError && (err.kind === 'lost' || err.kind === 'closed')) c.lost++;
      else c.failed++;
      this.#problem = `the read failed: ${(err as Error).message}`;
      return undefined;
    } finally {
      this.#busy = false;
    }
    const m = this.#mapping;
    const missing: string[] = [];
    const impossible: string[] = [];
    for (let i = 0; i < m.length; i++) {
      const v = raw[i]!;
      const joint = `'${m.names[i]}' (id ${m.joints[i]!.calibration.id})`;
      if (Number.isNaN(v)) missing.push(joint);
      else if (!Number.isInteger(v) || v < this.#lo[i]! || v > this.#hi[i]!)
        impossible.push(`${joint} read ${v}, outside ${this.#lo[i]}…${this.#hi[i]}`);
    }
    if (missing.length) {
      c.incomplete++;
      this.#problem = `no usable reply from ${missing.join(', ')}`;
      return undefined;
    }
    if (impossible.length) {
      c.implausible++;
      this.#problem = impossible.join('; ');
      return undefined;
    }
    const out = new Float64Array(m.length);
    for (let i = 0; i < m.length; i++) out[i] = m.position(i, raw[i]!);
    c.accepted++;
    this.#problem = undefined;
    return out;
  }

  /** Stop listening; close the bus if `open` made it (the trigger's torque goes off first). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#unsubscribe.splice(0)) off();
    if (this.#trigger && this.#bus.state === 'open')
      await this.#bus
        .setTorque(false)
        .catch((err: unknown) => this.#log.error(`leader arm: trigger torque off failed: ${(err as Error).message}`));
    if (this.#ownsBus) await this.#bus.close();
  }
}
