"""rclpy peer of test/ros2/interop.test.ts: drives a dynastack controller (use_sim_time true) the
way a ROS 2 graph does, and prints what it saw as JSON lines.

/clock is published as rclcpp's ClockQoS does (rclcpp/src/rclcpp/qos.cpp: the sensor-data profile
with KeepLast(1): best effort, volatile, depth 1), which is also what `ros2 bag play --clock` uses
(rosbag2_transport/src/rosbag2_transport/player.cpp creates its clock publisher with
rclcpp::ClockQoS()). A cart-pole state (dynastack_msgs/JointStateEstimate, pole 0.1 rad from
upright) is published at every clock step, stamped with that sim time. Sim time advances in
10 ms steps (the controller's period at 100 Hz), each step once the controller's command for the
one before has come (re-publishing the same time while waiting, as a paused player does). Phases:

  A  sim time 0 -> 0.2 s, then held for a second of wall time: the controller ticks on sim time,
     so it sends one command per step and none while the time is held;
  B  0.2 -> 0.5 s: LQR commands for the tilted pole (not 0 N);
  C  std_msgs/Bool true on /emergency_stop, steps until a command is the stop action (0 N), then
     0.3 s more: every command from the first stop action on is 0 N;
  D  false on /emergency_stop, 0.3 s more: still the stop action (the e-stop latches).

Every wait has a deadline; the last line is `result {json}`. Ends by itself (or on SIGINT).

  python3 clock_peer.py [best_effort|reliable]   (the /clock reliability; default best_effort)
"""

import json
import sys
import time

import rclpy
from builtin_interfaces.msg import Time
from dynastack_msgs.msg import JointStateEstimate
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock
from std_msgs.msg import Bool, Float64MultiArray

STEP_NS = 10_000_000
DEADLINE_S = 30.0
CLOCK_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.BEST_EFFORT,
    durability=DurabilityPolicy.VOLATILE,
)
COMMANDS = "/forward_command_controller/commands"


def say(kind: str, **fields: object) -> None:
    print(kind + " " + json.dumps(fields), flush=True)


def drive(node: Node) -> None:
    clock_qos = CLOCK_QOS
    if len(sys.argv) > 1 and sys.argv[1] == "reliable":
        clock_qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
    clock_pub = node.create_publisher(Clock, "/clock", clock_qos)
    state_pub = node.create_publisher(JointStateEstimate, "/estimated_joint_states", 10)
    estop_pub = node.create_publisher(Bool, "/emergency_stop", 10)
    commands: list[tuple[int, float]] = []  # (sim time when received, first element)
    now_ns = 0

    node.create_subscription(
        Float64MultiArray, COMMANDS, lambda m: commands.append((now_ns, float(m.data[0]))), 100
    )

    def spin_until(what: str, ok, deadline_s: float = DEADLINE_S, republish: bool = False) -> bool:
        end = time.monotonic() + deadline_s
        while not ok():
            if time.monotonic() > end:
                say("timeout", waiting_for=what)
                return False
            if republish:
                publish(now_ns)
            rclpy.spin_once(node, timeout_sec=0.02)
        return True

    def publish(t_ns: int) -> None:
        stamp = Time(sec=t_ns // 1_000_000_000, nanosec=t_ns % 1_000_000_000)
        clock_pub.publish(Clock(clock=stamp))
        m = JointStateEstimate()
        m.state.header.stamp = stamp
        m.state.name = ["cart_slide", "pole_hinge"]
        m.state.position = [0.0, 0.1]
        m.state.velocity = [0.0, 0.0]
        m.state.effort = [0.0, 0.0]
        m.covariance = [1e-6, 0.0, 0.0, 1e-6] * 2
        state_pub.publish(m)

    def step() -> bool:
        """one 10 ms step of sim time; true once the controller's command for it has come"""
        nonlocal now_ns
        now_ns += STEP_NS
        before = len(commands)
        publish(now_ns)
        return spin_until(f"a command at sim time {now_ns / 1e9:.2f} s", lambda: len(commands) > before, 10.0, True)

    def advance(to_ns: int) -> bool:
        while now_ns < to_ns:
            if not step():
                return False
        return True

    # discovery: the controller's state and e-stop subscriptions and its command publisher matched;
    # the state at time 0 is published all along (a controller sends nothing before its first state,
    # and would otherwise tick at 0.01 s on a clock that came before the state of that step)
    ready = spin_until(
        "the controller's subscriptions and command publisher",
        lambda: state_pub.get_subscription_count() >= 1
        and estop_pub.get_subscription_count() >= 1
        and node.count_publishers(COMMANDS) >= 1
        and node.count_subscribers("/clock") >= 1,
        republish=True,
    )
    # a best-effort /clock matches only a best-effort subscription (a reliable one requests more)
    clock_matched = ready and spin_until(
        "a /clock subscription that matches best effort", lambda: clock_pub.get_subscription_count() >= 1, 10.0
    )
    # the state of time 0 delivered (reliable, matched) before the clock moves on
    for _ in range(5):
        publish(0)
        rclpy.spin_once(node, timeout_sec=0.02)
    say("discovered", ready=ready, clock_matched=clock_matched)
    result: dict[str, object] = {"ready": ready, "clock_matched": clock_matched}

    def finish() -> None:
        result["commands"] = len(commands)
        result["sim_time_s"] = now_ns / 1e9
        say("result", **result)

    # A: every 10 ms of sim time brings one command, and holding sim time brings none
    result["a_followed"] = ready and advance(200_000_000)
    if not result["a_followed"]:
        return finish()
    a = len(commands)
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        publish(now_ns)
        rclpy.spin_once(node, timeout_sec=0.02)
    result["a_commands"] = a
    result["a_held_commands"] = len(commands) - a
    # B: the LQR's command for the tilted pole
    result["b_followed"] = advance(500_000_000)
    result["b_max_abs"] = max((abs(u) for _, u in commands[a:]), default=0.0)
    if not result["b_followed"]:
        return finish()
    # C: e-stop true: from the first stop action on, nothing else
    estop_pub.publish(Bool(data=True))
    b = len(commands)
    result["c_stopped"] = False
    while now_ns < 2_000_000_000 and step():
        if commands[-1][1] == 0.0:
            result["c_stopped"] = True
            break
    first_zero = len(commands) - 1
    if not result["c_stopped"] or not advance(now_ns + 300_000_000):
        return finish()
    result["c_commands_before_stop"] = first_zero - b
    result["c_nonzero_after_stop"] = sum(1 for _, u in commands[first_zero:] if u != 0.0)
    # D: e-stop false does not release it
    estop_pub.publish(Bool(data=False))
    c = len(commands)
    result["d_followed"] = advance(now_ns + 300_000_000)
    result["d_commands"] = len(commands) - c
    result["d_nonzero"] = sum(1 for _, u in commands[c:] if u != 0.0)
    finish()


def main() -> None:
    rclpy.init()
    node = Node("interop_clock_peer")
    try:
        drive(node)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
