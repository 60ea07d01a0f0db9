import { defineNode } from '../../framework/runtime/node_definition.js';
import { defineParams } from '../../src/util/param_schema.js';

// Benchmark node: echoes every JointState from `in` to `out`, or only counts them.
export default defineNode({
  name: 'bench_echo',
  description: 'benchmark: echoes or counts joint states',
  parameters: defineParams({ echo: { type: 'bool', default: true, description: 'echo to out (else only count)' } }),
  thread: 'worker',
  configure(node, params) {
    let received = 0;
    const out = node.createPublisher('sensor_msgs/msg/JointState', 'out', { history: 'keep_all' });
    node.createSubscription(
      'sensor_msgs/msg/JointState',
      'in',
      (m) => {
        received++;
        if (params.echo) out.publish(m);
      },
      { qos: { history: 'keep_all' } },
    );
    return { metrics: () => ({ received }) };
  },
});
