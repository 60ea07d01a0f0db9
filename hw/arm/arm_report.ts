import type { HealthLevel, HealthReport } from '../../src/util/health.js';
import type { BusDiagnostics, ServoDiagnostics, ServoFault } from '../bus/servo_bus_api.js';
import type { CycleSummary } from './cycle_stats.js';
import type { ArmCounters, ServoArm } from './servo_arm.js';

// What the serial arm says about itself (hw_bridge's /diagnostics, its summary line and launch
// report figures), from one snapshot of the arm: a report on the bus (loop rate, cycle times,
// failed cycles, losses, command counts) and one per servo (temperature, voltage, error bits,
// faults, bus errors). A vanished device is ERROR everywhere; failed cycles and servo error
// replies are WARN only when they are new since the previous report, which ArmReporter remembers.

/** Everything the reports read, taken at one moment. */
export interface ArmSnapshot {
  readonly bus: BusDiagnostics;
  readonly cycles: CycleSummary;
  readonly counters: Readonly<ArmCounters>;
  readonly faults: readonly ServoFault[];
  /** the device is there and the arm was taken back after a loss */
  readonly connected: boolean;
  readonly lostReason: string | undefined;
}

export function armSnapshot(arm: ServoArm): ArmSnapshot {
  return {
    bus: arm.diagnostics(),
    cycles: arm.stats.summary(),
    counters: arm.counters,
    faults: arm.faults(),
    connected: arm.connected,
    lostReason: arm.lostReason,
  };
}

/** A servo's bus errors: missing, corrupt and error replies. */
function servoErrors(sv: ServoDiagnostics): number {
  return sv.counters.timeouts + sv.counters.corrupt + sv.counters.errorReplies;
}

/** The bus: ERROR while the device is lost, WARN on new failed cycles, a slow loop or faulted servos. */
export function busHealth(name: string, s: ArmSnapshot, targetRateHz: number, newFailures: number): HealthReport {
  const { bus: d, cycles: c, counters } = s;
  const lost = !s.connected;
  const slow = c.cycles > 0 && c.rateHz < targetRateHz / 2;
  const level: HealthLevel = lost ? 'error' : newFailures > 0 || slow || s.faults.length ? 'warn' : 'ok';
  const message = lost
    ? `device lost (${s.lostReason ?? d.state}): not commanding, reopening ${d.port}`
    : `${c.rateHz.toFixed(1)} Hz (target ${targetRateHz}), cycle p50 ${c.cycleP50Ms.toFixed(2)} ms, p99 ${c.cycleP99Ms.toFixed(2)} ms${newFailures ? `, ${newFailures} failed cycles` : ''}${s.faults.length ? `, ${s.faults.length} faulted servo(s)` : ''}`;
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
      commands: counters.commands,
      commands_rejected: counters.rejected,
      commands_clamped: counters.clamped,
      commands_dropped_while_lost: counters.droppedWhileLost,
      command_timeouts: counters.commandTimeouts,
      incomplete_reads: counters.incomplete,
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
}

/**
 * One servo: ERROR while lost, faulted or not answering; WARN for error bits, error replies in the
 * period, or bus errors in a period with failed cycles (a retried timeout is counted, not warned
 * about; a servo that made a cycle fail is).
 */
export function servoHealth(name: string, port: string, sv: ServoDiagnostics, p: ServoPeriod): HealthReport {
  const st = sv.status;
  const level: HealthLevel =
    p.lost || sv.fault || !sv.responsive
      ? 'error'
      : (p.newErrors > 0 && p.newFailures > 0) || p.newErrorReplies > 0 || (st && st.errorFlags.length)
        ? 'warn'
        : 'ok';
  const message = sv.fault
    ? `fault: ${sv.fault.flags.join(', ') || 'hardware error'} (${sv.fault.action.replace('_', ' ')}); not commanded until ~/clear_faults`
    : !sv.responsive
      ? 'not answering: left out of cycles, pinged until it is back'
      : p.lost
        ? 'bus lost'
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
  readonly #servoErrors: number[];
  readonly #errorReplies: number[];

  /** `initial`: the bus as it is when reporting starts (its counts are not new) */
  constructor(prefix: string, targetRateHz: number, initial: BusDiagnostics) {
    this.#prefix = prefix;
    this.#targetRateHz = targetRateHz;
    this.#servoErrors = initial.servos.map(servoErrors);
    this.#errorReplies = initial.servos.map((sv) => sv.counters.errorReplies);
  }

  reports(s: ArmSnapshot): HealthReport[] {
    const newFailures = s.cycles.failed - this.#failed;
    this.#failed = s.cycles.failed;
    const lost = !s.connected;
    const out = [busHealth(`${this.#prefix}: bus`, s, this.#targetRateHz, newFailures)];
    s.bus.servos.forEach((sv, i) => {
      const errors = servoErrors(sv);
      const period: ServoPeriod = {
        lost,
        newFailures,
        newErrors: errors - this.#servoErrors[i]!,
        newErrorReplies: sv.counters.errorReplies - this.#errorReplies[i]!,
      };
      out.push(servoHealth(`${this.#prefix}: ${sv.joint}`, s.bus.port, sv, period));
      this.#servoErrors[i] = errors;
      this.#errorReplies[i] = sv.counters.errorReplies;
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
    reconnects: s.bus.counters.reconnects,
    losses: s.bus.counters.losses,
    faults: s.faults.length,
  };
}
