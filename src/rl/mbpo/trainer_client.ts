import { Worker } from 'node:worker_threads';
import type { TensorBackendKind } from '../../tensor/backend.js';
import type { MbpoTaskName } from './tasks.js';
import type { EpisodeDone, MbpoTrainerConfig, PolicyRelease, TrainerFigures } from './trainer.js';

// The MBPO trainer (./trainer.ts) in a worker thread (./trainer_worker.ts) at a lower priority (a
// nice value, as the ensemble's training worker takes), so that the graph's thread keeps its pace
// while SAC updates run. The owner hands it real transitions (batched per turn of the event loop:
// one message for the transitions of a turn), dynamics models and episode ends, in the order they
// happened — every message goes after the transitions added before it — and gets back policy
// releases, finished episodes, status figures, refusals (a transition or model it did not take,
// with the reason) and checkpoint results. The worker works while active: a round at a time,
// taking messages between rounds.

/** What the worker builds its trainer from (plain data: it crosses threads). */
export interface TrainerSpec {
  readonly task: MbpoTaskName;
  /** the state layout (StateEncoding.toMetadata()): the observation and what models must predict */
  readonly encoding: { readonly joints: readonly string[]; readonly angle_joints: readonly string[] };
  readonly trainer: Omit<MbpoTrainerConfig, 'task' | 'encoding' | 'obsSize'>;
  /** recorded in checkpoints (the owner checks it when it resumes) */
  readonly layout: Readonly<Record<string, unknown>>;
  /** where checkpoints go ('' : none): after each episode's work is done, and when asked */
  readonly checkpointPath: string;
}

export interface CheckpointResult {
  readonly path: string;
  readonly seconds: number;
  readonly realSteps: number;
  readonly updates: number;
}

export interface TrainerClientOptions {
  /** nice value of the worker's thread (default 10) */
  readonly nice?: number;
  /** tensor backend of the worker (TF.js engines); absent: the first that starts */
  readonly backend?: TensorBackendKind;
  /** a new policy version to publish */
  readonly onPolicy: (release: PolicyRelease) => void;
  /** episodes whose steps' work is done (and, with a checkpoint path, checkpointed) */
  readonly onEpisodes?: (episodes: readonly EpisodeDone[]) => void;
  /** the trainer's figures (at most every few hundred ms while it works) */
  readonly onStatus?: (figures: TrainerFigures) => void;
  /** a transition or model not taken, and why (one line) */
  readonly onRefused: (what: 'transition' | 'model' | 'checkpoint', message: string) => void;
  /** a dynamics model taken for the rollouts, or the one in use again */
  readonly onModel?: (version: number, outcome: 'in_use' | 'repeated') => void;
  /** a checkpoint written after an episode */
  readonly onCheckpoint?: (result: CheckpointResult) => void;
  /** the worker cannot go on (its trainer could not be made, or it died) */
  readonly onFailed: (message: string) => void;
}

// the messages between client and worker

export interface TrainerWorkerData {
  readonly nice: number;
  readonly backend: TensorBackendKind | undefined;
}

export type ToTrainer =
  | { readonly op: 'init'; readonly spec: TrainerSpec; readonly checkpoint?: Uint8Array }
  | {
      readonly op: 'transitions';
      readonly n: number;
      readonly obs: Float32Array;
      readonly actions: Float32Array;
      readonly next: Float32Array;
      readonly stamps: BigInt64Array;
    }
  | { readonly op: 'model'; readonly metadataJson: string; readonly data: Uint8Array; readonly version: number }
  | { readonly op: 'episode_end'; readonly stampNs: bigint }
  | { readonly op: 'active'; readonly active: boolean }
  | { readonly op: 'checkpoint'; readonly id: number };

export type FromTrainer =
  | { readonly op: 'ready'; readonly figures: TrainerFigures }
  | { readonly op: 'policy'; readonly release: PolicyRelease }
  | { readonly op: 'episodes'; readonly episodes: readonly EpisodeDone[] }
  | { readonly op: 'status'; readonly figures: TrainerFigures }
  | { readonly op: 'refused'; readonly what: 'transition' | 'model' | 'checkpoint'; readonly message: string }
  | { readonly op: 'model'; readonly version: number; readonly outcome: 'in_use' | 'repeated' }
  | {
      readonly op: 'checkpointed';
      readonly id: number;
      readonly result?: CheckpointResult;
      readonly error?: string;
    }
  | { readonly op: 'failed'; readonly message: string };

export class TrainerClient {
  readonly #worker: Worker;
  readonly #options: TrainerClientOptions;
  #obs: number[] = [];
  #actions: number[] = [];
  #next: number[] = [];
  #stamps: bigint[] = [];
  #flushQueued = false;
  #initialised = false;
  #figures: TrainerFigures | undefined;
  #seq = 1;
  readonly #checkpoints = new Map<number, { resolve(r: CheckpointResult | undefined): void; reject(e: Error): void }>();
  #dead: string | undefined;

