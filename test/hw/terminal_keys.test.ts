import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { TerminalKeys } from '../../hw/input/terminal_keys.js';
import { until } from '../wait.js';

// The terminal in raw mode while keys are read, and back as it was after; bytes handed on as they
// come, and a quiet call after them (when a lone ESC is known to be Escape); stdin that is not a
// terminal refused in one line.

/** A stand-in for a TTY's ReadStream: the raw-mode calls recorded, data emitted by the test. */
class FakeTty extends EventEmitter {
  readonly isTTY = true;
  isRaw = false;
  readonly modes: boolean[] = [];
  paused = true;
  setRawMode(mode: boolean): this {
    this.isRaw = mode;
    this.modes.push(mode);
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  pause(): this {
    this.paused = true;
    return this;
  }
}

test('raw mode while open, restored on close; bytes handed on; a quiet call after the last bytes', async () => {
  const tty = new FakeTty();
  const received: string[] = [];
  let quiet = 0;
  const keys = TerminalKeys.open({
    input: tty as unknown as NodeJS.ReadStream,
    onBytes: (b) => received.push(Buffer.from(b).toString('latin1')),
    onQuiet: () => quiet++,
    escapeMs: 1,
  });
  assert.equal(tty.isRaw, true);
  assert.equal(tty.paused, false);
  tty.emit('data', Buffer.from('\x1b'));
  await until('the quiet call after a lone ESC', () => quiet === 1);
  tty.emit('data', Buffer.from('[A'));
  assert.deepEqual(received, ['\x1b', '[A']);
  keys.close();
  keys.close();
  assert.deepEqual(tty.modes, [true, false], 'back to the mode it had, once');
  assert.equal(tty.paused, true);
  tty.emit('data', Buffer.from('x'));
  assert.equal(received.length, 2, 'nothing after close');
});

test('stdin that is not a terminal: one clear error', () => {
  const pipe = Readable.from([]) as unknown as NodeJS.ReadStream;
  assert.throws(() => TerminalKeys.open({ input: pipe, onBytes: () => {} }), /needs a terminal: stdin is not a TTY/);
});
