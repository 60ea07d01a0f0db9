import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandSourceWait, missingSource, type CommandSourceProbe } from '../../../sim/robot/command_source.js';
import type { StartTimeout } from '../../../sim/robot/lockstep.js';

// A bridge's wait for its command source, with counts the test sets and timers it fires: said once
// when it starts waiting (naming what is missing), again every report period, once when the source
// is there; a limit starts without it; stop() ends it.

function probe(): CommandSourceProbe & { subs: number; pubs: number } {
  const p = {
    subs: 0,
    pubs: 0,
    stateTopic: '/joint_states',
    commandTopic: '/forward_command_controller/commands',
    stateSubscribers: () => p.subs,
    commandPublishers: () => p.pubs,
  };
  return p;
}

function timers(): { startTimeout: StartTimeout; fire(ms: number): void; pending(): number } {
  let armed: { ms: number; callback: () => void }[] = [];
  return {
    startTimeout: (ms, callback) => {
      const e = { ms, callback };
      armed.push(e);
      return () => (armed = armed.filter((x) => x !== e));
    },
    fire: (ms) => {
      const now = armed.filter((e) => e.ms === ms);
      armed = armed.filter((e) => e.ms !== ms);
      now.forEach((e) => e.callback());
    },
    pending: () => armed.length,
  };
}

test('missingSource names what is not matched yet', () => {
  const p = probe();
  assert.equal(
    missingSource(p),
    'no subscriber of /joint_states, no publisher on /forward_command_controller/commands',
  );
  p.subs = 1;
  assert.equal(missingSource(p), 'no publisher on /forward_command_controller/commands');
  p.pubs = 2;
  assert.equal(missingSource(p), '');
  // a bridge that waits for two state consumers (the estimator and an episode monitor)
  const two = { ...p, minStateSubscribers: 2, stateSubscribers: () => 1 };
  assert.equal(missingSource(two), '1 of 2 subscribers of /joint_states');
  assert.equal(missingSource({ ...two, stateSubscribers: () => 3 }), '');
});

test('the wait says once that it holds, again every report period, and once when the source is there', async () => {
  const p = probe();
  const t = timers();
  const lines: string[] = [];
  const wait = new CommandSourceWait(p, {
    pollMs: 20,
    reportMs: 10_000,
    limitMs: 0,
    holding: 'the sim paused',
    log: (level, line) => lines.push(`${level}: ${line}`),
    startTimeout: t.startTimeout,
  });
  assert.equal(wait.present(), false);
  const outcome = wait.wait();
  assert.deepEqual(lines, [
    'info: waiting for the command source (no subscriber of /joint_states, no publisher on /forward_command_controller/commands): holding the sim paused until it is there',
  ]);
  t.fire(20);
  t.fire(20);
  assert.equal(lines.length, 1, 'polling says nothing');
  p.subs = 1;
  t.fire(10_000);
  t.fire(10_000);
  assert.deepEqual(lines.slice(1), [
    'warn: still waiting for the command source after 10 s (no publisher on /forward_command_controller/commands): holding the sim paused',
    'warn: still waiting for the command source after 20 s (no publisher on /forward_command_controller/commands): holding the sim paused',
  ]);
  p.pubs = 1;
  t.fire(20);
  assert.equal(await outcome, 'there');
  assert.match(lines.at(-1)!, /^info: command source there .*: starting$/);
  assert.equal(lines.length, 4);
  assert.equal(t.pending(), 0, 'no timer left behind');
});

test('with a limit it starts without the source, saying so; stop() ends a wait; a source already there is not waited for', async () => {
  const p = probe();
  const t = timers();
  const lines: string[] = [];
  const options = {
    pollMs: 20,
    reportMs: 10_000,
    limitMs: 5000,
    holding: 'the arm where it is',
    log: (_level: 'info' | 'warn', line: string) => lines.push(line),
    startTimeout: t.startTimeout,
  };
  const limited = new CommandSourceWait(p, options).wait();
  assert.match(lines[0]!, /at most 5 s$/);
  t.fire(5000);
  assert.equal(await limited, 'limit');
  assert.match(lines.at(-1)!, /^no command source after 5 s .*: starting without it$/);
  assert.equal(t.pending(), 0);

  const stopping = new CommandSourceWait(p, options);
  const stopped = stopping.wait();
  stopping.stop();
  assert.equal(await stopped, 'stopped');
  assert.equal(t.pending(), 0);

  p.subs = 1;
  p.pubs = 1;
  lines.length = 0;
  assert.equal(await new CommandSourceWait(p, options).wait(), 'there');
  assert.deepEqual(lines, []);
});
