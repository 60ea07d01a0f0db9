// Raw terminal input (a TTY in raw mode, as xterm, tmux and ssh pass it on) as key events.
// Printable characters (UTF-8) are themselves; control bytes are Ctrl+letter (0x03 is Ctrl-C, which
// in raw mode is a byte, not SIGINT), CR or LF Enter, DEL or BS Backspace, TAB, space. Special
// keys come as escape sequences (ECMA-48 / xterm "ctlseqs"): CSI = ESC [ params final, where
// params are bytes 0x30–0x3F, intermediates 0x20–0x2F, the final byte 0x40–0x7E (ESC [ A is
// Up, ESC [ 3 ~ Delete, ESC [ 1 ; 5 C Ctrl+Right: the second parameter is 1 + a bit mask, 1 Shift,
// 2 Alt, 4 Ctrl); SS3 = ESC O final, which xterm and tmux send for the arrows and Home/End in
// application cursor mode and for F1–F4. ESC followed by any other key is that key with Alt (meta).
// A sequence may arrive split across reads: the bytes of an unfinished one wait for the next read.
// A lone ESC cannot be told from the start of a sequence by its bytes alone: it waits too, and the
// reader calls flush() when no byte followed it for a short while (as terminals' escape-time).

export interface KeyEvent {
  /** 'a', 'A', '1', '+', … for characters; 'up', 'down', 'left', 'right', 'home', 'end', 'insert',
   * 'delete', 'pageup', 'pagedown', 'f1'…'f12', 'escape', 'enter', 'tab', 'backspace', 'space';
   * 'unknown' for a sequence this does not name */
  readonly name: string;
  readonly ctrl: boolean;
  readonly meta: boolean;
  readonly shift: boolean;
  /** the bytes it came from, as text (escape sequences included) */
  readonly sequence: string;
}

const ESC = 0x1b;

/** The key named by each control byte 0x01–0x1F (with Ctrl). */
const CTRL_NAMES: readonly string[] = Array.from({ length: 0x20 }, (_, b) =>
  b >= 1 && b <= 26 ? String.fromCharCode(0x60 + b) : b >= 0x1c ? '\\]^_'[b - 0x1c]! : 'unknown',
);

const CSI_FINAL: Readonly<Record<string, string>> = {
  A: 'up',
  B: 'down',
  C: 'right',
  D: 'left',
  H: 'home',
  F: 'end',
  P: 'f1',
  Q: 'f2',
  R: 'f3',
  S: 'f4',
  Z: 'tab', // back-tab: Shift+Tab
};

/** ESC [ n ~ (vt220-style keys) */
const CSI_TILDE: Readonly<Record<number, string>> = {
  1: 'home',
  2: 'insert',
  3: 'delete',
  4: 'end',
  5: 'pageup',
  6: 'pagedown',
  7: 'home',
  8: 'end',
  11: 'f1',
  12: 'f2',
  13: 'f3',
  14: 'f4',
  15: 'f5',
  17: 'f6',
  18: 'f7',
  19: 'f8',
  20: 'f9',
  21: 'f10',
  23: 'f11',
  24: 'f12',
};

const SS3_FINAL: Readonly<Record<string, string>> = { ...CSI_FINAL, M: 'enter' };

const key = (
  name: string,
  sequence: string,
  mods: Partial<Pick<KeyEvent, 'ctrl' | 'meta' | 'shift'>> = {},
): KeyEvent => ({
  name,
  ctrl: mods.ctrl ?? false,
  meta: mods.meta ?? false,
  shift: mods.shift ?? false,
  sequence,
});

const text = (bytes: readonly number[]): string => Buffer.from(bytes).toString('utf8');

type Parsed = { readonly event: KeyEvent | undefined; readonly used: number } | 'incomplete';

export class KeyDecoder {
  #pending: number[] = [];

  /** True while bytes of an unfinished sequence (or a lone ESC) wait for more. */
  get pending(): boolean {
    return this.#pending.length > 0;
  }

  /** The key events the bytes complete, in order. */
  feed(chunk: Uint8Array): KeyEvent[] {
    for (const b of chunk) this.#pending.push(b);
    return this.#drain(false);
  }

  /** No more bytes came for a while: what waits is read as it stands (a lone ESC is Escape). */
  flush(): KeyEvent[] {
    return this.#drain(true);
  }

  #drain(final: boolean): KeyEvent[] {
    const out: KeyEvent[] = [];
    const bytes = this.#pending;
    let at = 0;
    while (at < bytes.length) {
      const parsed = parseOne(bytes, at, final);
      if (parsed === 'incomplete') break;
      if (parsed.event) out.push(parsed.event);
      at += parsed.used;
    }
    this.#pending = bytes.slice(at);
    return out;
  }
}

