import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registry } from '../../nodes/index.js';
import { Launcher } from '../../framework/runtime/launcher.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { defineParams } from '../../src/util/param_schema.js';
import { QOS_LATCHED } from '../../framework/transport/qos.js';
import { nsToTime } from '../../framework/time/time.js';
import type { LaunchDescription, LaunchNode } from '../../framework/launch/types.js';
import { codeNode } from './harness.js';
import type { ManagedNode } from '../../framework/runtime/managed_node.js';
import { cartpoleModelBlob, specTakingAbout } from '../control/planning_model.js';
import { packagePath } from '../../src/util/paths.js';
import type { LearnedPlanningSpec } from '../../src/control/planners/ensemble_mpc/spec.js';

// Learned-model MPC in real time: the cart-pole sim stepped on the wall clock at 50 Hz (its /clock
// paces the other nodes) → state_estimator → controller, which plans with iCEM over a learned model
// (published by the test, latched) in its planning worker (the default without wait_for_state).
// What the design guarantees is checked, not rates a loaded machine may not reach: the loop never
// waits for planning (it ticks more than twice per plan, where a loop that planned in its tick
// would tick once per plan), every tick publishes a command and the probe receives each one, every
// command is finite and within the box, and the only non-finite planner outputs were stale plans,
// each replaced by the stop action. Deactivating the controller ends its worker; activating it again
// starts one that gets the model again and plans on. Each step waits for what it checks, with a
// generous deadline for a hang. (test/control/planners/ensemble_mpc/worker_planner.test.ts checks
// tick by tick that a plan's action is sent while it is fresh and the stop action once it is not.)

const RATE_HZ = 50;
const WALL_LIMIT_MS = 90_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const launchNode = (exec: string, values: Record<string, unknown>): LaunchNode =>
  codeNode('learned_mpc_realtime.test.ts', exec, values);

/** the controller's planning workload below; the population is sized to this machine */
const WORKLOAD: LearnedPlanningSpec = {
  modelPath: packagePath('sim/models/cartpole.xml'),
  optimizer: { planner: 'icem', iterations: 2, values: { 'sampling.population': 50 } },
  task: 'cartpole_swingup',
  taskTarget: [],
  actuation: 'torque',
  modelJoints: ['cart_slide', 'pole_hinge'],
  actuators: ['cart_force'],
  actionLow: Float32Array.of(-20),
  actionHigh: Float32Array.of(20),
  stepNs: BigInt(1e9 / RATE_HZ),
  budget: { iterations: 2 },
  horizon: 20,
  particles: 5,
  propagation: 'ts1',
  explore: true,
  seed: 3,
};

const graph = (population: number): LaunchDescription => ({
  file: 'learned_mpc_realtime.test.ts',
  args: {},
  warnings: [],
  nodes: [
    launchNode('sim_bridge', {
      model: 'sim/models/cartpole.xml',
      mode: 'realtime',
      rate_hz: RATE_HZ,
      reset_keyframe: 'hanging',
      position_noise: 0.0005,
      seed: 7,
      progress_period_s: 0.0,
    }),
    launchNode('state_estimator', {
      use_sim_time: true,
      position_noise_std: 0.0005,
      use_velocity_measurement: true,
      velocity_noise_std: 0.01,
      process_noise: 50.0,
    }),
    launchNode('controller', {
      use_sim_time: true,
      model: 'sim/models/cartpole.xml',
      rate_hz: RATE_HZ,
      planner: 'icem',
      task: 'cartpole_swingup',
      iterations_per_tick: WORKLOAD.budget.iterations,
      'sampling.population': population,
      'sampling.horizon': WORKLOAD.horizon,
      'sampling.particles': WORKLOAD.particles,
      'sampling.propagation': WORKLOAD.propagation,
      max_plan_age_s: 2.0,
      'safety.watchdog_timeout_s': 0.2,
      seed: 3,
    }),
  ],
});

