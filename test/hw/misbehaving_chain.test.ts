import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BusError, type ServoBus } from '../../hw/bus/servo_bus.js';
import type { JointStateSample } from '../../hw/bus/servo_bus_api.js';
import type { Emulator } from '../../hw/emulator/emulator.js';
import { FaultInjector } from '../../hw/emulator/faults.js';
import { parseRobotConfig } from '../../hw/robot_config.js';
import { armYaml, emulatedArm, until, watchForCrashes, type ArmKind } from './bus_harness.js';

// ServoBus against a servo chain that misbehaves (hw/emulator/faults.ts, whose new faults are
// tested first on their own): replies under shifted ids (each servo under its neighbour's), one
// servo answering as another, replies out of order, and a servo that stops answering while torque
// goes off. What must hold: a reply whose id or order the request does not allow is a failed
// transaction — counted, reported, retried, never state — and torque off is attempted on every
// servo, read back, and the ones it could not be confirmed on are named. The arm's positions
// differ servo to servo (1847, 1947, … 2347), so a neighbour's value cannot pass for a servo's own.
// robot.yaml schedules the same faults.

const ARMS: readonly ArmKind[] = ['so101', 'koch'];
const IDS = [1, 2, 3, 4, 5, 6];

/** Present_Position of every emulated servo, in joint order. */
const ownPositions = (emulator: Emulator): number[] => IDS.map((id) => emulator.servo(id).register('present_position'));

/** Every joint a sample calls valid carries its own servo's position. */
function assertNoWrongState(sample: JointStateSample, own: readonly number[], what: string): void {
  sample.valid.forEach((valid, i) => {
    if (valid)
      assert.equal(sample.rawPosition[i], own[i], `${what}: joint ${i} (id ${i + 1}) shows another servo's position`);
  });
}

/** A read that either fails or returns only true values; resolves with the sample, or the error. */
async function readChecked(bus: ServoBus, own: readonly number[], what: string): Promise<JointStateSample | BusError> {
  let sample: JointStateSample;
  try {
    sample = await bus.readState();
  } catch (err) {
    assert.ok(err instanceof BusError, `${what}: ${String(err)}`);
    return err;
  }
  assertNoWrongState(sample, own, what);
  return sample;
}

