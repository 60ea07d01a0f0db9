import { Worker } from 'node:worker_threads';
import type { Goal, Planner, PlanningInput } from '../../planner.js';
import type { FeedbackPolicy } from '../../policy.js';
import type { MujocoIlqrSpec } from './spec.js';

// iLQR on the MJCF model in a planning worker (./planning_worker.ts), for real time as MuJoCo MPC
// runs it: the worker replans continuously from the newest state while the command loop evaluates
// the newest feedback policy at its own rate and never waits for a plan. Each tick hands the worker
// the newest state (when newer than the last sent); optimize() returns the newest policy at once.
// A policy planned from a state older than the controller's max_plan_age_s is stale (the command
// loop sends the stop action). Until the first plan arrives optimize() throws, which the command
// loop answers with the stop action (not a fault). start() and stop() run and end the worker
// (activate and deactivate); a restarted worker gets the newest goal again.

export interface IlqrWorkerData {
  readonly spec: MujocoIlqrSpec;
  readonly nice: number;
}

export type ToIlqrWorker =
  | { readonly op: 'state'; readonly stampNs: bigint; readonly state: Float64Array }
  | { readonly op: 'goal'; readonly goal: Goal }
  | { readonly op: 'reset' };

export type FromIlqrWorker =
  | { readonly op: 'ready'; readonly description: string }
  | {
      readonly op: 'plan';
      readonly policy: FeedbackPolicy;
      readonly stateStampNs: bigint;
      readonly planMs: number;
      readonly iterations: number;
      readonly cost: number;
      readonly stop: string;
    }
  | { readonly op: 'error'; readonly message: string };

export interface IlqrWorkerOptions {
  readonly spec: MujocoIlqrSpec;
  /** the nice value of the worker's thread (default 5: below the command loop) */
  readonly nice?: number;
  /** what happened in the worker, for the log */
  readonly onEvent?: (event: { kind: 'ready' | 'error'; message: string }) => void;
}

export class IlqrWorkerPlanner implements Planner {
  readonly name: string;
  readonly #options: IlqrWorkerOptions;
  #worker: Worker | undefined;
  #exited: Promise<void> | undefined;
  #lastSentNs: bigint | undefined;
  #plan: Extract<FromIlqrWorker, { op: 'plan' }> | undefined;
  #goal: Goal | undefined;
  #plans = 0;
  #planMsSum = 0;
  #planMsMax = 0;
  #iterations = 0;
  #starts = 0;
  #firstPlanAt: number | undefined;
  #lastError = '';
  #ready: { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } | undefined;

  constructor(options: IlqrWorkerOptions) {
    this.#options = options;
    this.name = 'ilqr on the MJCF model, planning in a worker';
  }

  get running(): boolean {
    return this.#worker !== undefined;
  }

  start(): void {
    if (this.#worker) return;
    const data: IlqrWorkerData = { spec: this.#options.spec, nice: this.#options.nice ?? 5 };
    const worker = new Worker(new URL('./planning_worker.js', import.meta.url), {
      workerData: data,
      name: 'ilqr planning',
    });
    let resolve: () => void = () => undefined;
    let reject: (err: Error) => void = () => undefined;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => undefined);
    this.#ready = { promise, resolve, reject };
    this.#worker = worker;
    this.#starts++;
    this.#lastSentNs = undefined;
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: FromIlqrWorker) => this.#receive(m));
    worker.on('error', (e) => this.#error(`planning worker failed: ${e instanceof Error ? e.message : String(e)}`));
    worker.on('exit', (code) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#error(`planning worker exited with code ${code}`);
    });
    if (this.#goal) this.#post({ op: 'goal', goal: this.#goal });
  }

  /**
   * Resolves when the worker has built its planner and warmed it up (its first plan then comes a
   * replan after the first state); rejects with the worker's error, or after `timeoutMs`.
   */
  async ready(timeoutMs: number): Promise<void> {
    if (!this.#ready) throw new Error('the planning worker is not started');
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#ready.promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the planning worker was not ready within ${timeoutMs / 1000} s`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = undefined;
    await worker.terminate();
    await this.#exited;
  }

  setGoal(goal: Goal): void {
    this.#goal = goal;
    this.#post({ op: 'goal', goal });
  }

  reset(): void {
    this.#post({ op: 'reset' });
  }

  optimize(input: PlanningInput & { readonly stateStampNs?: bigint }): FeedbackPolicy {
    const stamp = input.stateStampNs ?? input.timeNs;
    if (this.#worker && (this.#lastSentNs === undefined || stamp > this.#lastSentNs)) {
      this.#lastSentNs = stamp;
      this.#post({ op: 'state', stampNs: stamp, state: Float64Array.from(input.state) });
    }
    if (this.#plan) return this.#plan.policy;
    throw new Error(
      this.#lastError ? `no plan from the worker yet (${this.#lastError})` : 'no plan from the worker yet',
    );
  }

  /** plans received per second of wall time since the first */
  get replansPerSecond(): number {
    if (this.#firstPlanAt === undefined || this.#plans < 2) return 0;
    return (this.#plans - 1) / ((performance.now() - this.#firstPlanAt) / 1000);
  }

  status(): Record<string, number | string> {
    const p = this.#plan;
    return {
      mode: p ? 'planning in a worker' : 'waiting for the first plan',
      worker: this.#worker ? 'running' : 'stopped',
      plans: this.#plans,
      iterations: p?.iterations ?? 0,
      total_iterations: this.#iterations,
      cost: p?.cost ?? Number.NaN,
      stop: p?.stop ?? '',
      plan_ms: p?.planMs ?? 0,
      plan_ms_mean: this.#plans ? this.#planMsSum / this.#plans : 0,
      plan_ms_max: this.#planMsMax,
      worker_starts: this.#starts,
      last_error: this.#lastError,
    };
  }

  dispose(): void {
    void this.stop();
  }

  #post(message: ToIlqrWorker): void {
    const transfer = message.op === 'state' ? [message.state.buffer as ArrayBuffer] : [];
    this.#worker?.postMessage(message, transfer);
  }

  #receive(m: FromIlqrWorker): void {
    switch (m.op) {
      case 'ready':
        this.#ready?.resolve();
        this.#options.onEvent?.({ kind: 'ready', message: m.description });
        return;
      case 'plan':
        this.#plan = m;
        this.#plans++;
        this.#firstPlanAt ??= performance.now();
        this.#planMsSum += m.planMs;
        this.#planMsMax = Math.max(this.#planMsMax, m.planMs);
        this.#iterations += m.iterations;
        return;
      case 'error':
        this.#error(m.message);
        return;
    }
  }

  #error(message: string): void {
    this.#ready?.reject(new Error(message));
    this.#lastError = message;
    this.#options.onEvent?.({ kind: 'error', message });
  }
}
