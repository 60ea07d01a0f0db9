import type { NodeHandle } from './types.js';
import { defineParams } from '../../src/util/param_schema.js';
import { QOS_DATA_STREAM } from './qos.js';
import { jointStateFields, type JointStateFields } from '../msgs/joint_state.js';
import { commandOf } from '../msgs/stamped_command.js';

// The two streams a learner pairs into transitions, subscribed the one way every learner does: the
// state as a dynastack_msgs/JointStateEstimate or a sensor_msgs/JointState (with velocities), the
// command as a stamped sensor_msgs/JointState (stamped by its source, a controller's
// stamped_command_topic) or a std_msgs/Float64MultiArray (stamped on arrival with the node's clock),
// both kept as QOS_DATA_STREAM keeps them. The four parameters that choose them are declared here
// once, for every node that learns from the two streams.

export const STATE_COMMAND_PARAMETERS = defineParams({
  state_topic: {
    type: 'string',
    default: 'estimated_joint_states',
    nonEmpty: true,
    description: 'the stamped state stream',
  },
  state_type: {
    type: 'string',
    default: 'dynastack_msgs/msg/JointStateEstimate',
    choices: ['dynastack_msgs/msg/JointStateEstimate', 'sensor_msgs/msg/JointState'],
    description: 'message type of state_topic (a JointState needs velocities)',
  },
  command_topic: {
    type: 'string',
    default: 'forward_command_controller/commands',
    nonEmpty: true,
    description: 'the command stream (of command_type)',
  },
  command_type: {
    type: 'string',
    default: 'std_msgs/msg/Float64MultiArray',
    choices: ['std_msgs/msg/Float64MultiArray', 'sensor_msgs/msg/JointState'],
    description:
      "Float64MultiArray: stamped on arrival with this node's clock (exact only where messages are handled in the order they were sent: one process); JointState: stamped by its source (a controller's stamped_command_topic), the values in its effort, position or velocity",
  },
});

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
