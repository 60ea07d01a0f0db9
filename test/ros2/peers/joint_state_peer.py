"""rclpy peer of test/ros2/interop.test.ts: subscribes to a dynastack sim bridge's
sensor_msgs/JointState and prints every message as one JSON line, so the test sees what an rclpy
node decodes (names, positions, velocities, stamp). With a command topic it also holds a
std_msgs/Float64MultiArray publisher there, publishing nothing: to the bridge it is then the
command source a controller would be (the bridge holds its sim until it sees one), while the test
commands the robot with `ros2 topic pub`. Ends on SIGINT.

  python3 joint_state_peer.py STATE_TOPIC [COMMAND_TOPIC]
"""

import json
import sys

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray


def main() -> None:
    topic = sys.argv[1]
    rclpy.init()
    node = Node("interop_state_peer")
    if len(sys.argv) > 2:
        node.create_publisher(Float64MultiArray, sys.argv[2], 10)

    def on_state(m: JointState) -> None:
        line = {
            "stamp_ns": m.header.stamp.sec * 1_000_000_000 + m.header.stamp.nanosec,
            "name": list(m.name),
            "position": list(m.position),
            "velocity": list(m.velocity),
        }
        print("state " + json.dumps(line), flush=True)

    node.create_subscription(JointState, topic, on_state, 10)
    print("peer ready", flush=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
