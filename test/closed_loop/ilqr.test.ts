import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLaunch } from './harness.js';

// iLQR in the loop, in lockstep (one iteration per tick, so the run repeats): the cart-pole swung up
// from hanging on the MuJoCo model, upright (|θ| < 0.1 rad, wrapped) within 3 s of sim time and held
// there to the end, the cart on its rail.

const out = (): string => join(mkdtempSync(join(tmpdir(), 'dynastack-')), 'plot.svg');
const wrap = (a: number): number => Math.atan2(Math.sin(a), Math.cos(a));

test('iLQR swings the cart-pole up from hanging within 3 s and holds it upright', async () => {
  const run = await runLaunch('ilqr_cartpole.launch.yaml', { mode: 'lockstep', sim_time_s: '6.0', plot: out() });
  assert.ok(run.samples.length >= 600, `${run.samples.length} joint states`);
  assert.ok(Math.abs(wrap(run.samples[0]!.position[1]!)) > 3.1, 'it starts hanging');
  const late = run.samples.filter((s) => s.tNs >= 3_000_000_000n).map((s) => Math.abs(wrap(s.position[1]!)));
  assert.ok(Math.max(...late) < 0.1, `largest |θ| from 3 s on: ${Math.max(...late)}`);
  assert.equal(run.metrics('/sim_bridge').command_timeouts, 0);
  assert.equal(run.metrics('/controller').safety_stale_state, 0);
});

test(
  'iLQR on the end-effector residual brings the arm within 1 cm of each of 4 targets',
  { timeout: 150_000 },
  async () => {
    const run = await runLaunch('ilqr_arm.launch.yaml', { mode: 'lockstep', plot: out() }, { wallLimitMs: 120_000 });
    const judged = run.metrics('/goal_sequencer');
    assert.equal(judged.reached, 4, `reached ${judged.reached} of 4 (errors ${judged.errors_cm} cm)`);
    assert.ok(Number(judged.max_error_cm) <= 1, `largest final error ${judged.max_error_cm} cm`);
    assert.equal(judged.task_achieved, true);
    assert.equal(run.metrics('/sim_bridge').command_timeouts, 0);
  },
);
