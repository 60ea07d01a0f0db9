import assert from 'node:assert/strict';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import { referencedPaths } from '../framework/launch/referenced_paths.js';
import { buildPackage } from './package_build.js';
import { ros2, rosEnv, rosTest, run, stopDaemon } from './ros_env.js';

// The installed package, not the source tree: colcon builds the package into a temporary workspace
// and every file the launch files, parameter files and node parameter defaults name (models,
// robot and calibration files, included launch files), every native addon the checkout has built,
// every message definition and every executable a launch file starts is there, where the installed
// nodes look for it (share/dynastack is their package root). ros2's own tools find the package and
// read every launch file of the install (`ros2 launch --show-args`: parsed by launch_ros itself).

const DOMAIN = 54;

rosTest('colcon build installs everything the launch files, parameter files and nodes name', async () => {
  const env = rosEnv(DOMAIN);
  const install = await buildPackage(env);
  try {
    const { files, executables, broken } = await referencedPaths(packageRoot());
    assert.deepEqual(broken, []);
    const missing = files
      .filter((f) => !existsSync(join(install.share, f.path)))
      .map((f) => `share/dynastack/${f.path} (named at ${f.where})`);
    assert.deepEqual(missing, [], 'files the installed package names but does not hold');
    for (const e of executables) {
      const path = join(install.prefix, e.path);
      assert.doesNotThrow(() => accessSync(path, constants.X_OK), `${path} (started at ${e.where}) is executable`);
    }
    // every addon the checkout built is installed, the three of them where this machine built them
    const release = join(packageRoot(), 'native', 'build', 'Release');
    for (const addon of existsSync(release) ? readdirSync(release).filter((f) => f.endsWith('.node')) : [])
      assert.ok(existsSync(join(install.share, 'native', 'build', 'Release', addon)), `${addon} is installed`);

    assert.equal((await ros2(['pkg', 'prefix', 'dynastack'], install.env)).trim(), install.prefix);
    const launchFiles = readdirSync(join(install.share, 'launch')).filter((f) => f.endsWith('.launch.yaml'));
    assert.ok(launchFiles.includes('demo.launch.yaml'), launchFiles.join(', '));
    for (const file of launchFiles) {
      const r = await run('ros2', ['launch', 'dynastack', file, '--show-args'], install.env, 60_000);
      assert.equal(r.code, 0, `ros2 launch dynastack ${file} --show-args:\n${r.stdout}${r.stderr}`);
    }
  } finally {
    await stopDaemon(install.env);
    install.remove();
  }
});
