// Interop with ROS 2's own tools and an rclpy peer (issue 11, part 2): dynastack nodes run as
// separate processes under the ROS 2 transport (`dynastack run <exec> --transport ros2 --ros-args …`),
// and the other side is ROS 2 itself:
// - `ros2 node list` and `ros2 topic list -t` show the graph (names and types), `ros2 topic echo
//   --once` decodes the sim bridge's sensor_msgs/JointState, `ros2 topic pub` of a
//   std_msgs/Float64MultiArray drives it, `ros2 param get/describe` show the values given with -p and
//   each parameter's type, description and range, and an rclpy subscriber decodes the states (it
//   also holds a publisher on the command topic, publishing nothing: the command source the bridge
//   waits for before it starts its sim, as a controller would be);
// - an rclpy peer (peers/clock_peer.py) publishes /clock as rclcpp's ClockQoS and `ros2 bag play
//   --clock` do (best effort, keep last 1): the controller (use_sim_time) ticks once per period of
//   that sim time and not at all while it is held; an e-stop (std_msgs/Bool) makes every command the
//   stop action, and `false` does not release it (only ~/reset_estop does);
// - an rclpy peer (peers/goal_peer.py) gives the arm's controller a goal (geometry_msgs/PoseStamped,
//   latched as goal_sequencer publishes it) and the end effector reaches it in the closed loop
//   sim bridge → state estimator → controller, three processes in real time.
// Every process gets rosEnv's environment: loopback-only DDS as env.sh sets it, and ROS_DOMAIN_ID 55,
// this file's own. Every child is stopped, and the ros2 daemon, when each test ends.

import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import { until } from '../wait.js';
import { ros2, rosEnv, rosTest, start, startDynastack, stopDaemon, type Child } from './ros_env.js';

const DOMAIN = 55;
const PEERS = join(packageRoot(), 'test', 'ros2', 'peers');
const COMMANDS = '/forward_command_controller/commands';

/** The children of one test, all stopped (and the daemon, if asked) when it ends, pass or fail. */
function processes(t: TestContext, env: NodeJS.ProcessEnv, usesCli: boolean): Child[] {
  const children: Child[] = [];
  t.after(async () => {
    await Promise.all(children.map((c) => c.stop()));
    if (usesCli) await stopDaemon(env);
  });
  return children;
}

/** The JSON of every `kind {json}` line a peer printed so far. */
function linesOf(child: Child, kind: string): Record<string, unknown>[] {
  return child
    .output()
    .split('\n')
    .filter((l) => l.startsWith(`${kind} `))
    .map((l) => JSON.parse(l.slice(kind.length + 1)) as Record<string, unknown>);
}

/** What to show when a wait fails: every process's output, last lines first. */
function outputs(named: Record<string, Child>): () => string {
  return () =>
    Object.entries(named)
      .map(([name, c]) => `--- ${name}:\n${c.output().split('\n').slice(-15).join('\n')}`)
      .join('\n');
}

/** The peer's `result` line, once it has printed it. */
async function resultOf(peer: Child, seen: () => string, timeoutMs: number): Promise<Record<string, unknown>> {
  await until('the rclpy peer to print its result', () => linesOf(peer, 'result').length > 0, { timeoutMs, seen });
  return linesOf(peer, 'result')[0]!;
}

/** Wall time since it was made, for the tests' diagnostics (never asserted on). */
function stopwatch(): () => string {
  const t0 = performance.now();
  return () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
}

interface PeerState {
  readonly name: string[];
  readonly position: number[];
  readonly velocity: number[];
  readonly stamp_ns: number;
}

