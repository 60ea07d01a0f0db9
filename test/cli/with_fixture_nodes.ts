import { registry } from '../../nodes/index.js';

// The dynastack command with the test fixture nodes added to its package, so that what the command
// line does with a node that fails, or whose stop actions take a while, can be checked end to end:
// `node with_fixture_nodes.js launch …` runs cli/main.js as `dynastack launch …` would, with
// `failing_node` and `slow_stop_node` among the executables.
(registry.modules as Record<string, string>).failing_node = new URL(
  '../fixtures/nodes/failing_node.js',
  import.meta.url,
).href;
(registry.modules as Record<string, string>).slow_stop_node = new URL(
  './fixtures/slow_stop_node.js',
  import.meta.url,
).href;
await import('../../cli/main.js');
