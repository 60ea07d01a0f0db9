import { concatBytes } from '../protocol/bytes.js';
import { protocolByName } from '../protocol/index.js';
import { servoModel, type ServoModel } from '../servos/index.js';
import { createLogger, type Logger } from '../../src/util/log.js';
import type { RobotConfig } from '../robot_config.js';
import { EmulatedServo } from './emulated_servo.js';
import { FaultInjector, type FaultSpec, type ScheduleOptions } from './faults.js';
import { PseudoTerminal } from './pty.js';
import { ServoChain, type ChainReply } from './servo_chain.js';

// A whole emulated servo bus: a pseudo-terminal whose slave is linked where robot.yaml says the
// port is, the servo chain on its master (read and written from this process), the motors stepped
// on a timer and before every request, and the fault injector wired to the servos and to the pty
// (a disconnect closes the pty and removes the link, as an unplugged adapter vanishes; a new pty
// comes back at the same path when it ends).
//
// Stopping can wait for the host (`stop({ waitForHostMs })`): a stop that reaches the emulator and
// the host together — Ctrl-C in a terminal sends SIGINT to every process of the group, and ros2
// launch stops all its processes at once — must not pull the bus from under the host's own stop
// actions (hw_bridge turns torque off on every servo and reads it back as it deactivates). The
// emulator then keeps answering, as a powered arm would, until the host has closed the device, or
// has sent nothing for a while (quietMs), but no longer than waitForHostMs; one line says it waits
// and one why it closes, with the servos whose torque is still on.

export interface EmulatorOptions {
  readonly config: RobotConfig;
  /** the host's device path, a pty link made here (default: config.port) */
  readonly link?: string;
  /** the native pty support to use (default: the package's build; tests point elsewhere) */
  readonly ptyAddonPath?: string;
  readonly ptyBuildFailurePath?: string;
  readonly logger?: Logger;
}

/** How `stop` waits for the host. */
export interface StopOptions {
  /** keep answering a host that still has the device open for at most this long (default 0: close at once) */
  readonly waitForHostMs?: number;
  /** …and stop waiting once the host has sent nothing for this long (default DEFAULT_QUIET_MS) */
  readonly quietMs?: number;
}

/** What a stop waited for. */
export interface StopOutcome {
  /** host-closed: the host closed the device; quiet: it sent nothing for quietMs; cap: waitForHostMs ran out; at-once: nothing to wait for */
  readonly reason: 'host-closed' | 'quiet' | 'cap' | 'at-once';
  readonly waitedMs: number;
  /** the joints (robot config names) whose servo had torque on when the bus closed */
  readonly torqueOn: readonly string[];
}

/** A host silent this long after a stop has finished its stop actions (hw_bridge's torque off follows its last cycle within milliseconds). */
export const DEFAULT_QUIET_MS = 1000;

export class Emulator {
  readonly config: RobotConfig;
  readonly chain: ServoChain;
  readonly faults: FaultInjector;
  /** the path the host opens */
  readonly devicePath: string;
  readonly #ptyAddonPath: string | undefined;
  readonly #ptyBuildFailurePath: string | undefined;
  readonly #log: Logger;
  readonly #replyTimers = new Set<NodeJS.Timeout>();
  #pty: PseudoTerminal | undefined;
  #stepTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #stopping: Promise<StopOutcome> | undefined;
  /** performance.now() of the host's last bytes */
  #lastRequestAt = -Infinity;

