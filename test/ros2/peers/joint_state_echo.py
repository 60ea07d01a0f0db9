"""rclpy peer of bench/ros2.bench.ts: echoes every sensor_msgs/JointState from IN_TOPIC on
OUT_TOPIC, its header stamp replaced by the time it was received, read from CLOCK_MONOTONIC
(time.monotonic_ns(): clock_gettime(CLOCK_MONOTONIC) on Linux, per the Python docs of time), the
clock Node's process.hrtime.bigint() reads (libuv's uv_hrtime, src/unix/linux.c), so the bench
can split each round trip into its two one-way legs. Both topics are reliable, keep last DEPTH, so
a window of messages in flight is neither dropped nor blocked. Prints `ready` once both endpoints
exist; ends on SIGINT.

  python3 joint_state_echo.py IN_TOPIC OUT_TOPIC DEPTH
"""

import sys
import time

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState


def main() -> None:
    in_topic, out_topic, depth = sys.argv[1], sys.argv[2], int(sys.argv[3])
    qos = QoSProfile(depth=depth, reliability=ReliabilityPolicy.RELIABLE)
    rclpy.init()
    node = Node("bench_joint_state_echo")
    out = node.create_publisher(JointState, out_topic, qos)

    def echo(m: JointState) -> None:
        now = time.monotonic_ns()
        m.header.stamp.sec, m.header.stamp.nanosec = divmod(now, 1_000_000_000)
        out.publish(m)

    node.create_subscription(JointState, in_topic, echo, qos)
    print("ready", flush=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
