import type { HealthLevel, HealthReport } from '../util/health.js';
import type { LoopSummary } from './loop_stats.js';
import type { LearnedPlanning, Planner } from './planner.js';
import type { SafetyCounters } from './safety.js';
import type { TrackingStats } from './tracking_stats.js';
import { verdictLine } from '../tasks/task_judge.js';

// What the controller says about itself: its health for /diagnostics (the command loop's rate,
// the safety layer's counts and the planner's figures; ERROR with the reason once it has failed
// for good), the sentence of the end-of-run summary, and the figures of the launcher's report. All
// three read one ControllerFigures, taken when asked. With a judge (judge.*), the summary gains a
// second line saying whether the task was achieved, and the figures `task_achieved`.

export interface ControllerFigures {
  readonly rateHz: number;
  readonly loop: LoopSummary;
  readonly safety: { readonly counters: SafetyCounters; readonly estopped: boolean; readonly estopReason: string };
  readonly planner: Pick<Planner, 'name' | 'status'>;
  /** the planner over the learned model, when it is one */
  readonly learned: Pick<LearnedPlanning, 'modelVersion' | 'exploring' | 'metrics'> | undefined;
  /** it plans in a worker thread: how many ticks found its newest plan stale */
  readonly worker: { readonly stalePlans: number } | undefined;
  readonly tracking: Pick<TrackingStats, 'summary' | 'metrics' | 'verdict'>;
  readonly commandsPublished: number;
  /** why the controller failed for good (it sends its stop action), once it has */
  readonly failure?: string;
}

/** The command loop's health: a failure or an e-stop is an error, deadline misses or stale states a warning. */
export function controllerHealth(name: string, f: ControllerFigures): HealthReport {
  const { loop: s, safety, learned } = f;
  const counters = safety.counters;
  const level: HealthLevel =
    f.failure !== undefined || safety.estopped ? 'error' : s.deadlineMisses || counters.stale_state ? 'warn' : 'ok';
  const model = learned
    ? learned.modelVersion
      ? `, model v${learned.modelVersion}`
      : learned.exploring
        ? ', exploring until a model arrives'
        : ', waiting for a model'
    : '';
  const values: Record<string, string> = {
    ticks: String(s.ticks),
    deadline_misses: String(s.deadlineMisses),
    period_error_p50_us: s.periodErrorP50Us.toFixed(1),
    period_error_p99_us: s.periodErrorP99Us.toFixed(1),
    compute_p99_us: s.computeP99Us.toFixed(1),
  };
  if (f.worker) values['stale_plans'] = String(f.worker.stalePlans);
  for (const [k, v] of Object.entries(counters)) values[`safety.${k}`] = String(v);
  for (const [k, v] of Object.entries(f.planner.status())) values[`planner.${k}`] = String(v);
  return {
    level,
    name,
    message:
      f.failure !== undefined
        ? `FAILED, sending the stop action: ${f.failure}`
        : safety.estopped
          ? `EMERGENCY STOP: ${safety.estopReason}`
          : `${f.rateHz} Hz, ${f.planner.name}${model}`,
    hardwareId: '',
    values,
  };
}

/** One sentence for the end-of-run summary, and with a judge a second line: 'task achieved: yes — …'. */
export function controllerSummary(f: ControllerFigures): string {
  const { loop: s, worker } = f;
  const c = f.safety.counters;
  const interventions = c.nan + c.wrong_length + c.stale_state + c.bad_state + c.estop;
  const m = f.learned?.metrics();
  const planning = m
    ? `; ${m['exploration_ticks']} exploration ticks, ${m['plans']} plans${worker ? ' in a worker' : ''} (mean ${(m['plan_ms_mean'] ?? 0).toFixed(1)} ms), ${m['models_received']} models received${m['model_version'] ? `, v${m['model_version']} in use` : ''}${worker ? `, ${worker.stalePlans} ticks with a stale plan` : ''}`
    : '';
  const failure = f.failure !== undefined ? `; failed: ${f.failure}` : '';
  const verdict = f.tracking.verdict(f.failure);
  return `${s.ticks} ticks at ${f.rateHz} Hz, ${s.deadlineMisses} deadline misses${planning}; ${f.tracking.summary()}; safety: ${c.effort_limit + c.position_limit + c.velocity_limit + c.rate_limit} limited, ${interventions} stop actions${failure}${verdict ? `\n${verdictLine(verdict)}` : ''}`;
}

/** Figures for the launcher's report; with a judge, task_achieved. */
export function controllerMetrics(f: ControllerFigures): Record<string, number | boolean> {
  const s = f.loop;
  const verdict = f.tracking.verdict(f.failure);
  return {
    ...(verdict ? { task_achieved: verdict.achieved } : {}),
    commands_published: f.commandsPublished,
    ticks: s.ticks,
    deadline_misses: s.deadlineMisses,
    period_error_p50_us: s.periodErrorP50Us,
    period_error_p99_us: s.periodErrorP99Us,
    ...Object.fromEntries(Object.entries(f.safety.counters).map(([k, v]) => [`safety_${k}`, v])),
    ...f.tracking.metrics(),
    ...(f.learned ? Object.fromEntries(Object.entries(f.learned.metrics()).map(([k, v]) => [`planner_${k}`, v])) : {}),
    ...(f.worker ? { stale_plans: f.worker.stalePlans } : {}),
  };
}
