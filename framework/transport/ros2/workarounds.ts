import type { RclNode, RclParameter, RclSetParametersResult } from './rclnodejs_types.js';

// Two places where rclnodejs 2.2.0 differs from rclcpp in what ROS 2's tools see, corrected per node
// with rclnodejs's public API (https://github.com/RobotWebTools/rclnodejs, lib/node.js).

/**
 * Node-local --ros-args that put a node's parameter events where rclcpp's go. rclnodejs's
 * lib/node.js creates its ParameterEvent publisher on the relative name 'parameter_events', which
 * rcl expands to <namespace>/parameter_events; rclcpp publishes on /parameter_events
 * (rclcpp/src/rclcpp/node_interfaces/node_parameters.cpp), where `ros2 param`, rqt and
 * ParameterEventHandlers listen. rcl applies node-local remaps before the global ones, and a
 * dynastack node has no topic of that name of its own.
 */
export const PARAMETER_EVENTS_REMAP: readonly string[] = ['--ros-args', '-r', 'parameter_events:=/parameter_events'];

/** rclcpp's reason for setting an undeclared parameter (ParameterNotDeclaredException's text). */
export function notDeclaredReason(name: string): string {
  return `parameter '${name}' cannot be set because it was not declared`;
}

/**
 * Refuse a set of an undeclared parameter with rclcpp's reason. rclnodejs's
 * Node._validateParameters treats every name as declared (hasParameterDescriptor is true for the
 * NOT_SET descriptor getParameterDescriptors returns for unknown names), so its refusal reads
 * "Parameter <name> does not  readonly". Its setParameter and setParameters, and the parameter
 * service's set_parameters and set_parameters_atomically (lib/parameter_service.js), all go
 * through the node's setParametersAtomically, which this wraps on the node instance.
 */
export function refuseUndeclaredAsRclcpp(node: RclNode): void {
  const original = node.setParametersAtomically.bind(node);
  node.setParametersAtomically = (parameters: RclParameter[] = []): RclSetParametersResult => {
    const undeclared = parameters.find((p) => !node.hasParameter(p.name));
    return undeclared ? { successful: false, reason: notDeclaredReason(undeclared.name) } : original(parameters);
  };
}
