import { defineNode } from '../../framework/runtime/node_definition.js';
import { defineParams } from '../../src/util/param_schema.js';

// Benchmark node (bench/ros2.bench.ts, the embedded side): echoes every JointState from `in` to
// `out` with its header stamp replaced by the time it arrived, read from process.hrtime.bigint()
// (CLOCK_MONOTONIC, the clock the main thread and the ROS 2 side's rclpy peer stamp with), so a
// round trip splits into its two one-way legs. Reliable, keep last `depth` both ways, as the rclpy
// peer's topics.
export default defineNode({
  name: 'bench_stamp_echo',
  description: 'benchmark: echoes joint states, stamped when they arrived',
  parameters: defineParams({
    depth: { type: 'integer', default: 1000, range: [1, 100_000], description: 'queue depth of both topics' },
  }),
  thread: 'worker',
  configure(node, params) {
    const qos = { reliability: 'reliable', history: 'keep_last', depth: params.depth } as const;
    const out = node.createPublisher('sensor_msgs/msg/JointState', 'out', qos);
    node.createSubscription(
      'sensor_msgs/msg/JointState',
      'in',
      (m) => {
        const now = process.hrtime.bigint();
        out.publish({
          ...m,
          header: { ...m.header, stamp: { sec: Number(now / 1_000_000_000n), nanosec: Number(now % 1_000_000_000n) } },
        });
      },
      { qos },
    );
    return {};
  },
});
