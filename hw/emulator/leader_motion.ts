import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { driveModeInSoftware, type RobotCalibration } from '../calibration/calibration.js';
import type { ServoModel } from '../servos/control_table.js';
import type { Emulator } from './emulator.js';

// The emulator's leader arm: an emulated chain whose shafts are moved by a script instead of by
// their motors — as a user's hand moves a leader arm with torque off — so teleoperation runs in
// tests and demos without one. The script gives joint angles (rad, in the leader's calibration:
// zero at its calibration pose, in the joint's direction) over time: a sinusoid per joint, or
// samples recorded over time (CSV: a header `t,<joint>,…` and one row per sample, t in s; JSON:
// { "joints": [...], "samples": [[t, a1, …], …] }), interpolated linearly and replayed in a loop
// or held at the last sample. Each time the chain steps (on its timer, and before every request)
// the hook sets every scripted servo's shaft to where the script says, through the servo's own
// registers (homing offset, Dynamixel Drive_Mode), so Present_Position reads what a leader at
// that pose would read. Present_Velocity reads 0 (the shaft is placed, not driven).

export interface SineJoint {
  /** rad */
  readonly amplitude: number;
  readonly frequencyHz: number;
  /** rad */
  readonly phase?: number;
  /** rad: the middle of the swing */
  readonly offset?: number;
}

export type LeaderScript =
  | { readonly kind: 'sine'; readonly joints: Readonly<Record<string, SineJoint>> }
  | {
      readonly kind: 'samples';
      readonly joints: readonly string[];
      /** s, increasing */
      readonly times: readonly number[];
      /** per sample, one angle per joint (rad) */
      readonly angles: readonly (readonly number[])[];
      /** replay from the start after the last sample (default true); else hold the last */
      readonly loop?: boolean;
    };

/** A gentle sweep of every named joint: `amplitude` rad at `frequencyHz`, each joint a little out of phase. */
export function sweep(joints: readonly string[], amplitude = 0.3, frequencyHz = 0.25): LeaderScript {
  return {
    kind: 'sine',
    joints: Object.fromEntries(joints.map((name, i) => [name, { amplitude, frequencyHz, phase: (i * Math.PI) / 3 }])),
  };
}

/**
 * The script a command line names: `sweep[:AMPLITUDE_RAD[:FREQUENCY_HZ]]` (every joint of `joints`),
 * or the path of a recorded .csv/.json motion.
 */
export function leaderScriptFor(spec: string, joints: readonly string[]): LeaderScript {
  const m = /^sweep(?::([^:]*))?(?::([^:]*))?$/.exec(spec);
  if (!m) return readMotionFile(spec);
  const amplitude = m[1] === undefined ? 0.3 : Number(m[1]);
  const frequencyHz = m[2] === undefined ? 0.25 : Number(m[2]);
  if (!(amplitude >= 0 && amplitude < Math.PI))
    throw new Error(`leader motion '${spec}': amplitude '${m[1]}' is not a number of rad in [0, π)`);
  if (!(frequencyHz > 0 && frequencyHz <= 50))
    throw new Error(`leader motion '${spec}': frequency '${m[2]}' is not a number of Hz in (0, 50]`);
  return sweep(joints, amplitude, frequencyHz);
}

/** A recorded motion from a .csv or .json file (see the header comment). */
export function readMotionFile(path: string): LeaderScript {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`leader motion: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return parseMotionCsv(text, path);
  if (ext === '.json') return parseMotionJson(text, path);
  throw new Error(`leader motion: ${path}: expected a .csv or .json file`);
}

export function parseMotionCsv(text: string, source: string): LeaderScript {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const header = lines
    .shift()
    ?.split(',')
    .map((h) => h.trim());
  if (!header || header[0] !== 't' || header.length < 2)
    throw new Error(`leader motion: ${source}: the first line must be 't,<joint>,…', got '${header?.join(',') ?? ''}'`);
  const times: number[] = [];
  const angles: number[][] = [];
  lines.forEach((line, row) => {
    const cells = line.split(',').map((c) => Number(c.trim()));
    if (cells.length !== header.length)
      throw new Error(
        `leader motion: ${source}: data row ${row + 1} has ${cells.length} values, the header ${header.length}`,
      );
    times.push(cells[0]!);
    angles.push(cells.slice(1));
  });
  return checked({ kind: 'samples', joints: header.slice(1), times, angles }, source);
}

export function parseMotionJson(text: string, source: string): LeaderScript {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`leader motion: ${source}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const d = doc as { joints?: unknown; samples?: unknown; loop?: unknown };
  if (!Array.isArray(d.joints) || !d.joints.every((j) => typeof j === 'string') || !Array.isArray(d.samples))
    throw new Error(`leader motion: ${source}: expected { "joints": [names], "samples": [[t, angles…], …] }`);
  const samples = d.samples as unknown[];
  const joints = d.joints;
  const rows = samples.map((s, i) => {
    if (!Array.isArray(s) || s.length !== joints.length + 1 || !s.every((x) => typeof x === 'number'))
      throw new Error(`leader motion: ${source}: sample ${i} must be [t, ${joints.length} angles]`);
    return s;
  });
  return checked(
    {
      kind: 'samples',
      joints,
      times: rows.map((r) => r[0]!),
      angles: rows.map((r) => r.slice(1)),
      ...(typeof d.loop === 'boolean' ? { loop: d.loop } : {}),
    },
    source,
  );
}

