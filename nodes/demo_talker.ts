import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams } from '../src/util/param_schema.js';
import { nsToTime, nsToSeconds, periodNsFromHz } from '../framework/time/time.js';
import type { Timer } from '../framework/time/clock.js';

// A joint-state source for trying the runtime: each joint follows a sine at its own phase.

const parameters = defineParams({
  rate_hz: { type: 'double', default: 100, range: [0.1, 10_000], description: 'publishing rate' },
  joints: {
    type: 'string_array',
    default: ['joint_1', 'joint_2', 'joint_3', 'joint_4', 'joint_5', 'joint_6'],
    description: 'joint names',
  },
  amplitude: { type: 'double', default: 0.5, range: [0, 3.2], description: 'sine amplitude (rad)' },
  frequency_hz: { type: 'double', default: 0.5, range: [0, 100], description: 'sine frequency' },
});

export default defineNode({
  name: 'demo_talker',
  description: 'publishes sine joint trajectories as sensor_msgs/JointState',
  parameters,
  configure(node, params) {
    const pub = node.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
    const n = params.joints.length;
    let timer: Timer | undefined;
    let sent = 0;
    const publish = (): void => {
      const now = node.clock.now();
      const t = nsToSeconds(now);
      const position = new Float64Array(n);
      const velocity = new Float64Array(n);
      const w = 2 * Math.PI * params.frequency_hz;
      for (let i = 0; i < n; i++) {
        const phase = (2 * Math.PI * i) / n;
        position[i] = params.amplitude * Math.sin(w * t + phase);
        velocity[i] = params.amplitude * w * Math.cos(w * t + phase);
      }
      pub.publish({
        header: { stamp: nsToTime(now), frame_id: '' },
        name: [...params.joints],
        position,
        velocity,
        effort: [],
      });
      sent++;
    };
    return {
      activate: () => {
        timer = node.createTimer(periodNsFromHz(params.rate_hz), publish);
      },
      deactivate: () => timer?.cancel(),
      metrics: () => ({ sent }),
    };
  },
});
