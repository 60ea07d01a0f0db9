import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';

// The loader of the emulator's pseudo-terminal support: native/src/pty.cc, built by `npm ci` (and
// `npm run build:native`) into native/build/Release/dynastack_pty.node beside the ensemble kernels.
// The servo emulator cannot run without it, so when it is missing or does not load, opening a pty
// fails with one line naming the cause (the first line of native/build-failure.txt when the build
// left one) and the command that builds it. Both paths can be given, so a test can point at an
// addon that is not there without touching the real one.

/** What posix_openpt(3) and friends gave: both descriptors and the slave's device path. */
export interface OpenedPty {
  /** the master: non-blocking, close-on-exec */
  readonly master: number;
  /** the emulator's own descriptor of the slave, raw (cfmakeraw) at the bus rate */
  readonly slave: number;
  /** the slave device, e.g. /dev/pts/3 */
  readonly path: string;
  /** the rate set on the slave; 0 when termios has no constant for the one asked */
  readonly baudRate: number;
}

export interface PtyAddon {
  openPty(baudRate: number): OpenedPty;
}

export interface PtyAddonLocation {
  /** the compiled addon (default: native/build/Release/dynastack_pty.node in the package) */
  readonly addonPath?: string;
  /** where scripts/build-native.js records why the build failed (default: native/build-failure.txt) */
  readonly buildFailurePath?: string;
}

/** Thrown when the pty support is not there; its message is the one line to show. */
export class PtySupportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PtySupportError';
  }
}

export const BUILD_COMMAND = 'npm run build:native';

export function defaultPtyAddonPath(): string {
  return join(packageRoot(), 'native', 'build', 'Release', 'dynastack_pty.node');
}

export function defaultBuildFailurePath(): string {
  return join(packageRoot(), 'native', 'build-failure.txt');
}

const loaded = new Map<string, PtyAddon>();

/** The addon at `addonPath` (loaded once per path); throws PtySupportError naming why not. */
export function loadPtyAddon(location: PtyAddonLocation = {}): PtyAddon {
  const path = location.addonPath ?? defaultPtyAddonPath();
  const cached = loaded.get(path);
  if (cached) return cached;
  if (process.platform === 'win32')
    throw new PtySupportError('the servo emulator needs POSIX pseudo-terminals, which Windows does not have');
  if (!existsSync(path)) {
    const failurePath = location.buildFailurePath ?? defaultBuildFailurePath();
    const failure = existsSync(failurePath) ? readFileSync(failurePath, 'utf8').trim().split('\n')[0] : undefined;
    throw new PtySupportError(
      `the servo emulator's pseudo-terminal support is not built (${failure ? `${failure}; ` : ''}expected ${path}): build it with \`${BUILD_COMMAND}\``,
    );
  }
  let addon: PtyAddon;
  try {
    addon = createRequire(import.meta.url)(path) as PtyAddon;
  } catch (err) {
    throw new PtySupportError(
      `the servo emulator's pseudo-terminal support did not load (${(err as Error).message.split('\n')[0]}): rebuild it with \`${BUILD_COMMAND}\``,
    );
  }
  if (typeof addon.openPty !== 'function')
    throw new PtySupportError(`${path} has no openPty: rebuild it with \`${BUILD_COMMAND}\``);
  loaded.set(path, addon);
  return addon;
}
