import { packageRoot } from '../../src/util/paths.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli as startCliProcess, type CliProcess } from './cli_process.js';
import type { LaunchReport } from '../../framework/runtime/launcher.js';

// The dynastack command as a user runs it: clean shutdown on signals, `params`, a bad parameter
// file, `run` with --ros-args, a node that fails (non-zero status), --duration's own message.

const root = packageRoot();
const cli = join(root, 'dist/cli/main.js');
/** the same command with the test fixture nodes among its executables */
const cliWithFixtures = join(root, 'dist/test/cli/with_fixture_nodes.js');

/** The CLI as a child process whose output the test watches (./cli_process.ts). */
const startCli = (args: string[]): CliProcess => startCliProcess(cli, args, root);

/** Start a launch, wait until the listener has heard the talker, send a signal, and return how it ended. */
async function launchAndSignal(signal: NodeJS.Signals) {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-'));
  const report = join(dir, 'report.json');
  const proc = startCli([
    'launch',
    join(root, 'launch/talker_listener.launch.yaml'),
    'rate_hz:=200.0',
    '--report',
    report,
  ]);
  try {
    // the listener logs its count every second: wait for one that is not 0 (the talker, in its
    // worker, may not have published yet when the first comes)
    await proc.waitFor(/received [1-9]\d* joint states/);
    const code = await proc.stop(signal);
    return { code, output: proc.output(), report: JSON.parse(readFileSync(report, 'utf8')) as LaunchReport };
  } finally {
    proc.kill();
  }
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

// `run` applies --ros-args to its one node: the __node remap names it, and a -p value is checked
// against that node's declaration (an out-of-range one stops it, naming the node). How often the
// listener logs is not checked here: a count in a fixed run time depends on the machine's load.
test('dynastack run starts one node as ros2 run would, with --ros-args', async () => {
  const proc = startCli(['run', 'demo_listener', '--ros-args', '-r', '__node:=ears', '-p', 'report_period_s:=0.1']);
  try {
    await proc.waitFor(/\[\/ears\] received 0 joint states/);
    assert.equal(await proc.stop('SIGINT'), 0, proc.output());
    assert.match(proc.output(), /\/ears: stopping \(SIGINT\)/);
  } finally {
    proc.kill();
  }
  // --duration only ends the run if the bad value were accepted (then the status would be 0)
  const bad = spawnSync(
    process.execPath,
    [
      cli,
      'run',
      'demo_listener',
      '--duration',
      '30',
      '--ros-args',
      '-r',
      '__node:=ears',
      '-p',
      'report_period_s:=0.001',
    ],
    { encoding: 'utf8', env: { ...process.env, ROS_DISTRO: '' } },
  );
  assert.equal(bad.status, 1, bad.stdout + bad.stderr);
  assert.match(
    bad.stdout + bad.stderr,
    /node \/ears: parameter 'report_period_s': 0\.001 is outside the range \[0\.01, 3600\]/,
  );
});

// --duration only ends these runs if the failure did not (then the status would be 0)
test('a node that fails ends `dynastack launch` with status 1; the summary and the report name it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-'));
  const report = join(dir, 'report.json');
  writeFileSync(
    join(dir, 'fails.launch.yaml'),
    [
      'launch:',
      '- node: {pkg: dynastack, exec: failing_node, name: fails, param: [{name: embedded_thread, value: worker}]}',
      '- node: {pkg: dynastack, exec: demo_listener, name: listener}',
      '',
    ].join('\n'),
  );
  const r = spawnSync(
    process.execPath,
    [cliWithFixtures, 'launch', join(dir, 'fails.launch.yaml'), '--duration', '30', '--report', report],
    { encoding: 'utf8', cwd: root },
  );
  const output = r.stdout + r.stderr;
  assert.equal(r.status, 1, output);
  assert.match(output, /stopping \(\/fails failed: tick 3 threw: simulated fault\)/);
  assert.match(r.stdout, /\n {2}\/fails +FAILED: tick 3 threw: simulated fault\n/);
  const written = JSON.parse(readFileSync(report, 'utf8')) as LaunchReport;
  assert.deepEqual(written.failed, [{ node: '/fails', reason: 'tick 3 threw: simulated fault' }]);
  assert.equal(written.nodes.find((n) => n.node === '/fails')?.thread, 'worker');
});

test('a node that fails ends `dynastack run` with status 1, naming it and why', () => {
  const r = spawnSync(process.execPath, [cliWithFixtures, 'run', 'failing_node', '--duration', '30'], {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, ROS_DISTRO: '' },
  });
  const output = r.stdout + r.stderr;
  assert.equal(r.status, 1, output);
  assert.match(output, /\/failing_node: stopping \(\/failing_node failed: tick 3 threw: simulated fault\)/);
});

test("--duration -1 gets dynastack's message, not the argument parser's", () => {
  for (const args of [
    ['launch', join(root, 'launch/talker_listener.launch.yaml'), '--duration', '-1'],
    ['run', 'demo_talker', '--duration', '-1'],
  ]) {
    const r = spawnSync(process.execPath, [cli, ...args], {
      encoding: 'utf8',
      env: { ...process.env, ROS_DISTRO: '' },
    });
    const output = r.stdout + r.stderr;
    assert.equal(r.status, 1, output);
    assert.match(output, /--duration '-1' is not a positive number of seconds/);
    assert.equal(output.trim().split('\n').length, 1, output);
  }
});
