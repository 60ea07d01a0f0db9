import assert from 'node:assert/strict';
import { until } from '../wait.js';
import { rosEnv, rosTest, startDynastack, startPython, type Child } from './ros_env.js';

// Start-up across processes under the ROS 2 transport, as `ros2 launch` starts a graph: the sim
// bridge and the state estimator each in a process of their own, the controller's process started
// several seconds later. Lockstep: the bridge holds tick 0 until its command source is matched and
// the run reaches its end without ever waiting out lockstep_timeout_s (300 s here: a lost first
// state or command would show as a run that does not end). Real time: the bridge holds the sim
// paused until the controller is there, says so, holds the robot (its clock running, its physics
// not) until the controller's first command, and the cart-pole (0.2 rad from upright; no pushes,
// which on a loaded machine would test the controller's timing, not the start-up) stays up, as an
// rclpy subscriber of /joint_states sees it: a pole that fell spins to tens of radians.

const DOMAIN = 53;
const CONFIG = 'config/cartpole_lqr.yaml';
/** how long the controller's process starts after the bridge's */
const CONTROLLER_DELAY_MS = 4000;

/** rclpy peer: prints `pole <max |pole_hinge| so far> <messages>` every 50 joint states */
const POLE_PEER = `
import math, rclpy
from rclpy.node import Node
from rclpy.executors import ExternalShutdownException
from sensor_msgs.msg import JointState
rclpy.init()
node = Node('startup_pole_peer')
seen = {'n': 0, 'max': 0.0}
def on_state(m):
    if 'pole_hinge' not in m.name:
        return
    seen['n'] += 1
    seen['max'] = max(seen['max'], abs(m.position[m.name.index('pole_hinge')]))
    if seen['n'] % 50 == 0:
        print(f"pole {seen['max']} {seen['n']}", flush=True)
node.create_subscription(JointState, '/joint_states', on_state, 100)
print('ready', flush=True)
try:
    rclpy.spin(node)
except (KeyboardInterrupt, ExternalShutdownException):
    pass
`;

function node(exec: string, params: readonly string[]): Child {
  return startDynastack(
    ['run', exec, '--transport', 'ros2', '--ros-args', '--params-file', CONFIG, ...params.flatMap((p) => ['-p', p])],
    rosEnv(DOMAIN),
  );
}

async function stopAll(children: readonly (Child | undefined)[]): Promise<void> {
  await Promise.all(children.flatMap((c) => (c ? [c.stop()] : [])));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

rosTest(
  'lockstep across processes: the bridge holds tick 0 for its command source and never waits out its timeout',
  async () => {
    let bridge: Child | undefined;
    let estimator: Child | undefined;
    let controller: Child | undefined;
    try {
      bridge = node('sim_bridge', ['mode:=lockstep', 'max_sim_time_s:=3.0', 'lockstep_timeout_s:=300.0']);
      estimator = node('state_estimator', []);
      await until('the bridge to say it waits for its command source', () =>
        /waiting for the command source/.test(bridge!.output()),
      );
      await sleep(CONTROLLER_DELAY_MS);
      assert.doesNotMatch(bridge.output(), /command source there/, 'no controller yet: still holding');
      controller = node('controller', ['wait_for_state:=true']);
      // the run is 3 s of sim time; a tick that waited out lockstep_timeout_s would take 300 s
      const code = await Promise.race([bridge.exited, sleep(150_000).then(() => 'still running after 150 s')]);
      const out = bridge.output();
      assert.equal(code, 0, `the bridge ended by itself: ${out.slice(-3000)}`);
      assert.match(out, /command source there/);
      assert.doesNotMatch(out, /no command within/, 'no tick stepped without its command');
      assert.match(out, /simulated 3\.00 s/);
    } finally {
      await stopAll([bridge, estimator, controller]);
    }
  },
);

rosTest(
  'real time across processes: the sim stays paused until the controller is there, and the cart-pole balances',
  async () => {
    let bridge: Child | undefined;
    let estimator: Child | undefined;
    let controller: Child | undefined;
    let peer: Child | undefined;
    try {
      peer = startPython(POLE_PEER, [], rosEnv(DOMAIN));
      await until('the rclpy peer', () => /ready/.test(peer!.output()));
      bridge = node('sim_bridge', ['mode:=realtime', 'max_sim_time_s:=5.0', 'push_force:=0.0']);
      estimator = node('state_estimator', []);
      await until('the bridge to say it waits for its command source', () =>
        /waiting for the command source .*holding the sim paused/.test(bridge!.output()),
      );
      await sleep(CONTROLLER_DELAY_MS);
      assert.doesNotMatch(bridge.output(), /command source there/, 'no controller yet: still holding');
      controller = node('controller', []);
      const code = await Promise.race([bridge.exited, sleep(120_000).then(() => 'still running after 120 s')]);
      const out = bridge.output();
      assert.equal(code, 0, `the bridge ended by itself: ${out.slice(-3000)}`);
      assert.match(out, /command source there .*: starting/);
      assert.match(out, /first command at sim time .*: the sim runs/);
      await until('the peer to report the run', () => /pole \S+ (\d+)/.test(peer!.output()));
      const reports = [...peer.output().matchAll(/^pole (\S+) (\d+)$/gm)];
      const [, maxPole, n] = reports.at(-1)!;
      assert.ok(Number(n) >= 300, `the peer heard the run (${n} states)`);
      assert.ok(
        Number(maxPole) < 1,
        `the pole stayed up: at most ${maxPole} rad from upright\n${out.slice(-2000)}\n${controller.output().slice(-2000)}`,
      );
    } finally {
      await stopAll([bridge, estimator, controller, peer]);
    }
  },
);
