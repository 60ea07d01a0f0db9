import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { packageRoot } from '../../src/util/paths.js';
import { until } from '../wait.js';
import { rosEnv, rosTest, ros2, run, start, startDynastack, startPython, stopDaemon, type Child } from './ros_env.js';

// dynastack nodes as ROS 2 managed nodes, checked with ROS 2's own `ros2 lifecycle` and an rclpy
// peer: each node started by `dynastack run --transport ros2` is listed by `ros2 lifecycle nodes`,
// is active once the runtime has configured and activated it, `set deactivate` really stops it (no
// message published after the request has been answered) and `set activate` resumes it, `list`
// shows the transitions with their states, cleanup is refused and shutdown finalizes, and a
// transition whose work throws goes through errorprocessing to finalized, as rcl_lifecycle has it.
// A controller deactivated this way sends its stop action (0 N) once, as its last command, so the
// robot is not left with the last effort (nodes/controller.ts).

const DOMAIN = 52;

/**
 * rclpy peer: prints `msg <source timestamp ns>` for each message on argv[1] (argv[2]: joint_state or
 * commands; a command's values follow, comma-separated) and `event <start> <goal>` for each
 * transition_event of node argv[3]. With argv[4], it publishes a cart-pole state estimate there at
 * 100 Hz, stamped now, the pole 0.1 rad from upright (a controller then commands far from 0 N).
 */
const PEER = `
import sys, rclpy
from rclpy.node import Node
from rclpy.executors import ExternalShutdownException
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray
from lifecycle_msgs.msg import TransitionEvent
topic, kind, node_name = sys.argv[1:4]
rclpy.init()
node = Node('lifecycle_peer')
def on_msg(msg, info):
    values = ' ' + ','.join(repr(float(v)) for v in msg.data) if kind == 'commands' else ''
    print(f"msg {info['source_timestamp']}{values}", flush=True)
node.create_subscription({'joint_state': JointState, 'commands': Float64MultiArray}[kind], topic, on_msg, 10)
def on_event(e):
    print(f"event {e.start_state.label} {e.goal_state.label}", flush=True)
node.create_subscription(TransitionEvent, node_name + '/transition_event', on_event, 10)
if len(sys.argv) > 4:
    from dynastack_msgs.msg import JointStateEstimate
    states = node.create_publisher(JointStateEstimate, sys.argv[4], 10)
    def tilted():
        m = JointStateEstimate()
        m.state.header.stamp = node.get_clock().now().to_msg()
        m.state.name = ['cart_slide', 'pole_hinge']
        m.state.position = [0.0, 0.1]
        m.state.velocity = [0.0, 0.0]
        states.publish(m)
    node.create_timer(0.01, tilted)
print('ready', flush=True)
try:
    rclpy.spin(node)
except (KeyboardInterrupt, ExternalShutdownException):
    pass
`;

/** source timestamps (ns, system clock) of the messages the peer heard */
function stamps(peer: Child): bigint[] {
  return [...peer.output().matchAll(/^msg (\d+)(?: \S+)?$/gm)].map((m) => BigInt(m[1]!));
}

/** the commands the peer heard, in order */
function commands(peer: Child): number[][] {
  return [...peer.output().matchAll(/^msg \d+ (\S+)$/gm)].map((m) => m[1]!.split(',').map(Number));
}

