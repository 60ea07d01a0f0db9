import type { HealthLevel, HealthReport } from '../../src/util/health.js';
import type { BusDiagnostics, ServoDiagnostics, ServoFault } from '../bus/servo_bus_api.js';
import type { CycleSummary } from './cycle_stats.js';
import type { ArmCounters, JointImplausible, ServoArm } from './servo_arm.js';

// What the serial arm says about itself (hw_bridge's /diagnostics, its summary line and launch
// report figures), from one snapshot of the arm: a report on the bus (loop rate, cycle times,
// failed cycles, losses, command counts) and one per servo (temperature, voltage, error bits,
// faults, bus errors). A vanished device is ERROR everywhere. So is a bridge that publishes no
// joint state — for longer than noStateAfterMs: every joint of the arm is then unknown to the
// graph — with the reason (a servo not answering, replies under a wrong id, a position that jumped
// further than its motor can move, a failing bus cycle). A torque change that could not be
// confirmed on a servo is ERROR on it and on the bus. Failed cycles, refused transactions and
// servo error replies are WARN only when they are new since the previous report, which
// ArmReporter remembers.

/** Everything the reports read, taken at one moment. */
export interface ArmSnapshot {
  readonly bus: BusDiagnostics;
  readonly cycles: CycleSummary;
  readonly counters: Readonly<ArmCounters>;
  readonly faults: readonly ServoFault[];
  /** the device is there and the arm was taken back after a loss */
  readonly connected: boolean;
  readonly lostReason: string | undefined;
  /** ms since a joint state was last published (or cycling began); undefined while not cycling */
  readonly stateAgeMs: number | undefined;
  /** why the last cycle published no state */
  readonly noStateReason: string | undefined;
  /** per joint: readings refused for moving further than the motor can */
  readonly implausible: readonly JointImplausible[];
}

export function armSnapshot(arm: ServoArm, nowMs = performance.now()): ArmSnapshot {
  return {
    bus: arm.diagnostics(),
    cycles: arm.stats.summary(nowMs),
    counters: arm.counters,
    faults: arm.faults(),
    connected: arm.connected,
    lostReason: arm.lostReason,
    stateAgeMs: arm.stateAgeMs(nowMs),
    noStateReason: arm.noStateReason,
    implausible: arm.implausible(),
  };
}

/**
 * How long without a published joint state counts as "none published" (ERROR): five loop periods,
 * at least half a second — a gap a controller downstream cannot ride out, longer than a retried
 * transaction or a scheduling hiccup of the host.
 */
export function noStateAfterMs(targetRateHz: number): number {
  return Math.max(500, 5000 / targetRateHz);
}

/** Why no state is being published, when none has been for too long (the device lost says so itself). */
function noState(s: ArmSnapshot, targetRateHz: number): string | undefined {
  if (!s.connected || s.stateAgeMs === undefined || s.stateAgeMs <= noStateAfterMs(targetRateHz)) return undefined;
  return s.noStateReason ?? 'no bus cycle has completed';
}

/** A servo's bus errors: missing, corrupt and error replies. */
function servoErrors(sv: ServoDiagnostics): number {
  return sv.counters.timeouts + sv.counters.corrupt + sv.counters.errorReplies;
}

/**
 * The bus: ERROR while the device is lost, while no joint state is published, or with a torque
 * change not confirmed on a servo; WARN on new failed cycles or refused transactions, a slow loop
 * or faulted servos.
 */
