import { join } from 'node:path';
import { registry } from '../../nodes/index.js';
import { loadLaunchFile } from '../../framework/launch/parse.js';
import { Launcher, type LaunchReport } from '../../framework/runtime/launcher.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { defineParams } from '../../src/util/param_schema.js';
import { findPackageShare } from '../../cli/find_package.js';
import { packageRoot } from '../../src/util/paths.js';
import { timeToNs } from '../../framework/time/time.js';
import type { NodeHandle } from '../../framework/transport/types.js';
import type { LaunchNode } from '../../framework/launch/types.js';

// Runs a launch file of the package in this process, as `dynastack launch` does, with a probe
// node on the same bus that records every /joint_states sample, until the graph finishes; a graph
// that has not finished within a generous wall limit (a hang, not a slow machine) is a failure that
// says so.

/** wall time a launch may take to finish before runLaunch fails */
export const LAUNCH_WALL_LIMIT_MS = 60_000;

export interface Sample {
  readonly tNs: bigint;
  readonly position: number[];
}

export interface Run {
  readonly report: LaunchReport;
  readonly samples: Sample[];
  metrics(node: string): Record<string, number | string | boolean>;
}

export async function runLaunch(
  file: string,
  args: Record<string, string>,
  options: {
    jointStates?: string;
    during?: (probe: NodeHandle, transport: EmbeddedTransport) => void;
    /** default LAUNCH_WALL_LIMIT_MS */
    wallLimitMs?: number;
  } = {},
): Promise<Run> {
  const wallLimitMs = options.wallLimitMs ?? LAUNCH_WALL_LIMIT_MS;
  const description = loadLaunchFile(join(packageRoot(), 'launch', file), args, { findPackageShare });
  const transport = new EmbeddedTransport({ checkMessages: true });
  const launcher = new Launcher(description, { transport, registry, logLevelSpec: 'error', checkMessages: true });
  const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
  const samples: Sample[] = [];
  probe.createSubscription(
    'sensor_msgs/msg/JointState',
    options.jointStates ?? '/joint_states',
    (m) => {
      samples.push({ tNs: timeToNs(m.header.stamp), position: Array.from(m.position) });
    },
    { qos: { history: 'keep_all' } },
  );
  let limit: NodeJS.Timeout | undefined;
  try {
    await launcher.configure();
    await launcher.activate();
    options.during?.(probe, transport);
    const finished = launcher.allFinished();
    if (!finished) throw new Error(`${file} has no node whose work ends`);
    const inTime = await Promise.race([
      finished.then(() => true),
      new Promise<boolean>((resolve) => (limit = setTimeout(() => resolve(false), wallLimitMs))),
    ]);
    if (!inTime) {
      const last = samples.at(-1);
      throw new Error(
        `${file} did not finish within ${wallLimitMs / 1000} s of wall time (${samples.length} joint states, the last at ${last ? Number(last.tNs) / 1e9 : '-'} s sim time)`,
      );
    }
  } finally {
    clearTimeout(limit);
    await launcher.shutdown();
    probe.destroy();
  }
  const report = await launcher.report();
  return {
    report,
    samples,
    metrics: (node) => {
      const n = report.nodes.find((x) => x.node === node);
      if (!n) throw new Error(`no node ${node} in the report (${report.nodes.map((x) => x.node).join(', ')})`);
      return n.metrics;
    },
  };
}

/** A node of a graph built in code (as a launch file's `node` would give), its parameters as values. */
export function codeNode(origin: string, exec: string, values: Record<string, unknown>): LaunchNode {
  return {
    pkg: 'dynastack',
    exec,
    namespace: '/',
    parameters: Object.entries(values).map(([name, value]) => ({ kind: 'value' as const, name, value })),
    remaps: [],
    args: [],
    rosArgs: [],
    origin: `${origin}: ${exec}`,
  };
}
