import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadLaunchFile, type LaunchNode } from '../../framework/launch/parse.js';
import { loadParamFile, sourcesForNode, type ParamSource } from '../../framework/params/file.js';
import { resolveParams } from '../../framework/params/resolve.js';
import { loadDefinition } from '../../framework/runtime/registry.js';
import { joinNamespace } from '../../framework/transport/names.js';
import { registry } from '../../nodes/index.js';
import { findPackageShare } from '../../cli/find_package.js';
import { packageRoot } from '../../src/util/paths.js';

// launch/hw_emulated.launch.yaml goes live from the command line: with port:= (or robot_config:=)
// no servo emulator is started and the hw_bridge opens that port (uses that robot.yaml) with the
// calibration `dynastack calibrate` wrote; without them the emulator runs and the bridge opens its
// pty. Checked on the parsed description — which nodes it holds and the parameters each would get,
// resolved as the launcher resolves them — without starting anything.

const file = join(packageRoot(), 'launch', 'hw_emulated.launch.yaml');

function describe(args: Record<string, string>): LaunchNode[] {
  const d = loadLaunchFile(file, args, { findPackageShare });
  assert.deepEqual(d.warnings, []);
  return d.nodes;
}

/** The parameters a launched node ends up with: its declarations, the parameter files, the launch file's values. */
async function parametersOf(node: LaunchNode): Promise<Record<string, unknown>> {
  const { definition } = await loadDefinition(registry, node.exec);
  const fqn = joinNamespace(node.namespace, node.name ?? definition.name);
  const sources: ParamSource[] = node.parameters.flatMap((p) =>
    p.kind === 'file'
      ? sourcesForNode(loadParamFile(p.path), fqn, p.path)
      : [{ origin: node.origin, values: { [p.name]: p.value }, strict: true }],
  );
  return resolveParams(definition.parameters, sources, fqn);
}

const execs = (nodes: readonly LaunchNode[]): string[] => nodes.map((n) => n.exec);
const bridge = (nodes: readonly LaunchNode[]): LaunchNode => {
  const found = nodes.filter((n) => n.exec === 'hw_bridge');
  assert.equal(found.length, 1, 'one hw_bridge');
  return found[0]!;
};

test('without arguments the emulated SO-101 runs and the bridge opens its pty with the emulated calibration', async () => {
  const nodes = describe({});
  assert.deepEqual(execs(nodes), ['servo_emulator', 'hw_bridge', 'state_estimator', 'controller']);
  const emulator = await parametersOf(nodes[0]!);
  const p = await parametersOf(bridge(nodes));
  assert.equal(emulator.link, '/tmp/dynastack-so101');
  assert.equal(p.port, '/tmp/dynastack-so101');
  assert.equal(p.robot_config, 'config/robots/so101_emulated.yaml');
  assert.equal(emulator.robot_config, p.robot_config);
  assert.equal(p.calibration_file, 'config/calibration/so101_emulated.yaml');

  const moved = describe({ emulator_link: '/tmp/elsewhere/tty' });
  assert.deepEqual(execs(moved), ['servo_emulator', 'hw_bridge', 'state_estimator', 'controller']);
  assert.equal((await parametersOf(moved[0]!)).link, '/tmp/elsewhere/tty');
  assert.equal((await parametersOf(bridge(moved))).port, '/tmp/elsewhere/tty');
});

test("port:= goes live: no emulator, the bridge opens that port with the SO-101 layout and the user's calibration", async () => {
  const nodes = describe({ port: '/dev/ttyACM0' });
  assert.deepEqual(execs(nodes), ['hw_bridge', 'state_estimator', 'controller']);
  const p = await parametersOf(bridge(nodes));
  assert.equal(p.port, '/dev/ttyACM0');
  assert.equal(p.robot_config, 'config/robots/so101_emulated.yaml');
  // '': the file dynastack calibrate wrote (~/.config/dynastack/calibration/<robot>.yaml), never the emulated arm's
  assert.equal(p.calibration_file, '');
});

test('robot_config:= goes live too, with its own port unless port:= is given; calibration_file:= picks the calibration', async () => {
  const own = describe({ robot_config: '/home/me/arm.yaml' });
  assert.deepEqual(execs(own), ['hw_bridge', 'state_estimator', 'controller']);
  const p = await parametersOf(bridge(own));
  assert.equal(p.robot_config, '/home/me/arm.yaml');
  assert.equal(p.port, '', "'' is robot.yaml's port");
  assert.equal(p.calibration_file, '');

  const all = describe({
    robot_config: '/home/me/arm.yaml',
    port: '/dev/serial/by-id/usb-1a86_USB_Single_Serial-if00',
    calibration_file: '/home/me/arm_calibration.yaml',
  });
  assert.deepEqual(execs(all), ['hw_bridge', 'state_estimator', 'controller']);
  const q = await parametersOf(bridge(all));
  assert.equal(q.port, '/dev/serial/by-id/usb-1a86_USB_Single_Serial-if00');
  assert.equal(q.robot_config, '/home/me/arm.yaml');
  assert.equal(q.calibration_file, '/home/me/arm_calibration.yaml');
  // the rest of the bridge's settings still come from the config file
  assert.equal(q.rate_hz, 100);
  assert.equal(q.command_interface, 'position');
});
