import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { buildPackage, type PackageInstall } from './package_build.js';
import { rosEnv, rosTest, rosUnavailable, startPython, stopDaemon, type Child } from './ros_env.js';
import { MujocoSim } from '../../sim/mujoco/sim.js';
import { packageRoot } from '../../src/util/paths.js';

// `ros2 launch` of the package's own launch files, from its colcon install (one build for the
// file): every node its own process under launch_ros, against the embedded launcher running the
// same installed files in one process. Each must reach the same task results (targets reached, the
// cart-pole balanced, the same episodes) and end by itself where the embedded run ends (the node
// marked on_exit: shutdown), but hw_emulated, which runs until Ctrl-C and must then end with its
// stop actions done. ROS domains: 54 (56 and 57 kept for launches run side by side).

const DOMAIN = 54;
/** the real-time and PETS comparisons' own domains (in the 50–60 range .ci/run stops daemons of) */
const REALTIME_DOMAIN = 58;
const PETS_DOMAIN = 59;
/** what a run may take at most on a loaded 2-core machine; a hang, not slowness, reaches it */
const LAUNCH_LIMIT_MS = 240_000;

let install: PackageInstall | undefined;

before(async () => {
  if (rosUnavailable() === undefined) install = await buildPackage(rosEnv(DOMAIN));
});

after(async () => {
  if (!install) return;
  await stopDaemon(install.env);
  install.remove();
});

function installed(): PackageInstall {
  assert.ok(install, 'the package was not built');
  return install;
}

interface Ended {
  readonly code: number | string;
  readonly output: string;
}

