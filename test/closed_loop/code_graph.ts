import { registry } from '../../nodes/index.js';
import { Launcher, type LaunchReport } from '../../framework/runtime/launcher.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { defineParams } from '../../src/util/param_schema.js';
import { timeToNs } from '../../framework/time/time.js';
import type { LaunchDescription } from '../../framework/launch/types.js';
import type { DiagnosticStatus } from '../../framework/msgs/types.js';
import { codeNode, LAUNCH_WALL_LIMIT_MS, type Sample } from './harness.js';

// A graph built in code (no launch file names it), run in this process as `dynastack launch`
// runs one, with a probe that records the joint states, the commands and the controller's
// /diagnostics, until every node whose work ends has finished; one that has not within the wall
// limit (a hang, not a slow machine) fails saying how far it got.

export interface CodeGraphRun {
  readonly report: LaunchReport;
  readonly samples: Sample[];
  /** each command, with the sim time of the newest joint state when it came */
  readonly commands: { readonly tNs: bigint; readonly u: number[] }[];
  readonly controllerStatus: DiagnosticStatus[];
  metrics(node: string): Record<string, number | string | boolean>;
}

/** The nodes (exec and parameter values), in launch order. */
export function codeGraph(
  origin: string,
  nodes: readonly (readonly [string, Record<string, unknown>])[],
): LaunchDescription {
  return {
    file: origin,
    args: {},
    warnings: [],
    nodes: nodes.map(([exec, values]) => codeNode(origin, exec, values)),
  };
}

export async function runCodeGraph(
  description: LaunchDescription,
  wallLimitMs = LAUNCH_WALL_LIMIT_MS,
): Promise<CodeGraphRun> {
  const transport = new EmbeddedTransport({ checkMessages: true });
  const launcher = new Launcher(description, { transport, registry, logLevelSpec: 'error', checkMessages: true });
  const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
  const samples: Sample[] = [];
  const commands: { tNs: bigint; u: number[] }[] = [];
  const controllerStatus: DiagnosticStatus[] = [];
  const all = { qos: { history: 'keep_all' as const } };
  probe.createSubscription(
    'sensor_msgs/msg/JointState',
    '/joint_states',
    (m) => samples.push({ tNs: timeToNs(m.header.stamp), position: Array.from(m.position) }),
    all,
  );
  probe.createSubscription(
    'std_msgs/msg/Float64MultiArray',
    '/forward_command_controller/commands',
    (m) => commands.push({ tNs: samples.at(-1)?.tNs ?? -1n, u: Array.from(m.data) }),
    all,
  );
  probe.createSubscription(
    'diagnostic_msgs/msg/DiagnosticArray',
    '/diagnostics',
    (m) => controllerStatus.push(...m.status.filter((s) => s.name.includes('controller'))),
    all,
  );
  let limit: NodeJS.Timeout | undefined;
  try {
    await launcher.configure();
    await launcher.activate();
    const finished = launcher.allFinished();
    if (!finished) throw new Error(`${description.file}: no node whose work ends`);
    const inTime = await Promise.race([
      finished.then(() => true),
      new Promise<boolean>((resolve) => (limit = setTimeout(() => resolve(false), wallLimitMs))),
    ]);
    if (!inTime) {
      const last = samples.at(-1);
      throw new Error(
        `${description.file} did not finish within ${wallLimitMs / 1000} s of wall time (${samples.length} joint states, the last at ${last ? Number(last.tNs) / 1e9 : '-'} s sim time, ${commands.length} commands)`,
      );
    }
  } finally {
    clearTimeout(limit);
    await launcher.shutdown();
    probe.destroy();
  }
  const report = await launcher.report();
  await transport.shutdown();
  return {
    report,
    samples,
    commands,
    controllerStatus,
    metrics: (node) => {
      const n = report.nodes.find((x) => x.node === node);
      if (!n) throw new Error(`no node ${node} in the report (${report.nodes.map((x) => x.node).join(', ')})`);
      return n.metrics;
    },
  };
}
