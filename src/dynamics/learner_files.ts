import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ReplayBuffer } from '../data/replay_buffer.js';
import { removeStaleTemps } from '../util/atomic_file.js';
import { learnerEncoding } from './buffer_file.js';
import { loadDynamicsModel, saveDynamicsModel, type DynamicsModel } from './model_blob.js';
import { StateEncoding } from './state_encoding.js';

// The dynamics learner's files, so that a kill costs at most the data since the last save: its
// replay buffer (buffer_file) and its newest model (model_dir, a TF.js model folder with the
// metadata, src/dynamics/model_blob.ts). Every save is atomic (src/util/atomic_file.ts), none
// blocks the thread, and they run one after another: a save asked for while one runs waits, and
// several asked for meanwhile become one, of the newest data. At start the temporaries of killed
// saves are removed; a run that resumes loads the model (checked against the learner's state
// layout, as buffer_file.ts checks the buffer), one that does not removes the earlier run's files.

export interface LearnerFilesOptions {
  /** '' : no buffer file */
  readonly bufferFile: string;
  /** '' : no model folder */
  readonly modelDir: string;
  /** a save succeeded (for the debug log) */
  readonly saved?: (what: string) => void;
}

export class LearnerFiles {
  readonly bufferFile: string;
  readonly modelDir: string;
  readonly #saved: (what: string) => void;
  #chain: Promise<void> = Promise.resolve();
  #bufferSave: Promise<void> | undefined;
  #bufferWanted: ReplayBuffer | undefined;
  /** buffer.added at its newest save (or load): a buffer with nothing new is not saved again */
  #savedAdded = -1;
  #modelSave: Promise<void> | undefined;
  #modelWanted: DynamicsModel | undefined;
  #bufferSaves = 0;
  #modelSaves = 0;

  constructor(options: LearnerFilesOptions) {
    this.bufferFile = options.bufferFile;
    this.modelDir = options.modelDir;
    this.#saved = options.saved ?? (() => {});
  }

  /** buffer and model saves done */
  get saves(): { readonly buffer: number; readonly model: number } {
    return { buffer: this.#bufferSaves, model: this.#modelSaves };
  }

  /** Remove the temporaries that saves killed in an earlier run left; returns their paths. */
  removeStale(): string[] {
    return [this.bufferFile, this.modelDir].filter((f) => f).flatMap((f) => removeStaleTemps(f));
  }

  /** Remove the files of an earlier run (a run that does not resume); returns those there were. */
  removeEarlier(): string[] {
    const paths = [this.bufferFile, this.modelDir, this.modelDir && `${this.modelDir}.old`];
    const there = paths.filter((p) => p && existsSync(p));
    for (const p of there) rmSync(p, { recursive: true, force: true });
    return there;
  }

  /** The buffer as loaded from buffer_file: saved only once it holds something new. */
  loadedBuffer(buffer: ReplayBuffer): void {
    this.#savedAdded = buffer.added;
  }

  /** Save `buffer` (as it is when the save starts) when it has something new; resolves when that is on disk. */
  saveBuffer(buffer: ReplayBuffer): Promise<void> {
    if (!this.bufferFile) return Promise.resolve();
    this.#bufferWanted = buffer;
    this.#bufferSave ??= this.#enqueue(async () => {
      this.#bufferSave = undefined;
      const wanted = this.#bufferWanted!;
      const added = wanted.added;
      if (added === this.#savedAdded) return;
      await wanted.saveAsync(this.bufferFile);
      this.#savedAdded = added;
      this.#bufferSaves++;
      this.#saved(`${wanted.size} transitions to ${this.bufferFile}`);
    });
    return this.#bufferSave;
  }

  /** Save `model` in model_dir (a newer one asked for before this save starts replaces it). */
  saveModel(model: DynamicsModel): Promise<void> {
    if (!this.modelDir) return Promise.resolve();
    this.#modelWanted = model;
    this.#modelSave ??= this.#enqueue(async () => {
      this.#modelSave = undefined;
      const wanted = this.#modelWanted!;
      await saveDynamicsModel(this.modelDir, wanted);
      this.#modelSaves++;
      this.#saved(`dynamics model v${wanted.version} to ${this.modelDir}`);
    });
    return this.#modelSave;
  }

  /** Resolves when every save asked for so far has ended (failed ones too). */
  async idle(): Promise<void> {
    let chain: Promise<void>;
    do {
      chain = this.#chain;
      await chain;
    } while (chain !== this.#chain);
  }

  #enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(job);
    this.#chain = run.catch(() => undefined);
    return run;
  }
}

/** What a resumed run expects of the saved model. */
export interface ModelDirExpectation {
  /** the joints parameter: empty takes the model's */
  readonly joints: readonly string[];
  readonly angleJoints: readonly string[];
  readonly periodNs: bigint;
  /** the state layout of the buffer loaded with it, if one was */
  readonly buffer?: { readonly path: string; readonly encoding: StateEncoding };
}

export interface LoadedModel {
  readonly model: DynamicsModel;
  /** the model's state layout */
  readonly encoding: StateEncoding;
  /** it predicts over this run's control period: it can be published and trained on from */
  readonly usable: boolean;
  /** something to log as a warning, when there is */
  readonly warning?: string;
}

/**
 * The model saved in `dir` when there is one (else undefined), checked against this run: the
 * state layout must be the one this run learns; throws naming the parameter (or file) that
 * disagrees, or the folder and what is wrong with it. One of another control period is not usable.
 */
export async function loadModelDir(dir: string, expect: ModelDirExpectation): Promise<LoadedModel | undefined> {
  if (!existsSync(dir) && !existsSync(join(`${dir}.old`, 'model.json'))) return undefined;
  const model = await loadDynamicsModel(dir);
  const training = (JSON.parse(model.metadataJson) as { training?: Record<string, unknown> }).training;
  if (!training) throw new Error(`model_dir ${dir}: its metadata has no training section (the state layout)`);
  const saved = StateEncoding.fromMetadata(training, `model_dir ${dir}`);
  if (expect.joints.length && expect.joints.join(',') !== saved.joints.join(','))
    throw new Error(
      `parameter 'joints': [${expect.joints.join(', ')}] differs from the joints of model_dir ${dir}: [${saved.joints.join(', ')}]`,
    );
  if (learnerEncoding(saved.joints, expect.angleJoints).describe() !== saved.describe())
    throw new Error(
      `parameter 'angle_joints': [${expect.angleJoints.join(', ')}] differs from the angle joints of model_dir ${dir}: [${saved.angleJoints.join(', ')}]`,
    );
  if (expect.buffer && expect.buffer.encoding.describe() !== saved.describe())
    throw new Error(
      `model_dir ${dir} predicts the state ${saved.describe()}, buffer_file ${expect.buffer.path} holds ${expect.buffer.encoding.describe()}`,
    );
  const period = training['period_ns'];
  if (period === Number(expect.periodNs)) return { model, encoding: saved, usable: true };
  const recorded = typeof period === 'number' ? period : JSON.stringify(period);
  return {
    model,
    encoding: saved,
    usable: false,
    warning: `model_dir ${dir} predicts over ${recorded} ns, rate_hz gives ${expect.periodNs} ns: it is not used (the next training replaces it)`,
  };
}
