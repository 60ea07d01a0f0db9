import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import { until } from '../wait.js';
import { tempDir } from './bus_harness.js';

// Ctrl-C with the emulated arm (issue 11, "Ctrl-C can skip cleanup"), as processes: the terminal's
// SIGINT reaches every process of the group at the same moment, and ros2 launch forwards another
// milliseconds later. hw_bridge turns torque off on every servo as it deactivates and again as it
// closes the bus, each read back; the emulator, stopped by the same Ctrl-C, must answer both and
// close only once the bridge has closed the bus. Checked in one process (`dynastack launch`, whose
// launcher stops the nodes in reverse start order) and in two (`dynastack run` of each node, as
// ros2 launch runs them): the bridge reports no failed torque off, the emulator closes because the
// host closed the device and reads torque off on all six servos.

const root = packageRoot();
const cli = join(root, 'dist/cli/main.js');
const SERVOS = 6;

/** A dynastack command as a child process whose output the test can wait on. */
function startCli(t: TestContext, args: string[]) {
  // ROS_DISTRO unset: `dynastack run` picks the embedded transport even where ROS 2 is sourced
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: root,
    env: { ...process.env, ROS_DISTRO: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let code: number | null | undefined;
  child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
  const exited = new Promise<number | null>((done) =>
    child.once('close', (c) => {
      code = c;
      done(c);
    }),
  );
  t.after(() => {
    if (code === undefined) child.kill('SIGKILL');
  });
  return {
    child,
    exited,
    output: () => output,
    /** waits for a line matching `pattern`; fails at once when the process ends without it */
    async waitFor(pattern: RegExp): Promise<void> {
      await until(`${pattern} from dynastack ${args[0]}`, () => {
        if (pattern.test(output)) return true;
        if (code !== undefined) throw new Error(`dynastack ${args[0]} ended (${code}) before ${pattern}:\n${output}`);
        return false;
      });
    },
  };
}

/** What the emulator and the bridge must have said once both stopped. */
function assertStopActionsDone(emulatorOutput: string, bridgeOutput: string, device: string): void {
  const link = device.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assert.doesNotMatch(bridgeOutput, /torque off at (deactivate|close) failed/, bridgeOutput);
  assert.doesNotMatch(bridgeOutput, /not confirmed/, bridgeOutput);
  // the bridge's cleanup ran to its end: its summary follows it (dynastack run's line, or launch's table)
  assert.match(bridgeOutput, /\/hw_bridge(: summary:)? +\d+ bus cycles/, bridgeOutput);
  // the emulator waited for the bridge, which closed the bus, and every servo was left with torque off
  assert.match(
    emulatorOutput,
    new RegExp(`\\[/servo_emulator\\] stopping: answering on ${link} until the host closes it`),
    emulatorOutput,
  );
  assert.match(
    emulatorOutput,
    new RegExp(
      `\\[/servo_emulator\\] closing ${link}: the host closed it after \\d+\\.\\d+ s; torque off on all ${SERVOS} servos`,
    ),
    emulatorOutput,
  );
  assert.match(emulatorOutput, new RegExp(`at the end torque off on all ${SERVOS}`), emulatorOutput);
}

test('dynastack launch hw_emulated.launch.yaml: Ctrl-C (SIGINT, then another) ends it with torque off confirmed on every servo', async (t) => {
  const link = join(tempDir(t, 'dynastack-stop-'), 'so101');
  const launch = startCli(t, ['launch', 'launch/hw_emulated.launch.yaml', `emulator_link:=${link}`]);
  // active: the bridge has turned torque on and cycles the bus at 100 Hz
  await launch.waitFor(/4 node\(s\) active/);
  launch.child.kill('SIGINT');
  launch.child.kill('SIGINT');
  const code = await launch.exited;
  const output = launch.output();
  assert.equal(code, 0, output);
  assertStopActionsDone(output, output, link);
});

test('dynastack run servo_emulator + dynastack run hw_bridge, both sent SIGINT at the same moment (twice): the bridge’s torque off is answered on every servo', async (t) => {
  const link = join(tempDir(t, 'dynastack-stop-'), 'so101');
  const params = ['--params-file', 'config/hw_emulated.yaml'];
  const emulator = startCli(t, ['run', 'servo_emulator', '--ros-args', ...params, '-p', `link:=${link}`]);
  await emulator.waitFor(/\[\/servo_emulator\] emulating so101/);
  // --log-level debug: the bridge's line about real time comes at activate, after torque on
  const bridge = startCli(t, [
    'run',
    'hw_bridge',
    '--ros-args',
    ...params,
    '-p',
    `port:=${link}`,
    '--log-level',
    'debug',
  ]);
  await bridge.waitFor(/\[\/hw_bridge\] real time/);
  // the terminal's SIGINT to the group, then ros2 launch's to each process
  for (let i = 0; i < 2; i++) {
    emulator.child.kill('SIGINT');
    bridge.child.kill('SIGINT');
  }
  const [emulatorCode, bridgeCode] = await Promise.all([emulator.exited, bridge.exited]);
  assert.equal(bridgeCode, 0, bridge.output());
  assert.equal(emulatorCode, 0, emulator.output());
  assertStopActionsDone(emulator.output(), bridge.output(), link);
});
