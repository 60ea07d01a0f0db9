"""rclpy peer of test/ros2/interop.test.ts: gives a dynastack controller an end-effector goal as
any ROS 2 node would (geometry_msgs/PoseStamped on /goal, latched as goal_sequencer publishes it:
reliable, transient local, keep last 1, which the controller's goal subscription requests; sent
once that subscription has matched) and watches
the sim bridge's /ee_pose until the end effector has stayed within the tolerance for half a second
of sim time. Prints JSON lines; the last is `result {json}`. Ends by itself (or on SIGINT).

  python3 goal_peer.py X Y Z TOLERANCE_M
"""

import json
import math
import sys
import time

import rclpy
from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

DEADLINE_S = 60.0
HOLD_NS = 500_000_000


def say(kind: str, **fields: object) -> None:
    print(kind + " " + json.dumps(fields), flush=True)


def drive(node: Node, target: tuple[float, float, float], tolerance: float) -> None:
    latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    goal_pub = node.create_publisher(PoseStamped, "/goal", latched)
    poses: list[tuple[int, float]] = []  # (stamp, distance to the target)

    def on_pose(m: PoseStamped) -> None:
        p = m.pose.position
        stamp = m.header.stamp.sec * 1_000_000_000 + m.header.stamp.nanosec
        poses.append((stamp, math.dist((p.x, p.y, p.z), target)))

    node.create_subscription(PoseStamped, "/ee_pose", on_pose, 10)

    def spin_until(what: str, ok) -> bool:
        end = time.monotonic() + DEADLINE_S
        while not ok():
            if time.monotonic() > end:
                say("timeout", waiting_for=what)
                return False
            rclpy.spin_once(node, timeout_sec=0.02)
        return True

    result: dict[str, object] = {}
    if not spin_until("the controller's /goal subscription", lambda: goal_pub.get_subscription_count() >= 1):
        return say("result", **result)
    say("ready")
    if not spin_until("the sim bridge's /ee_pose", lambda: len(poses) >= 1):
        return say("result", **result)
    goal = PoseStamped()
    goal.header.frame_id = "world"
    goal.header.stamp.sec, goal.header.stamp.nanosec = divmod(poses[-1][0], 1_000_000_000)
    goal.pose.position.x, goal.pose.position.y, goal.pose.position.z = target
    goal.pose.orientation.w = 1.0
    sent_at = poses[-1][0]
    result["start_distance_m"] = poses[-1][1]
    goal_pub.publish(goal)
    say("goal sent", at_s=sent_at / 1e9)

    def held() -> bool:
        # the newest poses, back to HOLD_NS of sim time, all within the tolerance
        newest = poses[-1][0]
        if newest - sent_at < HOLD_NS:
            return False
        for stamp, distance in reversed(poses):
            if distance > tolerance:
                return False
            if newest - stamp >= HOLD_NS:
                return True
        return False

    result["reached"] = spin_until(f"the end effector within {tolerance} m of the goal", held)
    result["distance_m"] = poses[-1][1]
    result["sim_time_to_reach_s"] = (poses[-1][0] - sent_at) / 1e9
    say("result", **result)


def main() -> None:
    x, y, z, tolerance = (float(a) for a in sys.argv[1:5])
    rclpy.init()
    node = Node("interop_goal_peer")
    try:
        drive(node, (x, y, z), tolerance)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
