import { registry } from '../../nodes/index.js';

// The dynastack command with ./lifecycle_probe_node.ts among the executables, for the ROS 2
// lifecycle tests: `node lifecycle_cli.js run lifecycle_probe --transport ros2 …`.
(registry.modules as Record<string, string>).lifecycle_probe = new URL(
  './lifecycle_probe_node.js',
  import.meta.url,
).href;
await import('../../cli/main.js');
