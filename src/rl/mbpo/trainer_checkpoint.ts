import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import type * as tf from '@tensorflow/tfjs-core';
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
// trainer goes on from and the layout its owner records (the node's state encoding, actuators,
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

export interface CheckpointHeader {
  readonly format: string;
  readonly obsSize: number;
  readonly actionSize: number;
  /** SAC's hidden widths */
  readonly hidden: readonly number[];
  readonly counts: CheckpointCounts;
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
  if (header.format !== CHECKPOINT_FORMAT) throw fail(`format '${String(header.format)}', expected '${CHECKPOINT_FORMAT}'`);
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
  let arrays: Map<string, NamedArray>;
  try {
    // a copy: the data after the header need not be 4-byte aligned
    arrays = unpackFloat32(weightSpecs as tf.io.WeightsManifestEntry[], file.subarray(8 + headerLength).slice());
  } catch (err) {
    throw fail(`truncated or corrupt arrays (${(err as Error).message})`);
  }
  return { header, arrays };
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
