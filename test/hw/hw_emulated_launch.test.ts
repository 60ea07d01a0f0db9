import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { registry } from '../../nodes/index.js';
import { loadLaunchFile } from '../../framework/launch/parse.js';
import { Launcher } from '../../framework/runtime/launcher.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { defineParams } from '../../src/util/param_schema.js';
import { findPackageShare } from '../../cli/find_package.js';
import { packageRoot } from '../../src/util/paths.js';
import { timeToNs } from '../../framework/time/time.js';
import { MujocoSim } from '../../sim/mujoco/sim.js';
import { DiagnosticLevel, type DiagnosticStatus } from '../../framework/msgs/types.js';

// launch/hw_emulated.launch.yaml as `dynastack launch` runs it: the emulated SO-101 behind a pty,
// hw_bridge, state_estimator and controller in one process. The emulated arm powers on away
// from the target (config/hw_emulated.yaml initial_positions); the controller must bring it to the
// target (goal_keyframe home of the position-actuated arm: elbow and wrist folded, so gravity
// pulls on them) and hold it there.

/** the target the config names: the model's 'home' keyframe, in joint order */
async function homeTarget(): Promise<number[]> {
  const sim = await MujocoSim.fromFile(join(packageRoot(), 'sim', 'models', 'so_arm_position.xml'));
  try {
    sim.resetToKeyframe('home');
    return Array.from(sim.getQpos());
  } finally {
    sim.dispose();
  }
}

const HOLD_S = 2; // the end of the run: every joint within 1° for this long (by the states' stamps)…
const HOLD_STATES = 21; // …and over at least this many joint states
const DEADLINE_S = 90; // the run ends once the arm was seen held; this only bounds a run where it never is
const DEG = Math.PI / 180;

interface Stamped {
  readonly tNs: bigint;
  readonly position: readonly number[];
}

/** The end of the run that must be held: the last HOLD_S seconds, or the last HOLD_STATES states if that is more. */
function holdWindow(states: readonly Stamped[]): readonly Stamped[] {
  const last = states.at(-1);
  if (!last) return [];
  // from the last state at or before HOLD_S ago (the first one when the run is shorter)
  const from = last.tNs - BigInt(HOLD_S * 1e9);
  const byTime = Math.max(
    0,
    states.findLastIndex((s) => s.tNs <= from),
  );
  return states.slice(Math.max(0, Math.min(byTime, states.length - HOLD_STATES)));
}

/** True once the run has lasted HOLD_S and its hold window is all within 1° of the target. */
function heldAtTarget(states: readonly Stamped[], target: readonly number[]): boolean {
  const last = states.at(-1);
  if (!last || states.length < HOLD_STATES || last.tNs - states[0]!.tNs < BigInt(HOLD_S * 1e9)) return false;
  return holdWindow(states).every((s) => s.position.every((q, i) => Math.abs(q - target[i]!) < DEG));
}

