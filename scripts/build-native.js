// Builds the three native addons of native/ (C++ Node-API, native/binding.gyp) with node-gyp:
// dynastack_native, the ensemble kernels; dynastack_pty, the servo emulator's pseudo-terminals; and
// dynastack_rt, real-time scheduling for the command loops (SCHED_FIFO, mlock).
// `npm ci` and `npm install` run it (package.json "install"); `npm run build:native` runs it by hand.
//
// It never fails the install: without a compiler, make, Python or Node's headers the ensemble runs
// on TF.js instead, the servo emulator (dynastack emulate, the serial-hardware tests) says it
// cannot open a pty and how to build it, and a loop asked to run real time (realtime.enabled) says
// it cannot and runs at a lowered nice value. make runs with -k, so one addon failing to compile
// does not keep the others from being built. The reason of a failure goes to
// native/build-failure.txt, whose first line the loaders (src/tensor/native_kernels.ts,
// hw/emulator/pty_addon.ts, src/util/thread_priority.ts) quote when they report why their addon is
// missing. DYNASTACK_SKIP_NATIVE=1 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'native');
const failureFile = join(nativeDir, 'build-failure.txt');
const release = join(nativeDir, 'build', 'Release');
const ADDONS = [
  { file: 'dynastack_native.node', without: 'the ensemble will run on TF.js' },
  { file: 'dynastack_pty.node', without: 'the servo emulator cannot open a pty' },
  { file: 'dynastack_rt.node', without: 'real-time loops (realtime.enabled) fall back to nice' },
];

function failed(reason, log = '', missing = ADDONS) {
  for (const addon of missing) rmSync(join(release, addon.file), { force: true });
  writeFileSync(failureFile, `${reason}\n${log ? `\n--- node-gyp output (last lines) ---\n${log}\n` : ''}`);
  for (const addon of missing)
    process.stderr.write(`dynastack: ${addon.file} not built, ${addon.without}: ${reason} (details: ${failureFile})\n`);
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
  // keep going past a target that fails to compile: the others may still build
  env: { ...process.env, MAKEFLAGS: `${process.env.MAKEFLAGS ?? ''} -k`.trim() },
});
if (run.error) failed(`could not run node-gyp: ${run.error.message}`);
const lines = `${run.stdout}\n${run.stderr}`.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('gyp info'));
const missing = ADDONS.filter((addon) => !existsSync(join(release, addon.file)));
if (run.status !== 0 || missing.length) {
  // the most telling line: a compiler error, else node-gyp's own error message
  const compiler = lines.find((l) => /\berror\b|not found|No such file/i.test(l) && !l.startsWith('gyp ERR!'));
  const gyp = lines.find((l) => /^gyp ERR! stack Error: /.test(l))?.replace(/^gyp ERR! stack Error: /, '');
  const why = (compiler ?? gyp ?? `node-gyp exited with ${run.status ?? run.signal}`).trim();
  const which = missing.length ? missing : ADDONS;
  failed(
    `node-gyp rebuild failed (${which.map((a) => a.file).join(', ')} not built): ${why}`,
    lines.slice(-40).join('\n'),
    which,
  );
}
rmSync(failureFile, { force: true });
process.stdout.write(
  `dynastack: native addons built in ${((Date.now() - started) / 1000).toFixed(0)} s (${ADDONS.map((a) => join(release, a.file)).join(', ')})\n`,
);