/** the transition events the peer heard, as 'start goal' */
function events(peer: Child): string[] {
  return [...peer.output().matchAll(/^event (\w+) (\w+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
}

/** whether `wanted` occur in `seen` in that order (others may come between) */
function inOrder(seen: readonly string[], wanted: readonly string[]): boolean {
  let i = 0;
  for (const e of seen) if (e === wanted[i]) i++;
  return i === wanted.length;
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

async function lifecycleState(node: string, env: NodeJS.ProcessEnv): Promise<string> {
  return (await run('ros2', ['lifecycle', 'get', node], env)).stdout.trim();
}

async function waitForState(node: string, state: string, env: NodeJS.ProcessEnv, process: Child): Promise<void> {
  let seen = '';
  await until(`${node} in state ${state}`, async () => (seen = await lifecycleState(node, env)).startsWith(state), {
    seen: () => `${seen}; node output: ${process.output().slice(-2000)}`,
  });
}

async function set(node: string, transition: string, env: NodeJS.ProcessEnv) {
  return run('ros2', ['lifecycle', 'set', node, transition], env);
}

/** Stop every child and the daemon when the test ends, passed or not. */
function cleanupAfter(t: TestContext, env: NodeJS.ProcessEnv, children: Child[]): void {
  t.after(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await stopDaemon(env);
  });
}

/**
 * Deactivate `node` with `ros2 lifecycle set`, check that nothing the peer hears was published after
 * the request was answered, while `ros2 lifecycle get/list` run (a second or more), run `between`
 * while it is inactive, then activate it and wait for a message published after that.
 */
async function deactivateAndResume(
  node: string,
  env: NodeJS.ProcessEnv,
  proc: Child,
  peer: Child,
  between?: () => Promise<void>,
): Promise<void> {
  await until('the peer hearing the node', () => stamps(peer).length > 0, { seen: () => peer.output().slice(-500) });
  const off = await set(node, 'deactivate', env);
  const deactivatedAt = nowNs();
  assert.match(off.stdout, /Transitioning successful/, off.stderr);
  assert.equal(await lifecycleState(node, env), 'inactive [2]');
  const list = await ros2(['lifecycle', 'list', node], env);
  assert.match(list, /- activate \[3\]\n\tStart: inactive\n\tGoal: activating/);
  assert.match(list, /- cleanup \[2\]\n\tStart: inactive\n\tGoal: cleaningup/);
  assert.match(list, /- shutdown \[6\]\n\tStart: inactive\n\tGoal: shuttingdown/);
  const late = stamps(peer).filter((s) => s > deactivatedAt);
  assert.deepEqual(late, [], 'messages published after deactivate was answered');
  assert.match(proc.output(), /lifecycle request: deactivate \(from active\)/);
  await between?.();

  const on = await set(node, 'activate', env);
  const activatedAt = nowNs();
  assert.match(on.stdout, /Transitioning successful/, on.stderr);
  assert.equal(await lifecycleState(node, env), 'active [3]');
  await until('a message published after activate', () => stamps(peer).some((s) => s > activatedAt), {
    seen: () => `${stamps(peer).length} messages; node output: ${proc.output().slice(-1000)}`,
  });
  // the state machine went through the transition states, as rcl_lifecycle publishes them
  await until(
    'the transition events of deactivate and activate',
    () =>
      inOrder(events(peer), [
        'active deactivating',
        'deactivating inactive',
        'inactive activating',
        'activating active',
      ]),
    { seen: () => events(peer).join(', ') },
  );
}

rosTest(
  'ros2 lifecycle on a dynastack talker: nodes, get, list, set deactivate stops it, activate resumes, cleanup refused, shutdown',
  async (t) => {
    const env = rosEnv(DOMAIN);
    const node = '/lc/demo_talker';
    const talker = startDynastack(
      ['run', 'demo_talker', '--transport', 'ros2', '--ros-args', '-r', '__ns:=/lc', '-p', 'rate_hz:=50.0'],
      env,
    );
    const peer = startPython(PEER, ['/lc/joint_states', 'joint_state', node], env);
    cleanupAfter(t, env, [talker, peer]);
    await waitForState(node, 'active [3]', env, talker);
    assert.match(await ros2(['lifecycle', 'nodes'], env), /^\/lc\/demo_talker$/m);
    const list = await ros2(['lifecycle', 'list', node], env);
    assert.match(list, /- deactivate \[4\]\n\tStart: active\n\tGoal: deactivating/);
    assert.match(list, /- shutdown \[7\]\n\tStart: active\n\tGoal: shuttingdown/);
    // the whole graph (get_transition_graph), as `ros2 lifecycle list --all` asks for it
    assert.match(
      await ros2(['lifecycle', 'list', node, '--all'], env),
      /- transition_error \[62\]\n\tStart: errorprocessing\n\tGoal: finalized/,
    );

    await deactivateAndResume(node, env, talker, peer, async () => {
      // back to unconfigured cannot be done by a dynastack node: refused, it stays as it was, and says why
      const cleanup = await set(node, 'cleanup', env);
      assert.match(cleanup.stderr, /Transitioning failed/);
      assert.equal(await lifecycleState(node, env), 'inactive [2]');
      assert.match(talker.output(), /cleanup \(back to unconfigured\) is refused: .*configured once per process/);
      await until('the transition events of the refused cleanup', () =>
        inOrder(events(peer), ['inactive cleaningup', 'cleaningup inactive']),
      );
    });

    const shutdown = await set(node, 'shutdown', env);
    assert.match(shutdown.stdout, /Transitioning successful/, shutdown.stderr);
    assert.equal(await lifecycleState(node, env), 'finalized [4]');
    // the process stays, as a finalized ROS 2 node's does, and ends cleanly when stopped
    assert.equal(await talker.stop(), 0, talker.output());
  },
);

rosTest(
  'ros2 lifecycle set deactivate on a dynastack controller: its stop action (0 N) once, as its last command, then nothing; activate resumes them',
  async (t) => {
    const env = rosEnv(DOMAIN);
    const node = '/lcc/controller';
    const controller = startDynastack(
      [
        'run',
        'controller',
        '--transport',
        'ros2',
        '--ros-args',
        '-r',
        '__ns:=/lcc',
        '-p',
        'goal_keyframe:=upright',
        // the peer's states come at 100 Hz from another process: a busy machine must not make them stale
        '-p',
        'safety.watchdog_timeout_s:=2.0',
      ],
      env,
    );
    const peer = startPython(
      PEER,
      ['/lcc/forward_command_controller/commands', 'commands', node, '/lcc/estimated_joint_states'],
      env,
    );
    cleanupAfter(t, env, [controller, peer]);
    await waitForState(node, 'active [3]', env, controller);
    const pushing = (u: readonly number[] | undefined): boolean => u !== undefined && Math.abs(u[0]!) > 0.1;
    await until('LQR pushing the tilted pole', () => pushing(commands(peer).at(-1)), {
      seen: () => `${peer.output().slice(-500)}; controller: ${controller.output().slice(-1000)}`,
    });
    await deactivateAndResume(node, env, controller, peer, async () => {
      // published before deactivate was answered (nothing after it, as deactivateAndResume checks):
      // the stop action, 0 N on the one actuator, right after a regular command
      await until('the stop action as the last command heard', () => commands(peer).at(-1)?.join() === '0', {
        seen: () => JSON.stringify(commands(peer).slice(-5)),
      });
      const heard = commands(peer).length;
      assert.ok(pushing(commands(peer).at(-2)), `before the stop: ${JSON.stringify(commands(peer).slice(-5))}`);
      assert.match(controller.output(), /deactivated: sent the stop action \(zero effort on its actuator\)/);
      // inactive while ros2 lifecycle get runs (a second or more): still nothing after the stop
      assert.equal(await lifecycleState(node, env), 'inactive [2]');
      assert.equal(commands(peer).length, heard, `after the stop: ${JSON.stringify(commands(peer).slice(heard))}`);
    });
    // activated again, it commands the tilted pole again
    await until('regular commands after activate', () => pushing(commands(peer).at(-1)), {
      seen: () => JSON.stringify(commands(peer).slice(-5)),
    });
    assert.equal(await controller.stop(), 0, controller.output());
  },
);

rosTest(
  'a transition whose work throws goes through errorprocessing to finalized (rcl_lifecycle), the node released',
  async (t) => {
    const env = rosEnv(DOMAIN);
    const node = '/lcp/lifecycle_probe';
    const probe = start(
      process.execPath,
      [
        join(packageRoot(), 'dist', 'test', 'ros2', 'lifecycle_cli.js'),
        'run',
        'lifecycle_probe',
        '--transport',
        'ros2',
        '--ros-args',
        '-r',
        '__ns:=/lcp',
      ],
      env,
    );
    const peer = startPython(PEER, ['/lcp/unused', 'commands', node], env);
    cleanupAfter(t, env, [probe, peer]);
    await waitForState(node, 'active [3]', env, probe);
    await until('the peer', () => peer.output().includes('ready'));
    assert.match((await set(node, 'deactivate', env)).stdout, /Transitioning successful/);
    const failed = await set(node, 'activate', env); // the second activation throws
    assert.match(failed.stderr, /Transitioning failed/);
    assert.equal(await lifecycleState(node, env), 'finalized [4]');
    await until(
      'the transition events of the failed activate',
      () => inOrder(events(peer), ['inactive activating', 'activating errorprocessing', 'errorprocessing finalized']),
      { seen: () => events(peer).join(', ') },
    );
    const out = probe.output();
    assert.match(out, /lifecycle request: activate from inactive failed: activation 2 broke; now finalized/);
    // error processing: the node stopped (deactivate) and released (cleanup), in that order, once each
    const hooks = [...out.matchAll(/\bprobe: (\w+)/g)].map((m) => m[1]);
    assert.deepEqual(hooks, ['configure', 'activate', 'deactivate', 'activate', 'deactivate', 'cleanup']);
    assert.equal(await probe.stop(), 0, out);
    assert.deepEqual(
      [...probe.output().matchAll(/\bprobe: (\w+)/g)].map((m) => m[1]),
      hooks,
      'nothing ran again at the end of the run',
    );
  },
);

/**
 * rclpy peer for the arm: `msg <source timestamp ns>` per message on /lch/joint_states, for each
 * /diagnostics array with servo statuses `torque <source ns> <each servo's torque value>`, and
 * hw_bridge's transition events as PEER prints them.
 */
const ARM_PEER = `
import rclpy
from rclpy.node import Node
from rclpy.executors import ExternalShutdownException
from sensor_msgs.msg import JointState
from diagnostic_msgs.msg import DiagnosticArray
from lifecycle_msgs.msg import TransitionEvent
rclpy.init()
node = Node('lifecycle_arm_peer')
def on_state(msg, info):
    print(f"msg {info['source_timestamp']}", flush=True)
def on_diag(msg, info):
    torque = [kv.value for s in msg.status for kv in s.values if kv.key == 'torque']
    if torque:
        print(f"torque {info['source_timestamp']} {' '.join(torque)}", flush=True)
node.create_subscription(JointState, '/lch/joint_states', on_state, 10)
node.create_subscription(DiagnosticArray, '/diagnostics', on_diag, 10)
def on_event(e):
    print(f"event {e.start_state.label} {e.goal_state.label}", flush=True)
node.create_subscription(TransitionEvent, '/lch/hw_bridge/transition_event', on_event, 10)
print('ready', flush=True)
try:
    rclpy.spin(node)
except (KeyboardInterrupt, ExternalShutdownException):
    pass
`;

/** the servos' torque values of the newest /diagnostics array published after `afterNs` */
function torqueAfter(peer: Child, afterNs: bigint): string[] | undefined {
  const arrays = [...peer.output().matchAll(/^torque (\d+) (.+)$/gm)].filter((m) => BigInt(m[1]!) > afterNs);
  return arrays.at(-1)?.[2]!.split(' ');
}

rosTest(
  'ros2 lifecycle set deactivate on hw_bridge turns torque off on every servo and stops its states; activate holds again',
  async (t) => {
    const env = rosEnv(DOMAIN);
    const node = '/lch/hw_bridge';
    const config = join(packageRoot(), 'config', 'hw_emulated.yaml');
    const link = `/tmp/dynastack-lifecycle-${process.pid}`;
    const ros = (...args: string[]) => [
      '--transport',
      'ros2',
      '--ros-args',
      '--params-file',
      config,
      '-r',
      '__ns:=/lch',
      ...args,
    ];
    const emulator = startDynastack(['run', 'servo_emulator', ...ros('-p', `link:=${link}`)], env);
    const peer = startPython(ARM_PEER, [], env);
    const children = [emulator, peer];
    cleanupAfter(t, env, children);
    await waitForState('/lch/servo_emulator', 'active [3]', env, emulator);
    const bridge = startDynastack(['run', 'hw_bridge', ...ros('-p', `port:=${link}`)], env);
    children.unshift(bridge); // stopped first, while the emulator still answers its torque-off
    await waitForState(node, 'active [3]', env, bridge);
    await until('torque on at every servo', () => torqueAfter(peer, 0n)?.every((v) => v === 'on') === true, {
      seen: () => `${peer.output().slice(-500)}; bridge: ${bridge.output().slice(-1000)}`,
    });

    await deactivateAndResume(node, env, bridge, peer, async () => {
      // deactivate's torque-off, on /diagnostics at once (nodes/hw_bridge.ts), six servos confirmed off
      await until('torque off at every servo', () => torqueAfter(peer, 0n)?.join(' ') === 'off off off off off off', {
        seen: () => peer.output().slice(-500),
      });
      // and said in the bridge's log, once
      const said = bridge.output().match(/torque off on every servo \(all 6 confirmed by read-back\) at deactivate/g);
      assert.equal(said?.length, 1, bridge.output().slice(-2000));
    });
    const activatedAt = nowNs();
    await until(
      'torque on again after activate',
      () => torqueAfter(peer, activatedAt)?.every((v) => v === 'on') === true,
      {
        seen: () => peer.output().slice(-500),
      },
    );
    assert.equal(await bridge.stop(), 0, bridge.output());
  },
);
