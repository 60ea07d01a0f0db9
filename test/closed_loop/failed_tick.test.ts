import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lqr } from '../../src/control/planners/lqr/index.js';
import type { Planner } from '../../src/control/planner.js';
import { DiagnosticLevel } from '../../framework/msgs/types.js';
import { codeGraph, runCodeGraph } from './code_graph.js';

// A controller whose planner throws inside the control tick, in a lockstep graph: the bridge
// waits for each tick's command (lockstep_timeout_s long, so that a run never steps without one),
// so a controller that stopped publishing would make the graph crawl at one tick per timeout. A
// failed controller sends its stop action at every tick instead: the graph runs to its end at
// full speed, with the failure on /diagnostics.

class ThrowingPlanner implements Planner {
  readonly name = 'throwing';
  setGoal(): void {
    throw new Error('injected fault');
  }
  optimize(): never {
    throw new Error('no goal');
  }
  status(): Record<string, number> {
    return {};
  }
  dispose(): void {}
}

test('a failed controller in lockstep: the stop action every tick, so the graph does not crawl', async () => {
  const create = lqr.create.bind(lqr);
  lqr.create = () => Promise.resolve({ planner: new ThrowingPlanner(), positionGoalRefusal: () => 'none' });
  let run;
  try {
    run = await runCodeGraph(
      codeGraph('failed_tick.test.ts', [
        [
          'sim_bridge',
          {
            model: 'sim/models/cartpole.xml',
            mode: 'lockstep',
            rate_hz: 100.0,
            reset_keyframe: 'hanging',
            max_sim_time_s: 2.0,
            progress_period_s: 0.0,
            lockstep_timeout_s: 60.0,
          },
        ],
        ['state_estimator', { use_sim_time: true }],
        ['controller', { use_sim_time: true, model: 'sim/models/cartpole.xml', wait_for_state: true }],
      ]),
      30_000,
    );
  } finally {
    lqr.create = create;
  }
  assert.equal(run.metrics('/sim_bridge').command_timeouts, 0, 'no tick waited for its command');
  assert.ok(run.commands.length >= 199, `${run.commands.length} commands`);
  assert.ok(
    run.commands.every((c) => c.u.length === 1 && c.u[0] === 0),
    'the stop action: zero effort',
  );
  const error = run.controllerStatus.find((s) => s.level === DiagnosticLevel.ERROR);
  assert.ok(error, 'ERROR on /diagnostics');
  assert.match(error.message, /injected fault/);
  assert.match(String(run.report.nodes.find((n) => n.node === '/controller')?.summary), /failed.*injected fault/);
});
