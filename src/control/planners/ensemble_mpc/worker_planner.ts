import { Worker } from 'node:worker_threads';
import type { TensorBackendKind } from '../../../tensor/backend.js';
import { checkModelFits, type ModelLayout } from './planner.js';
import type { Goal, LearnedPlanning, PlanningInput } from '../../planner.js';
import type { Policy, SequencePolicy } from '../../policy.js';
import { UniformExploration } from './exploration.js';
import type { LearnedPlanningSpec } from './spec.js';
import { PlanningCounters } from './counters.js';
import type { TaskCost } from '../../task_costs.js';

// Planning over the learned model in a worker thread (planning_worker.ts), for real time: the
// command loop keeps its rate while a plan takes many periods. Each tick hands the worker the
// newest state estimate (when it is newer than the last one sent); the worker replans from the
// newest state it has, warm-started from its previous plan, again and again, and posts back each
// time-indexed policy stamped with the state time it was planned from. optimize() returns the
// newest policy at once; the command loop evaluates it at the tick's time and treats one planned
// from too old a state as stale (the stop action). Until the worker's first plan from a model
// the planner explores with random actions on this thread, as the inline planner does.
//
// Models are checked against the controller here (layout, action size, period), so a misfit is
// refused at once, and then posted to the worker, which builds the ensemble. start() and stop()
// run and end the worker (activate and deactivate); a restarted worker gets the newest model and
// goal again.

/** The newest plan, and what it came from. */
export interface PlanReport {
  readonly policy: SequencePolicy;
  /** the stamp of the state it was planned from (policy.startNs) */
  readonly stateStampNs: bigint;
  readonly modelVersion: number;
  readonly planMs: number;
  readonly iterations: number;
  readonly evaluations: number;
  readonly bestCost: number;
}

export type PlanningEvent =
  | { readonly kind: 'ready'; readonly backend: string }
  | { readonly kind: 'model'; readonly version: number; readonly description: string }
  | { readonly kind: 'model_refused'; readonly version: number; readonly message: string }
  | { readonly kind: 'error'; readonly message: string };

export interface WorkerPlannerOptions {
  readonly spec: LearnedPlanningSpec;
  /** the task's costs, built on this thread for checking models */
  readonly task: TaskCost;
  /** force a tensor backend in the worker; absent: the first that starts */
  readonly backend?: TensorBackendKind;
  /** nice value the worker sets on its thread (default 5: below the command loop, above training) */
  readonly nice?: number;
  /** what happened in the worker, for the log */
  readonly onEvent?: (event: PlanningEvent) => void;
}

// the messages between the planner and its worker

export interface PlanningWorkerData {
  readonly spec: LearnedPlanningSpec;
  readonly backend: TensorBackendKind | undefined;
  readonly nice: number;
}

export type ToPlanner =
  | { readonly op: 'model'; readonly metadataJson: string; readonly data: Uint8Array; readonly version: number }
  | { readonly op: 'state'; readonly stampNs: bigint; readonly state: Float64Array }
  | { readonly op: 'goal'; readonly goal: Goal }
  | { readonly op: 'reset' };

export type FromPlanner =
  | { readonly op: 'ready'; readonly backend: string }
  | { readonly op: 'model'; readonly version: number; readonly ok: true; readonly description: string }
  | { readonly op: 'model'; readonly version: number; readonly ok: false; readonly message: string }
  | ({ readonly op: 'plan' } & PlanReport)
  | { readonly op: 'error'; readonly message: string };

export class WorkerPlanner implements LearnedPlanning {
  readonly name: string;
  readonly #options: WorkerPlannerOptions;
  readonly #exploration: UniformExploration | undefined;
  #worker: Worker | undefined;
  #exited: Promise<void> | undefined;
  #lastSentNs: bigint | undefined;
  #plan: PlanReport | undefined;
  /** the newest model that fits, resent to a restarted worker */
  #model: { metadataJson: string; data: Uint8Array; version: number; layout: ModelLayout } | undefined;
  #goal: Goal | undefined;
  #goalText = 'task default';
  #workerVersion = 0;
  readonly #counters = new PlanningCounters();
  #starts = 0;
  #lastError = '';

