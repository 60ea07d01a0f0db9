import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summaryText, taskVerdict } from '../../../framework/runtime/summary.js';
import type { LaunchReport } from '../../../framework/runtime/launcher.js';

// The launch's end summary: a node's second summary line (its task verdict) kept under its first,
// and one line with every judge's verdict and the launch's; no task line when no node judges one.

function report(
  nodes: Array<{ node: string; summary?: string; metrics: Record<string, number | string | boolean>; failed?: string }>,
): LaunchReport {
  return {
    launch: 'x.launch.yaml',
    args: {},
    transport: 'embedded',
    wall_time_s: 1,
    nodes: nodes.map((n) => ({ ...n, thread: 'main' as const, topics: [] })),
  };
}

test('summary: each judge and the overall verdict on one line; a verdict line under its node', () => {
  const r = report([
    { node: '/sim_bridge', summary: 'simulated 10 s', metrics: { ticks: 3 } },
    { node: '/controller', summary: '999 ticks\ntask achieved: yes — held', metrics: { task_achieved: true } },
    {
      node: '/goal_sequencer',
      summary: 'reached 3 of 4\ntask NOT achieved: 3 of 4',
      metrics: { task_achieved: false },
    },
  ]);
  const text = summaryText(r);
  assert.match(text, /\n {2}\/controller {18}999 ticks\n {31}task achieved: yes — held\n/);
  assert.match(text, /\n {2}task NOT achieved \(\/controller yes, \/goal_sequencer NO\)\n/);
  assert.deepEqual(taskVerdict(r.nodes)?.achieved, false);
});

test('summary: all judges achieved is achieved, unless a node failed; no judge, no task line', () => {
  const ok = report([{ node: '/controller', metrics: { task_achieved: true } }]);
  assert.match(summaryText(ok), /task achieved: yes \(\/controller yes\)/);
  const failed = report([
    { node: '/controller', metrics: { task_achieved: true } },
    { node: '/sim_bridge', metrics: {}, failed: 'boom' },
  ]);
  assert.match(summaryText(failed), /task NOT achieved \(\/controller yes; a node failed\)/);
  const none = report([{ node: '/talker', summary: 'published 10', metrics: { count: 10 } }]);
  assert.doesNotMatch(summaryText(none), /task/);
  assert.equal(taskVerdict(none.nodes), undefined);
});
