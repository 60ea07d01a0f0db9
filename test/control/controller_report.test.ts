import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  controllerHealth,
  controllerMetrics,
  controllerSummary,
  type ControllerFigures,
} from '../../src/control/controller_report.js';
import { SAFETY_REASONS } from '../../src/control/safety.js';
import { TrackingStats } from '../../src/control/tracking_stats.js';
import { JointGoalJudge } from '../../src/tasks/task_judge.js';

// The controller's health report, summary sentence and report figures from one set of figures:
// the keys tests and the demo report read, the level rules, and the planner's part.

const counters = (over: Partial<Record<string, number>> = {}) =>
  ({
    calls: 10,
    ...Object.fromEntries(SAFETY_REASONS.map((r) => [r, 0])),
    ...over,
  }) as ControllerFigures['safety']['counters'];

function figures(over: Partial<ControllerFigures> = {}): ControllerFigures {
  const tracking = new TrackingStats(['cart', 'pole'], 0n);
  tracking.newGoal(Float64Array.of(0, 0, 0, 0), 0n);
  tracking.add(1n, Float64Array.of(0.1, -0.2, 0, 0));
  return {
    rateHz: 100,
    loop: { ticks: 10, deadlineMisses: 0, periodErrorP50Us: 1.25, periodErrorP99Us: 3, computeP99Us: 40.04 },
    safety: { counters: counters({ effort_limit: 2 }), estopped: false, estopReason: '' },
    planner: { name: 'lqr', status: () => ({ goals: 1, solve_ms: 0.5 }) },
    learned: undefined,
    worker: undefined,
    tracking,
    commandsPublished: 9,
    ...over,
  };
}

const LEARNED = {
  modelVersion: 0,
  exploring: true,
  metrics: () => ({ exploration_ticks: 7, plans: 3, plan_ms_mean: 1.234, models_received: 0, model_version: 0 }),
};

test('health: OK with the loop, safety and planner figures as diagnostics strings', () => {
  const report = controllerHealth('/controller: command loop', figures());
  assert.equal(report.level, 'ok');
  assert.equal(report.name, '/controller: command loop');
  assert.equal(report.message, '100 Hz, lqr');
  assert.deepEqual(Object.keys(report.values), [
    'ticks',
    'deadline_misses',
    'period_error_p50_us',
    'period_error_p99_us',
    'compute_p99_us',
    'safety.calls',
    ...SAFETY_REASONS.map((r) => `safety.${r}`),
    'planner.goals',
    'planner.solve_ms',
  ]);
  assert.equal(report.values['period_error_p50_us'], '1.3');
  assert.equal(report.values['compute_p99_us'], '40.0');
  assert.equal(report.values['safety.effort_limit'], '2');
  assert.equal(report.values['planner.solve_ms'], '0.5');
});

test('health levels: deadline misses or stale states warn, an e-stop is an error and says why', () => {
  assert.equal(controllerHealth('c', figures({ loop: { ...figures().loop, deadlineMisses: 1 } })).level, 'warn');
  assert.equal(
    controllerHealth(
      'c',
      figures({ safety: { counters: counters({ stale_state: 1 }), estopped: false, estopReason: '' } }),
    ).level,
    'warn',
  );
  const stopped = controllerHealth(
    'c',
    figures({ safety: { counters: counters(), estopped: true, estopReason: '/emergency_stop received true' } }),
  );
  assert.equal(stopped.level, 'error');
  assert.equal(stopped.message, 'EMERGENCY STOP: /emergency_stop received true');
});

test('a planner over the learned model: its state in the message, stale plans when it plans in a worker', () => {
  const exploring = figures({ planner: { name: 'cem over the learned model', status: () => ({}) }, learned: LEARNED });
  assert.equal(
    controllerHealth('c', exploring).message,
    '100 Hz, cem over the learned model, exploring until a model arrives',
  );
  const waiting = figures({ learned: { ...LEARNED, exploring: false } });
  assert.equal(controllerHealth('c', waiting).message, '100 Hz, lqr, waiting for a model');
  const planning = figures({ learned: { ...LEARNED, modelVersion: 4 }, worker: { stalePlans: 5 } });
  const report = controllerHealth('c', planning);
  assert.equal(report.message, '100 Hz, lqr, model v4');
  assert.equal(report.values['stale_plans'], '5');
  assert.equal(Object.keys(report.values).indexOf('stale_plans'), 5, 'after the loop figures, before safety');
});

test('summary and metrics: the keys the launcher report carries', () => {
  assert.equal(
    controllerSummary(figures()),
    '10 ticks at 100 Hz, 0 deadline misses; largest error after settling cart 0.1000, pole 0.2000; safety: 2 limited, 0 stop actions',
  );
  assert.equal(
    controllerSummary(figures({ learned: LEARNED, worker: { stalePlans: 5 } })),
    '10 ticks at 100 Hz, 0 deadline misses; 7 exploration ticks, 3 plans in a worker (mean 1.2 ms), 0 models received, 5 ticks with a stale plan; largest error after settling cart 0.1000, pole 0.2000; safety: 2 limited, 0 stop actions',
  );
  const m = controllerMetrics(figures({ learned: LEARNED, worker: { stalePlans: 5 } }));
  assert.equal(m['commands_published'], 9);
  assert.equal(m['ticks'], 10);
  assert.equal(m['safety_effort_limit'], 2);
  assert.equal(m['max_error_pole'], 0.2);
  assert.equal(m['planner_exploration_ticks'], 7);
  assert.equal(m['stale_plans'], 5);
  assert.deepEqual(
    Object.keys(controllerMetrics(figures())).filter((k) => k.startsWith('planner_') || k === 'stale_plans'),
    [],
  );
});

test('a failed controller: ERROR on /diagnostics with the reason, and the summary says it failed', () => {
  const failure = 'a control tick failed at 0.010 s: injected fault';
  const report = controllerHealth('/controller: command loop', figures({ failure }));
  assert.equal(report.level, 'error');
  assert.equal(report.message, `FAILED, sending the stop action: ${failure}`);
  assert.match(controllerSummary(figures({ failure })), /; failed: a control tick failed at 0\.010 s: injected fault$/);
  // not failed: nothing about it
  assert.doesNotMatch(controllerSummary(figures()), /failed/);
});

test('with a judge: the summary gains the task verdict line, the figures task_achieved; a failure is not achieved', () => {
  const judged = (failure?: string) => {
    const judge = new JointGoalJudge([{ name: 'pole', index: 1, tolerance: 0.1, wrap: true }], {});
    const tracking = new TrackingStats(['cart', 'pole'], 0n, judge);
    tracking.newGoal(Float64Array.of(0, 0, 0, 0), 0n);
    tracking.add(1n, Float64Array.of(0.1, 2 * Math.PI - 0.05, 0, 0));
    return figures({ tracking, ...(failure !== undefined ? { failure } : {}) });
  };
  assert.match(controllerSummary(judged()), /stop actions\ntask achieved: yes — pole within 0\.100 of the goal/);
  assert.equal(controllerMetrics(judged()).task_achieved, true);
  assert.match(controllerSummary(judged('tick threw')), /\ntask NOT achieved: the controller failed: tick threw$/);
  assert.equal(controllerMetrics(judged('tick threw')).task_achieved, false);
  // without a judge: no line, no figure
  assert.doesNotMatch(controllerSummary(figures()), /task/);
  assert.equal('task_achieved' in controllerMetrics(figures()), false);
});
