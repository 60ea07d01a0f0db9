import { defineNode } from '../../framework/runtime/node_definition.js';
import { defineParams } from '../../src/util/param_schema.js';

// A node for the ROS 2 lifecycle tests (./lifecycle.test.ts): each hook logs one line, and the n-th
// activation throws, so that a failed transition requested with `ros2 lifecycle set` can be
// watched going through ErrorProcessing (the runtime's deactivate and cleanup) to finalized.
export default defineNode({
  name: 'lifecycle_probe',
  description: 'test: logs its lifecycle hooks; its n-th activation throws',
  parameters: defineParams({
    fail_on_activation: { type: 'integer', default: 2, range: [1, 100], description: 'the activation that throws' },
  }),
  configure(node, params) {
    let activations = 0;
    const say = (what: string): void => node.logger.info(`probe: ${what}`);
    say('configure');
    return {
      activate: () => {
        say('activate');
        if (++activations === params.fail_on_activation) throw new Error(`activation ${activations} broke`);
      },
      deactivate: () => say('deactivate'),
      cleanup: () => say('cleanup'),
    };
  },
});
