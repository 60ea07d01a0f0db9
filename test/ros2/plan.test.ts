// The controller's plan (dynastack_msgs/Plan on ~/plan) reaches ROS 2 itself: a dynastack
// controller runs as its own process on the ROS 2 transport (`dynastack run controller --transport
// ros2`, LQR on the cart-pole, upright), an rclpy peer publishes a tilted cart-pole state estimate
// (dynastack_msgs/JointStateEstimate, stamped now) every 10 ms and subscribes to /controller/plan as
// a late subscriber would (reliable, transient local: the controller latches its plan), and prints
// the first Plan it decodes with rclpy's generated dynastack_msgs; then `ros2 topic echo --once`
// decodes it too. The message rclpy gets must be the one the embedded codec wrote: the feedback
// law's names, sizes and nominal state. ROS_DOMAIN_ID 57 is this file's own.

import assert from 'node:assert/strict';
import { until } from '../wait.js';
import { ros2, rosEnv, rosTest, startDynastack, startPython, stopDaemon, type Child } from './ros_env.js';

const DOMAIN = 57;

const PEER = `
import json, sys, rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from dynastack_msgs.msg import JointStateEstimate, Plan
rclpy.init()
node = Node('plan_peer')
states = node.create_publisher(JointStateEstimate, '/estimated_joint_states', 10)
def tilted():
    m = JointStateEstimate()
    m.state.header.stamp = node.get_clock().now().to_msg()
    m.state.name = ['cart_slide', 'pole_hinge']
    m.state.position = [0.0, 0.1]
    m.state.velocity = [0.0, 0.0]
    states.publish(m)
node.create_timer(0.01, tilted)
def on_plan(p):
    print('plan ' + json.dumps({
        'planner': p.planner, 'kind': p.kind, 'feedback': Plan.FEEDBACK, 'interpolation': p.interpolation,
        'stamp_ns': p.header.stamp.sec * 10**9 + p.header.stamp.nanosec,
        'step_ns': p.step.sec * 10**9 + p.step.nanosec,
        'state_names': list(p.state_names), 'action_names': list(p.action_names), 'steps': p.steps,
        'states': [float(v) for v in p.states], 'actions': [float(v) for v in p.actions],
        'cost_is_nan': p.cost != p.cost, 'iterations': p.iterations,
        'status': {kv.key: kv.value for kv in p.status}}), flush=True)
latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
node.create_subscription(Plan, '/controller/plan', on_plan, latched)
print('ready', flush=True)
try:
    rclpy.spin(node)
except (KeyboardInterrupt, ExternalShutdownException):
    pass
`;

interface PeerPlan {
  readonly planner: string;
  readonly kind: number;
  readonly feedback: number;
  readonly interpolation: number;
  readonly stamp_ns: number;
  readonly step_ns: number;
  readonly state_names: string[];
  readonly action_names: string[];
  readonly steps: number;
  readonly states: number[];
  readonly actions: number[];
  readonly cost_is_nan: boolean;
  readonly iterations: number;
  readonly status: Record<string, string>;
}

const plansOf = (peer: Child): PeerPlan[] =>
  peer
    .output()
    .split('\n')
    .filter((l) => l.startsWith('plan '))
    .map((l) => JSON.parse(l.slice('plan '.length)) as PeerPlan);

rosTest("an rclpy subscriber and ros2 topic echo decode the controller's Plan from the ROS 2 transport", async (t) => {
  const env = rosEnv(DOMAIN);
  const children: Child[] = [];
  t.after(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await stopDaemon(env);
  });
  const controller = startDynastack(
    ['run', 'controller', '--transport', 'ros2', '--ros-args', '-p', 'goal_keyframe:=upright'],
    env,
  );
  children.push(controller);
  const peer = startPython(PEER, [], env);
  children.push(peer);
  const seen = (): string =>
    [controller, peer].map((c) => c.output().split('\n').slice(-15).join('\n')).join('\n--- peer:\n');
  await until('a Plan at the rclpy subscriber', () => plansOf(peer).length > 0, { timeoutMs: 120_000, seen });
  const p = plansOf(peer)[0]!;
  assert.equal(p.kind, p.feedback, JSON.stringify(p));
  assert.match(p.planner, /LQR/i);
  assert.deepEqual(p.state_names, ['q.cart_slide', 'q.pole_hinge', 'qd.cart_slide', 'qd.pole_hinge']);
  assert.deepEqual(p.action_names, ['cart_force']);
  assert.equal(p.steps, 1);
  assert.deepEqual(p.states, [0, 0, 0, 0]);
  assert.equal(p.actions.length, 1);
  assert.ok(Number.isFinite(p.actions[0]));
  assert.equal(p.step_ns, 10_000_000);
  assert.ok(p.stamp_ns > 0, 'stamped with the state it was planned from (system time)');
  assert.equal(p.cost_is_nan, true);
  assert.ok('goals' in p.status, JSON.stringify(p.status));

  // ROS 2's own CLI decodes it as well (it takes the latched plan: its QoS follows the publisher's)
  const echoed = await ros2(['topic', 'echo', '--once', '/controller/plan'], env, 90_000);
  assert.match(echoed, /action_names:\n- cart_force/, echoed);
  assert.match(echoed, /state_names:\n- q\.cart_slide\n- q\.pole_hinge\n- qd\.cart_slide\n- qd\.pole_hinge/, echoed);
  assert.match(echoed, /steps: 1/, echoed);
});
