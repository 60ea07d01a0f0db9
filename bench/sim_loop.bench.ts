import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { registry } from '../nodes/index.js';
import { loadLaunchFile } from '../framework/launch/parse.js';
import { Launcher } from '../framework/runtime/launcher.js';
import { EmbeddedTransport } from '../framework/transport/embedded/transport.js';
import { findPackageShare } from '../cli/find_package.js';
import { packageRoot } from '../src/util/paths.js';
import type { Figures } from './report.js';

// The closed loop as the launch file runs it (sim_bridge → state_estimator → controller →
// sim_bridge, cart-pole, LQR): lockstep ticks per second, and in real time the command loop's
// period error at 100 and 500 Hz while two workers keep both cores busy.

/**
 * Run launch/cartpole_lqr.launch.yaml with these arguments, for `seconds` of wall time or until it
 * ends by itself, with `controllerParams` set on the controller last (so they win); returns the
 * metrics of a node by name.
 */
export async function runCartpole(
  args: Record<string, string>,
  seconds?: number,
  controllerParams: Record<string, unknown> = {},
) {
  const description = loadLaunchFile(
    join(packageRoot(), 'launch/cartpole_lqr.launch.yaml'),
    { record: 'false', ...args },
    { findPackageShare },
  );
  const controller = description.nodes.find((n) => n.exec === 'controller')!;
  for (const [name, value] of Object.entries(controllerParams))
    controller.parameters.push({ kind: 'value', name, value });
  const transport = new EmbeddedTransport();
  const launcher = new Launcher(description, { transport, registry, logLevelSpec: 'error' });
  await launcher.configure();
  await launcher.activate();
  if (seconds !== undefined) await new Promise((r) => setTimeout(r, seconds * 1000));
  else await launcher.allFinished();
  await launcher.shutdown();
  const report = await launcher.report();
  return (node: string) => report.nodes.find((n) => n.node === node)!.metrics;
}

export async function simLoopBenchmarks(figures: Figures): Promise<void> {
  await runCartpole({ sim_time_s: '5.0' }); // warm-up: V8 tier-up of the whole loop
  const lockstep = await runCartpole({ sim_time_s: '60.0' });
  figures.add(
    'lockstep closed loop, cart-pole (bridge + estimator + LQR controller) ticks/s',
    Number(lockstep('/sim_bridge').ticks_per_s),
    'tick/s',
  );
  figures.add('  as real-time factor at 100 Hz', Number(lockstep('/sim_bridge').real_time_factor), 'x');

  for (const nice of [0, 10]) {
    const burners = [0, 1].map(() => new Worker(new URL('./nodes/burn.js', import.meta.url), { workerData: { nice } }));
    await new Promise((r) => setTimeout(r, 200));
    for (const hz of [100, 500]) {
      const rt = await runCartpole({ mode: 'realtime', sim_time_s: '0.0', rate_hz: hz.toFixed(1) }, 5);
      const c = rt('/controller');
      const label = `real time ${hz} Hz, 2 workers at nice ${nice} burning both cores`;
      figures.add(`command loop period error p50 (${label})`, Number(c.period_error_p50_us), 'µs');
      figures.add(`command loop period error p99 (${label})`, Number(c.period_error_p99_us), 'µs');
      figures.add(`command loop deadline misses (${label}, 5 s)`, Number(c.deadline_misses), 'ticks');
    }
    for (const b of burners) b.postMessage('stop');
    await Promise.all(burners.map((b) => b.terminate()));
  }
}
