import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  simFinalSummary,
  simHealth,
  simMetrics,
  simProgress,
  simSummary,
  type SimFigures,
} from '../../../sim/robot/sim_report.js';

// What the sim bridge says about a run, from a snapshot of figures: the sentences, the report's
// figures and the health, which warns once a command was rejected or a tick went without one.

const FIGURES: SimFigures = {
  simSeconds: 10,
  wallSeconds: 2.5,
  simTimeNs: 12_345_678_901n,
  ticks: 1000,
  episode: 2,
  pushes: 0,
  commandsRejected: 0,
  commandTimeouts: 0,
};

test('sim report: summary, progress line and the end-of-run sentence', () => {
  const line = 'simulated 10.00 s in 2.50 s of wall time (4.0× real time, 1000 ticks, 3 episode(s))';
  assert.equal(simSummary(FIGURES), line);
  assert.equal(simProgress(FIGURES), `t = 10.0 s: ${line}`);
  assert.equal(simProgress({ ...FIGURES, pushes: 4 }), `t = 10.0 s: ${line}, 4 pushes`);
  assert.equal(simFinalSummary(FIGURES, 15), line);
  assert.equal(
    simFinalSummary({ ...FIGURES, pushes: 5, commandsRejected: 1, commandTimeouts: 2 }, 15),
    `${line}, 5 pushes of 15 N, 1 commands rejected, 2 command timeouts`,
  );
});

test('sim report: the figures of the launcher report', () => {
  assert.deepEqual(simMetrics(FIGURES), {
    ticks: 1000,
    sim_time_s: 10,
    wall_time_s: 2.5,
    real_time_factor: 4,
    ticks_per_s: 400,
    episodes: 3,
    pushes: 0,
    commands_rejected: 0,
    command_timeouts: 0,
  });
});

test('sim report: health ok, then a warning after a rejected command or a timeout', () => {
  const about = { name: '/sim_bridge: simulation', mode: 'lockstep', model: 'sim/models/cartpole.xml' };
  assert.deepEqual(simHealth(FIGURES, about), {
    level: 'ok',
    name: '/sim_bridge: simulation',
    message: 'lockstep, 4.0× real time',
    hardwareId: 'sim/models/cartpole.xml',
    values: { sim_time_s: '12.346', ticks: '1000', episode: '2', commands_rejected: '0', command_timeouts: '0' },
  });
  assert.equal(simHealth({ ...FIGURES, commandsRejected: 1 }, about).level, 'warn');
  assert.equal(simHealth({ ...FIGURES, commandTimeouts: 1 }, about).level, 'warn');
});
