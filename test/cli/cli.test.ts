import { packageRoot } from '../../src/util/paths.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LaunchReport } from '../../framework/runtime/launcher.js';

// The dynastack command as a user runs it: clean shutdown on signals, `params`, a bad parameter
// file, `run` with --ros-args.

const root = packageRoot();
const cli = join(root, 'dist/cli/main.js');

/** Start a launch, wait until every node is active, send a signal, and return how it ended. */
async function launchAndSignal(signal: NodeJS.Signals, extra: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-'));
  const report = join(dir, 'report.json');
  const child = spawn(
    process.execPath,
    [cli, 'launch', join(root, 'launch/talker_listener.launch.yaml'), 'rate_hz:=200.0', '--report', report, ...extra],
    { cwd: root },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error(`launch did not become active:\n${output}`)), 20_000);
    child.stdout.on('data', () => {
      if (/received \d+ joint states/.test(output)) {
        clearTimeout(timeout);
        resolve();
      }
    });
  });
  child.kill(signal);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, output, report: JSON.parse(readFileSync(report, 'utf8')) as LaunchReport };
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} shuts every node down cleanly, workers included, and the report is written`, async () => {
    const { code, output, report } = await launchAndSignal(signal);
    assert.equal(code, 0, output);
    assert.match(output, new RegExp(`stopping \\(${signal}\\)`));
    const talker = report.nodes.find((n) => n.node === '/talker')!;
    const listener = report.nodes.find((n) => n.node === '/listener')!;
    assert.equal(talker.thread, 'worker');
    assert.ok(Number(talker.metrics.sent) > 0);
    assert.ok(
      Number(listener.metrics.received) > 0 && Number(listener.metrics.received) <= Number(talker.metrics.sent),
    );
    assert.equal(listener.metrics.wrong_joint_count, 0);
    assert.equal(report.args.rate_hz, '200.0');
  });
}

test('dynastack params prints every declared parameter with type, default, range and description', () => {
  const r = spawnSync(process.execPath, [cli, 'params', 'demo_talker'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\| rate_hz \| double \| 100 \| range \[0.1, 10000\] \| publishing rate \|/);
  assert.match(r.stdout, /\| use_sim_time \| bool \| false \|/);
  const y = spawnSync(process.execPath, [cli, 'params', 'demo_talker', '--yaml'], { encoding: 'utf8' });
  assert.match(y.stdout, /demo_talker:\n {2}ros__parameters:\n {4}rate_hz: 100\n/);
});

test('a bad parameter file stops the launch with a message naming file, node and parameter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-'));
  writeFileSync(join(dir, 'bad.yaml'), 'talker:\n  ros__parameters:\n    rate_hz: -5.0\n');
  writeFileSync(
    join(dir, 'bad.launch.yaml'),
    `launch:\n- node:\n    pkg: dynastack\n    exec: demo_talker\n    name: talker\n    param:\n    - from: ${join(dir, 'bad.yaml')}\n`,
  );
  const r = spawnSync(process.execPath, [cli, 'launch', join(dir, 'bad.launch.yaml'), '--duration', '1'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 1);
  assert.match(
    r.stdout + r.stderr,
    /bad\.yaml \(\/talker\): node \/talker: parameter 'rate_hz': -5 is outside the range \[0.1, 10000\]/,
  );
});

test('dynastack run starts one node as ros2 run would, with --ros-args', () => {
  const r = spawnSync(
    process.execPath,
    [
      cli,
      'run',
      'demo_listener',
      '--duration',
      '0.3',
      '--ros-args',
      '-r',
      '__node:=ears',
      '-p',
      'report_period_s:=0.1',
    ],
    { encoding: 'utf8', env: { ...process.env, ROS_DISTRO: '' } },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\[\/ears\] received 0 joint states/);
});
