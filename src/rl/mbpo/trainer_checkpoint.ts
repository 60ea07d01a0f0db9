import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { packFloat32, unpackFloat32, type NamedArray } from '../../tensor/weights.js';
import { writeFileAtomic } from '../../util/atomic_file.js';

// The MBPO policy trainer's checkpoint (./trainer.ts): everything it needs to go on after a kill —
// soft actor-critic's snapshot (networks, targets, log α, Adam's state) and the real replay buffer
// — in one file, so that the two are always of the same moment, written atomically
// (src/util/atomic_file.ts: the old file or the whole new one, never a part):
//
//   'DSMB' | uint32 LE header length | header JSON (space-padded to 4 bytes) | float32 LE arrays
//
// The arrays are packed as TF.js weights (src/tensor/weights.ts), their specs in the header: the
// SAC snapshot under `sac/…`, the real transitions (s, a, s′), oldest first, as `real/obs`,
// `real/actions` and `real/next_obs`. Rewards and terminations are not stored: they are the task's
// functions of (a, s′), recomputed when the checkpoint is restored. The model buffer is not kept
// either: it is rebuilt by the rollouts of the next model. The header also carries the counts the
// trainer goes on from (with the episodes that ended whose work waits) and the layout its owner records (the node's state encoding, actuators,
// period and task), which a run that resumes checks against its own.

const MAGIC = 'DSMB';
export const CHECKPOINT_FORMAT = 'dynastack-mbpo-trainer/1';

/** The trainer's counts at the checkpoint. */
export interface CheckpointCounts {
  /** real transitions ever added */
  readonly realSteps: number;
  /** real steps whose work (rollouts, updates) was done or skipped */
  readonly processedSteps: number;
  readonly skippedSteps: number;
  /** the newest policy's version (0: none) */
  readonly policyVersion: number;
  /** SAC updates when that policy was released */
  readonly updatesAtRelease: number;
  readonly episodes: number;
  readonly modelTransitions: number;
}

/** An episode that ended before the checkpoint, its steps' work not done yet. */
export interface CheckpointEpisode {
  readonly episode: number;
  readonly return: number;
  readonly length: number;
  /** the END's stamp (decimal ns) */
  readonly endNs: string;
  /** realSteps when it ended */
  readonly steps: number;
}

export interface CheckpointHeader {
  readonly format: string;
  readonly obsSize: number;
  readonly actionSize: number;
  /** SAC's hidden widths */
  readonly hidden: readonly number[];
  readonly counts: CheckpointCounts;
  /** the episodes that ended whose steps' work waits */
  readonly ended: readonly CheckpointEpisode[];
  /** what the trainer's owner records about the data (joints, actuators, period, task…) */
  readonly layout: Readonly<Record<string, unknown>>;
}

export interface TrainerCheckpoint {
  readonly header: CheckpointHeader;
  /** `sac/<name>` and `real/obs|actions|next_obs` */
  readonly arrays: ReadonlyMap<string, NamedArray>;
}

/** The checkpoint as file bytes (chunks, in order). */
export function encodeCheckpoint(checkpoint: TrainerCheckpoint): Uint8Array[] {
  const { specs, data } = packFloat32([...checkpoint.arrays.values()]);
  let json = JSON.stringify({ ...checkpoint.header, weightSpecs: specs });
  json += ' '.repeat((4 - ((8 + Buffer.byteLength(json)) % 4)) % 4);
  const prefix = Buffer.alloc(8);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(Buffer.byteLength(json), 4);
  return [prefix, Buffer.from(json), data];
}

/** Bytes of a checkpoint back into one; `what` names the source in the one-line errors. */
export function decodeCheckpoint(bytes: Uint8Array, what: string): TrainerCheckpoint {
  const fail = (why: string): Error => new Error(`${what}: ${why}`);
  if (endianness() !== 'LE') throw fail('this machine is big-endian; the file holds little-endian floats');
  const file = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (file.length < 8 || file.toString('latin1', 0, 4) !== MAGIC)
    throw fail(`not a policy trainer checkpoint (it does not start with '${MAGIC}')`);
  const headerLength = file.readUInt32LE(4);
  if (8 + headerLength > file.length) throw fail(`truncated: the header says ${headerLength} bytes`);
  let parsed: CheckpointHeader & { weightSpecs?: unknown };
  try {
    parsed = JSON.parse(file.toString('utf8', 8, 8 + headerLength)) as typeof parsed;
  } catch (err) {
    throw fail(`corrupt header (${(err as Error).message})`);
  }
  const { weightSpecs, ...header } = parsed;
  if (header.format !== CHECKPOINT_FORMAT)
    throw fail(`format ${JSON.stringify(header.format)}, expected '${CHECKPOINT_FORMAT}'`);
  if (!Array.isArray(weightSpecs)) throw fail('its header lists no arrays');
  const counts = header.counts as unknown as Record<string, unknown> | undefined;
  const names: (keyof CheckpointCounts)[] = [
    'realSteps',
    'processedSteps',
    'skippedSteps',
    'policyVersion',
    'updatesAtRelease',
    'episodes',
    'modelTransitions',
  ];
  const bad = names.find((k) => !Number.isSafeInteger(counts?.[k]) || (counts![k] as number) < 0);
  if (bad) throw fail(`corrupt header: counts.${bad} is ${JSON.stringify(counts?.[bad])}`);
  if (!Number.isSafeInteger(header.obsSize) || !Number.isSafeInteger(header.actionSize))
    throw fail('corrupt header: no obsSize or actionSize');
  const ended = header.ended as unknown;
  const episodeOk = (e: Partial<Record<keyof CheckpointEpisode, unknown>>): boolean =>
    ['episode', 'return', 'length', 'steps'].every((k) => typeof e[k as keyof CheckpointEpisode] === 'number') &&
    typeof e.endNs === 'string' &&
    /^\d+$/.test(e.endNs);
  if (!Array.isArray(ended) || !ended.every((e) => typeof e === 'object' && e !== null && episodeOk(e as object)))
    throw fail('corrupt header: ended episodes');
  let arrays: Map<string, NamedArray>;
  try {
    // a copy: the data after the header need not be 4-byte aligned
    arrays = unpackFloat32(
      weightSpecs as Parameters<typeof unpackFloat32>[0],
      new Uint8Array(file.subarray(8 + headerLength)),
    );
  } catch (err) {
    throw fail(`truncated or corrupt arrays (${(err as Error).message})`);
  }
  return { header, arrays };
}

