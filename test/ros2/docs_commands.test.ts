// The `ros2 run … --params-file` lines of docs/on-a-robot.md do what the page says: each is run as
// written (through `dynastack run`, which the installed executable wrappers call) under the ROS 2
// transport, and every value of the file's section for that node is what `ros2 param get` reads
// back. A line whose file has no section for the node it starts (the talker's file names `talker:`,
// while `ros2 run dynastack demo_talker` starts /demo_talker) applies nothing, and fails here.
// ROS_DOMAIN_ID 59 (this file's own).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseRosArgs, remapsForNode } from '../../framework/transport/ros_args.js';
import { nodeIdentity } from '../../framework/transport/node_base.js';
import { packageRoot } from '../../src/util/paths.js';
import { until } from '../wait.js';
import { ros2, rosEnv, rosTest, startDynastack, stopDaemon } from './ros_env.js';

const env = rosEnv(59);

/** `ros2 run dynastack <exec> --ros-args … --params-file <file> …` lines of the page, joined across `\` */
function documentedRuns(): { exec: string; rosArgs: string[]; line: string }[] {
  const text = readFileSync(join(packageRoot(), 'docs', 'on-a-robot.md'), 'utf8');
  const runs: { exec: string; rosArgs: string[]; line: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^ros2 run dynastack (\w+) (--ros-args .*--params-file .*)$/.exec(line.trim());
    if (!m) continue;
    const rosArgs = m[2]!.split(/\s+/).map((a) => a.replace(/^~\/dynastack_ws\/src\/dynastack\//, `${packageRoot()}/`));
    runs.push({ exec: m[1]!, rosArgs, line: line.trim() });
  }
  return runs;
}

rosTest("docs/on-a-robot.md's `ros2 run … --params-file` lines apply their file's values", async () => {
  const runs = documentedRuns();
  assert.ok(runs.length > 0, 'docs/on-a-robot.md has a `ros2 run … --params-file` line');
  try {
    for (const { exec, rosArgs, line } of runs) {
      const args = parseRosArgs(['--ros-args', ...rosArgs.slice(1)]);
      const fileArg = rosArgs[rosArgs.indexOf('--params-file') + 1]!;
      const file = parseYaml(readFileSync(fileArg, 'utf8')) as Record<
        string,
        { ros__parameters: Record<string, unknown> }
      >;
      const fqn = nodeIdentity({ name: exec, parameters: {}, remaps: remapsForNode(args, exec) }).fullyQualifiedName;
      const section = file[fqn.slice(1)] ?? file[fqn] ?? file['/**'];
      assert.ok(section, `${line}: ${fileArg} has no section for the node it starts, ${fqn}: nothing would apply`);
      const child = startDynastack(['run', exec, '--transport', 'ros2', '--duration', '60', ...rosArgs], env);
      try {
        await until(`${fqn} in ros2 node list`, async () =>
          (await ros2(['node', 'list', '--no-daemon'], env).catch(() => '')).split('\n').includes(fqn),
        );
        for (const [name, value] of Object.entries(section.ros__parameters)) {
          if (name === 'embedded_thread') continue; // the embedded transport's; not declared under ROS 2
          const out = await ros2(['param', 'get', '--no-daemon', fqn, name], env);
          const got = out.slice(out.indexOf(':') + 1).trim();
          assert.equal(
            got,
            Array.isArray(value) ? `[${value.map((v) => `'${String(v)}'`).join(', ')}]` : String(value),
            `${line}: ${name}`,
          );
        }
      } finally {
        await child.stop();
      }
    }
  } finally {
    await stopDaemon(env);
  }
});
