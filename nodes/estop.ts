import type { NodeHandle } from '../framework/transport/types.js';
import type { SafetyLayer } from '../src/control/safety.js';

// The e-stop input every node that commands a robot through the safety layer has (the controller,
// teleop): one topic latches it, ~/reset_estop releases it.

/**
 * The e-stop topic latches the safety layer's e-stop; ~/reset_estop releases it. Subscribed volatile
 * on purpose: a volatile subscription matches publishers of either durability (`ros2 topic pub`
 * offers VOLATILE), where a transient-local one would refuse a volatile e-stop publisher outright.
 */
export function subscribeEstop(node: NodeHandle, safety: SafetyLayer, topic: string): void {
  node.createSubscription('std_msgs/msg/Bool', topic, (m) => {
    if (!m.data || safety.estopped) return;
    safety.estop(`${topic} received true`);
    node.logger.error(`EMERGENCY STOP latched (${topic}); publish to ~/reset_estop to release`);
  });
  node.createSubscription('std_msgs/msg/Empty', '~/reset_estop', () => {
    if (!safety.estopped) return;
    safety.resetEstop();
    node.logger.warn('emergency stop released');
  });
}
