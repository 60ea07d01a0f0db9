import type { HealthLevel, HealthReport } from '../../src/util/health.js';
import { nsToTime } from '../time/time.js';
import { DiagnosticLevel, type DiagnosticArray, type DiagnosticStatus } from './types.js';

// Libraries report their health as plain HealthReports (src/util/health.ts); this turns them into
// diagnostic_msgs/DiagnosticArray, the message /diagnostics carries. Figures become strings as
// ROS 2's diagnostic_updater writes them: integers as they are, other numbers with up to six
// significant digits, booleans as true/false.

const LEVELS: Readonly<Record<HealthLevel, DiagnosticLevel>> = {
  ok: DiagnosticLevel.OK,
  warn: DiagnosticLevel.WARN,
  error: DiagnosticLevel.ERROR,
  stale: DiagnosticLevel.STALE,
};

function figure(value: string | number | boolean): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return Number.isInteger(value) ? String(value) : Number(value.toPrecision(6)).toString();
}

export function diagnosticStatus(report: HealthReport): DiagnosticStatus {
  return {
    level: LEVELS[report.level],
    name: report.name,
    message: report.message,
    hardware_id: report.hardwareId ?? '',
    values: Object.entries(report.values).map(([key, value]) => ({ key, value: figure(value) })),
  };
}

/** One /diagnostics message stamped `stampNs` (the node's clock), holding every report. */
export function diagnosticArray(stampNs: bigint, reports: readonly HealthReport[]): DiagnosticArray {
  return { header: { stamp: nsToTime(stampNs), frame_id: '' }, status: reports.map(diagnosticStatus) };
}
