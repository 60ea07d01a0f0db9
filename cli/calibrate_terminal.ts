import type { CalibrationUi } from '../hw/calibration/procedure.js';

// The calibration (and servo setup) prompts in a terminal: text on stdout, Enter read from stdin. In a terminal
// (also inside tmux) the live range table is redrawn in place; when stdout is a pipe it is
// printed at most every `pipeTableMs`, so a log stays readable. An Enter typed before its prompt
// is shown is dropped when stdin is a terminal (a double press must not skip the range sweep),
// and kept when stdin is a pipe, so a script can answer ahead.

export interface TerminalOptions {
  readonly input: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly output: NodeJS.WritableStream & { isTTY?: boolean };
  /** period of the table when output is not a terminal */
  readonly pipeTableMs?: number;
  /** the error a prompt rejects with once stdin has ended (default: the calibration's) */
  readonly endMessage?: string;
}

export class TerminalUi implements CalibrationUi {
  readonly #in: TerminalOptions['input'];
  readonly #out: TerminalOptions['output'];
  readonly #pipeTableMs: number;
  readonly #endMessage: string;
  #pendingEnters = 0;
  #waiter: { resolve: () => void; reject: (err: Error) => void } | undefined;
  #ended: Error | undefined;
  #tableLines = 0;
  #lastPipeTable = Number.NEGATIVE_INFINITY;
  readonly #onData = (chunk: Buffer | string): void => {
    const text = (typeof chunk === 'string' ? chunk : chunk.toString('utf8')).replace(/\r\n/g, '\n');
    for (const ch of text) if (ch === '\n' || ch === '\r') this.#enter();
  };
  readonly #onEnd = (): void => {
    this.#ended = new Error(this.#endMessage);
    this.#waiter?.reject(this.#ended);
    this.#waiter = undefined;
  };

  constructor(options: TerminalOptions) {
    this.#in = options.input;
    this.#out = options.output;
    this.#pipeTableMs = options.pipeTableMs ?? 1000;
    this.#endMessage = options.endMessage ?? 'input ended before the calibration was done (stdin closed)';
    this.#in.on('data', this.#onData);
    this.#in.on('end', this.#onEnd);
  }

  /** Stop reading stdin, so the process can exit. */
  close(): void {
    this.#in.off('data', this.#onData);
    this.#in.off('end', this.#onEnd);
    this.#in.pause();
  }

  say(text: string): void {
    this.#tableLines = 0;
    this.#out.write(text + '\n');
  }

  waitForEnter(prompt: string): Promise<void> {
    this.#tableLines = 0;
    this.#out.write(prompt + '\n');
    if (this.#in.isTTY) this.#pendingEnters = 0;
    if (this.#pendingEnters > 0) {
      this.#pendingEnters--;
      return Promise.resolve();
    }
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  live(lines: readonly string[]): void {
    if (this.#out.isTTY) {
      // move up over the previous table and clear each line as it is rewritten
      const up = this.#tableLines ? `\x1b[${this.#tableLines}A` : '';
      this.#out.write(up + lines.map((l) => `\x1b[2K${l}\n`).join(''));
      this.#tableLines = lines.length;
      return;
    }
    const now = performance.now();
    if (now - this.#lastPipeTable < this.#pipeTableMs) return;
    this.#lastPipeTable = now;
    this.#out.write(lines.join('\n') + '\n');
  }

  #enter(): void {
    // a terminal echoes the Enter: the cursor went down a line below the table
    if (this.#in.isTTY && this.#tableLines) this.#tableLines++;
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      w.resolve();
    } else this.#pendingEnters++;
  }
}
