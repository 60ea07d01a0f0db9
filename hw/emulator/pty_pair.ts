import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

// A pair of connected pseudo-terminals made by socat, each reachable through a symlink we choose:
// bytes written to one end come out of the other. The emulator opens one end, the host (bridge,
// tests, bench) opens the other as if it were /dev/ttyUSB0. Stopping socat makes the host's port
// vanish the way an unplugged USB adapter does (shared/reference/servo-protocols.md §1.4), and
// starting it again with the same links brings the port back.

export const SOCAT_MISSING = 'socat is not installed: install socat (apt-get install socat)';

export interface PtyPairOptions {
  /** symlink to the first pty end (e.g. the host's device path) */
  readonly linkA: string;
  /** symlink to the second pty end */
  readonly linkB: string;
  /** how long to wait for socat to create both links */
  readonly startTimeoutMs?: number;
  /** socat executable (PATH lookup by default) */
  readonly socat?: string;
}

export class PtyPair {
  readonly linkA: string;
  readonly linkB: string;
  readonly #startTimeoutMs: number;
  readonly #socat: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  private constructor(options: PtyPairOptions) {
    this.linkA = options.linkA;
    this.linkB = options.linkB;
    this.#startTimeoutMs = options.startTimeoutMs ?? 5000;
    this.#socat = options.socat ?? 'socat';
  }

  /** Start socat and resolve once both links point at live ptys; rejects with the cause otherwise. */
  static async start(options: PtyPairOptions): Promise<PtyPair> {
    if (options.linkA === options.linkB) throw new Error(`pty pair: both links are '${options.linkA}'`);
    const pair = new PtyPair(options);
    await pair.#launch();
    return pair;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** socat's process id while it runs */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /**
   * Stop socat and wait for it to exit. SIGTERM lets socat remove its links (a clean unplug);
   * SIGKILL leaves them dangling, as a crashed process would — we remove those so a later start
   * is not confused by them.
   */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill(signal);
    await this.#exited;
    removeStaleLink(this.linkA);
    removeStaleLink(this.linkB);
  }

  /** Start socat again with the same links (after `stop`). */
  async restart(): Promise<void> {
    if (this.#child) throw new Error('pty pair: restart while socat is still running');
    await this.#launch();
  }

  async #launch(): Promise<void> {
    for (const link of [this.linkA, this.linkB]) {
      // socat silently replaces an existing link: refuse to steal one that still leads to a live pty
      if (existsSync(link))
        throw new Error(`pty pair: ${link} already exists and leads to a live device (another emulator running?)`);
      removeStaleLink(link);
    }
    const child = spawn(
      this.#socat,
      ['-d', '-d', `pty,raw,echo=0,link=${this.linkA}`, `pty,raw,echo=0,link=${this.linkB}`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      // keep only the start: socat -d -d logs every transfer error, which could grow without bound
      if (stderr.length < 4000) stderr += text;
    });
    let failure: Error | undefined;
    let exitedFlag = false;
    this.#exited = new Promise<void>((done) => {
      child.once('error', (err: NodeJS.ErrnoException) => {
        failure = err.code === 'ENOENT' ? new Error(SOCAT_MISSING) : new Error(`socat failed to start: ${err.message}`);
        exitedFlag = true;
        if (this.#child === child) this.#child = undefined;
        done();
      });
      child.once('exit', (code, signal) => {
        failure ??= new Error(
          `socat exited (${signal ?? `code ${code}`}) before creating ${this.linkA} and ${this.linkB}: ${stderr.trim() || 'no message'}`,
        );
        exitedFlag = true;
        if (this.#child === child) this.#child = undefined;
        done();
      });
    });
    this.#child = child;
    const deadline = performance.now() + this.#startTimeoutMs;
    while (!(existsSync(this.linkA) && existsSync(this.linkB))) {
      if (exitedFlag) throw failure ?? new Error('socat exited');
      if (performance.now() > deadline) {
        child.kill('SIGKILL');
        await this.#exited;
        throw new Error(
          `socat did not create ${this.linkA} and ${this.linkB} within ${this.#startTimeoutMs} ms: ${stderr.trim() || 'no message'}`,
        );
      }
      await sleep(5);
    }
    // socat logs "starting data transfer loop" once both ends are ready; the links exist slightly before
    while (!stderr.includes('starting data transfer loop') && !exitedFlag && performance.now() < deadline)
      await sleep(2);
    if (exitedFlag) throw failure ?? new Error('socat exited');
  }
}

/** Remove a dangling symlink left behind by a killed socat; never touch a live link or a real file. */
function removeStaleLink(path: string): void {
  try {
    if (lstatSync(path).isSymbolicLink() && !existsSync(path)) unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
