import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lockstep, realtimeTick, type StartTimeout, type SteppingHooks } from '../../../sim/robot/lockstep.js';

// The sim bridge's stepping without a node or a simulation: hooks that record what happens, a
// "controller" that answers each published state, and a timeout timer the test fires itself.

interface Recorder extends SteppingHooks {
  readonly log: string[];
  tick: number;
}

/** Hooks over a counter: publishing logs the tick, advancing moves to the next; done after `ticks` steps. */
function recorder(ticks: number, onPublish: (tick: number) => void = () => {}): Recorder {
  const r: Recorder = {
    log: [],
    tick: 0,
    publishState: () => {
      r.log.push(`state ${r.tick}`);
      onPublish(r.tick);
    },
    advance: () => {
      r.log.push(`step ${r.tick}`);
      r.tick++;
    },
    done: () => r.tick >= ticks,
  };
  return r;
}

/** A timer that fires only when the test says. */
function manualTimeouts(): { startTimeout: StartTimeout; fire(): void; pending(): number } {
  let armed: (() => void)[] = [];
  return {
    startTimeout: (_ms, callback) => {
      armed.push(callback);
      return () => (armed = armed.filter((c) => c !== callback));
    },
    fire: () => {
      const now = armed;
      armed = [];
      now.forEach((c) => c());
    },
    pending: () => armed.length,
  };
}

test('lockstep: publish tick k, wait for its command, step; tick 0 waits for none; done ends the loop', async () => {
  const timers = manualTimeouts();
  // the controller answers every state after tick 0 (no timer fires at t = 0) a little later
  const hooks = recorder(4, (k) => {
    if (k > 0) setImmediate(() => loop.commandArrived());
  });
  const loop = new Lockstep(hooks, { timeoutMs: 1000, startTimeout: timers.startTimeout });
  await loop.run();
  assert.deepEqual(hooks.log, ['state 0', 'step 0', 'state 1', 'step 1', 'state 2', 'step 2', 'state 3', 'step 3']);
  assert.equal(loop.timeouts, 0);
  assert.equal(loop.active, false);
  assert.equal(timers.pending(), 0, 'every timeout was cancelled by its command');
});

test('lockstep: a tick whose command does not come steps when the timeout fires, and is counted', async () => {
  const timers = manualTimeouts();
  const timeouts: number[] = [];
  // the controller answers tick 1, not tick 2
  const hooks = recorder(3, (k) => {
    if (k === 1) setImmediate(() => loop.commandArrived());
    if (k === 2) setImmediate(() => timers.fire());
  });
  const loop = new Lockstep(hooks, {
    timeoutMs: 1000,
    startTimeout: timers.startTimeout,
    onTimeout: (n) => timeouts.push(n),
  });
  await loop.run();
  assert.deepEqual(hooks.log, ['state 0', 'step 0', 'state 1', 'step 1', 'state 2', 'step 2']);
  assert.deepEqual(timeouts, [1]);
  assert.equal(loop.timeouts, 1);
});

test('lockstep: stop() while waiting ends the loop at once, without stepping; a stray command changes nothing', async () => {
  const timers = manualTimeouts();
  const hooks = recorder(100, (k) => {
    if (k === 1) setImmediate(() => loop.stop());
  });
  const loop = new Lockstep(hooks, { timeoutMs: 1000, startTimeout: timers.startTimeout });
  loop.commandArrived(); // before the loop waits for anything
  await loop.run();
  assert.deepEqual(hooks.log, ['state 0', 'step 0', 'state 1']);
  assert.equal(loop.timeouts, 0);
  assert.equal(timers.pending(), 0);
});

test('real time: each timer tick steps, then publishes the new state, then asks whether the run is over', () => {
  const hooks = recorder(2);
  assert.equal(realtimeTick(hooks), false);
  assert.equal(realtimeTick(hooks), true);
  assert.deepEqual(hooks.log, ['step 0', 'state 1', 'step 1', 'state 2']);
});