/** The policy the checkpoint holds: its version and the actor's weights (undefined before the first release). */
export function checkpointActor(checkpoint: TrainerCheckpoint): { version: number; weights: NamedArray[] } | undefined {
  const version = checkpoint.header.counts.policyVersion;
  if (!version) return undefined;
  const weights = [...checkpoint.arrays.values()]
    .filter((a) => a.name.startsWith('sac/actor/'))
    .map((a) => ({ ...a, name: a.name.slice('sac/'.length) }));
  return { version, weights };
}

/** Write the checkpoint to `path` atomically. */
export function writeCheckpoint(path: string, checkpoint: TrainerCheckpoint): void {
  writeFileAtomic(path, encodeCheckpoint(checkpoint));
}

/** The checkpoint in `path`; an error naming the file and what is wrong with it. */
export function readCheckpoint(path: string): TrainerCheckpoint {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`policy trainer checkpoint ${path}: cannot read it (${(err as Error).message})`, { cause: err });
  }
  return decodeCheckpoint(bytes, `policy trainer checkpoint ${path}`);
}

/** What the policy trainer node records in a checkpoint's layout, and checks when it resumes. */
export interface TrainerLayout {
  readonly joints: readonly string[];
  readonly angle_joints: readonly string[];
  readonly state: readonly string[];
  readonly actuators: readonly string[];
  readonly action_low: readonly number[];
  readonly action_high: readonly number[];
  readonly period_ns: number;
  readonly task: string;
}

/** What a resumed run expects of the checkpoint: its parameters (empty joints: the checkpoint's). */
export interface LayoutExpectation extends Omit<TrainerLayout, 'state' | 'joints'> {
  readonly joints: readonly string[];
  readonly hidden: readonly number[];
}

/**
 * The checkpoint's layout, when it is the one this run would make; throws one line naming the
 * parameter that disagrees (the checkpoint's file in `what`).
 */
export function checkpointLayout(
  checkpoint: TrainerCheckpoint,
  expect: LayoutExpectation,
  what: string,
): TrainerLayout {
  const l = checkpoint.header.layout as Partial<TrainerLayout>;
  const list = (v: unknown): string => (Array.isArray(v) ? `[${v.join(', ')}]` : String(v));
  const same = (a: unknown, b: readonly unknown[]): boolean => Array.isArray(a) && a.join(',') === b.join(',');
  const differs = (param: string, mine: unknown, theirs: unknown): Error =>
    new Error(`parameter '${param}': ${list(mine)} differs from ${list(theirs)} of ${what}`);
  if (!Array.isArray(l.joints) || !Array.isArray(l.state) || !Array.isArray(l.actuators))
    throw new Error(`${what}: its header has no state layout`);
  if (expect.joints.length && !same(l.joints, expect.joints)) throw differs('joints', expect.joints, l.joints);
  if (!same(l.angle_joints, expect.angle_joints)) throw differs('angle_joints', expect.angle_joints, l.angle_joints);
  if (l.period_ns !== expect.period_ns) throw differs('rate_hz', `${expect.period_ns} ns`, `${l.period_ns} ns`);
  if (l.task !== expect.task) throw differs('task', expect.task, l.task);
  if (!same(l.actuators, expect.actuators)) throw differs('model', expect.actuators, l.actuators);
  if (!same(l.action_low, expect.action_low) || !same(l.action_high, expect.action_high))
    throw differs(
      'model',
      [...expect.action_low, ...expect.action_high],
      [...(l.action_low ?? []), ...(l.action_high ?? [])],
    );
  if (!same(checkpoint.header.hidden, expect.hidden)) throw differs('hidden', expect.hidden, checkpoint.header.hidden);
  return l as TrainerLayout;
}