rosTest(
  'ROS 2 tools see, decode and drive a dynastack sim bridge; an rclpy subscriber decodes its state',
  async (t) => {
    const env = rosEnv(DOMAIN);
    const children = processes(t, env, true);
    const elapsed = stopwatch();
    const bridge = startDynastack(
      [
        'run',
        'sim_bridge',
        '--transport',
        'ros2',
        '--ros-args',
        '-p',
        'mode:=realtime',
        '-p',
        'rate_hz:=50.0',
        '-p',
        'seed:=3',
        '-p',
        'joints:=[cart_slide, pole_hinge]',
      ],
      env,
    );
    children.push(bridge);
    const peer = start('python3', [join(PEERS, 'joint_state_peer.py'), '/joint_states', COMMANDS], env);
    children.push(peer);
    const seen = outputs({ sim_bridge: bridge, peer });
    const states = (): PeerState[] => linesOf(peer, 'state') as unknown as PeerState[];
    await until('JointStates from the sim bridge at the rclpy subscriber', () => states().length >= 3, { seen });
    const first = states()[0]!;
    assert.deepEqual(first.name, ['cart_slide', 'pole_hinge']);
    assert.equal(first.position.length, 2);
    assert.equal(first.velocity.length, 2);
    // nothing commands the cart yet: it stays where the model starts it
    for (const s of states())
      assert.ok(Math.abs(s.position[0]!) < 1e-9, `cart moved before any command: ${s.position[0]}`);

    t.diagnostic(`states at the rclpy subscriber: ${elapsed()}`);

    // the graph, as ROS 2's tools see it (discovery may take a moment: ask until it shows)
    let nodeList = '';
    let topics = '';
    await Promise.all([
      until(
        '`ros2 node list` to show /sim_bridge and the rclpy peer',
        async () => {
          nodeList = await ros2(['node', 'list'], env);
          return nodeList.includes('/sim_bridge\n') && nodeList.includes('/interop_state_peer\n');
        },
        { seen: () => nodeList },
      ),
      until(
        '`ros2 topic list -t` to show the sim bridge topics with their types',
        async () => {
          topics = await ros2(['topic', 'list', '-t'], env);
          return topics.includes(`${COMMANDS} [std_msgs/msg/Float64MultiArray]`);
        },
        { seen: () => topics },
      ),
    ]);
    t.diagnostic(`ros2 node list, topic list: ${elapsed()}`);
    for (const line of [
      '/joint_states [sensor_msgs/msg/JointState]',
      '/clock [rosgraph_msgs/msg/Clock]',
      '/episode [dynastack_msgs/msg/EpisodeEvent]',
      '/diagnostics [diagnostic_msgs/msg/DiagnosticArray]',
      `${COMMANDS} [std_msgs/msg/Float64MultiArray]`,
      '/sim_bridge/reset [std_msgs/msg/Empty]',
    ])
      assert.ok(topics.split('\n').includes(line), `ros2 topic list -t lacks '${line}':\n${topics}`);

    // ros2 topic echo decodes our JointState (CDR written by dynastack's codec); ros2 param get shows
    // the values given with -p, typed as declared; ros2 param describe shows type, description and
    // range (rclnodejs 2.2.0 leaves ranges out of its descriptors' messages, so the transport repeats
    // them in the additional constraints). The four run side by side.
    const get = (name: string): Promise<string> => ros2(['param', 'get', '/sim_bridge', name], env);
    const [echo, rate, seedValue, joints, describe] = await Promise.all([
      ros2(['topic', 'echo', '--once', '/joint_states', 'sensor_msgs/msg/JointState'], env),
      get('rate_hz'),
      get('seed'),
      get('joints'),
      ros2(['param', 'describe', '/sim_bridge', 'rate_hz', 'seed', 'mode'], env),
    ]);
    assert.match(echo, /^header:\n {2}stamp:\n {4}sec: \d+\n {4}nanosec: \d+\n {2}frame_id: ''\n/);
    assert.match(echo, /\nname:\n- cart_slide\n- pole_hinge\nposition:\n- -?[\d.e-]+\n- -?[\d.e-]+\nvelocity:\n/);
    assert.match(echo, /\neffort:\n- -?[\d.e-]+\n- -?[\d.e-]+\n/);
    assert.equal(rate.trim(), 'Double value is: 50.0');
    assert.equal(seedValue.trim(), 'Integer value is: 3');
    assert.equal(joints.trim(), "String values are: ['cart_slide', 'pole_hinge']");
    const described = (name: string): string => {
      const at = describe.indexOf(`Parameter name: ${name}\n`);
      assert.ok(at >= 0, `ros2 param describe lacks ${name}:\n${describe}`);
      const next = describe.indexOf('Parameter name: ', at + 1);
      return describe.slice(at, next < 0 ? undefined : next);
    };
    const rateHz = described('rate_hz');
    assert.match(rateHz, /\n\s+Type: double\n/);
    assert.match(rateHz, /Description: control rate: state published and a command taken every period/);
    assert.match(rateHz, /in \[1, 2000\]|Min value: 1(\.0)?\s+Max value: 2000(\.0)?/, rateHz);
    const seed = described('seed');
    assert.match(seed, /\n\s+Type: integer\n/);
    assert.match(seed, /Description: seed of every random draw/);
    assert.match(seed, /in \[0, 2147483647\]|Min value: 0\s+Max value: 2147483647/, seed);
    const mode = described('mode');
    assert.match(mode, /\n\s+Type: string\n/);
    assert.match(mode, /lockstep[\s\S]*realtime/, mode);
    t.diagnostic(`ros2 topic echo, param get and describe: ${elapsed()}`);

    // ros2 topic pub drives the sim: +10 N on the cart for half a second moves it along +x
    const before = states().length;
    await ros2(
      [
        'topic',
        'pub',
        '-w',
        '1',
        '--times',
        '25',
        '-r',
        '50',
        COMMANDS,
        'std_msgs/msg/Float64MultiArray',
        '{data: [10.0]}',
      ],
      env,
    );
    await until('the cart to move along +x after ros2 topic pub', () =>
      states()
        .slice(before)
        .some((s) => s.position[0]! > 0.05 && s.velocity[0]! >= 0),
    );
    t.diagnostic(`ros2 topic pub moved the cart: ${elapsed()}`);
    assert.equal(bridge.process.exitCode, null, `the sim bridge ended early:\n${bridge.output()}`);
    assert.doesNotMatch(bridge.output(), /command rejected/);
  },
);

