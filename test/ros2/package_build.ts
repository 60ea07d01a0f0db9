import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import { run } from './ros_env.js';

// The dynastack package as a robot user installs it: this checkout (built: dist/, node_modules/)
// colcon-built into a temporary workspace, and the environment with that install sourced, so that
// `ros2 launch dynastack …` and `ros2 run dynastack …` use the installed package, not the source
// tree. dynastack_msgs comes from the environment the tests run in (AMENT_PREFIX_PATH).
// Used by test/ros2/install.test.ts and test/ros2/launch.test.ts, one build per test file.

export interface PackageInstall {
  /** the package's install prefix (colcon's isolated layout: <install base>/dynastack) */
  readonly prefix: string;
  /** <prefix>/share/dynastack: the package root as the installed nodes see it */
  readonly share: string;
  /** `env` with the install's local_setup.bash sourced */
  readonly env: NodeJS.ProcessEnv;
  /** a scratch folder of the workspace for the test's own files (cwd of launches, outputs) */
  readonly scratch: string;
  /** remove the workspace */
  remove(): void;
}

/** The variables `script` leaves set in bash, started from `env`. */
function sourced(script: string, env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', `set +u; . "${script}" && env -0`], { env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`sourcing ${script} failed: ${stderr || err.message}`));
        return;
      }
      const out: NodeJS.ProcessEnv = {};
      for (const entry of stdout.split('\0')) {
        const at = entry.indexOf('=');
        if (at > 0) out[entry.slice(0, at)] = entry.slice(at + 1);
      }
      resolve(out);
    });
  });
}

/**
 * colcon build of the package at the repository root into a new temporary workspace, as
 * docs/on-a-robot.md has a user do (Debian's python3 for CMake, no tests), in `env`.
 */
export async function buildPackage(env: NodeJS.ProcessEnv): Promise<PackageInstall> {
  const ws = mkdtempSync(join(tmpdir(), 'dynastack-ws-'));
  const remove = (): void => rmSync(ws, { recursive: true, force: true });
  try {
    const r = await run(
      'colcon',
      [
        '--log-base',
        join(ws, 'log'),
        'build',
        '--base-paths',
        packageRoot(),
        '--packages-select',
        'dynastack',
        '--build-base',
        join(ws, 'build'),
        '--install-base',
        join(ws, 'install'),
        '--event-handlers',
        'console_cohesion+',
        '--cmake-args',
        '-DPython3_EXECUTABLE=/usr/bin/python3',
        '-DBUILD_TESTING=OFF',
      ],
      env,
      300_000,
    );
    if (r.code !== 0) throw new Error(`colcon build of dynastack failed (${r.code}):\n${r.stdout}${r.stderr}`);
    const prefix = join(ws, 'install', 'dynastack');
    return {
      prefix,
      share: join(prefix, 'share', 'dynastack'),
      env: await sourced(join(ws, 'install', 'local_setup.bash'), env),
      scratch: mkdtempSync(join(ws, 'run-')),
      remove,
    };
  } catch (err) {
    remove();
    throw err;
  }
}
