import { closeSync, existsSync, lstatSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { loadPtyAddon, type PtyAddonLocation } from './pty_addon.js';

// The emulated servo bus's device: one pseudo-terminal (pts(4)) whose slave the host opens as if it
// were /dev/ttyUSB0, through a symlink at the path we choose; the emulator reads and writes the
// master itself, from this process, with no helper process. The master is read through a
// tty.ReadStream (libuv's tty stream accepts a pty master and leaves it non-blocking) and written
// through the same stream (measured: a few thousand 40-byte round trips a second with a serialport
// host in the same process). The emulator keeps one descriptor of the slave open for itself: once
// the last descriptor of the slave closes, reading the master fails with EIO (measured on Linux), so
// without it every host that closes and reopens the port would break the master.
//
// `disconnect` makes the host's port vanish the way an unplugged USB adapter does: the master and
// our slave descriptor close, so the host's descriptor hangs up (reads and writes fail with EIO) and
// the link goes; `reconnect` brings a new pty back at the same path. Stopping removes the link.
//
// `releaseSlave` lets go of our own slave descriptor, so the master tells when the host has closed
// the device too: the next read of the master fails with EIO once no descriptor of the slave is
// open (pty(7); measured on Linux: a host's close then surfaces as an EIO 'error' on the stream, at
// once when no host had it open). The emulator uses it on stop, to keep answering until the host
// has closed its end.

/** unplug: the link goes first, then the device (udev removing the node); crash: the device closes and the link dangles until `reconnect` or `close` */
export type DisconnectStyle = 'unplug' | 'crash';

export interface PseudoTerminalOptions extends PtyAddonLocation {
  /** the host's device path: a symlink to the slave made here */
  readonly link: string;
  /** set on the slave's termios (the host sets its own when it opens the port) */
  readonly baudRate: number;
  /** bytes the host wrote */
  readonly onData?: (bytes: Uint8Array) => void;
  /** a stream error on the master (none is expected while our slave descriptor is open) */
  readonly onError?: (err: Error) => void;
}

interface OpenEnds {
  readonly master: ReadStream;
  /** our descriptor of the slave; undefined once released */
  slave: number | undefined;
  readonly path: string;
  /** called once when no descriptor of the slave is left open after `releaseSlave` (or the ends close) */
  onSlaveClosed?: () => void;
}

export class PseudoTerminal {
  readonly link: string;
  readonly baudRate: number;
  readonly #location: PtyAddonLocation;
  readonly #onData: (bytes: Uint8Array) => void;
  readonly #onError: (err: Error) => void;
  #ends: OpenEnds | undefined;
  /** the slave path our link was last made to point at: a link still pointing there is ours */
  #linkedTo: string | undefined;
  #closed = false;

  private constructor(options: PseudoTerminalOptions) {
    this.link = options.link;
    this.baudRate = options.baudRate;
    this.#location = { addonPath: options.addonPath, buildFailurePath: options.buildFailurePath };
    this.#onData = options.onData ?? (() => undefined);
    this.#onError = options.onError ?? (() => undefined);
  }

  /**
   * Open a pty and link it at `link`. Throws PtySupportError when the native support is not built,
   * and refuses a link that still leads to a live device (another emulator running?).
   */
  static open(options: PseudoTerminalOptions): PseudoTerminal {
    const pty = new PseudoTerminal(options);
    pty.#open();
    return pty;
  }

  /** whether the device exists (false after `disconnect` and `close`) */
  get connected(): boolean {
    return this.#ends !== undefined;
  }

  /** the slave device the link points at while connected, e.g. /dev/pts/3 */
  get devicePath(): string | undefined {
    return this.#ends?.path;
  }

  /** Write bytes toward the host; false when disconnected (the bytes are lost, as on an unplugged bus). */
  write(bytes: Uint8Array): boolean {
    const ends = this.#ends;
    if (!ends) return false;
    ends.master.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return true;
  }

  /**
   * Close our own descriptor of the slave and call `onClosed` once no host has it open either (the
   * master reads EIO) — at once when none had it open — or when the device goes for another reason
   * (disconnect, close). Writing and reading go on meanwhile. When disconnected, `onClosed` is
   * called at once.
   */
  releaseSlave(onClosed: () => void): void {
    const ends = this.#ends;
    if (!ends) {
      onClosed();
      return;
    }
    let called = false;
    ends.onSlaveClosed = () => {
      if (called) return;
      called = true;
      onClosed();
    };
    if (ends.slave !== undefined) {
      closeQuietly(ends.slave);
      ends.slave = undefined;
    }
  }

  /** Make the device vanish under the host (see DisconnectStyle). */
  disconnect(style: DisconnectStyle = 'unplug'): void {
    const ends = this.#ends;
    if (!ends) return;
    if (style === 'unplug') this.#removeOurLink();
    this.#closeEnds(ends);
  }

  /** A new pty at the same link (after `disconnect`). */
  reconnect(): void {
    if (this.#closed) throw new Error(`pty ${this.link}: reconnect after close`);
    if (this.#ends) return;
    this.#open();
  }

  /** Close for good and remove the link. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ends) this.#closeEnds(this.#ends);
    this.#removeOurLink();
  }

  #open(): void {
    const addon = loadPtyAddon(this.#location);
    // our own link from before (a crash-style disconnect) may now point at someone else's pty
    this.#removeOurLink();
    // never steal a link that leads to a live device; a dangling one is what a killed emulator leaves
    if (existsSync(this.link))
      throw new Error(`pty: ${this.link} already exists and leads to a live device (another emulator running?)`);
    removeDanglingLink(this.link);
    const opened = addon.openPty(this.baudRate);
    let master: ReadStream;
    try {
      master = new ReadStream(opened.master);
    } catch (err) {
      closeQuietly(opened.master);
      closeQuietly(opened.slave);
      throw new Error(`pty: cannot stream ${opened.path}'s master: ${(err as Error).message}`, { cause: err });
    }
    const ends: OpenEnds = { master, slave: opened.slave, path: opened.path };
    master.on('data', (chunk: Buffer) => {
      if (this.#ends === ends) this.#onData(chunk);
    });
    master.on('error', (err: NodeJS.ErrnoException) => {
      // with our slave descriptor released, EIO is the host closing the last one: expected
      if (ends.onSlaveClosed && err.code === 'EIO') {
        ends.onSlaveClosed();
        return;
      }
      if (this.#ends === ends) this.#onError(err);
    });
    // the stream closes after that EIO (or once destroyed): nothing of the slave is reachable any more
    master.on('close', () => ends.onSlaveClosed?.());
    try {
      symlinkSync(opened.path, this.link);
    } catch (err) {
      this.#closeEnds(ends);
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(
        code === 'EEXIST'
          ? `pty: ${this.link} appeared while the pty was being made (another emulator running?)`
          : `pty: cannot link ${this.link} to ${opened.path}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.#ends = ends;
    this.#linkedTo = opened.path;
  }

  #closeEnds(ends: OpenEnds): void {
    if (this.#ends === ends) this.#ends = undefined;
    // destroying the stream closes the master at once (libuv closes a stream's fd in uv_close)
    ends.master.destroy();
    if (ends.slave !== undefined) closeQuietly(ends.slave);
    ends.slave = undefined;
    ends.onSlaveClosed?.();
  }

  /** Remove the link when it is still the one we made (pointing at the pty we linked). */
  #removeOurLink(): void {
    const ours = this.#linkedTo;
    if (!ours) return;
    try {
      if (lstatSync(this.link).isSymbolicLink() && readlinkSync(this.link) === ours) unlinkSync(this.link);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.#linkedTo = undefined;
  }
}

/** Remove a dangling symlink (left by a killed emulator); never touch a live link or a real file. */
function removeDanglingLink(path: string): void {
  try {
    if (lstatSync(path).isSymbolicLink() && !existsSync(path)) unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