  constructor(options: WorkerPlannerOptions) {
    const { spec, task } = options;
    if (task.actuators.join(',') !== spec.actuators.join(','))
      throw new Error(
        `task ${task.name}: its actions are [${task.actuators.join(', ')}], the controller's actuators [${spec.actuators.join(', ')}]`,
      );
    this.#options = options;
    this.#exploration = spec.explore
      ? new UniformExploration(spec.actionLow, spec.actionHigh, spec.stepNs, spec.seed + 2)
      : undefined;
    this.name = `${spec.optimizer.planner} over the learned model (${task.name}), planning in a worker`;
  }

  /** the worker is running */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  /** Start the worker (again), handing it the newest model and goal. */
  start(): void {
    if (this.#worker) return;
    const data: PlanningWorkerData = {
      spec: this.#options.spec,
      backend: this.#options.backend,
      nice: this.#options.nice ?? 5,
    };
    const worker = new Worker(new URL('./planning_worker.js', import.meta.url), { workerData: data, name: 'planning' });
    this.#worker = worker;
    this.#starts++;
    this.#lastSentNs = undefined;
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: FromPlanner) => this.#receive(m));
    worker.on('error', (e) =>
      this.#event({ kind: 'error', message: `planning worker failed: ${e instanceof Error ? e.message : String(e)}` }),
    );
    worker.on('exit', (code) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#event({ kind: 'error', message: `planning worker exited with code ${code}` });
    });
    if (this.#model)
      this.#post({
        op: 'model',
        metadataJson: this.#model.metadataJson,
        data: this.#model.data.slice(),
        version: this.#model.version,
      });
    if (this.#goal) this.#post({ op: 'goal', goal: this.#goal });
  }

  /** End the worker and wait for it; the newest plan stays (and ages). */
  async stop(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = undefined;
    await worker.terminate();
    await this.#exited;
  }

  get modelVersion(): number {
    return this.#workerVersion;
  }

  get explorationTicks(): number {
    return this.#exploration?.ticks ?? 0;
  }

  get exploring(): boolean {
    return !this.#plan && this.#exploration !== undefined;
  }

  get takesGoals(): boolean {
    return this.#options.task.goalSize > 0;
  }

  get modelDataEndNs(): bigint | undefined {
    return this.#model?.layout.dataEndNs;
  }

  /** the newest plan received, if any */
  get newestPlan(): PlanReport | undefined {
    return this.#plan;
  }

  setModel(metadataJson: string, data: Uint8Array, version: number): { layout: ModelLayout; repeated: boolean } {
    this.#counters.modelsReceived++;
    const current = this.#model;
    if (current && current.metadataJson === metadataJson && current.data.length === data.length) {
      this.#counters.modelsRepeated++;
      return { layout: current.layout, repeated: true };
    }
    let layout: ModelLayout;
    try {
      const { spec, task } = this.#options;
      layout = checkModelFits(metadataJson, version, {
        actionSize: spec.actuators.length,
        stepNs: spec.stepNs,
        modelJoints: spec.modelJoints,
        task,
      });
    } catch (err) {
      this.#counters.modelsRejected++;
      throw err;
    }
    // a copy: the message's buffer may be shared with other subscribers
    this.#model = { metadataJson, data: data.slice(), version, layout };
    this.#post({ op: 'model', metadataJson, data: data.slice(), version });
    return { layout, repeated: false };
  }

  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- Planner.setGoal's signature, which callers of this class use too; this planner needs only the goal
  setGoal(goal: Goal, _input: PlanningInput): void {
    if (goal.kind !== 'position') return;
    if (!this.takesGoals) throw new Error(`task ${this.#options.task.name} takes no goal`);
    this.#goal = goal;
    this.#goalText = `[${goal.position.map((v) => v.toFixed(3)).join(', ')}]`;
    this.#post({ op: 'goal', goal });
  }

  reset(): void {
    this.#post({ op: 'reset' });
  }

  /** Send the worker the state (when newer than the last sent) and return the newest policy. */
  optimize(input: PlanningInput & { readonly stateStampNs?: bigint }): Policy {
    const stamp = input.stateStampNs ?? input.timeNs;
    if (this.#worker && this.#model && (this.#lastSentNs === undefined || stamp > this.#lastSentNs)) {
      this.#lastSentNs = stamp;
      this.#post({ op: 'state', stampNs: stamp, state: Float64Array.from(input.state) });
    }
    if (this.#plan) return this.#plan.policy;
    if (this.#exploration) return this.#exploration.next(input.timeNs);
    throw new Error(this.#model ? 'no plan from the worker yet' : 'no dynamics model yet (explore_until_model is off)');
  }

  status(): Record<string, number | string> {
    const plan = this.#plan;
    return {
      mode: plan ? 'planning in a worker' : this.#exploration ? 'exploring' : 'waiting for a model',
      worker: this.#worker ? 'running' : 'stopped',
      model_version: this.#workerVersion,
      ...this.#counters.modelFigures(),
      exploration_ticks: this.#exploration?.ticks ?? 0,
      plans: this.#counters.plans,
      evaluations: this.#counters.evaluations,
      iterations: plan?.iterations ?? 0,
      best_cost: plan?.bestCost ?? Number.NaN,
      plan_ms: plan?.planMs ?? 0,
      plan_ms_mean: this.#counters.planMsMean,
      plan_ms_max: this.#counters.planMsMax,
      worker_starts: this.#starts,
      last_error: this.#lastError,
      goal: this.#goalText,
    };
  }

  metrics(): Record<string, number> {
    return {
      model_version: this.#workerVersion,
      ...this.#counters.modelFigures(),
      exploration_ticks: this.#exploration?.ticks ?? 0,
      plans: this.#counters.plans,
      evaluations: this.#counters.evaluations,
      best_cost: this.#plan?.bestCost ?? Number.NaN,
      plan_ms_mean: this.#counters.planMsMean,
      plan_ms_max: this.#counters.planMsMax,
      worker_starts: this.#starts,
      worker_running: this.#worker ? 1 : 0,
    };
  }

  dispose(): void {
    void this.stop();
  }

  #post(message: ToPlanner): void {
    const transfer =
      message.op === 'model'
        ? [message.data.buffer as ArrayBuffer]
        : message.op === 'state'
          ? [message.state.buffer as ArrayBuffer]
          : [];
    this.#worker?.postMessage(message, transfer);
  }

  #receive(m: FromPlanner): void {
    switch (m.op) {
      case 'ready': {
        this.#event({ kind: 'ready', backend: m.backend });
        return;
      }
      case 'model':
        if (m.ok) {
          this.#workerVersion = m.version;
          this.#event({ kind: 'model', version: m.version, description: m.description });
          return;
        }
        this.#counters.modelsRejected++;
        {
          this.#event({ kind: 'model_refused', version: m.version, message: m.message });
          return;
        }
      case 'plan':
        this.#plan = {
          policy: m.policy,
          stateStampNs: m.stateStampNs,
          modelVersion: m.modelVersion,
          planMs: m.planMs,
          iterations: m.iterations,
          evaluations: m.evaluations,
          bestCost: m.bestCost,
        };
        this.#counters.plan(m.evaluations, m.planMs);
        return;
      case 'error': {
        this.#event({ kind: 'error', message: m.message });
        return;
      }
    }
  }

  #event(event: PlanningEvent): void {
    if (event.kind === 'error' || event.kind === 'model_refused') this.#lastError = event.message;
    this.#options.onEvent?.(event);
  }
}
