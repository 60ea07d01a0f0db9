import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GAMEPAD_LAYOUTS, GamepadTeleop, applyDeadzone, gamepadMapping } from '../../../src/control/teleop/gamepad.js';

// A Joy-shaped state as a jog: nothing moves without the deadman held, sticks inside the deadzone
// read 0, buttons act once per press, and a state that stopped coming moves nothing.

const JOINTS = ['a', 'b', 'c'];
const MS = 1_000_000n;
const SDL = GAMEPAD_LAYOUTS.sdl;

function pad(timeoutNs = 0n): { gp: GamepadTeleop; at: (ms: number) => void } {
  let now = 0n;
  const gp = new GamepadTeleop('joy_topic', JOINTS, SDL, { deadzone: 0.1, now: () => now, timeoutNs });
  return { gp, at: (ms) => (now = BigInt(ms) * MS) };
}

/** An sdl-layout state: axes by index, the buttons pressed. */
function joy(axes: Record<number, number>, pressed: number[] = []): { axes: number[]; buttons: number[] } {
  const a = new Array<number>(6).fill(0);
  for (const [i, v] of Object.entries(axes)) a[Number(i)] = v;
  const b = new Array<number>(16).fill(0);
  for (const i of pressed) b[i] = 1;
  return { axes: a, buttons: b };
}

test('deadzone: 0 inside, continuous at its edge, ±1 at the ends, NaN reads 0', () => {
  assert.equal(applyDeadzone(0.05, 0.1), 0);
  assert.equal(applyDeadzone(-0.1, 0.1), 0);
  assert.ok(Math.abs(applyDeadzone(0.1001, 0.1)) < 1e-3);
  assert.equal(applyDeadzone(1, 0.1), 1);
  assert.equal(applyDeadzone(-1.5, 0.1), -1);
  assert.equal(applyDeadzone(Number.NaN, 0.1), 0);
});

test('the deadman: sticks move the end effector and the selected joint only while it is held', () => {
  const { gp } = pad();
  // left stick up (axis 1) and left (axis 0), right stick up (axis 3), right stick right (axis 2 negative)
  gp.update(joy({ 0: 0.55, 1: 1, 3: -1, 2: -1 }));
  assert.equal(gp.enabled, false);
  assert.deepEqual(gp.motion().ee, [0, 0, 0]);
  assert.deepEqual([...gp.motion().joint], [0, 0, 0]);
  gp.update(joy({ 0: 0.55, 1: 1, 3: -1, 2: -1 }, [SDL.deadman]));
  const m = gp.motion();
  assert.equal(m.ee[0], 1);
  assert.ok(Math.abs(m.ee[1] - 0.5) < 1e-9, `y ${m.ee[1]}`);
  assert.equal(m.ee[2], -1);
  assert.deepEqual([...m.joint], [1, 0, 0], 'right stick pushed right jogs the selected joint forward');
  // let go: the next motion is zero
  gp.update(joy({ 0: 0.55, 1: 1 }));
  assert.deepEqual(gp.motion().ee, [0, 0, 0]);
});

test('buttons act once per press: joint selection wraps, speed steps, episode commands', () => {
  const { gp } = pad();
  gp.update(joy({}, [SDL.prevJoint]));
  assert.equal(gp.selectedJoint, 2, 'previous from the first wraps to the last');
  gp.update(joy({}, [SDL.prevJoint]));
  assert.equal(gp.selectedJoint, 2, 'held: no second press');
  gp.update(joy({}));
  gp.update(joy({}, [SDL.nextJoint]));
  assert.equal(gp.selectedJoint, 0);
  const s = gp.scale;
  const said = gp.update(joy({}, [SDL.speedUp])).say;
  assert.ok(gp.scale > s);
  assert.match(said.join(), /speed/);
  gp.update(joy({}, [SDL.start]));
  gp.update(joy({}, [SDL.start, SDL.end]));
  gp.update(joy({}, [SDL.start, SDL.end]));
  gp.update(joy({}, [SDL.stop]));
  assert.deepEqual(gp.takeEpisodeCommands(), ['start', 'end', 'stop']);
  assert.deepEqual(gp.takeEpisodeCommands(), []);
});

test('a state older than the timeout moves nothing; release() lets everything go', () => {
  const { gp, at } = pad(500n * MS);
  gp.update(joy({ 1: 1 }, [SDL.deadman]));
  at(400);
  assert.equal(gp.motion().ee[0], 1);
  at(600);
  assert.equal(gp.motion().ee[0], 0, 'the Joy publisher went quiet: stop');
  gp.update(joy({ 1: 1 }, [SDL.deadman]));
  assert.equal(gp.motion().ee[0], 1);
  gp.release();
  assert.equal(gp.motion().ee[0], 0);
  assert.equal(gp.enabled, false);
});

test('mapping: a layout with buttons, axes and scales replaced; wrong lengths and indices refused in one line', () => {
  const m = gamepadMapping('xpad', [5, -1, -1, -1, -1, 7, 1, 2, 3, 6], [], [-1, 1, 1, 1]);
  assert.equal(m.deadman, 5);
  assert.equal(m.prevJoint, -1);
  assert.deepEqual(m.x, { index: GAMEPAD_LAYOUTS.xpad.x.index, scale: -1 });
  assert.throws(() => gamepadMapping('sdl', [1, 2], [], []), /gamepad buttons: 2 values, expected 10/);
  assert.throws(() => gamepadMapping('sdl', [], [0, 1, 2, 2.5], []), /index 2.5/);
  // no deadman configured: moves without one
  let now = 0n;
  const free = new GamepadTeleop(
    'gamepad',
    JOINTS,
    { ...SDL, deadman: -1 },
    { deadzone: 0, now: () => now, timeoutNs: 0n },
  );
  free.update(joy({ 1: 0.5 }));
  assert.equal(free.motion().ee[0], 0.5);
  now = 1n;
});