export function busHealth(
  name: string,
  s: ArmSnapshot,
  targetRateHz: number,
  newFailures: number,
  newMismatched = 0,
): HealthReport {
  const { bus: d, cycles: c, counters } = s;
  const lost = !s.connected;
  const slow = c.cycles > 0 && c.rateHz < targetRateHz / 2;
  const none = noState(s, targetRateHz);
  const torque = new Map<string, string[]>();
  for (const sv of d.servos) {
    if (!sv.torqueProblem) continue;
    const what = sv.torqueProblem.split(':')[0]!;
    torque.set(what, [...(torque.get(what) ?? []), `'${sv.joint}' (id ${sv.id})`]);
  }
  const errors = [
    ...[...torque].map(([what, joints]) => `${what} on ${joints.join(', ')}`),
    ...(none !== undefined ? [`no joint state published for ${(s.stateAgeMs! / 1000).toFixed(1)} s: ${none}`] : []),
  ];
  const level: HealthLevel =
    lost || errors.length ? 'error' : newFailures > 0 || newMismatched > 0 || slow || s.faults.length ? 'warn' : 'ok';
  const message = lost
    ? `device lost (${s.lostReason ?? d.state}): not commanding, reopening ${d.port}`
    : errors.length
      ? errors.join('; ')
      : `${c.rateHz.toFixed(1)} Hz (target ${targetRateHz}), cycle p50 ${c.cycleP50Ms.toFixed(2)} ms, p99 ${c.cycleP99Ms.toFixed(2)} ms${newFailures ? `, ${newFailures} failed cycles` : ''}${newMismatched ? `, ${newMismatched} transactions refused (replies under a wrong id or out of order)` : ''}${s.faults.length ? `, ${s.faults.length} faulted servo(s)` : ''}`;
  return {
    level,
    name,
    message,
    hardwareId: d.port,
    values: {
      state: d.state,
      protocol: d.protocol,
      baud_rate: d.baudRate,
      loop_rate_hz: c.rateHz.toFixed(2),
      cycle_p50_ms: c.cycleP50Ms.toFixed(3),
      cycle_p99_ms: c.cycleP99Ms.toFixed(3),
      cycle_max_ms: c.cycleMaxMs.toFixed(3),
      cycles: c.cycles,
      failed_cycles: c.failed,
      overruns: c.overruns,
      losses: d.counters.losses,
      reconnects: d.counters.reconnects,
      transactions: d.counters.transactions,
      timeouts: d.counters.timeouts,
      corrupt: d.counters.corrupt,
      retries: d.counters.retries,
      failures: d.counters.failures,
      mismatched: d.counters.mismatched,
      commands: counters.commands,
      commands_rejected: counters.rejected,
      commands_clamped: counters.clamped,
      commands_dropped_while_lost: counters.droppedWhileLost,
      command_timeouts: counters.commandTimeouts,
      incomplete_reads: counters.incomplete,
      states: counters.published,
      state_age_ms: s.stateAgeMs === undefined ? '' : Math.round(s.stateAgeMs),
      implausible_samples: counters.implausible,
      torque_unconfirmed: d.servos.filter((sv) => sv.torqueProblem).length,
    },
  };
}

/** What one servo did since the previous report. */
export interface ServoPeriod {
  /** the device is lost */
  readonly lost: boolean;
  /** cycles that failed in the period (on any servo) */
  readonly newFailures: number;
  /** its bus errors (timeouts, corrupt and error replies) in the period */
  readonly newErrors: number;
  /** its error replies in the period */
  readonly newErrorReplies: number;
  /** transactions addressed to it refused in the period (replies under a wrong id or out of order) */
  readonly newMismatched: number;
  /** its readings refused in the period for moving further than the motor can, and the last one */
  readonly newImplausible: number;
  readonly lastJump: string | undefined;
  /** its readings refused so far */
  readonly implausible?: number;
  /** why no joint state is being published, when none is (for longer than noStateAfterMs) */
  readonly noState: string | undefined;
}

/**
 * One servo: ERROR while lost, faulted, not answering (as itself), with a torque change not
 * confirmed, with a reading refused as impossible in the period, or while the bridge publishes no
 * joint state at all; WARN for error bits, error replies or refused transactions in the period, or
 * bus errors in a period with failed cycles (a retried timeout is counted, not warned about; a
 * servo that made a cycle fail is).
 */
export function servoHealth(name: string, port: string, sv: ServoDiagnostics, p: ServoPeriod): HealthReport {
  const st = sv.status;
  const level: HealthLevel =
    p.lost || sv.fault || !sv.responsive || sv.torqueProblem || p.newImplausible > 0 || p.noState !== undefined
      ? 'error'
      : (p.newErrors > 0 && p.newFailures > 0) ||
          p.newErrorReplies > 0 ||
          p.newMismatched > 0 ||
          (st && st.errorFlags.length)
        ? 'warn'
        : 'ok';
  const message = sv.fault
    ? `fault: ${sv.fault.flags.join(', ') || 'hardware error'} (${sv.fault.action.replace('_', ' ')}); not commanded until ~/clear_faults`
    : sv.torqueProblem
      ? sv.torqueProblem
      : !sv.responsive
        ? sv.lastFailure === 'mismatch'
          ? 'answering under a wrong id or out of order: left out of cycles, pinged until it answers as itself'
          : 'not answering: left out of cycles, pinged until it is back'
        : p.lost
          ? 'bus lost'
          : p.newImplausible > 0
            ? `${p.lastJump ?? 'position jumped further than the motor can move'}: samples not published`
            : p.newMismatched > 0
              ? `${p.newMismatched} replies under a wrong id or out of order (not used)`
              : p.noState !== undefined
                ? `no joint state published (${p.noState})`
                : st
                  ? `${st.temperatureC ?? '?'} °C, ${st.voltageV?.toFixed(1) ?? '?'} V${st.errorFlags.length ? `, ${st.errorFlags.join(', ')}` : ''}${p.newErrors ? `, ${p.newErrors} bus errors` : ''}`
                  : 'ok';
  return {
    level,
    name,
    message,
    hardwareId: `${port} id ${sv.id} (${sv.model})`,
    values: {
      temperature_c: st?.temperatureC === undefined ? '' : String(st.temperatureC),
      voltage_v: st?.voltageV === undefined ? '' : st.voltageV.toFixed(2),
      error_flags: st ? st.errorFlags.join(' ') : '',
      fault: sv.fault ? sv.fault.flags.join(' ') : '',
      responsive: sv.responsive,
      timeouts: sv.counters.timeouts,
      corrupt: sv.counters.corrupt,
      error_replies: sv.counters.errorReplies,
      mismatched: sv.counters.mismatched,
      implausible: p.implausible ?? 0,
      torque: sv.torque,
    },
  };
}

