import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAUNCH_WALL_LIMIT_MS, runLaunch } from './harness.js';

// Closed loop on the simulated cart-pole: LQR must balance it through pushes; lockstep repeats
// exactly; the sim runs the same in a worker; bad commands and the e-stop are survived. Lockstep
// runs repeat only when no tick steps without its command: config/cartpole_lqr.yaml gives the
// bridge a long lockstep_timeout_s, so a loaded machine cannot make one, and every run here
// checks that none did (command_timeouts = 0).

/** a test that runs two launches: each may take the harness's wall limit */
const TWO_RUNS = { timeout: 2 * LAUNCH_WALL_LIMIT_MS + 30_000 };

const out = (): string => join(mkdtempSync(join(tmpdir(), 'dynastack-')), 'plot.svg');

test('LQR balances the cart-pole from 0.2 rad for 10 s of sim time, through pushes', async () => {
  const run = await runLaunch('cartpole_lqr.launch.yaml', { sim_time_s: '10.0', plot: out() });
  const angles = run.samples.map((s) => s.position[1]!);
  const carts = run.samples.map((s) => s.position[0]!);
  assert.ok(run.samples.length >= 1000, `${run.samples.length} joint states`);
  assert.ok(Math.abs(angles[0]!) > 0.19, 'it starts 0.2 rad from upright');
  // after a second it never leaves ±0.15 rad again, pushes included, and ends upright
  const settled = run.samples.filter((s) => s.tNs >= 1_000_000_000n).map((s) => Math.abs(s.position[1]!));
  assert.ok(Math.max(...settled) < 0.15, `largest |θ| after 1 s: ${Math.max(...settled)}`);
  assert.ok(Math.abs(angles.at(-1)!) < 0.05, `final θ ${angles.at(-1)}`);
  assert.ok(Math.max(...carts.map(Math.abs)) < 0.9, 'the cart stays on its rail');
  assert.equal(run.metrics('/sim_bridge').pushes, 5);
  assert.equal(run.metrics('/sim_bridge').command_timeouts, 0);
  assert.equal(run.metrics('/controller').safety_stale_state, 0);
});

test('lockstep is deterministic: two runs with noise and pushes give identical trajectories', TWO_RUNS, async () => {
  const a = await runLaunch('cartpole_lqr.launch.yaml', { sim_time_s: '3.0', plot: out() });
  const b = await runLaunch('cartpole_lqr.launch.yaml', { sim_time_s: '3.0', plot: out() });
  for (const run of [a, b]) assert.equal(run.metrics('/sim_bridge').command_timeouts, 0);
  assert.equal(a.samples.length, b.samples.length);
  assert.ok(a.samples.length >= 300);
  assert.deepEqual(b.samples, a.samples);
});

test('the simulation runs headless in a worker, with the same trajectory as on the main thread', TWO_RUNS, async () => {
  const main = await runLaunch('cartpole_lqr.launch.yaml', { sim_time_s: '2.0', plot: out() });
  const worker = await runLaunch('cartpole_lqr.launch.yaml', {
    sim_time_s: '2.0',
    plot: out(),
    bridge_thread: 'worker',
  });
  assert.equal(worker.report.nodes.find((n) => n.node === '/sim_bridge')?.thread, 'worker');
  for (const run of [main, worker]) assert.equal(run.metrics('/sim_bridge').command_timeouts, 0);
  assert.ok(main.samples.length >= 200);
  assert.deepEqual(worker.samples, main.samples);
});

test('a wrong-length command is rejected, counted and survived; the loop keeps balancing', async () => {
  let sent = 0;
  const run = await runLaunch(
    'cartpole_lqr.launch.yaml',
    { sim_time_s: '2.0', plot: out() },
    {
      during: (probe) => {
        const bad = probe.createPublisher('std_msgs/msg/Float64MultiArray', '/forward_command_controller/commands');
        // one bad command on each of five ticks from t = 0.5 s: driven by sim time, so the run repeats
        probe.createSubscription('sensor_msgs/msg/JointState', '/joint_states', (m) => {
          if (m.header.stamp.sec * 1e9 + m.header.stamp.nanosec < 5e8 || sent === 5) return;
          bad.publish({ layout: { dim: [], data_offset: 0 }, data: [1, 2, 3] });
          sent++;
        });
      },
    },
  );
  assert.equal(sent, 5);
  assert.equal(run.metrics('/sim_bridge').commands_rejected, 5);
  assert.equal(run.metrics('/sim_bridge').command_timeouts, 0);
  assert.ok(Math.abs(run.samples.at(-1)!.position[1]!) < 0.1);
});

test('/emergency_stop latches: from then on every command is zero effort, and the report says so', async () => {
  let estopAtNs: bigint | undefined;
  const efforts: { tNs: bigint; u: number }[] = [];
  const run = await runLaunch(
    'cartpole_lqr.launch.yaml',
    { sim_time_s: '2.0', plot: out() },
    {
      during: (probe) => {
        const estop = probe.createPublisher('std_msgs/msg/Bool', '/emergency_stop');
        probe.createSubscription('sensor_msgs/msg/JointState', '/joint_states', (m) => {
          const t = BigInt(m.header.stamp.sec) * 1_000_000_000n + BigInt(m.header.stamp.nanosec);
          efforts.push({ tNs: t, u: m.effort[0]! });
          if (estopAtNs === undefined && t >= 1_000_000_000n) {
            estopAtNs = t;
            estop.publish({ data: true });
          }
        });
      },
    },
  );
  assert.ok(estopAtNs !== undefined);
  // the bridge reports the effort it applies; two ticks after the e-stop it is zero for good
  const after = efforts.filter((e) => e.tNs > estopAtNs! + 20_000_000n);
  assert.ok(after.length > 50);
  assert.ok(
    after.every((e) => e.u === 0),
    `non-zero effort after the e-stop: ${after.find((e) => e.u !== 0)?.u}`,
  );
  assert.ok(
    efforts.some((e) => e.tNs < estopAtNs! && e.u !== 0),
    'it was commanding before',
  );
  assert.ok(Number(run.metrics('/controller').safety_estop) > 50);
  assert.equal(run.metrics('/sim_bridge').command_timeouts, 0);
});
