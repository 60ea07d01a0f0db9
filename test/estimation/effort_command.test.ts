import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HeldEffortCommand,
  checkEffortModelParams,
  effortInput,
  type EffortModelParams,
} from '../../src/estimation/effort_command.js';

// The state estimator's effort input: the held command and its timeout on a clock the test
// moves, which input a step gets for each setting, and the effort-model parameter checks.

const MS = 1_000_000n;

function manualClock(): { now(): bigint; advance(ns: bigint): void } {
  let t = 1_000n * MS;
  return { now: () => t, advance: (ns) => void (t += ns) };
}

test('HeldEffortCommand: nothing before a command, then the newest one until it is older than the timeout', () => {
  const clock = manualClock();
  const held = new HeldEffortCommand(500n * MS, clock);
  assert.equal(held.current(), undefined, 'no command yet');
  const values = [1, -2];
  held.take(values);
  values[0] = 99; // the command is a copy
  assert.deepEqual(held.current(), Float64Array.from([1, -2]));
  clock.advance(500n * MS);
  assert.deepEqual(held.current(), Float64Array.from([1, -2]), 'exactly the timeout old: still used');
  clock.advance(1n);
  assert.equal(held.current(), undefined, 'older than the timeout');
  held.take([3, 4]);
  assert.deepEqual(held.current(), Float64Array.from([3, 4]), 'a new command restarts the hold');
  clock.advance(200n * MS);
  held.take([5, 6]);
  clock.advance(400n * MS);
  assert.deepEqual(held.current(), Float64Array.from([5, 6]), 'the timeout runs from the newest command');
  assert.equal(held.received, 3);
});

test('effortInput: off gives none, no command source gives the measured effort, else the held command', () => {
  const clock = manualClock();
  const held = new HeldEffortCommand(100n * MS, clock);
  assert.equal(effortInput(false, undefined), undefined);
  assert.equal(effortInput(false, held), undefined);
  assert.equal(effortInput(true, undefined), 'measured');
  assert.equal(effortInput(true, held), undefined, 'no command yet: predict without input');
  held.take([0.5]);
  assert.deepEqual(effortInput(true, held), Float64Array.from([0.5]));
  clock.advance(101n * MS);
  assert.equal(effortInput(true, held), undefined, 'timed out: predict without input');
});

test('checkEffortModelParams: inconsistent settings throw naming the parameter; a useless command topic warns', () => {
  const base: EffortModelParams = { joints: [], inertia: [], damping: [], use_effort_input: false, command_topic: '' };
  const cases: [Partial<EffortModelParams>, RegExp][] = [
    [
      { inertia: [1, 2] },
      /^parameter 'inertia': its values follow the order of 'joints', which is empty; name the joints$/,
    ],
    [{ damping: [1] }, /^parameter 'damping': its values follow the order of 'joints', which is empty/],
    [
      { joints: ['a', 'b'], inertia: [1] },
      /^parameter 'inertia': 1 values for the 2 joints of 'joints' \(give one per joint, or none\)$/,
    ],
    [{ joints: ['a'], inertia: [1], damping: [1, 2] }, /^parameter 'damping': 2 values for the 1 joints/],
    [{ joints: ['a'], damping: [1] }, /^parameter 'damping': the effort model needs 'inertia' as well$/],
    [
      { use_effort_input: true },
      /^parameter 'use_effort_input': the effort model needs a positive 'inertia' for at least one joint$/,
    ],
    [{ joints: ['a', 'b'], inertia: [0, 0], use_effort_input: true }, /^parameter 'use_effort_input'/],
  ];
  for (const [values, message] of cases)
    assert.throws(() => checkEffortModelParams({ ...base, ...values }), { message }, JSON.stringify(values));

  assert.deepEqual(checkEffortModelParams(base), []);
  assert.deepEqual(
    checkEffortModelParams({ ...base, joints: ['a', 'b'], inertia: [0, 0.2], damping: [0, 1], use_effort_input: true }),
    [],
  );
  assert.deepEqual(checkEffortModelParams({ ...base, command_topic: '/effort_controller/commands' }), [
    "parameter 'command_topic' is set but 'use_effort_input' is false: commands are not used",
  ]);
  assert.deepEqual(
    checkEffortModelParams({ ...base, joints: ['a'], inertia: [1], use_effort_input: true, command_topic: '/c' }),
    [],
  );
});
