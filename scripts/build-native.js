// Builds the native ensemble kernels (native/, a C++ Node-API addon) with node-gyp. `npm ci` and
// `npm install` run it (package.json "install"); `npm run build:native` runs it by hand.
//
// It never fails the install: without a compiler, make, Python or Node's headers the ensemble runs
// on TF.js instead. The reason then goes to native/build-failure.txt, which the loader
// (src/tensor/native_kernels.ts) quotes when it reports why the native engine is not in use.
// DYNASTACK_SKIP_NATIVE=1 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'native');
const failureFile = join(nativeDir, 'build-failure.txt');
const addon = join(nativeDir, 'build', 'Release', 'dynastack_native.node');

function failed(reason, log = '') {
  rmSync(addon, { force: true });
  writeFileSync(failureFile, `${reason}\n${log ? `\n--- node-gyp output (last lines) ---\n${log}\n` : ''}`);
  process.stderr.write(
    `dynastack: native kernels not built (${reason}); the ensemble will run on TF.js. Details: ${failureFile}\n`,
  );
  process.exit(0);
}

if (process.env.DYNASTACK_SKIP_NATIVE) failed('skipped: DYNASTACK_SKIP_NATIVE is set');

// npm's own node-gyp (npm sets npm_config_node_gyp for lifecycle scripts), else one on PATH
const npmGyp = process.env.npm_config_node_gyp;
const [command, args] =
  npmGyp && existsSync(npmGyp) ? [process.execPath, [npmGyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const started = Date.now();
const run = spawnSync(command, args, {
  cwd: nativeDir,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'pipe'],
  maxBuffer: 64 * 1024 * 1024,
});
if (run.error) failed(`could not run node-gyp: ${run.error.message}`);
const lines = `${run.stdout}\n${run.stderr}`.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('gyp info'));
if (run.status !== 0 || !existsSync(addon)) {
  // the most telling line: a compiler error, else node-gyp's own error message
  const compiler = lines.find((l) => /\berror\b|not found|No such file/i.test(l) && !l.startsWith('gyp ERR!'));
  const gyp = lines.find((l) => /^gyp ERR! stack Error: /.test(l))?.replace(/^gyp ERR! stack Error: /, '');
  const why = (compiler ?? gyp ?? `node-gyp exited with ${run.status ?? run.signal}`).trim();
  failed(`node-gyp rebuild failed: ${why}`, lines.slice(-40).join('\n'));
}
rmSync(failureFile, { force: true });
process.stdout.write(`dynastack: native kernels built in ${((Date.now() - started) / 1000).toFixed(0)} s (${addon})\n`);