/** One key at `at`; with `final`, an unfinished sequence is read as far as it goes. */
function parseOne(bytes: readonly number[], at: number, final: boolean): Parsed {
  const b = bytes[at]!;
  if (b !== ESC) return plain(bytes, at, final, false);
  if (at + 1 >= bytes.length) return final ? { event: key('escape', '\x1b'), used: 1 } : 'incomplete';
  const next = bytes[at + 1]!;
  if (next === 0x5b /* [ */) {
    const csi = sequenceEnd(bytes, at + 2);
    if (csi === 'incomplete') return final ? metaOf(bytes, at, final) : 'incomplete';
    if (csi === 'invalid') return metaOf(bytes, at, final);
    return { event: decodeCsi(bytes.slice(at, csi + 1)), used: csi + 1 - at };
  }
  if (next === 0x4f /* O */) {
    const ss3 = sequenceEnd(bytes, at + 2);
    if (ss3 === 'incomplete') return final ? metaOf(bytes, at, final) : 'incomplete';
    if (ss3 === 'invalid') return metaOf(bytes, at, final);
    const seq = bytes.slice(at, ss3 + 1);
    const name = SS3_FINAL[String.fromCharCode(bytes[ss3]!)] ?? 'unknown';
    return { event: key(name, text(seq), modifiers(text(seq.slice(2, -1)).split(';')[1])), used: seq.length };
  }
  // ESC ESC: the first is Escape (the second starts what comes next)
  if (next === ESC) return { event: key('escape', '\x1b'), used: 1 };
  return metaOf(bytes, at, final);
}

/** ESC then a key: that key with Alt. */
function metaOf(bytes: readonly number[], at: number, final: boolean): Parsed {
  const inner = plain(bytes, at + 1, final, true);
  if (inner === 'incomplete') return inner;
  if (!inner.event) return { event: key('escape', '\x1b'), used: 1 };
  return { event: { ...inner.event, meta: true, sequence: '\x1b' + inner.event.sequence }, used: inner.used + 1 };
}

/** Where a CSI or SS3 sequence starting at `from` (after ESC [ or ESC O) ends: the final byte's index. */
function sequenceEnd(bytes: readonly number[], from: number): number | 'incomplete' | 'invalid' {
  for (let i = from; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c >= 0x40 && c <= 0x7e) return i;
    if (c < 0x20 || c > 0x3f) return 'invalid';
  }
  return 'incomplete';
}

function decodeCsi(seq: readonly number[]): KeyEvent {
  const s = text(seq);
  const finalChar = s.at(-1)!;
  const params = s.slice(2, -1).split(';');
  const mods = modifiers(params[1]);
  if (finalChar === '~') {
    const name = CSI_TILDE[Number(params[0])];
    if (name) return key(name, s, mods);
    return key('unknown', s);
  }
  const name = CSI_FINAL[finalChar];
  if (!name) return key('unknown', s);
  return key(name, s, finalChar === 'Z' ? { ...mods, shift: true } : mods);
}

/** xterm's modifier parameter: 1 + (1 Shift | 2 Alt | 4 Ctrl). */
function modifiers(param: string | undefined): Partial<Pick<KeyEvent, 'ctrl' | 'meta' | 'shift'>> {
  const m = Number(param) - 1;
  if (!(m > 0)) return {};
  return { shift: (m & 1) !== 0, meta: (m & 2) !== 0, ctrl: (m & 4) !== 0 };
}

/** A key that is not an escape sequence: a control byte or a UTF-8 character. */
function plain(bytes: readonly number[], at: number, final: boolean, afterEsc: boolean): Parsed {
  const b = bytes[at];
  if (b === undefined) return final ? { event: undefined, used: 0 } : 'incomplete';
  const seq = String.fromCharCode(b);
  if (b === 0x0d || b === 0x0a) return { event: key('enter', seq), used: 1 };
  if (b === 0x09) return { event: key('tab', seq), used: 1 };
  if (b === 0x7f || b === 0x08) return { event: key('backspace', seq), used: 1 };
  if (b === 0x20) return { event: key('space', seq), used: 1 };
  if (b === 0x00) return { event: key('space', seq, { ctrl: true }), used: 1 };
  // (ESC itself never reaches here: parseOne reads it)
  if (b === ESC) return { event: key('escape', seq, { meta: afterEsc }), used: 1 };
  // Ctrl+A … Ctrl+Z are 0x01–0x1A; 0x1C–0x1F are Ctrl+\ ] ^ _
  if (b < 0x20) return { event: key(CTRL_NAMES[b] ?? 'unknown', seq, { ctrl: true }), used: 1 };
  if (b < 0x80) {
    const isUpper = b >= 0x41 && b <= 0x5a;
    return { event: key(seq, seq, { shift: isUpper }), used: 1 };
  }
  // UTF-8: the lead byte says how many continuation bytes follow
  const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
  if (length === 1) return { event: key('unknown', seq), used: 1 }; // a stray continuation byte
  if (at + length > bytes.length) return final ? { event: key('unknown', seq), used: bytes.length - at } : 'incomplete';
  const ch = text(bytes.slice(at, at + length));
  return { event: key(ch, ch), used: length };
}
