import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import { startCli } from './cli_process.js';
import type { LaunchReport } from '../../framework/runtime/launcher.js';

// A script checks a run without reading logs: `dynastack launch … --report FILE` of the cart-pole
// LQR launch (lockstep, 3 s of sim time) carries the controller's task_achieved and the launch's,
// and the summary says it in one line. Its config's criterion (balanced within 1 s, held) is met;
// the same launch with a criterion no controller can meet (the pole, started 0.2 rad off, within
// 0.05 rad 10 ms after the start) is not, and says why. Both runs are deterministic (lockstep).

const root = packageRoot();
const cli = join(root, 'dist/cli/main.js');

async function cartpole(config?: string): Promise<{ code: number | null; output: string; report: LaunchReport }> {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-task-'));
  const report = join(dir, 'report.json');
  const proc = startCli(
    cli,
    [
      'launch',
      join(root, 'launch/cartpole_lqr.launch.yaml'),
      'sim_time_s:=3.0',
      'record:=false',
      ...(config ? [`config:=${config}`] : []),
      '--report',
      report,
    ],
    root,
  );
  try {
    const code = await proc.exited;
    return { code, output: proc.output(), report: JSON.parse(readFileSync(report, 'utf8')) as LaunchReport };
  } finally {
    proc.kill();
  }
}

test('cart-pole LQR: the report says the task was achieved, per judge and overall, and so does the summary', async () => {
  const { code, output, report } = await cartpole();
  assert.equal(code, 0, output);
  const controller = report.nodes.find((n) => n.node === '/controller')!;
  assert.equal(controller.metrics['task_achieved'], true, output);
  assert.equal(report.task_achieved, true);
  // nodes that judge nothing report nothing
  assert.equal(report.nodes.find((n) => n.node === '/sim_bridge')!.metrics['task_achieved'], undefined);
  assert.match(output, /task achieved: yes — cart_slide, pole_hinge within/);
  assert.match(output, /\n {2}task achieved: yes \(\/controller yes\)\n/);
});

test('cart-pole LQR with a criterion it cannot meet: task_achieved false, and the summary says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-task-'));
  const config = join(dir, 'cartpole_unmet.yaml');
  const base = readFileSync(join(root, 'config/cartpole_lqr.yaml'), 'utf8');
  const unmet = base
    .replace(/tolerances: \[[^\]]*\]/, 'tolerances: [0.25, 0.05]')
    .replace(/reach_within_s: [\d.]+/, 'reach_within_s: 0.01');
  assert.notEqual(unmet, base, 'config/cartpole_lqr.yaml has no judge.tolerances and judge.reach_within_s to change');
  writeFileSync(config, unmet);
  const { code, output, report } = await cartpole(config);
  // the run itself went well: the task verdict is in the report, not in the exit status
  assert.equal(code, 0, output);
  assert.equal(report.nodes.find((n) => n.node === '/controller')!.metrics['task_achieved'], false, output);
  assert.equal(report.task_achieved, false);
  assert.match(
    output,
    /task NOT achieved: cart_slide, pole_hinge: within \(0\.250, 0\.050\) only at t=\d+\.\d+ s, after its deadline t=0\.01 s/,
  );
  assert.match(output, /\n {2}task NOT achieved \(\/controller NO\)\n/);
});