/** A process in its own process group (as a terminal's foreground job), output kept. */
function startGroup(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string) {
  const child = spawn(cmd, [...args], { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<Ended>((resolve) =>
    child.on('close', (code, signal) => resolve({ code: code ?? signal ?? 'unknown', output })),
  );
  let ended = false;
  void exited.then(() => (ended = true));
  /** a signal to the whole group, as Ctrl-C in a terminal sends it */
  const signalGroup = (signal: NodeJS.Signals): void => {
    if (ended || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // the group is gone
    }
  };
  return {
    output: () => output,
    exited,
    signalGroup,
    /** the end of the run, or after limitMs: Ctrl-C, then SIGKILL to the group, and a failure */
    async ends(limitMs: number, what: string): Promise<Ended> {
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<'limit'>((resolve) => (timer = setTimeout(() => resolve('limit'), limitMs)));
      const r = await Promise.race([exited, limit]);
      clearTimeout(timer);
      if (r !== 'limit') return r;
      signalGroup('SIGINT');
      const kill = setTimeout(() => signalGroup('SIGKILL'), 20_000);
      const { output: text } = await exited;
      clearTimeout(kill);
      assert.fail(`${what} did not end by itself within ${limitMs / 1000} s:\n${text.slice(-6000)}`);
    },
  };
}

/** `ros2 launch dynastack <file> <args>` from the install, every node's output on the screen. */
function rosLaunch(file: string, args: readonly string[], domain = DOMAIN) {
  const p = installed();
  return startGroup(
    'ros2',
    ['launch', 'dynastack', file, ...args],
    { ...p.env, ROS_DOMAIN_ID: String(domain), OVERRIDE_LAUNCH_PROCESS_OUTPUT: 'screen' },
    mkdtempSync(join(p.scratch, 'ros2-')),
  );
}

/** The embedded launcher of the install running the same installed launch file. */
function embeddedLaunch(file: string, args: readonly string[]) {
  const p = installed();
  return startGroup(
    process.execPath,
    [join(p.share, 'dist', 'cli', 'main.js'), 'launch', join(p.share, 'launch', file), ...args],
    { ...p.env, ROS_DOMAIN_ID: String(DOMAIN) },
    mkdtempSync(join(p.scratch, 'embedded-')),
  );
}

/**
 * Both runs to their end, side by side no more than the machine can take: the embedded one first.
 * Each test's ROS 2 graph gets a domain of its own (`domain`): a process of the test before that is
 * still shutting down (ros2 launch's SIGINT → SIGTERM escalation) must not reach this graph — a
 * lingering bridge's /clock or states would add ticks a lockstep comparison counts.
 */
async function bothRuns(
  file: string,
  args: readonly string[],
  domain: number,
): Promise<{ embedded: Ended; ros2: Ended }> {
  const embedded = await embeddedLaunch(file, args).ends(LAUNCH_LIMIT_MS, `dynastack launch ${file}`);
  assert.equal(embedded.code, 0, embedded.output.slice(-6000));
  const ros2 = await rosLaunch(file, args, domain).ends(LAUNCH_LIMIT_MS, `ros2 launch dynastack ${file}`);
  assert.equal(ros2.code, 0, ros2.output.slice(-6000));
  return { embedded, ros2 };
}

/** The largest error after settling of one joint, from a controller's summary line (embedded or per process). */
function settledError(output: string, controller: string, joint: string): number {
  const line = output.split('\n').find((l) => l.includes(controller) && /largest error after settling/.test(l));
  assert.ok(line, `no summary of ${controller}:\n${output.slice(-4000)}`);
  const m = new RegExp(`${joint} (\\d+\\.\\d+)`).exec(line);
  assert.ok(m, `no ${joint} in: ${line}`);
  return Number(m[1]);
}

/**
 * The cart-pole graph balanced: the pole within 0.3 rad after settling, per the controller's summary,
 * and stop actions on no more than `maxStopShare` of its ticks. In lockstep there are none; in real
 * time on a machine shared by nine node processes, a state can come later than the 50 ms watchdog
 * and the safety layer rightly sends the stop action for that tick — what must hold then is the task.
 */
function assertBalanced(output: string, controller: string, label: string, maxStopShare = 0): void {
  const pole = settledError(output, controller, 'pole_hinge');
  assert.ok(pole < 0.3, `${label}: the pole strayed ${pole} rad after settling`);
  const line = output.split('\n').find((l) => l.includes(controller) && /stop actions/.test(l)) ?? '';
  const m = / (\d+) ticks at .* (\d+) stop actions/.exec(line);
  assert.ok(m, `${label}: no stop-action count in ${controller}'s summary: ${line}`);
  const [ticks, stops] = [Number(m[1]), Number(m[2])];
  if (stops > 0) console.log(`${label}: ${controller} sent ${stops} stop actions in ${ticks} ticks`);
  assert.ok(
    stops <= maxStopShare * ticks,
    `${label}: ${controller} took ${stops} stop actions in ${ticks} ticks: ${line}`,
  );
}

/** Both launchers: the arm reached its four targets, the cart-pole balanced, the run ended by the arm's goal sequencer. */
async function demoLike(file: string, args: readonly string[], domain: number, maxStopShare = 0): Promise<void> {
  const { embedded, ros2 } = await bothRuns(file, args, domain);
  assert.match(
    embedded.output,
    /stopping \(finished: \/arm\/goal_sequencer: reached 4 of 4 targets within 1\.0 cm \(on_exit: shutdown\)\)/,
  );
  assert.match(ros2.output, /\/arm\/goal_sequencer: stopping \(finished: reached 4 of 4 targets within 1\.0 cm\)/);
  // the launch ended because that process exited (its on_exit), not otherwise
  assert.match(ros2.output, /process\[goal_sequencer-\d+\] was required: shutting down launched system/);
  assertBalanced(embedded.output, '/cartpole/controller', 'embedded', maxStopShare);
  assertBalanced(ros2.output, '/cartpole/controller', 'ros2 launch', maxStopShare);
  // every process ended within ros2 launch's SIGINT → SIGTERM → SIGKILL escalation without SIGKILL
  // (the plot recorders write their plots as they clean up)
  assert.doesNotMatch(ros2.output, /escalating to 'SIGKILL'/);
  assert.match(ros2.output, /\/cartpole\/plot_recorder\] plot written to /);
  assert.match(ros2.output, /\/arm\/plot_recorder\] plot written to /);
}

rosTest(
  'ros2 launch dynastack demo.launch.yaml (lockstep): the arm reaches 4 of 4 targets, the cart-pole balances, the run ends where the embedded one does',
  () => demoLike('demo.launch.yaml', ['out:=out'], DOMAIN),
  2 * LAUNCH_LIMIT_MS + 60_000,
);

rosTest(
  'ros2 launch dynastack sim_realtime.launch.yaml (real time): the same, on the wall clock, each node its own process',
  // a stop action on at most 2 % of the ticks (a state later than the watchdog on a loaded machine)
  () => demoLike('sim_realtime.launch.yaml', [], REALTIME_DOMAIN, 0.02),
  2 * LAUNCH_LIMIT_MS + 60_000,
);

/** Episode returns as the episode monitor logs them, in order. */
function episodeReturns(output: string): number[] {
  return [...output.matchAll(/\/episode_monitor\] episode (\d+): return (-?\d+\.\d+)/g)].map((m) => Number(m[2]));
}