test(
  'learned MPC in real time: planning in a worker never holds up the command loop; deactivate ends the worker',
  { timeout: WALL_LIMIT_MS + 60_000 },
  async () => {
    const blob = await cartpoleModelBlob(BigInt(1e9 / RATE_HZ));
    // plans of about ten periods (200 ms) unloaded, longer under load
    const scaled = await specTakingAbout(WORKLOAD, blob, 10 * (1000 / RATE_HZ));
    const population = Number(scaled.optimizer.values['sampling.population']);
    const transport = new EmbeddedTransport({ checkMessages: true });
    const launcher = new Launcher(graph(population), {
      transport,
      registry,
      logLevelSpec: 'error',
      checkMessages: true,
    });
    const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
    const commands: number[] = [];
    probe.createSubscription(
      'std_msgs/msg/Float64MultiArray',
      '/forward_command_controller/commands',
      (m) => commands.push(m.data[0]!),
      { qos: { history: 'keep_all' } },
    );
    const models = probe.createPublisher('dynastack_msgs/msg/ModelBlob', '/dynamics/model', QOS_LATCHED);
    const deadline = performance.now() + WALL_LIMIT_MS;
    let controller: ManagedNode | undefined;
    const metrics = async (): Promise<Record<string, number | string | boolean>> =>
      (await controller!.report()).metrics;
    const waitFor = async (
      what: string,
      ok: (m: Record<string, number | string | boolean>) => boolean,
    ): Promise<Record<string, number | string | boolean>> => {
      for (;;) {
        const m = await metrics();
        if (ok(m)) return m;
        if (performance.now() > deadline)
          throw new Error(`${what} did not happen within ${WALL_LIMIT_MS / 1000} s: ${JSON.stringify(m)}`);
        await sleep(50);
      }
    };
    try {
      await launcher.configure();
      controller = launcher.nodes.find((n) => n.fullyQualifiedName === '/controller')!;
      models.publish({
        header: { stamp: nsToTime(0n), frame_id: '' },
        kind: 'dynamics_ensemble',
        version: 1,
        format: 'dynastack-ensemble/1',
        metadata_json: blob.metadataJson,
        data: blob.data,
      });
      await launcher.activate();

      // plans from the worker, then until the loop has ticked more than twice per plan since then
      const started = await waitFor('the first plans', (m) => Number(m.planner_plans) >= 2);
      const since = (m: Record<string, number | string | boolean>, key: string): number =>
        Number(m[key]) - Number(started[key]);
      const m = await waitFor(
        'two more plans, and more than two ticks per plan since the first (a loop that waits for plans ticks once per plan)',
        (x) => since(x, 'planner_plans') >= 2 && since(x, 'ticks') > 2 * since(x, 'planner_plans'),
      );
      console.log(
        `real-time learned MPC: ${since(m, 'ticks')} ticks for ${since(m, 'planner_plans')} plans (population ${population}) of ${Number(m.planner_plan_ms_mean).toFixed(0)} ms mean, ` +
          `${m.stale_plans} stale ticks, ${m.deadline_misses} deadline misses`,
      );
      assert.equal(m.planner_models_rejected, 0);
      assert.equal(m.planner_model_version, 1);
      assert.equal(m.planner_worker_running, 1);

      // deactivate: the worker ends; activate again: a new one plans with the model it is handed
      await controller.deactivate();
      await transport.bus.idle();
      const inactive = await metrics();
      assert.equal(inactive.planner_worker_running, 0);
      // every tick published a command, and the probe received each one, finite and within the box,
      // then deactivate's stop action (zero effort, nodes/controller.ts) after them
      assert.equal(inactive.commands_published, inactive.ticks);
      assert.equal(commands.length, Number(inactive.commands_published) + 1);
      assert.equal(commands.at(-1), 0, 'the stop action is the last command');
      assert.ok(
        commands.every((u) => Number.isFinite(u) && Math.abs(u) <= 20),
        `a command outside ±20 N: ${commands.find((u) => !(Math.abs(u) <= 20))}`,
      );
      // a non-finite planner output came only from a stale plan, and each stale plan's tick sent
      // the stop action: counted as the planner's NaN, or as a stale state when the state was stale too
      const stopActions = Number(inactive.safety_nan) + Number(inactive.safety_stale_state);
      assert.ok(
        Number(inactive.safety_nan) <= Number(inactive.stale_plans) && Number(inactive.stale_plans) <= stopActions,
        `${inactive.stale_plans} stale plans, ${inactive.safety_nan} NaN stop actions, ${inactive.safety_stale_state} stale states`,
      );
      // stopped means stopped: no plan comes from the ended worker (nothing could be in flight)
      const plansWhenStopped = Number(inactive.planner_plans);
      await sleep(300);
      assert.equal(Number((await metrics()).planner_plans), plansWhenStopped, 'no plans while inactive');
      await controller.activate();
      const again = await waitFor('plans after re-activation', (x) => Number(x.planner_plans) >= plansWhenStopped + 2);
      assert.equal(again.planner_worker_starts, 2);
      assert.equal(again.planner_worker_running, 1);
      assert.equal(again.planner_model_version, 1);
    } finally {
      await launcher.shutdown();
      probe.destroy();
    }
    const final = (await launcher.report()).nodes.find((n) => n.node === '/controller')!.metrics;
    assert.equal(final.planner_worker_running, 0, 'the worker ended at shutdown');
  },
);
