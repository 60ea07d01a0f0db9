import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../../src/util/paths.js';

// The Foxglove layout shipped in docs/ (what "watch it live" opens): valid JSON, every panel the
// mosaic places has a configuration and every configuration is placed, and the topics it reads are
// the demo graph's names (the namespaces of launch/demo.launch.yaml, the robot_state_publisher's
// robot_scene, the controller's ~/plan; in the learning tab the PETS and MBPO graphs' topics and the
// episode monitor's ~/returns), so a renamed topic shows up here.

interface Layout {
  readonly configById: Record<string, Record<string, unknown>>;
  readonly layout: unknown;
}

/** the panel ids a mosaic places, and those inside its tab panels' tabs */
function placed(node: unknown, out: string[], configs: Layout['configById']): string[] {
  if (typeof node === 'string') {
    out.push(node);
    const tabs = (configs[node]?.tabs ?? []) as { layout?: unknown }[];
    if (node.startsWith('Tab!')) for (const tab of tabs) placed(tab.layout, out, configs);
  } else if (node && typeof node === 'object') {
    const n = node as { first?: unknown; second?: unknown };
    placed(n.first, out, configs);
    placed(n.second, out, configs);
  }
  return out;
}

test('docs/foxglove-layout.json: every panel placed and configured, topics of the demo graph', () => {
  const layout = JSON.parse(readFileSync(join(packageRoot(), 'docs/foxglove-layout.json'), 'utf8')) as Layout;
  const ids = placed(layout.layout, [], layout.configById);
  assert.deepEqual([...ids].sort(), Object.keys(layout.configById).sort());
  const text = JSON.stringify(layout.configById);
  const topics = new Set([...text.matchAll(/"(\/[a-z_]+(?:\/[a-z_]+)*)[.[]/g)].map((m) => m[1]!));
  topics.add('/arm/robot_scene');
  const known = [
    /^\/(arm|cartpole)\/(joint_states|forward_command_controller\/commands|controller\/plan|robot_scene)$/,
    /^\/arm\/robot_state_publisher\/plan_markers$/,
    /^\/(episode|diagnostics)$/,
    // the learning tab: the PETS and MBPO graphs (launch/pets_cartpole.launch.yaml, mbpo_cartpole), not namespaced
    /^\/(joint_states|controller\/commands_stamped|controller\/plan|robot_scene|episode_monitor\/returns)$/,
  ];
  for (const t of topics)
    assert.ok(
      known.some((k) => k.test(t)),
      `the layout reads ${t}, not a topic of the demo graph`,
    );
  const launch = readFileSync(join(packageRoot(), 'launch/demo.launch.yaml'), 'utf8');
  assert.match(launch, /namespace: cartpole/);
  assert.match(launch, /namespace: arm/);
  assert.match(launch, /exec: robot_state_publisher/);
  for (const learning of ['pets_cartpole', 'mbpo_cartpole']) {
    const text = readFileSync(join(packageRoot(), `launch/${learning}.launch.yaml`), 'utf8');
    assert.match(text, /name: foxglove,/, `${learning} takes foxglove:=true`);
    assert.match(text, /exec: robot_state_publisher/);
    assert.match(text, /exec: episode_monitor/);
  }
});
