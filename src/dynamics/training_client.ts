import { Worker } from 'node:worker_threads';
import type { TensorBackendKind } from '../tensor/backend.js';
import type { EnsembleConfig, TrainOptions, TrainReport } from './ensemble.js';
import type { TransitionData } from '../data/transition_data.js';

// Ensemble training in a worker thread (training_worker.ts), so that the thread running the
// command loop keeps its rate. One training runs at a time; requests made meanwhile are coalesced
// into one that runs next, with the newest data (every caller of the coalesced request gets its
// result). The worker keeps its ensemble between requests and continues training it (warm start);
// the first request may hand it a serialised ensemble to continue from (a model of an earlier run).

export interface TrainingRequest {
  readonly config: EnsembleConfig;
  /** its Float32Arrays' buffers are transferred to the worker: the caller must not use them after */
  readonly data: TransitionData;
  readonly options?: Omit<TrainOptions, 'onEpoch'>;
  /** continue training the worker's ensemble when its config is the same (default true); false: start anew */
  readonly warmStart?: boolean;
  /**
   * with warmStart, when the worker has no ensemble of this config yet: continue from this one (a
   * serialised ensemble, e.g. the model of an earlier run) if its config is the request's
   */
  readonly initial?: { readonly metadata: Record<string, unknown>; readonly data: Uint8Array };
}

export interface TrainingResult {
  readonly report: TrainReport;
  /** the trained ensemble, serialised */
  readonly metadata: Record<string, unknown>;
  readonly data: Uint8Array;
  /** what the worker trained on (the native kernels, or the tensor backend), and why that one */
  readonly backend: string;
  readonly backendWhy: string;
  /** time in train() and serialize(), on the worker */
  readonly seconds: number;
  /** the n of the data trained on */
  readonly transitions: number;
}

export interface EpochProgress {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly valLoss: number;
}

export interface TrainingClientOptions {
  /** force a tensor backend in the worker; absent: the first that starts */
  readonly backend?: TensorBackendKind;
  /** nice value the worker sets on its thread (default 10) */
  readonly nice?: number;
  readonly onEpoch?: (progress: EpochProgress) => void;
}

// the messages between client and worker

export interface TrainerWorkerData {
  readonly backend: TensorBackendKind | undefined;
  readonly nice: number;
}

export interface TrainCall {
  readonly id: number;
  readonly config: EnsembleConfig;
  readonly data: TransitionData;
  readonly options: Omit<TrainOptions, 'onEpoch'>;
  readonly warmStart: boolean;
  readonly initial?: TrainingRequest['initial'];
}

export type FromTrainer =
  | ({ readonly op: 'epoch'; readonly id: number } & EpochProgress)
  | ({ readonly op: 'done'; readonly id: number } & Omit<TrainingResult, 'transitions'>)
  | { readonly op: 'error'; readonly id: number; readonly message: string };

interface Waiter {
  resolve(result: TrainingResult): void;
  reject(error: Error): void;
}

export class TrainingClient {
  readonly #worker: Worker;
  readonly #onEpoch: ((progress: EpochProgress) => void) | undefined;
  #running: { id: number; n: number; waiters: Waiter[] } | undefined;
  #next: { request: TrainingRequest; waiters: Waiter[] } | undefined;
  #seq = 1;
  #dead: Error | undefined;
  #trainings = 0;
  #coalesced = 0;

  constructor(options: TrainingClientOptions = {}) {
    this.#onEpoch = options.onEpoch;
    const workerData: TrainerWorkerData = { backend: options.backend, nice: options.nice ?? 10 };
    this.#worker = new Worker(new URL('./training_worker.js', import.meta.url), {
      workerData,
      name: 'dynamics training',
    });
    this.#worker.on('message', (m: FromTrainer) => this.#receive(m));
    this.#worker.on('error', (e) =>
      this.#fail(new Error(`training worker failed: ${e instanceof Error ? e.message : String(e)}`)),
    );
    this.#worker.on('exit', (code) => this.#fail(new Error(`training worker exited with code ${code}`)));
  }

  /** a training is running */
  get busy(): boolean {
    return this.#running !== undefined;
  }

  /** trainings started, and requests merged into a later one */
  get counts(): { trainings: number; coalesced: number } {
    return { trainings: this.#trainings, coalesced: this.#coalesced };
  }

  /** Train on `data`; while a training runs, the newest request waits (older waiting ones merge into it). */
  train(request: TrainingRequest): Promise<TrainingResult> {
    if (this.#dead) return Promise.reject(this.#dead);
    return new Promise<TrainingResult>((resolve, reject) => {
      const waiter = { resolve, reject };
      if (!this.#running) {
        this.#start(request, [waiter]);
        return;
      }
      if (this.#next) {
        this.#coalesced++;
        this.#next = { request, waiters: [...this.#next.waiters, waiter] };
      } else this.#next = { request, waiters: [waiter] };
    });
  }

  /** Stop the worker; waiting and running requests are rejected. */
  async dispose(): Promise<void> {
    this.#fail(new Error('the training client was disposed'));
    await this.#worker.terminate();
  }

  #start(request: TrainingRequest, waiters: Waiter[]): void {
    const id = this.#seq++;
    const { states, actions, nextStates, n } = request.data;
    this.#running = { id, n, waiters };
    this.#trainings++;
    const call: TrainCall = {
      id,
      config: request.config,
      data: { states, actions, nextStates, n },
      options: request.options ?? {},
      warmStart: request.warmStart ?? true,
      ...(request.initial ? { initial: request.initial } : {}),
    };
    // each buffer once: views of one buffer would make the transfer list repeat it
    const buffers = [...new Set([states.buffer, actions.buffer, nextStates.buffer])].filter(
      (b): b is ArrayBuffer => b instanceof ArrayBuffer,
    );
    try {
      this.#worker.postMessage(call, buffers);
    } catch (err) {
      this.#running = undefined;
      for (const w of waiters) w.reject(err as Error);
      this.#startNext();
    }
  }

  #receive(m: FromTrainer): void {
    const running = this.#running;
    if (!running || m.id !== running.id) return;
    if (m.op === 'epoch') {
      this.#onEpoch?.({ epoch: m.epoch, trainLoss: m.trainLoss, valLoss: m.valLoss });
      return;
    }
    this.#running = undefined;
    if (m.op === 'done') {
      const result: TrainingResult = {
        report: m.report,
        metadata: m.metadata,
        data: m.data,
        backend: m.backend,
        backendWhy: m.backendWhy,
        seconds: m.seconds,
        transitions: running.n,
      };
      for (const w of running.waiters) w.resolve(result);
    } else for (const w of running.waiters) w.reject(new Error(m.message));
    this.#startNext();
  }

  #startNext(): void {
    const next = this.#next;
    this.#next = undefined;
    if (next && !this.#dead) this.#start(next.request, next.waiters);
  }

  #fail(error: Error): void {
    this.#dead ??= error;
    const waiters = [...(this.#running?.waiters ?? []), ...(this.#next?.waiters ?? [])];
    this.#running = undefined;
    this.#next = undefined;
    for (const w of waiters) w.reject(this.#dead);
  }
}
