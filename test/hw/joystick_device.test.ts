import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  JS_EVENT_AXIS,
  JS_EVENT_BUTTON,
  JS_EVENT_INIT,
  JoystickDevice,
  JsEventDecoder,
  applyJsEvents,
  type JoystickIo,
  type JoystickState,
} from '../../hw/input/joystick_device.js';
import { until } from '../wait.js';

// The Linux joystick API's 8-byte events (Documentation/input/joydev/joystick-api.rst), fed
// through a file in a temporary directory: the synthetic INIT events give the initial state,
// changes follow, axes are normalised to [−1, 1] with up/left positive, buttons are 0 or 1. A
// device that vanishes is said in one line, its state released, and it is opened again.

function event(value: number, type: number, number: number, timeMs = 0): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(timeMs, 0);
  b.writeInt16LE(value, 4);
  b.writeUInt8(type, 6);
  b.writeUInt8(number, 7);
  return b;
}

const INIT = Buffer.concat([
  event(0, JS_EVENT_AXIS | JS_EVENT_INIT, 0),
  event(0, JS_EVENT_AXIS | JS_EVENT_INIT, 1),
  event(0, JS_EVENT_BUTTON | JS_EVENT_INIT, 0),
  event(1, JS_EVENT_BUTTON | JS_EVENT_INIT, 1),
]);

interface Lines {
  info: string[];
  warn: string[];
  error: string[];
}
const logger = (lines: Lines) => ({
  info: (m: string) => void lines.info.push(m),
  warn: (m: string) => void lines.warn.push(m),
  error: (m: string) => void lines.error.push(m),
});

test('decoder: whole events from any chunking; INIT events set the state; axes normalised, up and left positive', () => {
  const bytes = Buffer.concat([
    INIT,
    event(-32767, JS_EVENT_AXIS, 1),
    event(32767, JS_EVENT_AXIS, 0),
    event(16384, JS_EVENT_AXIS, 3),
  ]);
  for (const size of [1, 3, 8, 13, bytes.length]) {
    const decoder = new JsEventDecoder();
    const state: JoystickState = { axes: [], buttons: [] };
    for (let at = 0; at < bytes.length; at += size) applyJsEvents(state, decoder.feed(bytes.subarray(at, at + size)));
    assert.deepEqual(state.buttons, [0, 1], `chunks of ${size}`);
    assert.equal(state.axes[1], 1, 'stick pushed up (negative raw) reads +1');
    assert.equal(state.axes[0], -1, 'stick pushed right reads −1');
    assert.equal(state.axes[2], 0, 'an axis never reported reads 0');
    assert.ok(Math.abs(state.axes[3]! + 16384 / 32767) < 1e-12);
  }
  // the most negative raw value stays within [−1, 1]
  const state: JoystickState = { axes: [], buttons: [] };
  applyJsEvents(state, new JsEventDecoder().feed(event(-32768, JS_EVENT_AXIS, 0)));
  assert.equal(state.axes[0], 1);
  assert.equal(applyJsEvents(state, [{ timeMs: 0, value: 5, type: 0x40, number: 0 }]), false, 'unknown type ignored');
});

test('device: read from a file in a tmp dir, with events appended as a joystick would send them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'joystick-'));
  const path = join(dir, 'js0');
  writeFileSync(path, INIT);
  const lines: Lines = { info: [], warn: [], error: [] };
  const states: JoystickState[] = [];
  const device = JoystickDevice.open(path, {
    onState: (s) => states.push({ axes: [...s.axes], buttons: [...s.buttons] }),
    logger: logger(lines),
    pollMs: 1,
  });
  try {
    await until('the initial state', () => states.length > 0);
    assert.deepEqual(states.at(-1), { axes: [0, 0], buttons: [0, 1] });
    // half an event, then the rest
    const press = event(1, JS_EVENT_BUTTON, 0);
    appendFileSync(path, press.subarray(0, 5));
    appendFileSync(path, Buffer.concat([press.subarray(5), event(-32767, JS_EVENT_AXIS, 1)]));
    await until('the press and the stick', () => states.at(-1)?.buttons[0] === 1 && states.at(-1)?.axes[1] === 1, {
      seen: () => JSON.stringify(states.at(-1)),
    });
    assert.equal(device.connected, true);
    assert.deepEqual(lines.error, []);
    assert.match(lines.info.join('\n'), /js0: open/);
  } finally {
    await device.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('device: a missing device is said once and waited for; one that vanishes is said once, released, and reopened', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'joystick-'));
  const path = join(dir, 'js0');
  // the real file operations, with a switch that makes reads fail as an unplugged joystick's do
  let unplugged = false;
  let opens = 0;
  const io: JoystickIo = {
    async open(p) {
      opens++;
      if (unplugged) throw Object.assign(new Error(`ENODEV: no such device, open '${p}'`), { code: 'ENODEV' });
      const { promises } = await import('node:fs');
      const handle = await promises.open(p, 'r');
      return {
        read: async (buffer) => {
          if (unplugged) throw Object.assign(new Error('ENODEV: no such device, read'), { code: 'ENODEV' });
          return (await handle.read(buffer, 0, buffer.length, null)).bytesRead;
        },
        close: () => handle.close(),
      };
    },
  };
  const lines: Lines = { info: [], warn: [], error: [] };
  const states: JoystickState[] = [];
  let lost = 0;
  const device = JoystickDevice.open(path, {
    onState: (s) => states.push({ axes: [...s.axes], buttons: [...s.buttons] }),
    onLost: () => lost++,
    logger: logger(lines),
    pollMs: 1,
    retryMs: 2,
    io,
  });
  try {
    await until('the missing device said', () => lines.error.length > 0);
    writeFileSync(path, Buffer.concat([INIT, event(1, JS_EVENT_BUTTON, 0), event(-20000, JS_EVENT_AXIS, 1)]));
    await until('the device open', () => device.connected && states.length > 0);
    assert.equal(lines.error.length, 1, `one line while it was missing: ${JSON.stringify(lines.error)}`);
    assert.match(lines.error[0]!, /js0: cannot open it \(ENOENT.*trying to open it every/);
    assert.deepEqual(states.at(-1)!.buttons, [1, 1]);
    unplugged = true;
    await until('the loss noticed', () => lost === 1);
    assert.equal(device.connected, false);
    assert.deepEqual(device.state, { axes: [0, 0], buttons: [0, 0] }, 'released');
    // it stays gone for many retries: still one line
    const opened = opens;
    await until('five more open attempts', () => opens >= opened + 5);
    assert.equal(lines.error.length, 2, `one line for the loss: ${JSON.stringify(lines.error)}`);
    assert.match(lines.error[1]!, /read failed \(ENODEV.*teleop input released/);
    unplugged = false;
    await until('back', () => device.connected);
    await until('said back', () => lines.info.some((l) => /open again/.test(l)));
  } finally {
    await device.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