/**
 * The arm's reports, one set per call: the bus, then each servo in joint order, named
 * "<prefix>: bus" and "<prefix>: <joint>". Keeps the counts of the previous call, so that a WARN
 * means "new in this period".
 */
export class ArmReporter {
  readonly #prefix: string;
  readonly #targetRateHz: number;
  #failed = 0;
  #mismatched: number;
  readonly #servoErrors: number[];
  readonly #errorReplies: number[];
  readonly #servoMismatched: number[];
  readonly #implausible: number[];

  /** `initial`: the bus as it is when reporting starts (its counts are not new) */
  constructor(prefix: string, targetRateHz: number, initial: BusDiagnostics) {
    this.#prefix = prefix;
    this.#targetRateHz = targetRateHz;
    this.#mismatched = initial.counters.mismatched;
    this.#servoErrors = initial.servos.map(servoErrors);
    this.#errorReplies = initial.servos.map((sv) => sv.counters.errorReplies);
    this.#servoMismatched = initial.servos.map((sv) => sv.counters.mismatched);
    this.#implausible = initial.servos.map(() => 0);
  }

  reports(s: ArmSnapshot): HealthReport[] {
    const newFailures = s.cycles.failed - this.#failed;
    this.#failed = s.cycles.failed;
    const newMismatched = s.bus.counters.mismatched - this.#mismatched;
    this.#mismatched = s.bus.counters.mismatched;
    const lost = !s.connected;
    const none = noState(s, this.#targetRateHz);
    const out = [busHealth(`${this.#prefix}: bus`, s, this.#targetRateHz, newFailures, newMismatched)];
    s.bus.servos.forEach((sv, i) => {
      const errors = servoErrors(sv);
      const implausible = s.implausible[i] ?? { count: 0, last: undefined };
      const period: ServoPeriod = {
        lost,
        newFailures,
        newErrors: errors - this.#servoErrors[i]!,
        newErrorReplies: sv.counters.errorReplies - this.#errorReplies[i]!,
        newMismatched: sv.counters.mismatched - this.#servoMismatched[i]!,
        newImplausible: implausible.count - this.#implausible[i]!,
        lastJump: implausible.last,
        implausible: implausible.count,
        noState: none,
      };
      out.push(servoHealth(`${this.#prefix}: ${sv.joint}`, s.bus.port, sv, period));
      this.#servoErrors[i] = errors;
      this.#errorReplies[i] = sv.counters.errorReplies;
      this.#servoMismatched[i] = sv.counters.mismatched;
      this.#implausible[i] = implausible.count;
    });
    return out;
  }
}

/** The end-of-run line: cycles, their timing, commands and reconnects. */
export function armSummary(s: ArmSnapshot): string {
  const c = s.cycles;
  return `${c.cycles} bus cycles (${c.failed} failed, ${c.overruns} overruns), cycle p50 ${c.cycleP50Ms.toFixed(2)} ms p99 ${c.cycleP99Ms.toFixed(2)} ms, ${s.counters.commands} commands (${s.counters.rejected} rejected, ${s.counters.clamped} values clamped), ${s.bus.counters.reconnects} reconnects`;
}

/** The launch report's figures. */
export function armMetrics(s: ArmSnapshot): Record<string, number> {
  const c = s.cycles;
  return {
    cycles: c.cycles,
    failed_cycles: c.failed,
    overruns: c.overruns,
    loop_rate_hz: c.rateHz,
    cycle_p50_ms: c.cycleP50Ms,
    cycle_p99_ms: c.cycleP99Ms,
    commands: s.counters.commands,
    commands_rejected: s.counters.rejected,
    commands_clamped: s.counters.clamped,
    commands_dropped_while_lost: s.counters.droppedWhileLost,
    incomplete_reads: s.counters.incomplete,
    implausible_samples: s.counters.implausible,
    mismatched: s.bus.counters.mismatched,
    reconnects: s.bus.counters.reconnects,
    losses: s.bus.counters.losses,
    faults: s.faults.length,
  };
}