rosTest(
  'an rclpy peer drives the controller: best-effort /clock (ClockQoS) paces it, an e-stop latches the stop action',
  async (t) => {
    const env = rosEnv(DOMAIN);
    const children = processes(t, env, false);
    const elapsed = stopwatch();
    // cart-pole LQR as launch/cartpole_lqr.launch.yaml configures it (use_sim_time true), without the sim
    const controller = startDynastack(
      [
        'run',
        'controller',
        '--transport',
        'ros2',
        '--ros-args',
        '--params-file',
        join(packageRoot(), 'config', 'cartpole_lqr.yaml'),
      ],
      env,
    );
    children.push(controller);
    const peer = start('python3', [join(PEERS, 'clock_peer.py'), 'best_effort'], env);
    children.push(peer);
    const seen = outputs({ controller, peer });
    const r = await resultOf(peer, seen, 150_000);
    t.diagnostic(`the clock peer's result: ${elapsed()}`);
    const why = `\npeer result: ${JSON.stringify(r)}\n${seen()}`;
    assert.equal(r['ready'], true, `the controller's endpoints never appeared${why}`);
    assert.equal(
      r['clock_matched'],
      true,
      `the controller's /clock subscription does not match a best-effort publisher (rclcpp's ClockQoS, ros2 bag play --clock)${why}`,
    );
    assert.equal(r['a_followed'], true, `the controller did not tick on the peer's /clock${why}`);
    // one command per 10 ms of sim time, and none while sim time is held
    assert.equal(r['a_commands'], 20, why);
    assert.equal(
      r['a_held_commands'],
      0,
      `commands while sim time was held: the controller ticks on another clock${why}`,
    );
    assert.equal(r['b_followed'], true, why);
    assert.ok((r['b_max_abs'] as number) > 0.1, `no LQR effort for a pole 0.1 rad from upright${why}`);
    assert.equal(r['c_stopped'], true, `the e-stop never brought the stop action${why}`);
    assert.equal(r['c_nonzero_after_stop'], 0, `a command other than the stop action after the e-stop${why}`);
    assert.equal(r['d_followed'], true, why);
    assert.equal(r['d_nonzero'], 0, `std_msgs/Bool false released the e-stop${why}`);
    assert.match(controller.output(), /EMERGENCY STOP latched \(\/emergency_stop\)/);
    assert.equal(await peer.exited, 0, `the peer failed${why}`);
  },
);

rosTest(
  'an rclpy peer gives the arm a goal; sim bridge, estimator and controller (three processes) reach it',
  async (t) => {
    const env = rosEnv(DOMAIN);
    const children = processes(t, env, false);
    const elapsed = stopwatch();
    const config = join(packageRoot(), 'config', 'arm_lqr.yaml');
    const node = (exec: string, ...extra: string[]): Child =>
      startDynastack(['run', exec, '--transport', 'ros2', '--ros-args', '--params-file', config, ...extra], env);
    const estimator = node('state_estimator');
    children.push(estimator);
    const controller = node('controller');
    children.push(controller);
    // goal_sequencer's first target of config/arm_lqr.yaml, and its tolerance
    const peer = start('python3', [join(PEERS, 'goal_peer.py'), '0.20', '0.05', '0.12', '0.01'], env);
    children.push(peer);
    const named: Record<string, Child> = { estimator, controller, peer };
    // the bridge starts once the controller is there, so the arm is commanded from its first step
    await until('the controller to subscribe to /goal', () => /^(ready|result) /m.test(peer.output()), {
      seen: outputs(named),
    });
    t.diagnostic(`the controller subscribed to /goal: ${elapsed()}`);
    const bridge = node('sim_bridge', '-p', 'mode:=realtime');
    children.push(bridge);
    named['sim_bridge'] = bridge;
    const seen = outputs(named);
    const r = await resultOf(peer, seen, 150_000);
    t.diagnostic(`the goal peer's result: ${elapsed()}`);
    const why = `\npeer result: ${JSON.stringify(r)}\n${seen()}`;
    assert.equal(r['reached'], true, `the end effector did not reach the goal${why}`);
    assert.ok((r['start_distance_m'] as number) > 0.05, `the goal was already reached at the start${why}`);
    assert.match(controller.output(), /new target \(0\.200, 0\.050, 0\.120\) m/);
    assert.equal(await peer.exited, 0, `the peer failed${why}`);
  },
);
