"""rclpy peer of test/ros2/foxglove.test.ts: what a Foxglove client should see of a ROS 2 graph
through dynastack's foxglove_bridge. Publishes sensor_msgs/JointState on PREFIX/joint_states with
rclpy's sensor-data QoS (best effort) at 50 Hz, joints a and b at positions k/100 and -k/100 for
the k-th message; publishes std_msgs/String "scene from rclpy" once on PREFIX/scene, transient
local (latched); declares the parameters gain (2.5) and joints (['a', 'b']); subscribes to std_msgs/Bool on PREFIX/emergency_stop and prints each as
"estop <true|false>". Ends on SIGINT.

  python3 foxglove_peer.py PREFIX
"""

import sys

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool, String


def main() -> None:
    prefix = sys.argv[1]
    rclpy.init()
    node = Node("foxglove_peer")
    node.declare_parameter("gain", 2.5)
    node.declare_parameter("joints", ["a", "b"])
    states = node.create_publisher(JointState, prefix + "/joint_states", qos_profile_sensor_data)
    latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    scene = node.create_publisher(String, prefix + "/scene", latched)
    scene.publish(String(data="scene from rclpy"))
    count = [0]

    def tick() -> None:
        count[0] += 1
        k = count[0]
        m = JointState()
        m.header.stamp = node.get_clock().now().to_msg()
        m.name = ["a", "b"]
        m.position = [k / 100.0, -k / 100.0]
        states.publish(m)

    node.create_timer(0.02, tick)
    node.create_subscription(
        Bool, prefix + "/emergency_stop", lambda m: print("estop " + ("true" if m.data else "false"), flush=True), 10
    )
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
