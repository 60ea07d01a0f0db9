// What the ROS 2 integration tests (test/ros2/, `npm run test:ros2`) share: whether ROS 2 can run
// here, the environment each test's ROS 2 processes get (loopback-only DDS as the caller sourced it,
// a ROS domain of the test's own so test files running side by side do not see each other's graph),
// the `ros2` CLI and python3 (for rclpy peers) run from that environment, and the daemon stopped at
// the end. Under `npm run test:ros2` (DYNASTACK_REQUIRE_ROS2=1) a missing ROS 2 fails the test;
// under `npm test` the tests are registered as skipped, saying why.

import { test, type TestContext } from 'node:test';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';

/** Why ROS 2 tests cannot run in this process, or undefined when they can. */
export function rosUnavailable(): string | undefined {
  if (!process.env.ROS_DISTRO)
    return 'ROS 2 is not sourced (ROS_DISTRO unset): run `npm run test:ros2` with ROS 2 sourced';
  if (!existsSync(join(packageRoot(), 'node_modules', 'rclnodejs')))
    return 'rclnodejs is not installed (npm drops it when it fails to build): run `npm ci` with ROS 2 sourced';
  if (!process.env.CYCLONEDDS_URI && !process.env.ROS_AUTOMATIC_DISCOVERY_RANGE)
    return 'ROS 2 is sourced without loopback-only DDS settings: source the env.sh that sets ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST';
  return undefined;
}

/** true under `npm run test:ros2`, where a ROS 2 test that cannot run is a failure, not a skip */
export const ROS2_REQUIRED = process.env.DYNASTACK_REQUIRE_ROS2 === '1';

/**
 * Register a test that needs ROS 2. Where it cannot run: under test:ros2 it fails saying why;
 * elsewhere it is registered as skipped, with the reason in its name.
 */
export function rosTest(name: string, fn: (t: TestContext) => Promise<void>, timeoutMs = 180_000): void {
  const why = rosUnavailable();
  if (why === undefined) test(name, { timeout: timeoutMs }, fn);
  else if (ROS2_REQUIRED)
    test(name, () => {
      throw new Error(`cannot run: ${why}`);
    });
  else test(`${name} — skipped: ${why}`, { skip: true }, fn);
}

/**
 * The environment for ROS 2 processes of one test file: the sourced one with ROS_DOMAIN_ID set to
 * `domain` (0–101 are valid on Linux; pick one per test file, distinct across test/ros2/).
 */
export function rosEnv(domain: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  if (!Number.isInteger(domain) || domain < 0 || domain > 101) throw new Error(`bad ROS_DOMAIN_ID ${domain}`);
  return { ...process.env, ROS_DOMAIN_ID: String(domain), PYTHONUNBUFFERED: '1', ...extra };
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a command to its end (or kill it after timeoutMs), collecting its output. Never rejects. */
export function run(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      [...args],
      { env, timeout: timeoutMs, maxBuffer: 64 << 20, killSignal: 'SIGINT' },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number | null | undefined) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

/** `ros2 <args>` in `env`; rejects with its output when it exits non-zero. */
export async function ros2(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<string> {
  const r = await run('ros2', args, env, timeoutMs);
  if (r.code !== 0) throw new Error(`ros2 ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** Stop the ros2 daemon of `env`'s domain (every test that used the ros2 CLI calls this at its end). */
export async function stopDaemon(env: NodeJS.ProcessEnv): Promise<void> {
  await run('ros2', ['daemon', 'stop'], env, 30_000);
}

/** A long-running child (a dynastack process, `ros2 topic echo`, an rclpy peer) with its output kept. */
export interface Child {
  readonly process: ChildProcess;
  /** stdout and stderr so far */
  output(): string;
  /** resolves with the exit code (or the signal's name) once it has ended */
  readonly exited: Promise<number | string>;
  /** SIGINT, then SIGKILL after graceMs if it is still there; resolves when it has ended */
  stop(graceMs?: number): Promise<number | string>;
}

export function start(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd = packageRoot()): Child {
  const child = spawn(cmd, [...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (text += d));
  const exited = new Promise<number | string>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return {
    process: child,
    output: () => text,
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}

/** python3 running `script` (rclpy from the sourced install); Debian's python3, as env.sh arranges. */
export function startPython(script: string, args: readonly string[], env: NodeJS.ProcessEnv): Child {
  return start('python3', ['-c', script, ...args], env);
}

/** The dynastack CLI of this checkout (dist/cli/main.js) as a child process. */
export function startDynastack(args: readonly string[], env: NodeJS.ProcessEnv): Child {
  return start(process.execPath, [join(packageRoot(), 'dist', 'cli', 'main.js'), ...args], env);
}
