import type { NodeHandle } from './types.js';
import { QOS_DATA_STREAM } from './qos.js';
import { jointStateFields, type JointStateFields } from '../msgs/joint_state.js';
import { commandOf } from '../msgs/stamped_command.js';

// The two streams a learner pairs into transitions, subscribed the one way every learner does: the
// state as a dynastack_msgs/JointStateEstimate or a sensor_msgs/JointState (with velocities), the
// command as a stamped sensor_msgs/JointState (stamped by its source, a controller's
// stamped_command_topic) or a std_msgs/Float64MultiArray (stamped on arrival with the node's clock),
// both kept as QOS_DATA_STREAM keeps them.

export interface StateCommandTopics {
  readonly state_topic: string;
  readonly state_type: string;
  readonly command_topic: string;
  readonly command_type: string;
}

export function subscribeStateAndCommand(
  node: NodeHandle,
  p: StateCommandTopics,
  onState: (state: JointStateFields) => void,
  onCommand: (stampNs: bigint, values: ArrayLike<number>) => void,
): void {
  const data = { qos: QOS_DATA_STREAM };
  if (p.state_type === 'sensor_msgs/msg/JointState')
    node.createSubscription('sensor_msgs/msg/JointState', p.state_topic, (m) => onState(jointStateFields(m)), data);
  else
    node.createSubscription(
      'dynastack_msgs/msg/JointStateEstimate',
      p.state_topic,
      (m) => onState(jointStateFields(m)),
      data,
    );
  if (p.command_type === 'sensor_msgs/msg/JointState')
    node.createSubscription(
      'sensor_msgs/msg/JointState',
      p.command_topic,
      (m) => {
        const { stampNs, values } = commandOf(m);
        onCommand(stampNs, values);
      },
      data,
    );
  else
    node.createSubscription(
      'std_msgs/msg/Float64MultiArray',
      p.command_topic,
      (m) => onCommand(node.clock.now(), m.data),
      data,
    );
}
