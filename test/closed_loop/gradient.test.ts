import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codeGraph, runCodeGraph } from './code_graph.js';

// Gradient shooting in the loop on the controller's task, in lockstep (three Adam steps per tick, so the
// run repeats): the cart-pole swung up from hanging on the MuJoCo model. The controller's first
// tick sends its hold-the-first-state goal, which a task objective leaves as it is (as iLQR does);
// the planner used to refuse it with an error, and the controller stopped at its first tick.

const MODEL = 'sim/models/cartpole.xml';
const wrap = (a: number): number => Math.atan2(Math.sin(a), Math.cos(a));

test('gradient shooting on the swing-up task swings the cart-pole up from hanging and holds it', async () => {
  const run = await runCodeGraph(
    codeGraph('gradient.test.ts', [
      [
        'sim_bridge',
        {
          model: MODEL,
          mode: 'lockstep',
          rate_hz: 100.0,
          command_interface: 'effort',
          reset_keyframe: 'hanging',
          position_noise: 0.001,
          seed: 7,
          max_sim_time_s: 4.0,
          progress_period_s: 0.0,
          lockstep_timeout_s: 60.0,
        },
      ],
      ['state_estimator', { use_sim_time: true, position_noise_std: 0.001, process_noise: 5.0 }],
      [
        'controller',
        {
          use_sim_time: true,
          model: MODEL,
          rate_hz: 100.0,
          wait_for_state: true,
          planner: 'gradient',
          task: 'cartpole_swingup',
          iterations_per_tick: 3,
          'gradient.cost': 'task',
        },
      ],
    ]),
  );
  assert.ok(run.samples.length >= 400, `${run.samples.length} joint states`);
  assert.ok(Math.abs(wrap(run.samples[0]!.position[1]!)) > 3.1, 'it starts hanging');
  const late = run.samples.filter((s) => s.tNs >= 3_000_000_000n).map((s) => Math.abs(wrap(s.position[1]!)));
  assert.ok(Math.max(...late) < 0.1, `largest |θ| from 3 s on: ${Math.max(...late)}`);
  assert.equal(run.metrics('/controller').safety_nan, 0, 'no stop action');
  assert.equal(run.metrics('/sim_bridge').command_timeouts, 0);
});
