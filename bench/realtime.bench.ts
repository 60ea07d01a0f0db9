import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { runCartpole } from './sim_loop.bench.js';
import type { Figures } from './report.js';

// The command loop with real-time scheduling off and on (the controller's realtime.* parameters,
// src/util/realtime.ts), under four CPU-burning processes beside it on every core: the period
// error p50/p99 and the deadline misses of the cart-pole LQR loop in real time at 100 and 500 Hz,
// SCHED_OTHER (realtime.enabled false) against SCHED_FIFO at priority 50 (realtime.enabled true),
// in one run, and the ratio of the p99s. Two graphs:
// - as launch/cartpole_lqr.launch.yaml places the nodes: all on the main thread, the controller's
//   ticks paced by the bridge's /clock, so SCHED_FIFO covers bridge, estimator and controller;
// - the controller alone in a worker (embedded_thread: worker) on its own wall-clock timer
//   (use_sim_time false: the states then count as stale and it sends its stop action, which does
//   not change the timing), so SCHED_FIFO covers its loop only and the rest stays SCHED_OTHER.
// The burners are separate OS processes, as a background build is: each stops by itself when this
// process is gone (it checks several times a second) or after ten minutes, and all are killed when
// the measurement ends. Where SCHED_FIFO is not permitted, a figure line says so with the cause
// instead of the SCHED_FIFO figures.

const BURNERS = 4;
const SECONDS = 8;

// a busy loop that ends with its parent (process.kill(pid, 0) fails) or after ten minutes
const BURN = `const parent = Number(process.argv[1]);
const end = Date.now() + 600_000;
process.stdout.write('spinning\\n');
for (let i = 1; ; i++)
  if (i % 2e7 === 0) {
    try { process.kill(parent, 0); } catch { process.exit(0); }
    if (Date.now() > end) process.exit(0);
  }`;

/** Start the burners and wait until each is spinning. */
async function startBurners(n: number): Promise<ChildProcess[]> {
  const burners: ChildProcess[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const child = spawn(process.execPath, ['-e', BURN, String(process.pid)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      burners.push(child);
      const spinning = once(child.stdout, 'data');
      const failed = once(child, 'exit').then(([code]) => {
        throw new Error(`a CPU burner exited (${String(code)}) before it started spinning`);
      });
      const late = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('a CPU burner did not start within 10 s')), 10_000).unref(),
      );
      await Promise.race([spinning, failed, late]);
    }
    return burners;
  } catch (err) {
    await stopBurners(burners);
    throw err;
  }
}

async function stopBurners(burners: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    burners.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }),
  );
}

const GRAPHS = [
  { suffix: '', controller: {} },
  { suffix: ', controller alone in a worker', controller: { embedded_thread: 'worker', use_sim_time: false } },
] as const;

export async function realtimeBenchmarks(figures: Figures): Promise<void> {
  await runCartpole({ sim_time_s: '5.0' }); // warm-up: V8 tier-up of the whole loop
  const burners = await startBurners(BURNERS);
  try {
    for (const graph of GRAPHS) {
      for (const hz of [100, 500]) {
        const run = async (enabled: boolean) =>
          (
            await runCartpole({ mode: 'realtime', sim_time_s: '0.0', rate_hz: hz.toFixed(1) }, SECONDS, {
              ...graph.controller,
              'realtime.enabled': enabled,
              'realtime.priority': 50,
            })
          )('/controller');
        const off = await run(false);
        const on = await run(true);
        const label = (policy: string): string => `${hz} Hz, ${policy}, ${BURNERS} burners${graph.suffix}`;
        const report = (policy: string, c: Record<string, number | string | boolean>): void => {
          figures.add(`command loop period error p50 (${label(policy)})`, Number(c['period_error_p50_us']), 'µs');
          figures.add(`command loop period error p99 (${label(policy)})`, Number(c['period_error_p99_us']), 'µs');
          figures.add(
            `command loop deadline misses (${label(policy)}, ${SECONDS} s)`,
            Number(c['deadline_misses']),
            'ticks',
          );
        };
        report('SCHED_OTHER', off);
        if (on['realtime_policy'] !== 'SCHED_FIFO') {
          figures.add(
            `command loop SCHED_FIFO not permitted here (${hz} Hz${graph.suffix}): ${String(on['realtime_cause'] ?? on['realtime_policy'])}`,
            0,
            'not measured',
          );
          continue;
        }
        report('SCHED_FIFO', on);
        figures.add(
          `  ratio p99 SCHED_FIFO / SCHED_OTHER (${hz} Hz, ${BURNERS} burners${graph.suffix})`,
          Number(on['period_error_p99_us']) / Number(off['period_error_p99_us']),
          'x',
        );
      }
    }
  } finally {
    await stopBurners(burners);
  }
}
