import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimRun } from '../../../sim/robot/sim_run.js';

// A run's bookkeeping on a wall clock the test moves: progress lines every progress period of sim
// time from the run's start, the run's end at max sim time with its sentence, and wall time that
// stops when the run ends or is stopped.

const S = 1_000_000_000n;

test('sim run: progress every period from the start, the end at max sim time', async () => {
  let wall = 1000;
  const run = new SimRun({ maxSimNs: 3n * S, progressNs: S, wallMs: () => wall });
  run.start(10n * S); // activation at sim time 10 s
  assert.deepEqual(run.afterTick(10n * S + S / 2n), { progress: false, finished: false });
  assert.deepEqual(run.afterTick(11n * S), { progress: true, finished: false });
  assert.deepEqual(run.afterTick(11n * S + 1n), { progress: false, finished: false }, 'once per period');
  assert.deepEqual(run.afterTick(12n * S + S / 2n), { progress: true, finished: false });
  assert.deepEqual(run.afterTick(13n * S), { progress: true, finished: true });
  assert.equal(run.simSeconds(13n * S), 3);
  wall = 3000;
  assert.equal(run.wallSeconds(), 2);
  run.finish(() => `ran ${run.wallSeconds()} s`);
  wall = 9000;
  assert.equal(await run.finished, 'ran 2 s', 'the sentence is made after the wall clock stops');
  run.stop();
  assert.equal(run.wallSeconds(), 2, 'stopping after the end keeps the end');
});

test('sim run: no length and no progress period: never finished, no lines; stop() stops the wall clock', () => {
  let wall = 0;
  const run = new SimRun({ maxSimNs: 0n, progressNs: 0n, wallMs: () => wall });
  assert.equal(run.finished, undefined);
  run.start(0n);
  assert.deepEqual(run.afterTick(1000n * S), { progress: false, finished: false });
  wall = 500;
  run.stop();
  wall = 900;
  assert.equal(run.wallSeconds(), 0.5);
});
