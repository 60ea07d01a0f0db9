import { existsSync } from 'node:fs';
import { ReplayBuffer } from '../data/replay_buffer.js';
import { StateEncoding } from './state_encoding.js';

// The dynamics learner's transitions of an earlier run (its buffer_file), checked against this
// run's parameters before any is used: the states in the file must be the ones this run would
// make (the same joints, in order, and the same angle joints), since a buffer holds encoded states.
// A different control period is allowed (the transitions are kept) but worth a warning. The errors
// name the learner's parameter that disagrees, as the learner reports them when it configures.

/** What this run expects of the file. */
export interface BufferFileExpectation {
  /** transitions kept (the newest, when the file holds more) */
  readonly capacity: number;
  /** the joints parameter: empty takes the file's */
  readonly joints: readonly string[];
  readonly angleJoints: readonly string[];
  readonly periodNs: bigint;
}

export interface LoadedBufferFile {
  readonly buffer: ReplayBuffer;
  /** the state layout of the file, which is this run's */
  readonly encoding: StateEncoding;
  /** something to log as a warning, when there is */
  readonly warning?: string;
}

/** The learner's state encoding of `joints`; a bad `angle_joints` parameter is named. */
export function learnerEncoding(joints: readonly string[], angleJoints: readonly string[]): StateEncoding {
  try {
    return new StateEncoding(joints, angleJoints);
  } catch (err) {
    throw new Error(`parameter 'angle_joints': ${(err as Error).message}`, { cause: err });
  }
}

/** Load `path` when it exists (else undefined), checked against what this run expects; throws naming the mismatch. */
export function loadBufferFile(path: string, expect: BufferFileExpectation): LoadedBufferFile | undefined {
  if (!existsSync(path)) return undefined;
  const buffer = ReplayBuffer.load(path, { capacity: expect.capacity });
  const saved = StateEncoding.fromMetadata(buffer.meta, `replay buffer file ${path}`);
  if (saved.size !== buffer.stateSize)
    throw new Error(
      `replay buffer file ${path}: its header's state ${saved.describe()} has ${saved.size} values, its states ${buffer.stateSize}`,
    );
  if (expect.joints.length && expect.joints.join(',') !== saved.joints.join(','))
    throw new Error(
      `parameter 'joints': [${expect.joints.join(', ')}] differs from the joints of buffer_file ${path}: [${saved.joints.join(', ')}]`,
    );
  if (learnerEncoding(saved.joints, expect.angleJoints).describe() !== saved.describe())
    throw new Error(
      `parameter 'angle_joints': [${expect.angleJoints.join(', ')}] differs from the angle joints of buffer_file ${path}: [${saved.angleJoints.join(', ')}]`,
    );
  const recordedPeriodNs = buffer.meta.period_ns; // a number as the learner writes it; the file may say otherwise
  if (recordedPeriodNs === undefined || recordedPeriodNs === Number(expect.periodNs))
    return { buffer, encoding: saved };
  const recorded = typeof recordedPeriodNs === 'number' ? recordedPeriodNs : JSON.stringify(recordedPeriodNs);
  return {
    buffer,
    encoding: saved,
    warning: `buffer_file ${path} was recorded at a period of ${recorded} ns, rate_hz gives ${expect.periodNs} ns: its transitions are kept`,
  };
}
