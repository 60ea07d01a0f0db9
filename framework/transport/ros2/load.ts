import type { Rclnodejs } from './rclnodejs_types.js';

// rclnodejs is an optional dependency: it installs and loads only where ROS 2 is sourced, so it is
// imported here, lazily, and nowhere else. Without ROS 2 its install script fails, npm leaves it out
// (package.json docs, optionalDependencies: https://docs.npmjs.com/cli/configuring-npm/package-json)
// and the import fails with ERR_MODULE_NOT_FOUND in milliseconds (measured here).

const INSTALL_HINT =
  'ROS 2 transport needs rclnodejs: source /opt/ros/<distro>/setup.bash, then npm install rclnodejs (see docs/on-a-robot.md)';

// a variable specifier, so that tsc neither resolves nor needs rclnodejs's declarations
const SPECIFIER: string = 'rclnodejs';

/** Whether a ROS 2 environment is sourced in this process. */
export function ros2Available(): boolean {
  return !!process.env.ROS_DISTRO;
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

let loading: Promise<Rclnodejs> | undefined;

/**
 * The rclnodejs module (its default export). Rejects with a one-line message that says what to
 * install and source, followed by the underlying cause.
 */
export function loadRclnodejs(): Promise<Rclnodejs> {
  loading ??= (async () => {
    let mod: unknown;
    try {
      mod = await import(SPECIFIER);
    } catch (err) {
      const where = ros2Available() ? `ROS_DISTRO=${process.env.ROS_DISTRO}` : 'ROS_DISTRO unset';
      throw new Error(`${INSTALL_HINT}; cause (${where}): ${firstLine(err)}`, { cause: err });
    }
    // ES module build: the API is the default export; the CommonJS build is the module itself
    const api = (mod as { default?: unknown }).default ?? mod;
    if (!looksLikeRclnodejs(api))
      throw new Error(`${INSTALL_HINT}; cause: the module 'rclnodejs' found does not have the rclnodejs 2.x API`);
    return api;
  })();
  // a failed load is not cached: sourcing ROS and installing may happen while a tool is running
  loading.catch(() => (loading = undefined));
  return loading;
}