rosTest(
  'ros2 launch dynastack pets_cartpole.launch.yaml: the same episodes as embedded, ended by the episode monitor',
  async () => {
    const args = ['episodes:=3', 'run_dir:=run', 'curve:=curve.svg'];
    const { embedded, ros2 } = await bothRuns('pets_cartpole.launch.yaml', args, PETS_DOMAIN);
    const a = episodeReturns(embedded.output);
    const b = episodeReturns(ros2.output);
    assert.equal(a.length, 3, embedded.output.slice(-4000));
    assert.equal(b.length, 3, ros2.output.slice(-4000));
    // lockstep: the same ticks, the same seeds, the model of each episode trained on the same
    // transitions (the learner and the monitor take the controller's stamped commands, so which
    // topic a process hears first changes nothing): the same returns to the printed precision
    assert.deepEqual(b, a, `returns under ros2 launch ${b.join(', ')}, embedded ${a.join(', ')}`);
    const learned = (output: string): string =>
      /\/dynamics_learner(?:\]? +|: summary: )(\d+ transitions in \d+ episodes[^,]*)/.exec(output)?.[1] ?? 'no summary';
    assert.equal(learned(ros2.output), learned(embedded.output), 'the learner collected other transitions');
    assert.doesNotMatch(learned(embedded.output), /missed ticks/);
    assert.match(ros2.output, /process\[episode_monitor-\d+\] was required: shutting down launched system/);
  },
  2 * LAUNCH_LIMIT_MS + 60_000,
);

/** The arm's target: the position model's `home` keyframe, in joint order (as test/hw/hw_emulated_launch.test.ts). */
async function homeTarget(): Promise<number[]> {
  const sim = await MujocoSim.fromFile(join(packageRoot(), 'sim', 'models', 'so_arm_position.xml'));
  try {
    sim.resetToKeyframe('home');
    return Array.from(sim.getQpos());
  } finally {
    sim.dispose();
  }
}

/** An rclpy subscriber of /joint_states printing every 5th state's stamp and positions. */
const JOINT_STATE_PROBE = `
import rclpy
from rclpy.node import Node
from sensor_msgs.msg import JointState
rclpy.init()
node = Node('launch_test_probe')
count = [0]
def seen(m):
    count[0] += 1
    if count[0] % 5 == 0:
        print('JS %d %s' % (m.header.stamp.sec * 10**9 + m.header.stamp.nanosec, ' '.join(repr(p) for p in m.position)), flush=True)
node.create_subscription(JointState, '/joint_states', seen, 10)
try:
    rclpy.spin(node)
except Exception:
    pass
`;

rosTest(
  'ros2 launch dynastack hw_emulated.launch.yaml: the emulated arm is brought to its target and held; Ctrl-C ends it with the bridge’s stop actions done',
  async () => {
    const p = installed();
    const target = await homeTarget();
    const link = join(mkdtempSync(join(p.scratch, 'tty-')), 'so101');
    const launch = rosLaunch('hw_emulated.launch.yaml', [`emulator_link:=${link}`]);
    let probe: Child | undefined;
    try {
      probe = startPython(JOINT_STATE_PROBE, [], { ...p.env, ROS_DOMAIN_ID: String(DOMAIN) });
      // held: every joint within 1° of the target over 2 s of states (by their stamps)
      const deadline = performance.now() + LAUNCH_LIMIT_MS;
      const DEG = Math.PI / 180;
      let heldSince: bigint | undefined;
      let held = false;
      while (!held) {
        assert.ok(performance.now() < deadline, `the arm was not held at its target:\n${launch.output().slice(-6000)}`);
        await new Promise((r) => setTimeout(r, 200));
        heldSince = undefined;
        for (const line of probe.output().split('\n')) {
          const m = /^JS (\d+) (.*)$/.exec(line);
          if (!m) continue;
          const t = BigInt(m[1]!);
          const q = m[2]!.split(' ').map(Number);
          if (q.length === target.length && q.every((v, i) => Math.abs(v - target[i]!) < DEG)) heldSince ??= t;
          else heldSince = undefined;
          if (heldSince !== undefined && t - heldSince >= 2_000_000_000n) held = true;
        }
      }
      // Ctrl-C: the terminal's SIGINT to every process of the group; ros2 launch forwards its own
      launch.signalGroup('SIGINT');
      const { output } = await launch.ends(60_000, 'ros2 launch dynastack hw_emulated.launch.yaml after Ctrl-C');
      assert.match(output, /\/hw_bridge: stopping \(SIGINT\)/);
      assert.doesNotMatch(output, /torque off at deactivate failed/);
      // the bridge's cleanup ran to its end (bus closed with torque off), then its summary
      assert.match(output, /\/hw_bridge: summary: \d+ bus cycles/);
      assert.doesNotMatch(output, /escalating to 'SIGKILL'/);
    } finally {
      launch.signalGroup('SIGKILL');
      await probe?.stop(5_000);
    }
  },
  LAUNCH_LIMIT_MS + 120_000,
);