  private constructor(options: EmulatorOptions) {
    const { config } = options;
    this.config = config;
    this.devicePath = options.link ?? config.port;
    this.#ptyAddonPath = options.ptyAddonPath;
    this.#ptyBuildFailurePath = options.ptyBuildFailurePath;
    this.#log = options.logger ?? createLogger('emulator');
    const protocol = protocolByName(config.protocol);
    const servos = config.servos.map((s) => {
      const model = servoModel(s.model);
      return new EmulatedServo({
        id: s.id,
        model,
        ...(s.position !== undefined ? { position: s.position } : {}),
        registers: { ...this.#baudRegister(s.id, model, s.registers.baud_rate), ...s.registers },
        motor: s.motor,
        // robot.yaml's firmware_version is the DYNAMIXEL one (PING, address 6); a Feetech servo
        // reports its own table's (STS3215 3.10), or what `registers` sets at addresses 0/1
        ...(model.vendor === 'robotis' ? { firmwareVersion: config.emulator.firmwareVersion } : {}),
        bootMs: config.emulator.bootMs,
      });
    });
    this.chain = new ServoChain({
      protocol,
      servos,
      extraReplyDelayMs: config.emulator.replyDelayMs,
      baudRate: config.baudRate,
    });
    this.faults = new FaultInjector(
      {
        hasServo: (id) => this.chain.servo(id) !== undefined,
        hardwareError: (id, error) => this.chain.servo(id)!.injectHardwareFault(error),
        disconnect: (signal) => this.#disconnect(signal),
        reconnect: () => this.#reconnect(),
      },
      (err) => this.#log.error(`fault injection: ${err.message}`),
    );
    this.chain.faults = this.faults;
  }

  /**
   * Servos listen at the bus rate unless robot.yaml sets their Baud Rate register otherwise — then
   * they stay deaf, as a servo left at its factory rate does.
   */
  #baudRegister(id: number, model: ServoModel, configured: number | undefined): { baud_rate?: number } {
    if (!model.registers.baud_rate) return {};
    const index = [...model.baudRates].find(([, bps]) => bps === this.config.baudRate)?.[0];
    if (configured !== undefined) {
      if (configured !== index)
        this.#log.warn(
          `servo ${id}: Baud Rate register ${configured} (${model.baudRates.get(configured)} baud) is not the bus rate ${this.config.baudRate}: it will not answer`,
        );
      return {};
    }
    if (index === undefined)
      throw new Error(
        `${this.config.source}: baud_rate ${this.config.baudRate} is not a rate a ${model.name} can use (${[...model.baudRates.values()].join(', ')})`,
      );
    return { baud_rate: index };
  }

  /** Open the pty, link it at the device path and start answering. */
  static start(options: EmulatorOptions): Promise<Emulator> {
    let emulator: Emulator | undefined;
    try {
      emulator = new Emulator(options);
      emulator.#start();
      return Promise.resolve(emulator);
    } catch (err) {
      if (emulator) emulator.#halt();
      return Promise.reject(asError(err));
    }
  }

  /** The servo with this id or joint name. */
  servo(which: number | string): EmulatedServo {
    const id = typeof which === 'number' ? which : this.config.servos.find((s) => s.name === which)?.id;
    const servo = id === undefined ? undefined : this.chain.servo(id);
    if (!servo)
      throw new Error(
        `emulator: no servo ${JSON.stringify(which)} (servos: ${this.config.servos.map((s) => `${s.id} ${s.name}`).join(', ')})`,
      );
    return servo;
  }

  /** Inject a fault now, or scheduled; returns its handle for `faults.clear`. */
  inject(spec: FaultSpec, schedule?: ScheduleOptions): number {
    return schedule ? this.faults.schedule(spec, schedule) : this.faults.inject(spec);
  }

  /** Whether the pty exists (false during a disconnect). */
  get connected(): boolean {
    return this.#pty?.connected ?? false;
  }

  /**
   * Stop answering, close the pty and remove the link — after waiting for the host when
   * `waitForHostMs` is given (see StopOptions). A second call returns the first one's outcome.
   */
  stop(options: StopOptions = {}): Promise<StopOutcome> {
    this.#stopping ??= this.#stop(options);
    return this.#stopping;
  }

  async #stop(options: StopOptions): Promise<StopOutcome> {
    const capMs = options.waitForHostMs ?? 0;
    const quietMs = options.quietMs ?? DEFAULT_QUIET_MS;
    const started = performance.now();
    let reason: StopOutcome['reason'] = 'at-once';
    if (capMs > 0 && this.#pty?.connected && !this.#stopped) {
      this.#log.info(
        `stopping: answering on ${this.devicePath} until the host closes it (or sends nothing for ${seconds(quietMs)}), at most ${seconds(capMs)}`,
      );
      reason = await this.#waitForHost(this.#pty, started, capMs, quietMs);
    }
    const torqueOn = this.config.servos.filter((s) => this.chain.servo(s.id)?.torqueEnabled).map((s) => s.name);
    const waitedMs = performance.now() - started;
    this.#halt();
    if (capMs > 0) {
      const why = {
        'host-closed': `the host closed it after ${seconds(waitedMs)}`,
        quiet: `the host sent nothing for ${seconds(quietMs)}`,
        cap: `the host still had it open after ${seconds(capMs)}`,
        'at-once': 'nothing to wait for',
      }[reason];
      const torque = torqueOn.length
        ? `torque still on: ${torqueOn.join(', ')}`
        : `torque off on all ${this.config.servos.length} servos`;
      this.#log[reason === 'host-closed' || reason === 'at-once' ? 'info' : 'warn'](
        `closing ${this.devicePath}: ${why}; ${torque}`,
      );
    }
    return { reason, waitedMs, torqueOn };
  }

  #waitForHost(pty: PseudoTerminal, started: number, capMs: number, quietMs: number): Promise<StopOutcome['reason']> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (reason: StopOutcome['reason']) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(reason);
      };
      const check = () => {
        const now = performance.now();
        if (now - started >= capMs) {
          finish('cap');
          return;
        }
        // quiet since the stop at least: a host silent before it gets quietMs to begin its stop actions
        const quietSince = Math.max(started, this.#lastRequestAt);
        if (now - quietSince >= quietMs) {
          finish('quiet');
          return;
        }
        timer = setTimeout(check, Math.max(1, Math.min(started + capMs, quietSince + quietMs) - now));
      };
      pty.releaseSlave(() => finish('host-closed'));
      check();
    });
  }

  #halt(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#stepTimer) clearInterval(this.#stepTimer);
    for (const timer of this.#replyTimers) clearTimeout(timer);
    this.#replyTimers.clear();
    this.faults.clearAll();
    this.#pty?.close();
  }

  #start(): void {
    this.#pty = PseudoTerminal.open({
      link: this.devicePath,
      baudRate: this.config.baudRate,
      ...(this.#ptyAddonPath !== undefined ? { addonPath: this.#ptyAddonPath } : {}),
      ...(this.#ptyBuildFailurePath !== undefined ? { buildFailurePath: this.#ptyBuildFailurePath } : {}),
      onData: (bytes) => {
        this.#lastRequestAt = performance.now();
        this.#send(this.chain.receive(bytes));
      },
      onError: (err) => this.#log.warn(`pty ${this.devicePath}: ${err.message}`),
    });
    const stepMs = this.config.emulator.stepMs;
    this.#stepTimer = setInterval(() => this.chain.advance(), stepMs);
    for (const f of this.config.emulator.faults) {
      this.faults.schedule(f.spec, {
        afterMs: f.atMs,
        ...(f.durationMs !== undefined ? { durationMs: f.durationMs } : {}),
      });
    }
  }

  #send(replies: readonly ChainReply[]): void {
    // replies due at the same moment go out in one write, as they would follow each other on the wire
    const byDelay = new Map<number, Uint8Array[]>();
    for (const r of replies) {
      const at = r.delayMs < 1 ? 0 : Math.round(r.delayMs);
      byDelay.set(at, [...(byDelay.get(at) ?? []), r.bytes]);
    }
    for (const [delay, parts] of byDelay) {
      const bytes = parts.length === 1 ? parts[0]! : concatBytes(parts);
      if (delay === 0) {
        this.#write(bytes);
        continue;
      }
      const timer = setTimeout(() => {
        this.#replyTimers.delete(timer);
        this.#write(bytes);
      }, delay);
      this.#replyTimers.add(timer);
    }
  }

  #write(bytes: Uint8Array): void {
    // disconnected: the reply is lost, as on a real bus
    this.#pty?.write(bytes);
  }

  /** SIGTERM: an orderly unplug (the link goes, then the device); SIGKILL: as if the emulator died (the link dangles). */
  #disconnect(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    if (this.#pty?.connected) {
      this.#log.info(`fault: disconnecting ${this.devicePath} (${signal})`);
      this.#pty.disconnect(signal === 'SIGKILL' ? 'crash' : 'unplug');
    }
    return Promise.resolve();
  }

  #reconnect(): Promise<void> {
    // stopping: the device stays gone
    if (this.#stopped || this.#stopping || !this.#pty || this.#pty.connected) return Promise.resolve();
    this.#log.info(`fault ended: ${this.devicePath} is back`);
    try {
      this.#pty.reconnect();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(asError(err));
    }
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));
