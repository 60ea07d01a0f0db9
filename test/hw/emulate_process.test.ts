import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compiledPath, packageRoot } from '../../src/util/paths.js';
import { tempDir, until } from './bus_harness.js';

// No orphans: `dynastack emulate` opens its pty in its own process and starts no other, so killing
// it outright (SIGKILL, no chance to clean up) leaves nothing running — at most a dangling link,
// which the next emulator on that path removes. A forked emulator (hw/emulator/main.ts with an IPC
// channel, as the bench and tests run it) exits by itself when its parent dies, so a killed test
// run never leaves one behind. Processes are read from /proc (proc(5)): a process's children by
// their parent pid (and /proc/<pid>/task/*/children where the kernel has it), a process group by
// the pgrp field, a process as gone once /proc has no entry or only a zombie's.

const CONFIG = join(packageRoot(), 'config/robots/so101_emulated.yaml');

interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
}

/** /proc/<pid>/stat's first fields; undefined when the process is gone. */
function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, state: fields[0]!, ppid: Number(fields[1]), pgrp: Number(fields[2]) };
}

function allProcesses(): ProcStat[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => procStat(Number(name)))
    .filter((p): p is ProcStat => p !== undefined);
}

/** Running (not gone, not a zombie waiting for a reaper). */
function alive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** The live children of `pid`: by their parent pid, and from task/<tid>/children where the kernel offers it. */
function childrenOf(pid: number): number[] {
  const found = new Set(
    allProcesses()
      .filter((p) => p.ppid === pid && alive(p.pid))
      .map((p) => p.pid),
  );
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const file = `/proc/${pid}/task/${tid}/children`;
      if (!existsSync(file)) continue;
      for (const child of readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean)) found.add(Number(child));
    }
  } catch {
    // the process is gone
  }
  return [...found];
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
}

test('dynastack emulate starts no process; SIGKILL leaves nothing running and the link dangling or gone', async (t) => {
  const dir = tempDir(t);
  const link = join(dir, 'arm');
  // its own process group (detached): whatever it might start would be found in that group afterwards
  const child = spawn(process.execPath, [compiledPath('cli/main.ts'), 'emulate', '--config', CONFIG, '--link', link], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
  const pid = child.pid!;
  await until('the emulated device', () => existsSync(link) || child.exitCode !== null, 30_000);
  assert.ok(existsSync(link), `no device at ${link}; output:\n${output}`);
  const pts = readlinkSync(link);
  assert.match(pts, /^\/dev\/pts\/\d+$/);
  const ptsCreated = statSync(pts, { bigint: true }).ctimeNs;

  assert.deepEqual(childrenOf(pid), [], 'dynastack emulate has no child process');
  // the group check sees the emulator itself: it would see a helper too
  assert.deepEqual(
    allProcesses()
      .filter((p) => p.pgrp === pid && alive(p.pid))
      .map((p) => p.pid),
    [pid],
  );

  child.kill('SIGKILL');
  assert.deepEqual(await exitOf(child), { code: null, signal: 'SIGKILL' });
  assert.deepEqual(
    allProcesses()
      .filter((p) => p.pgrp === pid && alive(p.pid))
      .map((p) => p.pid),
    [],
    'nothing of its process group is left running',
  );
  // the link is left as a killed process leaves it: dangling, its pty gone with the process (or,
  // should another pty have taken the same number since, leading to a newer node than its own)
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(readlinkSync(link), pts);
  const now = existsSync(pts) ? statSync(pts, { bigint: true }).ctimeNs : undefined;
  assert.ok(now === undefined || now !== ptsCreated, `${pts} still the emulator's device after its death`);
});

test('a forked emulator exits when its parent dies (its IPC channel closes), removing its link', async (t) => {
  const dir = tempDir(t);
  const link = join(dir, 'arm');
  // a parent that forks the emulator as the bench and tests do, says its pid once it is ready, then idles
  const parentScript = `
    import { fork } from 'node:child_process';
    const emulator = fork(${JSON.stringify(compiledPath('hw/emulator/main.ts'))},
      ['--config', ${JSON.stringify(CONFIG)}, '--link', ${JSON.stringify(link)}, '--log-level', 'warn'],
      { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
    emulator.on('message', (m) => { if (m.type === 'ready') process.stdout.write('ready ' + emulator.pid + '\\n'); });
    setInterval(() => undefined, 1000);
  `;
  // stderr is one pipe shared by both: it ends once neither process holds it
  const parent = spawn(process.execPath, ['--input-type=module', '-e', parentScript], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  parent.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  let err = '';
  parent.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const stderrClosed = new Promise<void>((done) => parent.stderr.once('end', () => done()));
  t.after(() => {
    if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
  });
  await until('the forked emulator to be ready', () => /ready \d+/.test(out) || parent.exitCode !== null, 30_000);
  const emulatorPid = Number(/ready (\d+)/.exec(out)?.[1]);
  // once the emulator is seen gone its pid is free, and may already be another process's (pid_max
  // is 32768 here: a busy machine wraps around in minutes): only a test that failed before that
  // may kill it, or it could kill a stranger — a sibling test file's process, whose remaining
  // tests then silently vanish from the run
  let exited = false;
  t.after(() => {
    if (!exited && emulatorPid > 0 && alive(emulatorPid)) process.kill(emulatorPid, 'SIGKILL');
  });
  assert.ok(emulatorPid > 0, `the parent said: ${out}\n${err}`);
  assert.ok(alive(emulatorPid) && existsSync(link));
  assert.equal(procStat(emulatorPid)?.ppid, parent.pid, 'the emulator is the parent’s child');

  // the parent dies without a word: no 'stop' message, no signal to the emulator
  parent.kill('SIGKILL');
  await exitOf(parent);
  await until('the orphaned emulator to exit', () => !alive(emulatorPid), 30_000);
  exited = true;
  assert.throws(() => lstatSync(link), /ENOENT/, 'it stopped: the link is removed');
  await stderrClosed;
  assert.equal(err, '', 'it stopped cleanly: nothing on stderr');
});
