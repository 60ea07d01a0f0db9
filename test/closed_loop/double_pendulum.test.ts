import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codeGraph, runCodeGraph } from './code_graph.js';

// Closed loop on a model that is not one of ours: the RK4 double pendulum of
// test/fixtures/models/double_pendulum.xml, started 0.05 rad off its upright keyframe, in lockstep
// with the sim bridge, the state estimator and the LQR controller set up as
// docs/bring-your-own-model.md tells a user to (model, goal_keyframe, the lqr.* weights). LQR has
// to linearise an RK4 model (mjd_transitionFD does not support RK4) and hold it upright.

const MODEL = 'test/fixtures/models/double_pendulum.xml';

test('LQR holds the RK4 double pendulum upright from 0.05 rad off', async () => {
  const run = await runCodeGraph(
    codeGraph('double_pendulum.test.ts', [
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
          max_sim_time_s: 4.0,
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
          'lqr.q_position': 100.0,
          'lqr.q_velocity': 1.0,
          'lqr.r': 0.1,
        },
      ],
    ]),
  );
  assert.ok(run.samples.length >= 400, `${run.samples.length} joint states`);
  const first = run.samples[0]!.position;
  assert.ok(Math.abs(first[0]! - Math.PI) > 0.04, `it starts off upright: ${first.join(', ')}`);
  const error = (p: number[]): number => Math.max(Math.abs(p[0]! - Math.PI), Math.abs(p[1]!));
  const settled = run.samples.filter((s) => s.tNs >= 2_000_000_000n).map((s) => error(s.position));
  assert.ok(Math.max(...settled) < 0.01, `largest error after 2 s: ${Math.max(...settled)} rad`);
  assert.ok(error(run.samples.at(-1)!.position) < 0.005, `final ${run.samples.at(-1)!.position.join(', ')}`);
  assert.equal(run.metrics('/sim_bridge').command_timeouts, 0);
  const controller = run.metrics('/controller');
  assert.equal(controller.safety_nan, 0, 'no stop action');
  assert.ok(Number(controller.commands_published) >= 399);
});
