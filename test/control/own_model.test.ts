import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linesOf, startController, type LogLine } from './controller_node.js';

// The controller on a model that is not one of ours (test/fixtures/models/double_pendulum.xml and
// variants of it written as users write them): an RK4 integrator is linearised with another one
// and said once; at configure, a goal keyframe outside the joint ranges and a hold control outside
// the actuators' ctrlrange are refused in one line naming the joint or actuator and the numbers,
// and ranges that look like radians compiled as degrees are warned about; a goal that comes later
// and cannot be held is refused the same way while the node keeps running.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = join(root, 'test/fixtures/models/double_pendulum.xml');
const XML = readFileSync(FIXTURE, 'utf8');
const JOINTS = ['shoulder', 'elbow'];
const UPRIGHT = [Math.PI, 0, 0, 0];
const HANGING = [0, 0, 0, 0];
const HORIZONTAL = [Math.PI / 2, 0, 0, 0];

/** The fixture with its text replaced, written to a file of its own (the controller loads a file). */
function variant(replacements: readonly (readonly [string, string])[]): { path: string; remove: () => void } {
  let xml = XML;
  for (const [from, to] of replacements) {
    assert.ok(xml.includes(from), `the fixture has '${from}'`);
    xml = xml.replaceAll(from, to);
  }
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-own-model-'));
  const path = join(dir, 'double_pendulum.xml');
  writeFileSync(path, xml);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The model as the user first wrote it: ranges in radians, no compiler angle (so degrees). */
const AS_WRITTEN: readonly (readonly [string, string])[] = [
  ['<compiler angle="radian"/>', ''],
  ['range="-4 4"', 'range="-3.14 3.14"'],
  ['range="-2.5 2.5"', 'range="-3.14 3.14"'],
];
/** motors too weak to hold the arm horizontal (it needs 9.81 N·m at the shoulder) */
const WEAK: readonly (readonly [string, string])[] = [['ctrlrange="-20 20"', 'ctrlrange="-5 5"']];
/** an integrator mjd_transitionFD takes as it is, for tests about something else */
const IMPLICITFAST: readonly (readonly [string, string])[] = [['integrator="RK4"', 'integrator="implicitfast"']];

test('an RK4 model: LQR linearises it with implicitfast, says so once, and holds the keyframe', async () => {
  const c = await startController({ model: FIXTURE, goal_keyframe: 'upright' }, JOINTS);
  try {
    for (let k = 0; k <= 20; k++) await c.tick(k, UPRIGHT);
    assert.deepEqual(linesOf(c.logs, 'error'), []);
    const said = c.logs.filter((l) => /RK4/.test(l.message));
    assert.equal(said.length, 1, `lines about RK4: ${JSON.stringify(said)}`);
    assert.equal(said[0]!.level, 'info');
    assert.match(said[0]!.message, /implicitfast/);
    assert.equal(c.commands.length, 20, 'a command every tick');
    for (const u of c.commands)
      assert.ok(
        u.every((v) => Math.abs(v) < 1e-6),
        `at upright the hold is ~0: ${u.join(', ')}`,
      );
    assert.ok(c.lifecycle.failed, 'the controller says when it fails for good');
  } finally {
    await c.close();
  }
});

test('a goal keyframe outside the joint ranges is refused at configure, in one line naming the joint and the numbers (and why it is likely)', async () => {
  const model = variant(AS_WRITTEN);
  const logs: LogLine[] = [];
  try {
    await assert.rejects(startController({ model: model.path, goal_keyframe: 'upright' }, JOINTS, logs), (e: Error) => {
      assert.match(
        e.message,
        /goal_keyframe 'upright': joint 'shoulder' at 3\.1416 is outside its range \[-0\.0548, 0\.0548\]/,
      );
      assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
      return true;
    });
    // the degree warning came first, saying what to change
    const warnings = linesOf(logs, 'warn');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0]!, /<compiler angle="radian"\/>/);
  } finally {
    model.remove();
  }
});

