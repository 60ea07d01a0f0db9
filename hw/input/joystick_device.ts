import { constants, promises as fsp } from 'node:fs';
import type { Logger } from '../../src/util/log.js';

// A gamepad or joystick through the Linux joystick API (/dev/input/jsN; the kernel's
// Documentation/input/joydev/joystick-api.rst). Each read gives whole 8-byte events,
// struct js_event { __u32 time (ms); __s16 value; __u8 type; __u8 number } in the host's byte order
// (little-endian on the machines this runs on); type is JS_EVENT_BUTTON 0x01 or JS_EVENT_AXIS 0x02,
// ORed with JS_EVENT_INIT 0x80 for the synthetic events the driver sends right after open with
// the state of every axis and button. Only changes follow, so the state is kept here: axes in
// [−1, 1] (value / 32767, negated so a stick pushed up or left reads positive, as the ROS joy
// drivers publish sensor_msgs/Joy), buttons 0 or 1; its arrays grow to the highest number seen.
// The device is opened non-blocking and read every `pollMs`: a blocking read (an fs stream) would
// hold a thread-pool thread, and the process, until the next event of an idle joystick. A device
// that vanishes (unplugged: the read fails with ENODEV) is said in one line, the state is released
// (every axis 0, every button up) and the path is opened again every `retryMs` until it is back.

export const JS_EVENT_BUTTON = 0x01;
export const JS_EVENT_AXIS = 0x02;
export const JS_EVENT_INIT = 0x80;
export const JS_EVENT_SIZE = 8;

export interface JsEvent {
  readonly timeMs: number;
  readonly value: number;
  readonly type: number;
  readonly number: number;
}

/** A joystick's state in sensor_msgs/Joy's shape. */
export interface JoystickState {
  readonly axes: number[];
  readonly buttons: number[];
}

/** Splits a byte stream into js_events; a partial event waits for the rest. */
export class JsEventDecoder {
  #rest = Buffer.alloc(0);

  feed(chunk: Uint8Array): JsEvent[] {
    const bytes = this.#rest.length ? Buffer.concat([this.#rest, chunk]) : Buffer.from(chunk);
    const whole = bytes.length - (bytes.length % JS_EVENT_SIZE);
    const out: JsEvent[] = [];
    for (let at = 0; at < whole; at += JS_EVENT_SIZE)
      out.push({
        timeMs: bytes.readUInt32LE(at),
        value: bytes.readInt16LE(at + 4),
        type: bytes.readUInt8(at + 6),
        number: bytes.readUInt8(at + 7),
      });
    this.#rest = Buffer.from(bytes.subarray(whole));
    return out;
  }

  reset(): void {
    this.#rest = Buffer.alloc(0);
  }
}

/** Applies js_events to a Joy-shaped state; returns whether anything changed. */
export function applyJsEvents(state: JoystickState, events: readonly JsEvent[]): boolean {
  let changed = false;
  for (const e of events) {
    const type = e.type & ~JS_EVENT_INIT;
    const list = type === JS_EVENT_AXIS ? state.axes : type === JS_EVENT_BUTTON ? state.buttons : undefined;
    if (!list) continue;
    while (list.length <= e.number) list.push(0);
    const value = type === JS_EVENT_AXIS ? -Math.max(-1, Math.min(1, e.value / 32767)) || 0 : e.value ? 1 : 0;
    if (list[e.number] !== value) {
      list[e.number] = value;
      changed = true;
    }
  }
  return changed;
}

/** The file operations the device uses (node:fs/promises; a test may wrap them). */
export interface JoystickIo {
  open(path: string): Promise<{ read(buffer: Uint8Array): Promise<number>; close(): Promise<void> }>;
}

const fsIo: JoystickIo = {
  async open(path) {
    const handle = await fsp.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    return {
      read: async (buffer) => (await handle.read(buffer, 0, buffer.length, null)).bytesRead,
      close: () => handle.close(),
    };
  },
};

export interface JoystickOptions {
  /** called with the state after every read that changed it (the arrays are the device's: copy to keep) */
  readonly onState: (state: JoystickState) => void;
  /** called when the device went away (after the one log line); the state is all released then */
  readonly onLost?: (reason: string) => void;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** how often the device is read (default 5 ms) */
  readonly pollMs?: number;
  /** how often a missing device is opened again (default 1000 ms) */
  readonly retryMs?: number;
  readonly io?: JoystickIo;
}

const NO_DATA = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);

export class JoystickDevice {
  readonly path: string;
  readonly #o: Required<JoystickOptions>;
  readonly #decoder = new JsEventDecoder();
  readonly #buffer = new Uint8Array(64 * JS_EVENT_SIZE);
  #state: JoystickState = { axes: [], buttons: [] };
  #file: Awaited<ReturnType<JoystickIo['open']>> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** said that the device is missing, not yet that it is back */
  #saidMissing = false;
  #running: Promise<void> | undefined;

  private constructor(path: string, options: JoystickOptions) {
    this.path = path;
    this.#o = { pollMs: 5, retryMs: 1000, io: fsIo, onLost: () => {}, ...options };
  }

  /** Start reading `path`; a device that is not there yet is waited for (said once). */
  static open(path: string, options: JoystickOptions): JoystickDevice {
    if (!path) throw new Error('joystick: no device path (e.g. /dev/input/js0)');
    const device = new JoystickDevice(path, options);
    device.#schedule(0);
    return device;
  }

  /** True while the device is open. */
  get connected(): boolean {
    return this.#file !== undefined;
  }

  /** The newest state (the device's arrays). */
  get state(): JoystickState {
    return this.#state;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
    const file = this.#file;
    this.#file = undefined;
    await file?.close().catch(() => {});
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#step().finally(() => (this.#running = undefined));
    }, ms);
  }

  async #step(): Promise<void> {
    if (!this.#file) {
      try {
        this.#file = await this.#o.io.open(this.path);
      } catch (err) {
        this.#missing(`cannot open it (${describe(err)})`);
        this.#schedule(this.#o.retryMs);
        return;
      }
      if (this.#closed) return;
      this.#decoder.reset();
      this.#state = { axes: [], buttons: [] };
      if (this.#saidMissing) this.#o.logger.info(`joystick ${this.path}: open again`);
      else this.#o.logger.info(`joystick ${this.path}: open`);
      this.#saidMissing = false;
    }
    const file = this.#file;
    let changed = false;
    try {
      for (;;) {
        const n = await file.read(this.#buffer);
        if (n <= 0) break;
        changed = applyJsEvents(this.#state, this.#decoder.feed(this.#buffer.subarray(0, n))) || changed;
        if (n < this.#buffer.length) break;
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (!code || !NO_DATA.has(code)) {
        await this.#lose(`read failed (${describe(err)})`);
        this.#schedule(this.#o.retryMs);
        return;
      }
    }
    if (changed && !this.#closed) this.#o.onState(this.#state);
    this.#schedule(this.#o.pollMs);
  }

  async #lose(reason: string): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    await file?.close().catch(() => {});
    this.#missing(reason);
    this.#state = { axes: this.#state.axes.map(() => 0), buttons: this.#state.buttons.map(() => 0) };
    this.#o.onLost(reason);
  }

  /** One line when the device goes missing, none while it stays so. */
  #missing(reason: string): void {
    if (this.#saidMissing || this.#closed) return;
    this.#saidMissing = true;
    this.#o.logger.error(
      `joystick ${this.path}: ${reason}; teleop input released, trying to open it every ${this.#o.retryMs / 1000} s`,
    );
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `${code}: ${err.message.replace(/^\w+: /, '')}` : err.message;
}
