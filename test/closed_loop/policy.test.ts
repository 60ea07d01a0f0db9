import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registry } from '../../nodes/index.js';
import { Launcher } from '../../framework/runtime/launcher.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { defineParams } from '../../src/util/param_schema.js';
import { QOS_LATCHED } from '../../framework/transport/qos.js';
import { timeToNs } from '../../framework/time/time.js';
import type { LaunchDescription } from '../../framework/launch/types.js';
import { MujocoSim } from '../../sim/mujoco/sim.js';
import { packagePath } from '../../src/util/paths.js';
import { LqrPlanner } from '../../src/control/planners/lqr/planner.js';
import { codeNode } from './harness.js';
import { linearPolicyModel, type LinearPolicy } from '../control/policies.js';

// A learned policy in the loop: the cart-pole sim in lockstep → state_estimator → controller with
// planner policy. The policy is a soft actor-critic actor as the policy trainer publishes it, with
// weights set by hand so that its mean action is 20 tanh(K s / 20) on the encoded state
// s = [x, sin θ, cos θ, ẋ, θ̇], K the cart-pole's LQR gain (so, near upright, LQR saturating
// smoothly at the ±20 N ctrlrange). The controller explores for 5 ticks, holds the lockstep graph
// until a policy arrives on /policy/model (the probe publishes it when it has seen those 5
// commands), then the policy must balance the pole from 0.2 rad through pushes, as LQR does in
// cartpole.test.ts, and the controller's judge must say the task was achieved.

const EXPLORE_TICKS = 5;
const SIM_S = 7;
/** wall time the graph may take (a hang, not a slow machine) */
const WALL_LIMIT_MS = 90_000;

/** The LQR gain at upright for the cart-pole (config/cartpole_lqr.yaml's weights): u = K x. */
async function lqrGain(periodNs: bigint): Promise<number[]> {
  const sim = await MujocoSim.fromFile(packagePath('sim/models/cartpole.xml'));
  try {
    const lqr = new LqrPlanner(sim, {
      qDiag: [10, 100, 1, 1],
      rDiag: [0.01],
      horizon: 0,
      qfScale: 10,
      stepNs: periodNs,
    });
    const upright = new Float64Array(4);
    lqr.setGoal({ kind: 'state', state: upright }, { timeNs: 0n, state: upright });
    // a feedback law u = û + K (x − x̂) about upright, where û = 0 and x̂ = 0
    return Array.from(lqr.optimize({ timeNs: 0n, state: upright }).gains.subarray(0, 4));
  } finally {
    sim.dispose();
  }
}

function graph(): LaunchDescription {
  const node = (exec: string, values: Record<string, unknown>) => codeNode('policy.test.ts', exec, values);
  return {
    file: 'policy.test.ts',
    args: {},
    warnings: [],
    nodes: [
      node('sim_bridge', {
        model: 'sim/models/cartpole.xml',
        mode: 'lockstep',
        rate_hz: 100.0,
        command_interface: 'effort',
        reset_keyframe: 'upright',
        initial_offsets: [0.0, 0.2],
        position_noise: 0.001,
        push_body: 'cart',
        push_period_s: 2.0,
        push_duration_s: 0.1,
        push_force: 15.0,
        seed: 7,
        max_sim_time_s: SIM_S,
        progress_period_s: 0.0,
        lockstep_timeout_s: 60.0,
      }),
      node('state_estimator', { use_sim_time: true, position_noise_std: 0.001, process_noise: 5.0 }),
      node('controller', {
        use_sim_time: true,
        model: 'sim/models/cartpole.xml',
        rate_hz: 100.0,
        wait_for_state: true,
        goal_keyframe: 'upright',
        planner: 'policy',
        explore_ticks: EXPLORE_TICKS,
        seed: 3,
        'judge.joints': ['cart_slide', 'pole_hinge'],
        'judge.tolerances': [0.25, 0.15],
        'judge.reach_within_s': 1.5,
      }),
    ],
  };
}

