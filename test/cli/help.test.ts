import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';

// Every dynastack command answers --help (and -h) with its usage on stdout and exit code 0,
// touching nothing: no launch file read, no port opened, no emulator started. The emulator's own
// entry point (forked by tests and the bus bench) does too.

const root = packageRoot();
const cli = join(root, 'dist/cli/main.js');

function run(script: string, args: string[]) {
  const r = spawnSync(process.execPath, [script, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ROS_DISTRO: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const COMMANDS: readonly (readonly [string[], RegExp])[] = [
  [['launch'], /^usage: dynastack launch <file\.launch\.yaml>/],
  [['launch', 'launch/demo.launch.yaml'], /^usage: dynastack launch /],
  [['run'], /^usage: dynastack run <exec>/],
  [['run', 'demo_talker'], /^usage: dynastack run /],
  [['params'], /^usage: dynastack params <exec>/],
  [['nodes'], /^usage: dynastack nodes/],
  [['emulate'], /^usage: dynastack emulate --config <robot\.yaml>[^\n]*\n[\s\S]*--link PATH/],
  [['calibrate'], /^usage: dynastack calibrate --config <robot\.yaml>[\s\S]*--import-lerobot FILE/],
  [['servo'], /^usage: dynastack servo setup --config <robot\.yaml>/],
  [['servo', 'setup'], /^usage: dynastack servo setup --config <robot\.yaml>[\s\S]*--only NAMES/],
];

for (const [args, usage] of COMMANDS) {
  for (const flag of ['--help', '-h']) {
    test(`dynastack ${args.join(' ')} ${flag} prints its usage and exits 0`, () => {
      const r = run(cli, [...args, flag]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, usage);
      assert.equal(r.stderr, '');
    });
  }
}

test('dynastack --help lists every command, servo setup included; a --help after --ros-args is not ours', () => {
  const r = run(cli, ['--help']);
  assert.equal(r.code, 0);
  for (const command of ['launch', 'run', 'params', 'nodes', 'emulate', 'calibrate', 'servo setup'])
    assert.match(r.stdout, new RegExp(`^  dynastack ${command}\\b`, 'm'));
  // `run` with --help inside --ros-args goes to the node's arguments: the unknown node is the error
  const ros = run(cli, ['run', 'no_such_node', '--ros-args', '--help']);
  assert.notEqual(ros.code, 0);
  assert.doesNotMatch(ros.stdout, /^usage:/);
});

test('dynastack servo with no or an unknown subcommand prints its usage and exits 2', () => {
  const none = run(cli, ['servo']);
  assert.equal(none.code, 2);
  assert.match(none.stdout, /^usage: dynastack servo setup/);
  const bad = run(cli, ['servo', 'frobnicate']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown servo command 'frobnicate'/);
});

test('the emulator entry point (dist/hw/emulator/main.js) answers --help too', () => {
  const r = run(join(root, 'dist/hw/emulator/main.js'), ['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^usage: dynastack emulate --config <robot\.yaml>/);
});
