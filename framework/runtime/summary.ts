import type { LaunchReport } from './launcher.js';

// The end-of-run summary `dynastack launch` prints: each node's one-sentence summary, and for a
// node that failed for good, that it failed and why.

/** The summary block, or '' when no node has a summary and none failed. */
export function summaryText(report: LaunchReport): string {
  const lines: string[] = [];
  for (const n of report.nodes) {
    if (n.summary) lines.push(`  ${n.node.padEnd(28)} ${n.summary}`);
    if (n.failed !== undefined) lines.push(`  ${n.node.padEnd(28)} FAILED: ${n.failed}`);
  }
  if (lines.length === 0) return '';
  return `\nsummary (${report.wall_time_s.toFixed(1)} s of wall time)\n${lines.join('\n')}\n\n`;
}