test(
  'a learned policy balances the cart-pole in the graph: exploration, a hold for the first policy, then the policy through pushes',
  { timeout: WALL_LIMIT_MS + 30_000 },
  async () => {
    const periodNs = 10_000_000n;
    const K = await lqrGain(periodNs);
    const policy: LinearPolicy = {
      joints: ['cart_slide', 'pole_hinge'],
      angleJoints: ['pole_hinge'],
      actuators: ['cart_force'],
      low: [-20],
      high: [20],
      periodNs,
      gains: [[K[0]! / 20, K[1]! / 20, 0, K[2]! / 20, K[3]! / 20]],
    };
    const model = linearPolicyModel(policy);

    const transport = new EmbeddedTransport({ checkMessages: true });
    const launcher = new Launcher(graph(), { transport, registry, logLevelSpec: 'error', checkMessages: true });
    const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
    const policies = probe.createPublisher('dynastack_msgs/msg/ModelBlob', '/policy/model', QOS_LATCHED);
    const samples: { tNs: bigint; q: number[] }[] = [];
    const commands: { tNs: bigint; u: number }[] = [];
    let nowNs = -1n;
    let published = false;
    const all = { qos: { history: 'keep_all' as const } };
    probe.createSubscription(
      'sensor_msgs/msg/JointState',
      '/joint_states',
      (m) => {
        nowNs = timeToNs(m.header.stamp);
        samples.push({ tNs: nowNs, q: Array.from(m.position) });
      },
      all,
    );
    probe.createSubscription(
      'std_msgs/msg/Float64MultiArray',
      '/forward_command_controller/commands',
      (m) => {
        commands.push({ tNs: nowNs, u: m.data[0]! });
        // the controller holds after its exploration: now the policy trainer's first policy comes
        if (commands.length === EXPLORE_TICKS && !published) {
          published = true;
          policies.publish({
            header: { stamp: { sec: 0, nanosec: 0 }, frame_id: '' },
            kind: model.kind,
            version: model.version,
            format: model.format,
            metadata_json: model.metadataJson,
            data: model.data,
          });
        }
      },
      all,
    );
    let limit: NodeJS.Timeout | undefined;
    try {
      await launcher.configure();
      await launcher.activate();
      const finished = launcher.allFinished();
      assert.ok(finished, 'the sim bridge ends the graph');
      const inTime = await Promise.race([
        finished.then(() => true),
        new Promise<boolean>((resolve) => (limit = setTimeout(() => resolve(false), WALL_LIMIT_MS))),
      ]);
      assert.ok(
        inTime,
        `the graph did not finish within ${WALL_LIMIT_MS / 1000} s of wall time (sim at ${Number(nowNs) / 1e9} s)`,
      );
    } finally {
      clearTimeout(limit);
      await launcher.shutdown();
      probe.destroy();
    }
    const report = await launcher.report();
    const metrics = (name: string) => report.nodes.find((n) => n.node === name)!.metrics;
    const controller = metrics('/controller');
    const angles = samples.map((s) => Math.abs(s.q[1]!));
    const settled = samples.filter((s) => s.tNs >= 1_500_000_000n).map((s) => Math.abs(s.q[1]!));
    console.log(
      `policy in the loop: K = [${K.map((k) => k.toFixed(2)).join(', ')}], ${commands.length} commands, largest |θ| ${Math.max(...angles).toFixed(3)}, after 1.5 s ${Math.max(...settled).toFixed(3)}, final θ ${samples.at(-1)!.q[1]!.toFixed(4)}`,
    );

    assert.ok(samples.length >= SIM_S * 100 - 5, `${samples.length} joint states`);
    assert.ok(Math.abs(samples[0]!.q[1]!) > 0.19, 'it starts 0.2 rad from upright');
    // exploration, then every tick from the policy (the held tick included): one command per tick
    assert.equal(controller['planner_policy_version'], 1);
    assert.equal(controller['planner_policies_refused'], 0);
    assert.ok(
      Math.abs(commands.length - samples.length) <= 2,
      `${commands.length} commands for ${samples.length} states`,
    );
    assert.ok(commands.every((c) => Math.abs(c.u) <= 20 && Number.isFinite(c.u)));
    // balanced through the pushes (2, 4 and 6 s): within 0.15 rad after 1.5 s, upright at the end, the cart on its rail
    assert.ok(Math.max(...settled) < 0.15, `largest |θ| after 1.5 s: ${Math.max(...settled)}`);
    assert.ok(Math.abs(samples.at(-1)!.q[1]!) < 0.05, `final θ ${samples.at(-1)!.q[1]}`);
    assert.ok(Math.max(...samples.map((s) => Math.abs(s.q[0]!))) < 0.9, 'the cart stays on its rail');
    assert.equal(controller['task_achieved'], true);
    assert.equal(controller['safety_nan'], 0);
    assert.equal(controller['safety_stale_state'], 0);
    assert.equal(metrics('/sim_bridge')['pushes'], 3);
    assert.equal(metrics('/sim_bridge')['command_timeouts'], 0);
  },
);
