import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registry } from '../../nodes/index.js';
import { loadLaunchFile } from '../../framework/launch/parse.js';
import { Launcher } from '../../framework/runtime/launcher.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { incompatibility } from '../../framework/transport/qos.js';
import { findPackageShare } from '../../cli/find_package.js';
import { packageRoot } from '../../src/util/paths.js';

// Every topic of the package's launch files, publisher against subscription, as DDS would pair
// them when each node is a process of its own (ros2 launch): no pair is incompatible (DDS would
// deliver nothing between them), and a topic published transient local (a goal, a model, the
// episode events) is subscribed transient local everywhere, so a node whose process is discovered
// after the message went out still gets it. Each graph is configured on the embedded bus, not run.

const out = mkdtempSync(join(tmpdir(), 'dynastack-qos-'));
test.after(() => rmSync(out, { recursive: true, force: true }));

const LAUNCHES: Record<string, Record<string, string>> = {
  'demo.launch.yaml': { out },
  'sim_realtime.launch.yaml': {},
  'pets_cartpole.launch.yaml': { run_dir: join(out, 'pc'), curve: join(out, 'pc.svg') },
  'pets_arm_reach.launch.yaml': { run_dir: join(out, 'pa'), curve: join(out, 'pa.svg') },
  'hw_emulated.launch.yaml': { emulator_link: join(out, 'so101') },
  'talker_listener.launch.yaml': {},
};

for (const [file, args] of Object.entries(LAUNCHES)) {
  test(`${file}: every publisher/subscription pair matches, and latched topics are latched on both sides`, async () => {
    const description = loadLaunchFile(join(packageRoot(), 'launch', file), args, { findPackageShare });
    const transport = new EmbeddedTransport();
    const launcher = new Launcher(description, { transport, registry, logLevelSpec: 'error' });
    const problems: string[] = [];
    let latched = 0;
    try {
      await launcher.configure();
      for (const [name, topic] of transport.bus.topics()) {
        for (const pub of topic.publishers) {
          for (const sub of topic.subscriptions) {
            const why = incompatibility(pub.qos, sub.qos);
            if (why) problems.push(`${name}: ${pub.owner} → ${sub.owner} incompatible (${why.policy}: ${why.offered})`);
            if (pub.qos.durability === 'transient_local' && sub.qos.durability !== 'transient_local')
              problems.push(`${name}: ${pub.owner} publishes transient local, ${sub.owner} subscribes volatile`);
          }
          if (pub.qos.durability === 'transient_local' && topic.subscriptions.size) latched++;
        }
      }
    } finally {
      await launcher.shutdown();
    }
    assert.deepEqual(problems, []);
    if (file !== 'talker_listener.launch.yaml' && file !== 'hw_emulated.launch.yaml')
      assert.ok(latched > 0, 'the graph has latched topics with subscribers (the check looked at something)');
  });
}
