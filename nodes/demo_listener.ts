import { defineNode } from '../framework/runtime/node_definition.js';
import { defineParams } from '../src/util/param_schema.js';
import { timeToNs, periodNsFromHz } from '../framework/time/time.js';
import type { Timer } from '../framework/time/clock.js';

// Listens to joint states and reports what arrives: rate, age at arrival, joint count.

const parameters = defineParams({
  report_period_s: { type: 'double', default: 1, range: [0.01, 3600], description: 'how often progress is logged' },
  expected_joints: {
    type: 'integer',
    default: 0,
    range: [0, 1000],
    description: 'warn when a message has another joint count (0: any)',
  },
});

export default defineNode({
  name: 'demo_listener',
  description: 'subscribes to sensor_msgs/JointState and reports rate and latency',
  parameters,
  configure(node, params) {
    let received = 0;
    let sinceReport = 0;
    let ageSumNs = 0n;
    let maxAgeNs = 0n;
    let wrongLength = 0;
    let timer: Timer | undefined;
    let last = node.steadyClock.now();
    node.createSubscription('sensor_msgs/msg/JointState', 'joint_states', (msg) => {
      received++;
      sinceReport++;
      const age = node.clock.now() - timeToNs(msg.header.stamp);
      ageSumNs += age;
      if (age > maxAgeNs) maxAgeNs = age;
      if (params.expected_joints && msg.position.length !== params.expected_joints) wrongLength++;
    });
    return {
      activate: () => {
        last = node.steadyClock.now();
        timer = node.createTimer(
          periodNsFromHz(1 / params.report_period_s),
          () => {
            const now = node.steadyClock.now();
            node.logger.info(
              `received ${received} joint states (${(sinceReport / (Number(now - last) / 1e9)).toFixed(1)} Hz)`,
            );
            sinceReport = 0;
            last = now;
          },
          node.steadyClock,
        );
      },
      deactivate: () => timer?.cancel(),
      metrics: () => ({
        received,
        mean_age_ms: received ? Number(ageSumNs / BigInt(received)) / 1e6 : 0,
        max_age_ms: Number(maxAgeNs) / 1e6,
        wrong_joint_count: wrongLength,
      }),
    };
  },
});
