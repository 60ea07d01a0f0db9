import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SerialPort } from 'serialport';
import type { SerialPortStream } from '@serialport/stream';
import { createLogger, type Logger } from '../../src/util/log.js';

// One serial port as a byte pipe that survives the device vanishing. serialport reports an unplug
// either as one 'close' carrying a DisconnectedError (its documented behaviour: serialport's stream
// API docs, https://serialport.io/docs/api-stream, 'close' event), or — when a write hits the dead
// fd first — as a write error, an 'error' (EIO), a bare 'close' and a second 'close' with a
// DisconnectedError (measured here on a pty whose far end vanished; test/hw/serial_link.test.ts
// exercises both). All of these mean "bus lost" and are handled once per port; then the link
// reopens the same path in the background with backoff until the device is back. No listener error
// ever escapes an event handler.

/** Opens a port without opening it yet (`autoOpen: false`); tests pass a SerialPortMock factory. */
export type PortFactory = (path: string, baudRate: number) => SerialPortStream;

export const openSerialPort: PortFactory = (path, baudRate) => new SerialPort({ path, baudRate, autoOpen: false });

export interface ReopenPolicy {
  /** first delay after the loss, doubled after each failed attempt */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_REOPEN: ReopenPolicy = { initialDelayMs: 50, maxDelayMs: 1000 };

export interface SerialLinkOptions {
  readonly path: string;
  readonly baudRate: number;
  readonly openPort?: PortFactory;
  /** false: stay lost until `open()` is called again */
  readonly reopen?: ReopenPolicy | false;
  readonly logger?: Logger;
}

/** closed: never opened or closed by `close()`; lost: the device vanished, reopening in the background */
export type LinkState = 'closed' | 'opening' | 'open' | 'lost';

export class LinkLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkLostError';
  }
}

type Listeners = {
  data: (bytes: Uint8Array) => void;
  /** the port is open; `reopened` after a loss */
  open: (reopened: boolean) => void;
  lost: (reason: string) => void;
};

