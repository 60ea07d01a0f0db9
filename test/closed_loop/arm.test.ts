import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLaunch } from './harness.js';

// Closed loop on the simulated arm: LQR about the inverse-kinematics solution must bring the end
// effector within 1 cm of each target.

test('LQR about the IK solution brings the arm within 1 cm of each target', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-'));
  const run = await runLaunch('arm_lqr.launch.yaml', { plot: join(dir, 'arm.svg') });
  const goals = run.metrics('/goal_sequencer');
  assert.equal(goals.targets, 4);
  assert.equal(goals.reached, 4, `errors (cm): ${goals.errors_cm}`);
  assert.ok(Number(goals.max_error_cm) < 1, `largest error ${goals.max_error_cm} cm`);
  assert.equal(run.metrics('/controller').safety_stale_state, 0);
  assert.equal(run.metrics('/sim_bridge').command_timeouts, 0);
});
