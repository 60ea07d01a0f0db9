import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyDecoder, type KeyEvent } from '../../../src/control/teleop/key_decoder.js';

// Raw terminal bytes as xterm, tmux and ssh deliver them: every key arrives, named, whatever the
// chunking of the reads (a sequence split between two reads is one key, not Escape plus letters).

const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const names = (events: readonly KeyEvent[]): string[] =>
  events.map((e) => `${e.ctrl ? 'C-' : ''}${e.meta ? 'M-' : ''}${e.shift && e.name.length > 1 ? 'S-' : ''}${e.name}`);

test('plain keys: letters, digits, symbols, space, Enter (CR and LF), Backspace (DEL and BS), Tab, Ctrl-C', () => {
  const d = new KeyDecoder();
  assert.deepEqual(names(d.feed(bytes('aZ3+-[] \r\n\x7f\x08\t\x03'))), [
    'a',
    'Z',
    '3',
    '+',
    '-',
    '[',
    ']',
    'space',
    'enter',
    'enter',
    'backspace',
    'backspace',
    'tab',
    'C-c',
  ]);
  assert.equal(d.feed(bytes('Z'))[0]!.shift, true);
  assert.deepEqual(names(d.feed(bytes('\x1c\x01'))), ['C-\\', 'C-a']);
  assert.equal(d.pending, false);
});

test('CSI and SS3 sequences: arrows, Home/End, Delete, PageUp, F-keys, modifiers', () => {
  const d = new KeyDecoder();
  assert.deepEqual(names(d.feed(bytes('\x1b[A\x1b[B\x1b[C\x1b[D'))), ['up', 'down', 'right', 'left']);
  // application cursor mode (tmux and xterm after smkx): SS3
  assert.deepEqual(names(d.feed(bytes('\x1bOA\x1bOD\x1bOH\x1bOF\x1bOP'))), ['up', 'left', 'home', 'end', 'f1']);
  assert.deepEqual(names(d.feed(bytes('\x1b[3~\x1b[5~\x1b[1~\x1b[4~\x1b[15~\x1b[24~'))), [
    'delete',
    'pageup',
    'home',
    'end',
    'f5',
    'f12',
  ]);
  assert.deepEqual(names(d.feed(bytes('\x1b[1;5C\x1b[1;2A\x1b[1;3D\x1b[Z'))), ['C-right', 'S-up', 'M-left', 'S-tab']);
  assert.deepEqual(names(d.feed(bytes('\x1b[99~\x1b[1;5X'))), ['unknown', 'unknown']);
  assert.equal(d.pending, false);
});

test('a sequence split across reads is one key, at whatever byte it is split', () => {
  const whole = '\x1b[1;5C';
  for (let cut = 1; cut < whole.length; cut++) {
    const d = new KeyDecoder();
    assert.deepEqual(d.feed(bytes(whole.slice(0, cut))), [], `nothing yet after ${cut} bytes`);
    assert.equal(d.pending, true);
    assert.deepEqual(names(d.feed(bytes(whole.slice(cut)))), ['C-right'], `cut at ${cut}`);
    assert.equal(d.pending, false);
  }
  // byte by byte, a stream of keys
  const d = new KeyDecoder();
  const out: KeyEvent[] = [];
  for (const b of bytes('x\x1bOB\x1b[3~y')) out.push(...d.feed(Uint8Array.of(b)));
  assert.deepEqual(names(out), ['x', 'down', 'delete', 'y']);
  // a UTF-8 character split between reads
  const e = new KeyDecoder();
  const eacute = bytes('é');
  assert.deepEqual(e.feed(eacute.subarray(0, 1)), []);
  assert.deepEqual(names(e.feed(eacute.subarray(1))), ['é']);
});

test('a lone ESC waits; flush() makes it Escape; ESC then a key is that key with Alt; ESC ESC is Escape', () => {
  const d = new KeyDecoder();
  assert.deepEqual(d.feed(bytes('\x1b')), []);
  assert.equal(d.pending, true);
  assert.deepEqual(names(d.flush()), ['escape']);
  assert.equal(d.pending, false);
  assert.deepEqual(names(d.feed(bytes('\x1bx'))), ['M-x']);
  assert.deepEqual(names(d.feed(bytes('\x1b\x1b[A'))), ['escape', 'up']);
  // an unfinished sequence flushed: what it was, as far as it goes, never lost in the buffer
  assert.deepEqual(d.feed(bytes('\x1b[')), []);
  assert.deepEqual(names(d.flush()), ['M-[']);
  assert.equal(d.pending, false);
  // nothing pending: flush gives nothing
  assert.deepEqual(d.flush(), []);
});