for (const kind of ARMS) {
  test(`${kind}: replies under shifted ids are a failed transaction, counted and reported, never state`, async (t) => {
    const crashes = watchForCrashes(t);
    const { bus, emulator } = await emulatedArm(t, kind);
    const own = ownPositions(emulator);
    assert.equal(new Set(own).size, 6, 'the servos stand at different positions');
    const shifted = emulator.inject({ kind: 'shifted_ids' });

    const result = await readChecked(bus, own, 'shifted ids');
    assert.ok(result instanceof BusError, 'a sync read answered under shifted ids is refused');
    assert.equal(result.kind, 'mismatch', result.message);
    assert.match(result.message, /id|order/);
    assert.deepEqual(result.received, [], 'nothing of a mismatched transaction is handed on');
    const d = bus.diagnostics();
    assert.ok(d.counters.mismatched >= 1, 'counted on the bus');
    assert.ok(
      d.servos.every((s) => s.counters.mismatched >= 1),
      'and on the servos whose replies it spoilt',
    );
    // the other reads refuse it too: one register of the arm, and the positions calibration uses
    const values = await bus.syncRead('present_position').catch((err: unknown) => err);
    if (Array.isArray(values))
      values.forEach((v, i) => assert.ok(Number.isNaN(v) || v === own[i], `syncRead joint ${i}: ${v}`));
    else assert.ok(values instanceof BusError);
    await assert.rejects(bus.readPositions(), BusError);
    // the chain behaves again: the servos come back (probed) and are read right
    emulator.faults.clear(shifted);
    await until(
      'every joint read again',
      () => {
        void bus.readState().then(
          (s) => assertNoWrongState(s, own, 'after the fault'),
          () => undefined,
        );
        return bus.diagnostics().servos.every((s) => s.responsive);
      },
      15_000,
    );
    const back = await bus.readState();
    assert.ok(back.valid.every(Boolean));
    assertNoWrongState(back, own, 'after the fault');
    crashes.assertNone();
  });

  test(`${kind}: one servo answering as another gives no state; the impostor is isolated, the others read again`, async (t) => {
    const crashes = watchForCrashes(t);
    const { bus, emulator } = await emulatedArm(t, kind, { probeIntervalMs: 50 });
    const own = ownPositions(emulator);
    emulator.inject({ kind: 'answer_as', id: 3, as: 4 });
    // every read on the way is checked: never servo 3's position as joint 4's
    const deadline = performance.now() + 20_000;
    let last: JointStateSample | BusError | undefined;
    for (;;) {
      last = await readChecked(bus, own, 'servo 3 answering as 4');
      if (!(last instanceof BusError) && last.valid.join() === [true, true, false, true, true, true].join()) break;
      assert.ok(
        performance.now() < deadline,
        `the others not read again: ${last instanceof BusError ? last.message : String(last.valid)}`,
      );
    }
    const d = bus.diagnostics();
    assert.equal(d.servos[2]!.responsive, false, 'the impostor is left out');
    assert.ok(d.servos[2]!.counters.mismatched >= 1);
    assert.ok(d.counters.mismatched >= 1);
    crashes.assertNone();
  });

  test(`${kind}: replies out of order are refused; a one-off is retried and the retry's replies are state`, async (t) => {
    const crashes = watchForCrashes(t);
    const { bus, emulator } = await emulatedArm(t, kind);
    const own = ownPositions(emulator);
    emulator.inject({ kind: 'out_of_order', count: 1 });
    const once = await readChecked(bus, own, 'one reversed sync read');
    assert.ok(!(once instanceof BusError), 'the retry was answered in order');
    assert.ok(once.valid.every(Boolean));
    assert.equal(bus.diagnostics().counters.mismatched, 1);
    assert.ok(bus.diagnostics().counters.retries >= 1);
    emulator.inject({ kind: 'out_of_order' });
    const always = await readChecked(bus, own, 'every sync read reversed');
    assert.ok(always instanceof BusError && always.kind === 'mismatch');
    crashes.assertNone();
  });

  test(`${kind}: torque off reaches every servo when the first stops answering, and names the one not confirmed`, async (t) => {
    const crashes = watchForCrashes(t);
    const { bus, emulator } = await emulatedArm(t, kind);
    await bus.setTorque(true);
    for (const id of IDS) assert.equal(emulator.servo(id).torqueEnabled, true);
    emulator.inject({ kind: 'no_reply', id: 1 });
    const off = await bus.setTorque(false).then(
      () => undefined,
      (err: unknown) => err,
    );
    // the one sync write reached them all (the silent servo too: it only keeps its replies to itself)
    for (const id of IDS) assert.equal(emulator.servo(id).torqueEnabled, false, `id ${id}: torque off`);
    assert.ok(off instanceof Error, 'torque off on the silent servo cannot be confirmed: an error');
    assert.equal(off.name, 'TorqueError');
    assert.match(off.message, /torque off not confirmed on 'shoulder_pan' \(id 1\)/);
    assert.doesNotMatch(off.message, /not confirmed on [^;]*'shoulder_lift'/);
    assert.match(off.message, /confirmed on the other 5/);
    const servos = bus.diagnostics().servos;
    assert.match(servos[0]!.torqueProblem ?? '', /torque off not confirmed/);
    assert.equal(servos[0]!.torque, 'unknown');
    for (const s of servos.slice(1)) {
      assert.equal(s.torqueProblem, undefined, s.joint);
      assert.equal(s.torque, 'off', s.joint);
    }
    crashes.assertNone();
  });
}

test('koch, FAST_SYNC_READ: a combined reply carrying shifted ids is never state', async (t) => {
  const { bus, emulator } = await emulatedArm(t, 'koch', { fastSyncRead: true });
  const own = ownPositions(emulator);
  assert.ok((await bus.readState()).valid.every(Boolean));
  emulator.inject({ kind: 'shifted_ids' });
  const result = await readChecked(bus, own, 'fast sync read, shifted ids');
  assert.ok(result instanceof BusError);
});