export class SerialLink {
  readonly path: string;
  readonly baudRate: number;
  readonly #openPort: PortFactory;
  readonly #reopen: ReopenPolicy | false;
  readonly #log: Logger;
  readonly #listeners: { [K in keyof Listeners]: Set<Listeners[K]> } = {
    data: new Set(),
    open: new Set(),
    lost: new Set(),
  };
  #port: SerialPortStream | undefined;
  #state: LinkState = 'closed';
  #everOpened = false;
  #reopenTimer: NodeJS.Timeout | undefined;
  #reopenDelayMs = 0;
  #reconnects = 0;
  #losses = 0;
  /** bumped by close(): an open still in flight from before must not resurrect the link */
  #generation = 0;

  constructor(options: SerialLinkOptions) {
    if (!options.path) throw new Error('serial link: no port path given');
    if (!(options.baudRate > 0))
      throw new Error(`serial link ${options.path}: baud rate ${options.baudRate} is not a positive number`);
    this.path = options.path;
    this.baudRate = options.baudRate;
    this.#openPort = options.openPort ?? openSerialPort;
    this.#reopen = options.reopen ?? DEFAULT_REOPEN;
    this.#log = options.logger ?? createLogger('serial_link');
  }

  get state(): LinkState {
    return this.#state;
  }

  get isOpen(): boolean {
    return this.#state === 'open';
  }

  /** times the link came back after a loss */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** times the device vanished */
  get losses(): number {
    return this.#losses;
  }

  /** Subscribe; returns the unsubscribe function. */
  on<K extends keyof Listeners>(event: K, listener: Listeners[K]): () => void {
    this.#listeners[event].add(listener);
    return () => void this.#listeners[event].delete(listener);
  }

  /** Open the port; rejects naming the cause (missing device, port in use…). Reopen after a loss is automatic. */
  async open(): Promise<void> {
    if (this.#state === 'open' || this.#state === 'opening') return;
    const wasLost = this.#state === 'lost';
    this.#cancelReopen();
    this.#state = 'opening';
    try {
      await this.#tryOpen();
    } catch (err) {
      // a lost link keeps trying in the background
      this.#state = wasLost ? 'lost' : 'closed';
      if (wasLost) this.#scheduleReopen();
      throw err;
    }
  }

  /** Write one packet in one write (the Dynamixel inter-byte gap rule); rejects with LinkLostError when the port is gone. */
  write(bytes: Uint8Array): Promise<void> {
    const port = this.#port;
    if (this.#state !== 'open' || !port)
      return Promise.reject(new LinkLostError(`${this.path} is not open (${this.#state})`));
    return new Promise((resolve, reject) => {
      // write()'s boolean (backpressure) is not needed: a half-duplex bus never has more than one
      // packet queued, so backpressure cannot build up
      port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (err) => {
        if (!err) {
          resolve();
          return;
        }
        this.#lose(port, `write failed: ${err.message}`);
        reject(new LinkLostError(`${this.path}: write failed: ${err.message}`));
      });
    });
  }

  /** Close for good: no reopen afterwards until `open()`. */
  async close(): Promise<void> {
    this.#generation++;
    this.#cancelReopen();
    const port = this.#port;
    this.#port = undefined;
    this.#state = 'closed';
    if (port?.isOpen) await new Promise<void>((done) => port.close(() => done()));
  }

  async #tryOpen(): Promise<void> {
    const generation = this.#generation;
    let port: SerialPortStream;
    try {
      port = this.#openPort(this.path, this.baudRate);
    } catch (err) {
      throw new Error(`cannot open ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    // listeners first: an 'error' with no listener would end the process
    port.on('error', (err: Error) => this.#lose(port, `port error: ${err.message}`));
    port.on('close', (err?: Error & { disconnected?: boolean }) => {
      if (err?.disconnected) this.#lose(port, `device disconnected: ${err.message}`);
      else if (port === this.#port && this.#state === 'open') this.#lose(port, 'port closed');
    });
    port.on('data', (chunk: Buffer) => {
      if (port === this.#port) this.#emit('data', chunk);
    });
    await new Promise<void>((resolve, reject) =>
      port.open((err) => (err ? reject(new Error(describeOpenError(this.path, err))) : resolve())),
    );
    if (generation !== this.#generation) {
      // closed while this open was under way
      port.close(() => undefined);
      throw new LinkLostError(`${this.path} was closed while opening`);
    }
    this.#port = port;
    this.#state = 'open';
    this.#reopenDelayMs = 0;
    const reopened = this.#everOpened;
    this.#everOpened = true;
    if (reopened) this.#reconnects++;
    this.#emit('open', reopened);
  }

  /** The one place a loss is handled: ignores events of ports already given up (two 'close' events happen). */
  #lose(port: SerialPortStream, reason: string): void {
    if (port !== this.#port || this.#state !== 'open') return;
    this.#port = undefined;
    this.#state = 'lost';
    this.#losses++;
    if (port.isOpen) port.close(() => undefined);
    this.#log.warn(`${this.path} lost: ${reason}`);
    this.#emit('lost', reason);
    this.#scheduleReopen();
  }

  #scheduleReopen(): void {
    if (!this.#reopen || this.#state !== 'lost') return;
    const policy = this.#reopen;
    this.#reopenDelayMs = this.#reopenDelayMs
      ? Math.min(policy.maxDelayMs, this.#reopenDelayMs * 2)
      : policy.initialDelayMs;
    this.#reopenTimer = setTimeout(() => {
      this.#reopenTimer = undefined;
      if (this.#state !== 'lost') return;
      this.#tryOpen().then(
        () => this.#log.info(`${this.path} reopened`),
        (err: unknown) => {
          this.#log.debug(`${this.path} still missing: ${(err as Error).message}`);
          this.#scheduleReopen();
        },
      );
    }, this.#reopenDelayMs);
    this.#reopenTimer.unref();
  }

  #cancelReopen(): void {
    if (this.#reopenTimer) clearTimeout(this.#reopenTimer);
    this.#reopenTimer = undefined;
  }

  #emit<K extends keyof Listeners>(event: K, ...args: Parameters<Listeners[K]>): void {
    for (const listener of this.#listeners[event]) {
      try {
        (listener as (...a: Parameters<Listeners[K]>) => void)(...args);
      } catch (err) {
        this.#log.error(`${this.path}: a '${event}' listener threw: ${(err as Error).stack ?? String(err)}`);
      }
    }
  }
}

/** how often a port that is not there yet is looked for */
const PORT_POLL_MS = 50;

/**
 * Resolve once `path` exists, looking every 50 ms for at most `limitMs` (saying once that it waits);
 * resolves false if it never appeared. A device node, a pty's link or a udev symlink appears as a
 * path, so its existence is what opening needs first.
 */
export async function waitForPort(path: string, limitMs: number, log: Logger): Promise<boolean> {
  if (existsSync(path)) return true;
  if (!(limitMs > 0)) return false;
  log.info(`waiting up to ${limitMs / 1000} s for ${path} to appear`);
  const end = performance.now() + limitMs;
  while (performance.now() < end) {
    await sleep(PORT_POLL_MS);
    if (existsSync(path)) {
      log.info(`${path} is there`);
      return true;
    }
  }
  return false;
}

function describeOpenError(path: string, err: Error): string {
  const text = err.message;
  if (/No such file or directory|ENOENT/i.test(text))
    return `cannot open ${path}: no such device (unplugged, or a different name such as /dev/ttyACM0; prefer /dev/serial/by-id/…)`;
  if (/Cannot lock port|Resource temporarily unavailable/i.test(text))
    return `cannot open ${path}: the port is in use by another process`;
  if (/Permission denied|EACCES/i.test(text))
    return `cannot open ${path}: permission denied (add the user to the 'dialout' group)`;
  return `cannot open ${path}: ${text}`;
}
