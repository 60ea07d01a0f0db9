import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeGraph, runCodeGraph } from './code_graph.js';
import { startController } from '../control/controller_node.js';

// iLQR on models nobody tuned it for: the RK4 double pendulum of test/fixtures/models (linearised
// with another integrator, as mjd_transitionFD cannot do RK4) held upright with the ilqr.* defaults
// from 0.05 rad off; and a model iLQR cannot plan on as x = [q, q̇] (a free joint) refused when the
// controller configures, in one line that names the joint.

const MODEL = 'test/fixtures/models/double_pendulum.xml';

test('iLQR with its default weights holds the RK4 double pendulum upright from 0.05 rad off', async () => {
  const run = await runCodeGraph(
    codeGraph('ilqr_own_model.test.ts', [
      [
        'sim_bridge',
        {
          model: MODEL,
          mode: 'lockstep',
          rate_hz: 100.0,
          reset_keyframe: 'upright',
          initial_offsets: [0.05, -0.05],
          position_noise: 0.0005,
          seed: 11,
          max_sim_time_s: 3.0,
          progress_period_s: 0.0,
          lockstep_timeout_s: 60.0,
        },
      ],
      ['state_estimator', { use_sim_time: true, position_noise_std: 0.0005, process_noise: 5.0 }],
      [
        'controller',
        {
          use_sim_time: true,
          model: MODEL,
          rate_hz: 100.0,
          wait_for_state: true,
          goal_keyframe: 'upright',
          planner: 'ilqr',
          iterations_per_tick: 1,
        },
      ],
    ]),
  );
  assert.ok(run.samples.length >= 300, `${run.samples.length} joint states`);
  const error = (p: number[]): number => Math.max(Math.abs(p[0]! - Math.PI), Math.abs(p[1]!));
  assert.ok(error(run.samples[0]!.position) > 0.04, 'it starts off upright');
  const settled = run.samples.filter((s) => s.tNs >= 2_000_000_000n).map((s) => error(s.position));
  assert.ok(Math.max(...settled) < 0.02, `largest error after 2 s: ${Math.max(...settled)} rad`);
  assert.equal(run.metrics('/sim_bridge').command_timeouts, 0);
  assert.equal(run.metrics('/controller').safety_nan, 0, 'no stop action');
});

test('a model with a free joint is refused at configure in one line naming the joint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-'));
  const model = join(dir, 'floating.xml');
  writeFileSync(
    model,
    `<mujoco><worldbody><body name="base"><freejoint name="float"/><geom size="0.1" mass="1"/>
       <body name="link"><joint name="hinge" type="hinge" axis="0 1 0"/><geom size="0.05" fromto="0 0 0 0 0 0.3" type="capsule"/></body>
     </body></worldbody><actuator><motor name="m" joint="hinge" ctrlrange="-1 1"/></actuator></mujoco>`,
  );
  await assert.rejects(
    startController({ model, planner: 'ilqr' }, ['hinge']),
    (err: Error) => /free joint/.test(err.message) && /'float'/.test(err.message) && !err.message.includes('\n'),
  );
});