test('fault injection: shifted ids wrap round the chain, answer_as and out_of_order count down, bad specs refused', () => {
  const faults = new FaultInjector({
    hasServo: (id) => id >= 1 && id <= 3,
    hardwareError: () => undefined,
    disconnect: () => Promise.resolve(),
    reconnect: () => Promise.resolve(),
  });
  const chain = [3, 1, 2];
  assert.equal(faults.replyFate([1], chain).id, undefined, "no fault: the servo's own id");
  const back = faults.inject({ kind: 'shifted_ids', shift: -1 });
  assert.deepEqual(
    [1, 2, 3].map((id) => faults.replyFate([id], chain).id),
    [3, 1, 2],
  );
  faults.clear(back);
  faults.inject({ kind: 'shifted_ids', count: 3 });
  assert.deepEqual(
    [1, 2, 3, 1].map((id) => faults.answerId(id, chain)),
    [2, 3, 1, 1],
    'one on, wrapping round, for three replies',
  );
  faults.inject({ kind: 'answer_as', id: 2, as: 9, count: 1 });
  assert.equal(faults.replyFate([1], chain).id, undefined, 'another servo is not affected');
  assert.equal(faults.replyFate([2], chain).id, 9);
  assert.equal(faults.replyFate([2], chain).id, undefined, 'count used up');
  faults.inject({ kind: 'no_reply', id: 3, count: 1 });
  faults.inject({ kind: 'answer_as', id: 3, as: 1, count: 1 });
  assert.equal(faults.replyFate([3], chain).drop, true);
  assert.equal(faults.replyFate([3], chain).id, 1, 'a dropped reply does not use up the id fault');
  faults.inject({ kind: 'out_of_order', count: 2 });
  assert.deepEqual([faults.reorder(), faults.reorder(), faults.reorder()], [true, true, false]);
  assert.throws(() => faults.inject({ kind: 'answer_as', id: 2, as: 2 }), /as must be an id 0–253 other than/);
  assert.throws(() => faults.inject({ kind: 'answer_as', id: 7, as: 2 }), /no servo with id 7/);
  assert.throws(() => faults.inject({ kind: 'shifted_ids', shift: 0.5 }), /shift must be a whole number other than 0/);
  assert.throws(() => faults.inject({ kind: 'out_of_order', count: 0 }), /count must be a whole number > 0/);
});

test('robot.yaml schedules the misbehaving-chain faults; malformed ones are refused with the key', async (t) => {
  const faults = [
    '  faults:',
    '    - { kind: shifted_ids, shift: -1 }',
    '    - { kind: answer_as, id: 3, as: 4, count: 2, at_s: 100 }',
    '    - { kind: out_of_order, count: 1, at_s: 100 }',
    '',
  ].join('\n');
  const config = parseRobotConfig(armYaml('so101', '/tmp/x', faults), 'robot.yaml');
  assert.deepEqual(
    config.emulator.faults.map((f) => f.spec),
    [
      { kind: 'shifted_ids', shift: -1 },
      { kind: 'answer_as', id: 3, as: 4, count: 2 },
      { kind: 'out_of_order', count: 1 },
    ],
  );
  const bad = (fault: string, pattern: RegExp) =>
    assert.throws(
      () => parseRobotConfig(armYaml('so101', '/tmp/x', `  faults:\n    - ${fault}\n`), 'robot.yaml'),
      pattern,
    );
  bad('{ kind: shifted_ids, shift: 0 }', /emulator\.faults\[0\]\.shift: 0 is not a whole number other than 0/);
  bad('{ kind: answer_as, id: 3 }', /emulator\.faults\[0\]\.as: needs the id/);
  bad('{ kind: answer_as, id: 3, as: 3 }', /emulator\.faults\[0\]\.as: needs the id/);
  bad('{ kind: answer_as, as: 3 }', /emulator\.faults\[0\]\.id: answer_as needs the id/);
  bad('{ kind: out_of_order, id: 3 }', /emulator\.faults\[0\]\.id: unknown key/);
  bad('{ kind: swapped }', /'swapped' is not one of .*shifted_ids, answer_as, out_of_order/);

  // and the emulator acts on them from the file: shifted ids one back, from the start
  const { bus, emulator } = await emulatedArm(
    t,
    'so101',
    { verifyModels: false },
    '  faults:\n    - { kind: shifted_ids, shift: -1 }\n',
  );
  const result = await readChecked(bus, ownPositions(emulator), 'shifted ids from robot.yaml');
  assert.ok(result instanceof BusError && result.kind === 'mismatch');
});
