import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyDecoder } from '../../../src/control/teleop/key_decoder.js';
import { KeyboardTeleop, keyAction, keyboardHelp } from '../../../src/control/teleop/keyboard.js';

// The keymap and the keyboard jog: digits select a joint, +/- jog it, w/s a/d r/f jog the end
// effector; a key moves for its hold time after its latest press; LeRobot's episode keys.

const JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex'];
const MS = 1_000_000n;

function keyboard(ee = true): { kb: KeyboardTeleop; press: (s: string) => void; at: (ms: number) => void } {
  let now = 0n;
  const kb = new KeyboardTeleop(JOINTS, ee, { holdNs: 200n * MS, now: () => now });
  const decoder = new KeyDecoder();
  return {
    kb,
    press: (s) => {
      for (const e of decoder.feed(Buffer.from(s, 'utf8'))) kb.handle(e);
      for (const e of decoder.flush()) kb.handle(e);
    },
    at: (ms) => (now = BigInt(ms) * MS),
  };
}

test('keymap: LeRobot episode keys (→ end early, ← re-record, Esc stop), Enter start, Backspace discard, Ctrl-C quit', () => {
  const d = new KeyDecoder();
  const actions = [...d.feed(Buffer.from('\x1b[C\x1b[D\r\x7f\x03')), ...d.feed(Buffer.from('\x1b')), ...d.flush()].map(
    keyAction,
  );
  assert.deepEqual(actions, [
    { kind: 'episode', command: 'end' },
    { kind: 'episode', command: 'rerecord' },
    { kind: 'episode', command: 'start' },
    { kind: 'episode', command: 'discard' },
    { kind: 'quit' },
    { kind: 'episode', command: 'stop' },
  ]);
  assert.match(
    keyboardHelp(JOINTS, true),
    /1 shoulder_pan, 2 shoulder_lift, 3 elbow_flex.*w\/s ±x.*Esc stop recording/,
  );
  assert.doesNotMatch(keyboardHelp(JOINTS, false), /end effector/);
});

test('joint jog: a digit selects the joint, + and − (and ↑ ↓) move it for the hold time after the latest press', () => {
  const { kb, press, at } = keyboard();
  press('2+');
  assert.equal(kb.selectedJoint, 1);
  assert.deepEqual([...kb.motion().joint], [0, 1, 0]);
  at(150);
  assert.deepEqual([...kb.motion().joint], [0, 1, 0], 'still held');
  at(250);
  assert.deepEqual([...kb.motion().joint], [0, 0, 0], 'released after the hold');
  // auto-repeat: presses closer than the hold keep it moving
  for (let t = 300; t <= 600; t += 33) {
    at(t);
    press('\x1b[B');
    assert.deepEqual([...kb.motion().joint], [0, -1, 0]);
  }
  // space stops at once
  press(' ');
  assert.deepEqual([...kb.motion().joint], [0, 0, 0]);
  // a joint that does not exist is refused and the selection stays
  const outcome = kb.handle({ name: '7', ctrl: false, meta: false, shift: false, sequence: '7' });
  assert.match(outcome.say ?? '', /no joint 7/);
  assert.equal(kb.selectedJoint, 1);
});

test('end-effector jog and speed: w/s a/d r/f are ±x ±y ±z, Caps Lock too; [ ] scale the speed within bounds', () => {
  const { kb, press } = keyboard();
  press('wD');
  assert.deepEqual(kb.motion().ee, [1, -1, 0]);
  press('f');
  assert.deepEqual(kb.motion().ee, [1, -1, -1]);
  const start = kb.scale;
  press(']');
  assert.ok(kb.scale > start);
  for (let i = 0; i < 20; i++) press(']');
  assert.equal(kb.scale, 1, 'never above 100 %');
  for (let i = 0; i < 40; i++) press('[');
  const low: number = kb.selectedJoint === 0 ? kb.scale : Number.NaN;
  assert.ok(low > 0 && low < 0.1, `never down to 0: ${low}`);
  // without an end-effector site the keys move nothing and say why
  const noEe = keyboard(false);
  noEe.press('w');
  assert.deepEqual(noEe.kb.motion().ee, [0, 0, 0]);
});

test('episode commands are queued in order and taken once; Ctrl-C halts and sets quit', () => {
  const { kb, press } = keyboard();
  press('\r\x1b[C\x1b[D');
  assert.deepEqual(kb.takeEpisodeCommands(), ['start', 'end', 'rerecord']);
  assert.deepEqual(kb.takeEpisodeCommands(), []);
  press('1+');
  press('\x03');
  assert.equal(kb.quit, true);
  assert.deepEqual([...kb.motion().joint], [0, 0, 0]);
});
