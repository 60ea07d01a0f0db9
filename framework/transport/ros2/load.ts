import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Rclnodejs } from './rclnodejs_types.js';

// rclnodejs is an optional dependency: it installs and loads only where ROS 2 is sourced, so it is
// imported here, lazily, and nowhere else. Without ROS 2 its install script fails, npm leaves it out
// (package.json docs, optionalDependencies: https://docs.npmjs.com/cli/configuring-npm/package-json)
// and the import fails with ERR_MODULE_NOT_FOUND in milliseconds (measured here). npm also leaves it
// out, without a word, when its build fails during `npm ci` with ROS 2 sourced; that case gets its
// own message.
//
// rclnodejs must never be imported where its native addon cannot load: rclnodejs 2.2.0's
// lib/native_loader.js (loadNativeAddon) then "builds from source" with `npm run rebuild`, whose
// `npm run clean` (node-gyp clean) deletes the working build/ before the build fails — without ROS 2
// sourced it always fails — so a single import without ROS 2 destroyed the install (seen here).
// Hence: no import at all without ROS_DISTRO, and with it, the built addon is loaded first by us
// (Node caches it, so rclnodejs's own load reuses it) and a failure is reported instead of rebuilt.

const INSTALL_HINT =
  'ROS 2 transport needs rclnodejs: source /opt/ros/<distro>/setup.bash, then npm install rclnodejs (see docs/on-a-robot.md)';

const NOT_INSTALLED =
  'rclnodejs is not installed: npm drops it silently when its build fails during npm ci with ROS 2 sourced; ' +
  'run `npm ci` again with ROS 2 sourced and read its output, or npm install rclnodejs --foreground-scripts';

// a variable specifier, so that tsc neither resolves nor needs rclnodejs's declarations
const SPECIFIER: string = 'rclnodejs';

/** Whether a ROS 2 environment is sourced in this process. */
export function ros2Available(env: NodeJS.ProcessEnv = process.env): boolean {
  return !!env.ROS_DISTRO;
}

/** The first non-empty line of an error's message: native errors can run to many lines. */
export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (
    text
      .split('\n')
      .find((l) => l.trim())
      ?.trim() ?? 'unknown error'
  );
}

function looksLikeRclnodejs(mod: unknown): mod is Rclnodejs {
  if (mod === null || typeof mod !== 'object') return false;
  const m = mod as Record<string, unknown>;
  return ['init', 'shutdown', 'removeSignalHandlers', 'Node', 'Context', 'QoS', 'Parameter', 'Clock'].every(
    (k) => typeof m[k] === 'function',
  );
}

/** Whether an import failed because the package itself is not there (not one of its own imports). */
function packageMissing(err: unknown, specifier: string): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    code === 'ERR_MODULE_NOT_FOUND' &&
    err instanceof Error &&
    err.message.includes(`Cannot find package '${specifier}'`)
  );
}

/** The folder of the installed package `specifier` (where its package.json is), or undefined. */
function packageDirOf(specifier: string): string | undefined {
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve(specifier));
  } catch {
    return undefined;
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir))
    if (existsSync(join(dir, 'package.json'))) return dir;
  return undefined;
}

export interface ImportOptions {
  /** the environment that decides whether ROS 2 is sourced; default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** what to import; default 'rclnodejs' */
  readonly specifier?: string;
  /** the installed package's folder (its native addon is build/Release/rclnodejs.node); default resolved */
  readonly packageDir?: string;
}

/**
 * Import rclnodejs (its default export) without letting it rebuild itself. Rejects with one line
 * that says what to install, source or rebuild, followed by the underlying cause.
 */
export async function importRclnodejs(options: ImportOptions = {}): Promise<Rclnodejs> {
  const env = options.env ?? process.env;
  const specifier = options.specifier ?? SPECIFIER;
  if (!ros2Available(env))
    throw new Error(
      `${INSTALL_HINT}; cause (ROS_DISTRO unset): rclnodejs is not loaded without ROS 2 sourced ` +
        '(its lib/native_loader.js would try to rebuild it and delete its build)',
    );
  const where = `ROS_DISTRO=${env.ROS_DISTRO}`;
  const addon = (() => {
    const dir = options.packageDir ?? packageDirOf(specifier);
    return dir === undefined ? undefined : join(dir, 'build', 'Release', 'rclnodejs.node');
  })();
  if (addon !== undefined && existsSync(addon)) {
    try {
      createRequire(import.meta.url)(addon);
    } catch (err) {
      throw new Error(
        `rclnodejs's native addon does not load with the ROS 2 sourced here (${where}): ${firstLine(err)}; ` +
          'source the ROS 2 it was built against, or rebuild it against this one with ROS 2 sourced: ' +
          'npm rebuild rclnodejs --foreground-scripts',
        { cause: err },
      );
    }
  }
  let mod: unknown;
  try {
    mod = await import(specifier);
  } catch (err) {
    if (packageMissing(err, specifier))
      throw new Error(`${NOT_INSTALLED}; cause (${where}): ${firstLine(err)}`, { cause: err });
    throw new Error(`${INSTALL_HINT}; cause (${where}): ${firstLine(err)}`, { cause: err });
  }
  // ES module build: the API is the default export; the CommonJS build is the module itself
  const api = (mod as { default?: unknown }).default ?? mod;
  if (!looksLikeRclnodejs(api))
    throw new Error(`${INSTALL_HINT}; cause: the module '${specifier}' found does not have the rclnodejs 2.x API`);
  return api;
}

let loading: Promise<Rclnodejs> | undefined;

/** importRclnodejs(), once per process (a failed load is retried on the next call). */
export function loadRclnodejs(): Promise<Rclnodejs> {
  loading ??= importRclnodejs();
  // a failed load is not cached: sourcing ROS and installing may happen while a tool is running
  loading.catch(() => (loading = undefined));
  return loading;
}