test("a hold control outside an actuator's ctrlrange is refused at configure, naming the actuator and the numbers", async () => {
  const model = variant([...WEAK, ...IMPLICITFAST]);
  try {
    await assert.rejects(startController({ model: model.path, goal_keyframe: 'horizontal' }, JOINTS), (e: Error) => {
      assert.match(e.message, /goal_keyframe 'horizontal'/);
      assert.match(e.message, /actuator 'shoulder_motor' needs 9\.81 to hold it, outside its ctrlrange \[-5, 5\]/);
      assert.ok(!e.message.includes('elbow_motor'), `the elbow's 2.45 is within range: ${e.message}`);
      assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
      return true;
    });
    // the same keyframe with the fixture's ±20 N·m motors is taken
    const c = await startController({ model: FIXTURE, goal_keyframe: 'horizontal' }, JOINTS);
    await c.close();
  } finally {
    model.remove();
  }
});

test('joint ranges that look like radians compiled as degrees: one warning at configure, naming the joints', async () => {
  const model = variant(AS_WRITTEN);
  try {
    const c = await startController({ model: model.path, goal_keyframe: '' }, JOINTS);
    await c.close();
    const warnings = linesOf(c.logs, 'warn');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0]!, /joint 'shoulder' range \[-3\.14, 3\.14\]/);
    assert.match(warnings[0]!, /joint 'elbow' range \[-3\.14, 3\.14\]/);
    assert.match(warnings[0]!, /±0\.0548 rad/);
    assert.match(warnings[0]!, /<compiler angle="radian"\/>/);
  } finally {
    model.remove();
  }
  // ranges in radians said to be radians, and our own models: no warning
  for (const [model, joints] of [
    [FIXTURE, JOINTS],
    ['sim/models/cartpole.xml', ['cart_slide', 'pole_hinge']],
    ['sim/models/so_arm.xml', ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper']],
  ] as const) {
    const c = await startController({ model, goal_keyframe: '' }, joints);
    await c.close();
    assert.deepEqual(linesOf(c.logs, 'warn'), [], model);
  }
});

test('a goal that arrives later and cannot be held is refused in one line; the node keeps holding the last goal', async () => {
  const model = variant([...WEAK, ...IMPLICITFAST]);
  const c = await startController({ model: model.path, goal_keyframe: 'hanging', ee_site: 'tip' }, JOINTS);
  try {
    for (let k = 0; k <= 5; k++) await c.tick(k, HANGING);
    // the tip at (-1, 0, 1.2): the arm straight out, which needs 9.81 N·m at the shoulder
    await c.goal(-1, 0, 1.2);
    const refused = linesOf(c.logs, 'warn');
    assert.equal(refused.length, 1, JSON.stringify(c.logs));
    // (the IK solution is straight out to within its tolerance: 9.8 N·m and a little)
    assert.match(refused[0]!, /actuator 'shoulder_motor' needs 9\.8\d* to hold it, outside its ctrlrange \[-5, 5\]/);
    assert.ok(!refused[0]!.includes('\n'));
    for (let k = 6; k <= 10; k++) await c.tick(k, HANGING);
    assert.equal(c.commands.length, 10, 'a command every tick');
    for (const u of c.commands.slice(5))
      assert.ok(
        u.every((v) => Math.abs(v) < 1e-6),
        `still holding hanging: ${u.join(', ')}`,
      );
    // a goal it can hold is taken
    await c.goal(-0.3, 0, 0.25);
    assert.ok(
      linesOf(c.logs, 'info').some((l) => /new target \(-0\.300, 0\.000, 0\.250\) m/.test(l)),
      JSON.stringify(c.logs),
    );
    assert.deepEqual(linesOf(c.logs, 'error'), []);
    let failed = false;
    void c.lifecycle.failed?.then(() => (failed = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(failed, false, 'a refused goal does not fail the node');
  } finally {
    await c.close();
    model.remove();
  }
});

test('the measured configuration as the first goal ("hold here") is refused the same way when it cannot be held', async () => {
  const model = variant([...WEAK, ...IMPLICITFAST]);
  const c = await startController({ model: model.path, goal_keyframe: '' }, JOINTS);
  try {
    for (let k = 0; k <= 10; k++) await c.tick(k, HORIZONTAL);
    const refused = linesOf(c.logs, 'warn').filter((l) => /shoulder_motor/.test(l));
    assert.equal(refused.length, 1, JSON.stringify(c.logs));
    assert.match(refused[0]!, /needs 9\.81 to hold it, outside its ctrlrange \[-5, 5\]/);
    assert.deepEqual(linesOf(c.logs, 'error'), []);
    // no goal: the stop action (zero effort) every tick
    assert.equal(c.commands.length, 10);
    for (const u of c.commands) assert.deepEqual(u, [0, 0]);
  } finally {
    await c.close();
    model.remove();
  }
});
