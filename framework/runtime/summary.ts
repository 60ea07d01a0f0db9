import type { LaunchReport } from './launcher.js';
import type { Metrics } from './node_definition.js';

// The end-of-run summary `dynastack launch` prints: each node's summary (a sentence, and for a
// node that judges its task a second line saying whether it was achieved), for a node that failed
// for good that it failed and why, and, when any node judges a task, one line with every judge's
// verdict and the launch's: achieved when every judge says so and no node failed. A script reads
// the same from the report: each judge's metrics.task_achieved and the report's task_achieved.

interface JudgedNode {
  readonly node: string;
  readonly metrics: Metrics;
  readonly failed?: string;
}

/** Every judge's verdict and the launch's, or undefined when no node judges a task. */
export function taskVerdict(
  nodes: readonly JudgedNode[],
): { readonly achieved: boolean; readonly judges: { node: string; achieved: boolean }[] } | undefined {
  const judges = nodes.flatMap((n) =>
    typeof n.metrics['task_achieved'] === 'boolean' ? [{ node: n.node, achieved: n.metrics['task_achieved'] }] : [],
  );
  if (judges.length === 0) return undefined;
  return { achieved: judges.every((j) => j.achieved) && nodes.every((n) => n.failed === undefined), judges };
}

/** The summary block, or '' when no node has a summary and none failed. */
export function summaryText(report: LaunchReport): string {
  const lines: string[] = [];
  const indent = ' '.repeat(31);
  for (const n of report.nodes) {
    if (n.summary) lines.push(`  ${n.node.padEnd(28)} ${n.summary.split('\n').join(`\n${indent}`)}`);
    if (n.failed !== undefined) lines.push(`  ${n.node.padEnd(28)} FAILED: ${n.failed}`);
  }
  const verdict = taskVerdict(report.nodes);
  if (verdict) {
    const each = verdict.judges.map((j) => `${j.node} ${j.achieved ? 'yes' : 'NO'}`).join(', ');
    const failed = report.nodes.some((n) => n.failed !== undefined) ? '; a node failed' : '';
    lines.push(`  ${verdict.achieved ? 'task achieved: yes' : 'task NOT achieved'} (${each}${failed})`);
  }
  if (lines.length === 0) return '';
  return `\nsummary (${report.wall_time_s.toFixed(1)} s of wall time)\n${lines.join('\n')}\n\n`;
}
