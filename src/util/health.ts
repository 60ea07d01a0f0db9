// What a library says about its own health, for /diagnostics, without knowing any message type:
// a level, a name, one line of message and named figures. Nodes publish these through
// framework/msgs/diagnostics.ts as diagnostic_msgs/DiagnosticStatus (the levels are the same four).

export type HealthLevel = 'ok' | 'warn' | 'error' | 'stale';

export interface HealthReport {
  readonly level: HealthLevel;
  /** what is reported on, e.g. "/controller: command loop" */
  readonly name: string;
  /** one line: the state, or what is wrong */
  readonly message: string;
  /** the device it is about (a serial port and servo id, a model file), '' when none */
  readonly hardwareId?: string;
  /** named figures, in the order a person should read them */
  readonly values: Readonly<Record<string, string | number | boolean>>;
}

const ORDER: Readonly<Record<HealthLevel, number>> = { ok: 0, warn: 1, error: 2, stale: 3 };

/** The worse of two levels (stale counts as worse than error: nothing is known). */
export function worse(a: HealthLevel, b: HealthLevel): HealthLevel {
  return ORDER[a] >= ORDER[b] ? a : b;
}