test('hw_emulated.launch.yaml: the controller brings the emulated arm to its target and holds it within 1°, nothing crashes, diagnostics healthy', async () => {
  const target = await homeTarget();
  assert.ok(Math.max(...target.map(Math.abs)) > 1, 'the target is away from the calibration pose');
  const port = join(mkdtempSync(join(tmpdir(), 'dynastack-hwl-')), 'tty');
  const description = loadLaunchFile(
    join(packageRoot(), 'launch', 'hw_emulated.launch.yaml'),
    { emulator_link: port },
    { findPackageShare },
  );
  const transport = new EmbeddedTransport({ checkMessages: true });
  const launcher = new Launcher(description, { transport, registry, logLevelSpec: 'error', checkMessages: true });
  const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
  const states: { tNs: bigint; name: string[]; position: number[] }[] = [];
  const diagnostics = new Map<string, DiagnosticStatus[]>();
  const errors: string[] = [];
  probe.createSubscription(
    'sensor_msgs/msg/JointState',
    '/joint_states',
    (m) => states.push({ tNs: timeToNs(m.header.stamp), name: [...m.name], position: Array.from(m.position) }),
    { qos: { history: 'keep_all' } },
  );
  probe.createSubscription(
    'diagnostic_msgs/msg/DiagnosticArray',
    '/diagnostics',
    (m) => {
      for (const s of m.status) {
        diagnostics.set(s.name, [...(diagnostics.get(s.name) ?? []), s]);
        if (s.level === DiagnosticLevel.ERROR || s.level === DiagnosticLevel.STALE)
          errors.push(`${s.name}: ${s.message}`);
      }
    },
    { qos: { history: 'keep_all' } },
  );
  let commands = 0;
  probe.createSubscription('std_msgs/msg/Float64MultiArray', '/forward_command_controller/commands', () => commands++, {
    qos: { history: 'keep_all' },
  });
  try {
    await launcher.configure();
    await launcher.activate();
    // run until the arm has been held at the target (and enough traffic went by), not for a fixed
    // time a busy machine could make too short
    const deadline = performance.now() + DEADLINE_S * 1000;
    while (performance.now() < deadline && !(heldAtTarget(states, target) && states.length > 100 && commands > 100))
      await sleep(100);
  } finally {
    await launcher.shutdown();
    probe.destroy();
  }
  const report = await launcher.report();
  await transport.shutdown();

  assert.deepEqual(report.nodes.map((n) => n.node).sort(), [
    '/controller',
    '/hw_bridge',
    '/servo_emulator',
    '/state_estimator',
  ]);
  assert.ok(states.length > 100 && commands > 100, `${states.length} joint states, ${commands} commands`);
  const joints = states[0]!.name;
  assert.deepEqual(joints, ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper']);
  // it started away from the target, so the hold is the controller's doing
  const start = states[0]!.position;
  assert.ok(
    Math.max(...start.map((q, i) => Math.abs(q - target[i]!))) > 10 * DEG,
    `first state ${start.map((x) => (x / DEG).toFixed(1)).join(', ')}°`,
  );
  const endNs = states.at(-1)!.tNs;
  const held = holdWindow(states);
  assert.ok(
    held.length >= HOLD_STATES && endNs - held[0]!.tNs >= BigInt(HOLD_S * 1e9),
    `${held.length} states over the last ${Number(endNs - (held[0]?.tNs ?? endNs)) / 1e9} s`,
  );
  for (const s of held) {
    s.position.forEach((q, i) =>
      assert.ok(
        Math.abs(q - target[i]!) < 1 * DEG,
        `${joints[i]} at ${(q / DEG).toFixed(2)}°, target ${(target[i]! / DEG).toFixed(2)}° (${(Number(endNs - s.tNs) / 1e9).toFixed(2)} s before the end); final ${states
          .at(-1)!
          .position.map((x) => (x / DEG).toFixed(2))
          .join(', ')}°`,
      ),
    );
  }

  const bridge = report.nodes.find((n) => n.node === '/hw_bridge')!.metrics;
  assert.equal(bridge.faults, 0);
  assert.equal(bridge.losses, 0);
  assert.equal(bridge.commands_rejected, 0);
  assert.ok(Number(bridge.commands) > 100, `bridge took ${bridge.commands} commands`);
  assert.deepEqual(errors, [], 'no ERROR on /diagnostics');
  // the bridge's last word on every servo: OK
  for (const j of joints) {
    const last = diagnostics.get(`/hw_bridge: ${j}`)?.at(-1);
    assert.ok(last, `no diagnostics for ${j}`);
    assert.equal(last.level, DiagnosticLevel.OK, `${j}: ${last.message}`);
  }
  const bus = diagnostics.get('/hw_bridge: bus')?.at(-1);
  assert.ok(bus && bus.level !== DiagnosticLevel.ERROR, bus?.message);
});
