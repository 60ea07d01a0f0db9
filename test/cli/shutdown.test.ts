import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli as startCliProcess, type CliProcess } from './cli_process.js';
import { packageRoot } from '../../src/util/paths.js';

// How `dynastack run` and `dynastack launch` end. Ctrl-C under ros2 launch reaches a node's process
// twice within milliseconds (the terminal's SIGINT to the whole group, then ros2 launch's), and
// ros2 launch follows with SIGTERM: none of the repeats may cut the stop actions short (one line
// says the shutdown is under way). A node declared with `on_exit: shutdown` ends the launch when its
// work has finished, as ros2 launch ends when that node's process exits.

const root = packageRoot();
const cli = join(root, 'dist/test/cli/with_fixture_nodes.js');

/** The CLI (with the fixture nodes) as a child process whose output the test can wait on. */
const startCli = (args: string[]): CliProcess => startCliProcess(cli, args, root);

/** SIGINT, SIGINT, SIGTERM in quick succession once the node deactivates, as Ctrl-C under ros2 launch delivers them. */
async function ctrlCAsRos2LaunchDoes(proc: ReturnType<typeof startCli>): Promise<number | null> {
  proc.child.kill('SIGINT');
  await proc.waitFor(/deactivating/);
  proc.child.kill('SIGINT');
  proc.child.kill('SIGTERM');
  return proc.exited;
}

test('dynastack run: SIGINT twice and SIGTERM during the shutdown do not cut the stop actions short', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'dynastack-stop-')), 'stops.txt');
  const proc = startCli(['run', 'slow_stop_node', '--ros-args', '-p', 'deactivate_s:=1.0', '-p', `stop_file:=${file}`]);
  try {
    await proc.waitFor(/\[\/slow_stop_node\] active/);
    const code = await ctrlCAsRos2LaunchDoes(proc);
    const output = proc.output();
    assert.equal(code, 0, output);
    assert.ok(existsSync(file), `no stop action ran:\n${output}`);
    assert.equal(readFileSync(file, 'utf8'), '/slow_stop_node deactivated\n/slow_stop_node cleaned up\n', output);
    assert.equal(output.match(/the shutdown \(SIGINT\) is under way/g)?.length, 1, output);
    assert.match(output, /\/slow_stop_node: stopping \(SIGINT\)/);
    // its line of the summary, as dynastack launch prints it, at the end
    assert.match(output, /\/slow_stop_node: summary: ticked \d+ times\n$/);
  } finally {
    proc.kill();
  }
});

test('dynastack launch: SIGINT twice and SIGTERM during the shutdown do not cut any node’s stop actions short', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-stop-'));
  const file = join(dir, 'stops.txt');
  writeFileSync(
    join(dir, 'slow.launch.yaml'),
    [
      'launch:',
      `- node: {pkg: dynastack, exec: slow_stop_node, name: first, param: [{name: stop_file, value: ${file}}]}`,
      `- node: {pkg: dynastack, exec: slow_stop_node, name: second, param: [{name: stop_file, value: ${file}}, {name: deactivate_s, value: 1.0}]}`,
      '',
    ].join('\n'),
  );
  const proc = startCli(['launch', join(dir, 'slow.launch.yaml')]);
  try {
    await proc.waitFor(/2 node\(s\) active/);
    const code = await ctrlCAsRos2LaunchDoes(proc);
    const output = proc.output();
    assert.equal(code, 0, output);
    // reverse order: deactivate every node, then clean every one up
    assert.equal(
      existsSync(file) && readFileSync(file, 'utf8'),
      '/second deactivated\n/first deactivated\n/second cleaned up\n/first cleaned up\n',
      output,
    );
    assert.equal(output.match(/is under way/g)?.length, 1, output);
    assert.match(output, /summary \(/);
  } finally {
    proc.kill();
  }
});

test('a signal during start-up is kept: the run stops, with its stop actions, once the node is up', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'dynastack-stop-')), 'stops.txt');
  const proc = startCli(['run', 'slow_stop_node', '--ros-args', '-p', 'configure_s:=1.0', '-p', `stop_file:=${file}`]);
  try {
    await proc.waitFor(/\[\/slow_stop_node\] configuring/);
    proc.child.kill('SIGINT');
    proc.child.kill('SIGINT');
    const code = await proc.exited;
    const output = proc.output();
    assert.equal(code, 0, output);
    assert.equal(readFileSync(file, 'utf8'), '/slow_stop_node deactivated\n/slow_stop_node cleaned up\n', output);
    assert.match(output, /stopping \(SIGINT\)/);
  } finally {
    proc.kill();
  }
});

test('on_exit: shutdown on a node ends the launch when that node has finished, as ros2 launch does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-onexit-'));
  writeFileSync(
    join(dir, 'on_exit.launch.yaml'),
    [
      'launch:',
      '- node: {pkg: dynastack, exec: slow_stop_node, name: short, on_exit: shutdown, param: [{name: finish_after_ticks, value: 5}]}',
      // its work has an end too, far later: without on_exit the launch would wait for it
      '- node: {pkg: dynastack, exec: slow_stop_node, name: long, param: [{name: finish_after_ticks, value: 1000000}]}',
      '',
    ].join('\n'),
  );
  // --duration only ends the run if on_exit did not (then the reason would be '--duration 60 s')
  const r = spawnSync(process.execPath, [cli, 'launch', join(dir, 'on_exit.launch.yaml'), '--duration', '60'], {
    encoding: 'utf8',
    cwd: root,
  });
  const output = r.stdout + r.stderr;
  assert.equal(r.status, 0, output);
  assert.match(output, /stopping \(finished: \/short: ticked 5 times \(on_exit: shutdown\)\)/);
  assert.doesNotMatch(output, /is ignored by the embedded launcher/);
});
