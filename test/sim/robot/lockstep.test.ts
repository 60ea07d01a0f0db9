import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Lockstep,
  realtimeTick,
  type SourceGate,
  type StartTimeout,
  type SteppingHooks,
} from '../../../sim/robot/lockstep.js';

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
    republishState: () => r.log.push(`again ${r.tick}`),
    advance: () => {
      r.log.push(`step ${r.tick}`);
      r.tick++;
    },
    done: () => r.tick >= ticks,
  };
  return r;
}

/** Timers that fire only when the test says: all of them, or those armed for `ms`. */
function manualTimeouts(): {
  startTimeout: StartTimeout;
  fire(ms?: number): void;
  pending(ms?: number): number;
} {
  let armed: { ms: number; callback: () => void }[] = [];
  return {
    startTimeout: (ms, callback) => {
      const entry = { ms, callback };
      armed.push(entry);
      return () => (armed = armed.filter((e) => e !== entry));
    },
    fire: (ms) => {
      const now = armed.filter((e) => ms === undefined || e.ms === ms);
      armed = armed.filter((e) => !now.includes(e));
      now.forEach((e) => e.callback());
    },
    pending: (ms) => armed.filter((e) => ms === undefined || e.ms === ms).length,
  };
}

/** A command source that is there once the test says so. */
function gate(): SourceGate & { open(): void; there: boolean; waits: number; stopped: boolean } {
  let release: (() => void) | undefined;
  const g = {
    there: false,
    waits: 0,
    stopped: false,
    present: () => g.there,
    wait: () => {
      g.waits++;
      return new Promise<void>((resolve) => (release = resolve));
    },
    stop: () => {
      g.stopped = true;
      release?.();
    },
    open: () => {
      g.there = true;
      release?.();
    },
  };
  return g;
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

test('lockstep across processes: tick 0 is not published until the command source is there', async () => {
  const timers = manualTimeouts();
  const source = gate();
  const hooks = recorder(2, (k) => {
    if (k > 0) setImmediate(() => loop.commandArrived());
  });
  const loop = new Lockstep(hooks, { timeoutMs: 1000, startTimeout: timers.startTimeout, source });
  const running = loop.run();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(hooks.log, [], 'nothing published while the source is missing');
  assert.equal(source.waits, 1);
  source.open();
  await running;
  assert.deepEqual(hooks.log, ['state 0', 'step 0', 'state 1', 'step 1']);
});

test('lockstep: a source already there is not waited for (the run starts synchronously, as in one process)', () => {
  const timers = manualTimeouts();
  const source = gate();
  source.there = true;
  const hooks = recorder(5);
  const loop = new Lockstep(hooks, { timeoutMs: 1000, startTimeout: timers.startTimeout, source });
  void loop.run();
  assert.deepEqual(hooks.log, ['state 0', 'step 0'], 'tick 0 went out before run() returned');
  assert.equal(source.waits, 0);
  loop.stop();
});

test('lockstep: stop() while waiting for the source ends the run without publishing', async () => {
  const timers = manualTimeouts();
  const source = gate();
  const hooks = recorder(5);
  const loop = new Lockstep(hooks, { timeoutMs: 1000, startTimeout: timers.startTimeout, source });
  const running = loop.run();
  loop.stop();
  await running;
  assert.deepEqual(hooks.log, []);
  assert.equal(source.stopped, true);
});

test('lockstep: until the first command, an unanswered tick is published again every resendMs; after it, never', async () => {
  const timers = manualTimeouts();
  const resends: number[] = [];
  let answer: (() => void) | undefined;
  const hooks = recorder(3, (k) => {
    // tick 1: answered only when the test says (after two re-sends); tick 2: held past its timeout
    if (k === 1) answer = () => loop.commandArrived();
  });
  const loop = new Lockstep(hooks, {
    timeoutMs: 60_000,
    resendMs: 1000,
    startTimeout: timers.startTimeout,
    onResend: (n) => resends.push(n),
  });
  const running = loop.run();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(hooks.log, ['state 0', 'step 0', 'state 1']);
  timers.fire(1000);
  timers.fire(1000);
  assert.deepEqual(hooks.log, ['state 0', 'step 0', 'state 1', 'again 1', 'again 1']);
  assert.deepEqual(resends, [1, 2]);
  answer!();
  await new Promise((r) => setImmediate(r));
  assert.equal(timers.pending(1000), 0, 'the first command ended the re-sends');
  assert.deepEqual(hooks.log.slice(-2), ['step 1', 'state 2']);
  // tick 2 is not answered: after the first answer nothing is published twice, the timeout steps it
  assert.equal(timers.pending(1000), 0);
  timers.fire(60_000);
  await running;
  assert.deepEqual(hooks.log, ['state 0', 'step 0', 'state 1', 'again 1', 'again 1', 'step 1', 'state 2', 'step 2']);
  assert.equal(loop.resends, 2);
  assert.equal(loop.timeouts, 1);
});