  constructor(options: TrainerClientOptions) {
    this.#options = options;
    const workerData: TrainerWorkerData = { nice: options.nice ?? 10, backend: options.backend };
    this.#worker = new Worker(new URL('./trainer_worker.js', import.meta.url), { workerData, name: 'mbpo training' });
    this.#worker.on('message', (m: FromTrainer) => this.#receive(m));
    this.#worker.on('error', (e) =>
      this.#die(`policy training worker failed: ${e instanceof Error ? e.message : String(e)}`),
    );
    this.#worker.on('exit', (code) => this.#die(`policy training worker exited with code ${code}`));
  }

  /** init was called */
  get initialised(): boolean {
    return this.#initialised;
  }

  /** the newest figures the worker sent (undefined before its trainer is made) */
  get figures(): TrainerFigures | undefined {
    return this.#figures;
  }

  /** Make the trainer (from `checkpoint`'s bytes, when given: a checkpoint file's contents). */
  init(spec: TrainerSpec, checkpoint?: Uint8Array): void {
    if (this.#initialised) throw new Error('policy training client: init called twice');
    this.#initialised = true;
    this.#post({ op: 'init', spec, ...(checkpoint ? { checkpoint } : {}) });
  }

  /** A real transition (encoded states), stamped with its next state's stamp. */
  addTransition(obs: ArrayLike<number>, action: ArrayLike<number>, next: ArrayLike<number>, stampNs: bigint): void {
    for (let i = 0; i < obs.length; i++) this.#obs.push(obs[i]!);
    for (let i = 0; i < action.length; i++) this.#actions.push(action[i]!);
    for (let i = 0; i < next.length; i++) this.#next.push(next[i]!);
    this.#stamps.push(stampNs);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      setImmediate(() => this.#flush());
    }
  }

  /** A dynamics model blob's contents for the rollouts (the worker checks it). */
  offerModel(metadataJson: string, data: Uint8Array, version: number): void {
    const copy = data.slice();
    this.#post({ op: 'model', metadataJson, data: copy, version }, [copy.buffer]);
  }

  /** An episode ended with its state stamped `stampNs` (its transitions were added before). */
  endEpisode(stampNs: bigint): void {
    this.#post({ op: 'episode_end', stampNs });
  }

  /** Work (rounds of rollouts and updates) only while active. */
  setActive(active: boolean): void {
    this.#post({ op: 'active', active });
  }

  /** Write a checkpoint now (after the transitions added so far); undefined without a checkpoint path or trainer. */
  checkpoint(): Promise<CheckpointResult | undefined> {
    if (this.#dead) return Promise.reject(new Error(this.#dead));
    const id = this.#seq++;
    return new Promise((resolve, reject) => {
      this.#checkpoints.set(id, { resolve, reject });
      this.#post({ op: 'checkpoint', id });
    });
  }

  async dispose(): Promise<void> {
    this.#dead ??= 'the policy training client was disposed';
    for (const c of this.#checkpoints.values()) c.reject(new Error(this.#dead));
    this.#checkpoints.clear();
    await this.#worker.terminate();
  }

  #post(message: ToTrainer, transfer: ArrayBuffer[] = []): void {
    if (this.#dead) return;
    if (message.op !== 'transitions') this.#flush();
    this.#worker.postMessage(message, transfer);
  }

  #flush(): void {
    this.#flushQueued = false;
    const n = this.#stamps.length;
    if (!n || this.#dead) return;
    const message = {
      op: 'transitions' as const,
      n,
      obs: Float32Array.from(this.#obs),
      actions: Float32Array.from(this.#actions),
      next: Float32Array.from(this.#next),
      stamps: BigInt64Array.from(this.#stamps),
    };
    this.#obs = [];
    this.#actions = [];
    this.#next = [];
    this.#stamps = [];
    this.#worker.postMessage(message, [
      message.obs.buffer,
      message.actions.buffer,
      message.next.buffer,
      message.stamps.buffer,
    ]);
  }

  #receive(m: FromTrainer): void {
    const o = this.#options;
    switch (m.op) {
      case 'ready':
      case 'status':
        this.#figures = m.figures;
        o.onStatus?.(m.figures);
        return;
      case 'policy':
        this.#figures = m.release.figures;
        o.onPolicy(m.release);
        return;
      case 'episodes':
        o.onEpisodes?.(m.episodes);
        return;
      case 'refused':
        o.onRefused(m.what, m.message);
        return;
      case 'model':
        o.onModel?.(m.version, m.outcome);
        return;
      case 'checkpointed': {
        const waiter = this.#checkpoints.get(m.id);
        if (m.id === 0) {
          if (m.result) o.onCheckpoint?.(m.result);
          else if (m.error) o.onRefused('checkpoint', m.error);
          return;
        }
        this.#checkpoints.delete(m.id);
        if (m.error) waiter?.reject(new Error(m.error));
        else waiter?.resolve(m.result);
        return;
      }
      case 'failed':
        this.#die(m.message);
        return;
    }
  }

  #die(message: string): void {
    if (this.#dead) return;
    this.#dead = message;
    for (const c of this.#checkpoints.values()) c.reject(new Error(message));
    this.#checkpoints.clear();
    this.#options.onFailed(message);
  }
}
