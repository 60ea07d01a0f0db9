import type { ReadStream } from 'node:tty';

// Key presses from the terminal the process runs in: stdin switched to raw mode (no line
// buffering, no echo, and Ctrl-C arrives as the byte 0x03 instead of SIGINT), its bytes handed on
// as they come. Raw mode is a property of the terminal (termios), so it works the same on a local
// console, over ssh and inside tmux or screen. The terminal's mode is restored on close(), and on
// process exit as a backstop (a shutdown by signal ends in close() or in exit). `onQuiet` is called
// `escapeMs` after the last bytes when nothing followed them: a lone ESC is only known to be the
// Escape key then (terminal programs wait the same way: tmux's escape-time, vim's ttimeoutlen).
// Not a TTY (stdin a pipe or a file, a launch without a terminal): one clear error.

export interface TerminalKeysOptions {
  readonly onBytes: (bytes: Uint8Array) => void;
  readonly onQuiet?: () => void;
  /** default 50 ms */
  readonly escapeMs?: number;
  /** default process.stdin */
  readonly input?: NodeJS.ReadStream;
}

export class TerminalKeys {
  readonly #input: ReadStream;
  readonly #wasRaw: boolean;
  readonly #onData: (chunk: Buffer | string) => void;
  readonly #restoreOnExit: () => void;
  #quietTimer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(input: ReadStream, options: TerminalKeysOptions) {
    this.#input = input;
    this.#wasRaw = input.isRaw;
    const escapeMs = options.escapeMs ?? 50;
    this.#onData = (chunk) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      options.onBytes(bytes);
      if (options.onQuiet) {
        if (this.#quietTimer) clearTimeout(this.#quietTimer);
        this.#quietTimer = setTimeout(options.onQuiet, escapeMs);
      }
    };
    this.#restoreOnExit = () => this.#restore();
  }

  /** Raw mode on the terminal, and its keys to `onBytes`; throws (one line) when stdin is not a terminal. */
  static open(options: TerminalKeysOptions): TerminalKeys {
    const input = options.input ?? process.stdin;
    if (!input.isTTY || typeof input.setRawMode !== 'function')
      throw new Error(
        'keyboard teleop needs a terminal: stdin is not a TTY (run the teleop node in a terminal, e.g. `dynastack run teleop`, or ssh -t; under a launch without one use source gamepad or joy_topic)',
      );
    const keys = new TerminalKeys(input, options);
    const tty = input;
    tty.setRawMode(true);
    process.once('exit', keys.#restoreOnExit);
    tty.on('data', keys.#onData);
    tty.resume();
    return keys;
  }

  /** Stop reading and restore the terminal's mode. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#quietTimer) clearTimeout(this.#quietTimer);
    this.#input.off('data', this.#onData);
    process.off('exit', this.#restoreOnExit);
    this.#restore();
    this.#input.pause();
  }

  #restore(): void {
    try {
      if (this.#input.isTTY) this.#input.setRawMode(this.#wasRaw);
    } catch {
      // the terminal went away (ssh closed): nothing to restore
    }
  }
}