function checked(script: Extract<LeaderScript, { kind: 'samples' }>, source: string): LeaderScript {
  const { times, angles } = script;
  if (times.length === 0) throw new Error(`leader motion: ${source}: no samples`);
  if (new Set(script.joints).size !== script.joints.length)
    throw new Error(`leader motion: ${source}: a joint is named twice (${script.joints.join(', ')})`);
  for (let i = 0; i < times.length; i++) {
    if (!Number.isFinite(times[i]!) || (i > 0 && !(times[i]! > times[i - 1]!)))
      throw new Error(`leader motion: ${source}: sample ${i}: time ${times[i]} is not a number above the one before`);
    const bad = angles[i]!.findIndex((a) => !Number.isFinite(a));
    if (bad >= 0)
      throw new Error(`leader motion: ${source}: sample ${i}: '${script.joints[bad]}' is ${angles[i]![bad]}`);
  }
  return script;
}

/** A script's angles at time `tS` (s), in the script's joint order (`jointsOf`). */
export function scriptAngles(script: LeaderScript, tS: number, out?: Float64Array): Float64Array {
  if (script.kind === 'sine') {
    const entries = Object.values(script.joints);
    const o = out ?? new Float64Array(entries.length);
    entries.forEach((s, i) => {
      o[i] = (s.offset ?? 0) + s.amplitude * Math.sin(2 * Math.PI * s.frequencyHz * tS + (s.phase ?? 0));
    });
    return o;
  }
  const { times, angles } = script;
  const o = out ?? new Float64Array(script.joints.length);
  const first = times[0]!;
  const last = times[times.length - 1]!;
  let t = tS;
  if (t > last && (script.loop ?? true) && last > first) t = first + ((t - first) % (last - first));
  if (t <= first) o.set(angles[0]!);
  else if (t >= last) o.set(angles[angles.length - 1]!);
  else {
    let k = 1;
    while (times[k]! < t) k++;
    const w = (t - times[k - 1]!) / (times[k]! - times[k - 1]!);
    const a = angles[k - 1]!;
    const b = angles[k]!;
    for (let i = 0; i < a.length; i++) o[i] = a[i]! + w * (b[i]! - a[i]!);
  }
  return o;
}

export function scriptJoints(script: LeaderScript): readonly string[] {
  return script.kind === 'sine' ? Object.keys(script.joints) : script.joints;
}

/** The smallest and largest angle a joint's script reaches (rad). */
function extremes(script: LeaderScript, index: number): [number, number] {
  if (script.kind === 'sine') {
    const s = Object.values(script.joints)[index]!;
    const a = Math.abs(s.amplitude);
    return [(s.offset ?? 0) - a, (s.offset ?? 0) + a];
  }
  const xs = script.angles.map((row) => row[index]!);
  return [Math.min(...xs), Math.max(...xs)];
}

export interface LeaderMotionOptions {
  /** the leader's calibration, to place the shafts so the servos read the script's angles (default: none, angles about the model's centre) */
  readonly calibration?: RobotCalibration;
  /** ms clock the script's time runs on (default performance.now), zero at attach */
  readonly clock?: () => number;
}

/**
 * Drive an emulator's servos from a script, from now on; returns a function that stops it (the
 * servos stay where the script left them). Throws when a scripted joint is not a servo of the
 * emulator, or when the script would take a servo's reading outside one turn.
 */
export function attachLeaderMotion(
  emulator: Emulator,
  script: LeaderScript,
  options: LeaderMotionOptions = {},
): () => void {
  const names = scriptJoints(script);
  const clock = options.clock ?? (() => performance.now());
  const targets = names.map((name, index) => {
    const config = emulator.config.servos.find((s) => s.name === name);
    if (!config)
      throw new Error(
        `leader motion: joint '${name}' is not a servo of ${emulator.config.robot} (${emulator.config.servos.map((s) => s.name).join(', ')})`,
      );
    const servo = emulator.servo(config.id);
    const cal = options.calibration?.joints.find((j) => j.name === name);
    if (options.calibration && !cal)
      throw new Error(`leader motion: joint '${name}' is not in the calibration of ${options.calibration.robot}`);
    const model: ServoModel = servo.model;
    const sign = cal && cal.drive_mode === 1 && driveModeInSoftware(model) ? -1 : 1;
    const ticksPerRad = model.resolution / (2 * Math.PI);
    const present = (angle: number) => model.centerPosition + sign * angle * ticksPerRad;
    const [lo, hi] = extremes(script, index)
      .map(present)
      .sort((a, b) => a - b) as [number, number];
    if (lo < 0 || hi > model.resolution - 1)
      throw new Error(
        `leader motion: joint '${name}' would read ${Math.round(lo)}…${Math.round(hi)}, outside one turn of ${model.name} (0…${model.resolution - 1})`,
      );
    return { servo, present, index };
  });
  const angles = new Float64Array(names.length);
  const start = clock();
  const place = () => {
    scriptAngles(script, (clock() - start) / 1000, angles);
    for (const t of targets) t.servo.moveTo(t.present(angles[t.index]!));
  };
  place();
  const chain = emulator.chain;
  const previous = chain.afterStep;
  chain.afterStep = place;
  return () => {
    if (chain.afterStep === place) chain.afterStep = previous;
  };
}
