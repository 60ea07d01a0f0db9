import { defineParams } from '../../src/util/param_schema.js';

// The parameters every node has, whatever it declares itself, as rclnodejs declares them for every
// ROS 2 node (use_sim_time), plus the embedded launcher's choice of thread.

/** Parameters every node has, as rclnodejs declares them. */
export const COMMON_PARAMS = defineParams({
  use_sim_time: { type: 'bool', default: false, description: 'follow /clock instead of the system clock' },
  embedded_thread: {
    type: 'string',
    default: '',
    choices: ['', 'main', 'worker'],
    description:
      "embedded launcher only: run the node on the main thread or in a worker ('' = the node's own choice); under ROS 2 each node is its own process",
  },
});
