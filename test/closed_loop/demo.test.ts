import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LaunchReport } from '../../framework/runtime/launcher.js';

// `npm start`'s demo launch, end to end: the run ends when the arm's goal sequencer has judged its
// last target (its on_exit: shutdown, as under ros2 launch), the cart-pole balancing until then,
// and the summary, plots and report are written. Both run in lockstep, each tick with its command (the configs' long
// lockstep_timeout_s keeps a loaded machine from making a bridge step without one; the report
// says none did). The child gets a generous wall limit: a hang, not a slow machine, reaches it.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const WALL_LIMIT_MS = 100_000;

test(
  'the demo launch (npm start) runs until the arm has reached its targets, the cart-pole balancing, prints a summary, writes plots and a report',
  { timeout: WALL_LIMIT_MS + 20_000 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'dynastack-demo-'));
    const report = join(dir, 'report.json');
    const r = spawnSync(
      process.execPath,
      [
        join(root, 'dist/cli/main.js'),
        'launch',
        join(root, 'launch/demo.launch.yaml'),
        `out:=${dir}`,
        '--report',
        report,
      ],
      { cwd: root, encoding: 'utf8', timeout: WALL_LIMIT_MS },
    );
    assert.equal(
      r.error,
      undefined,
      `the demo did not finish within ${WALL_LIMIT_MS / 1000} s: ${String(r.error)}\n${r.stdout}${r.stderr}`,
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /stopping \(finished: \/arm\/goal_sequencer: reached 4 of 4 targets within 1\.0 cm \(on_exit: shutdown\)\)/,
    );
    assert.match(r.stdout, /\/cartpole\/sim_bridge +simulated \d+\.\d+ s .*, [1-9]\d* pushes of 15 N/);
    assert.match(r.stdout, /summary \(/);
    assert.match(r.stdout, /\/arm\/goal_sequencer +reached 4 of 4 targets within 1\.0 cm/);
    for (const plot of ['cartpole.svg', 'arm.svg']) {
      const svg = readFileSync(join(dir, plot), 'utf8');
      assert.match(svg, /^<svg[^>]*>/);
      assert.ok(svg.includes('<path'), `${plot} has lines`);
    }
    assert.match(readFileSync(join(dir, 'arm.csv'), 'utf8'), /^series,t,y\nq:/);
    const json = JSON.parse(readFileSync(report, 'utf8')) as LaunchReport;
    const nodes = json.nodes.map((n) => n.node).sort();
    assert.deepEqual(nodes, [
      '/arm/controller',
      '/arm/goal_sequencer',
      '/arm/plot_recorder',
      '/arm/sim_bridge',
      '/arm/state_estimator',
      '/cartpole/controller',
      '/cartpole/plot_recorder',
      '/cartpole/sim_bridge',
      '/cartpole/state_estimator',
    ]);
    const topics = json.nodes.find((n) => n.node === '/cartpole/sim_bridge')!.topics.map((t) => t.topic);
    assert.ok(topics.includes('/cartpole/joint_states') && topics.includes('/cartpole/clock'), topics.join(', '));
    for (const bridge of ['/cartpole/sim_bridge', '/arm/sim_bridge'])
      assert.equal(
        json.nodes.find((n) => n.node === bridge)!.metrics.command_timeouts,
        0,
        `${bridge} timed out waiting for a command`,
      );
  },
);
