import { registry } from '../../nodes/index.js';

// The dynastack command with the test fixture nodes added to its package, so that what the command
// line does with a node that fails can be checked end to end: `node with_fixture_nodes.js launch …`
// runs cli/main.js as `dynastack launch …` would, with `failing_node` among the executables.
(registry.modules as Record<string, string>).failing_node = new URL(
  '../fixtures/nodes/failing_node.js',
  import.meta.url,
).href;
await import('../../cli/main.js');
