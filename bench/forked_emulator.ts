import { fork, type ChildProcess } from 'node:child_process';
import type { EmulatorReply } from '../hw/emulator/main.js';
import { compiledPath } from '../src/util/paths.js';

// A servo emulator in a process of its own (`dynastack emulate` forked, answering over IPC), so a
// benchmark's bus host and the emulated servos do not share an event loop, as with real hardware.

/** Fork `dynastack emulate` with `args` (e.g. --config robot.yaml); resolves with the pty it opened. */
export async function startEmulator(args: readonly string[]): Promise<{ child: ChildProcess; devicePath: string }> {
  const child = fork(compiledPath('hw/emulator/main.ts'), [...args, '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const devicePath = await new Promise<string>((resolve, reject) => {
    child.on('message', (m: EmulatorReply) => {
      if (m.type === 'ready') resolve(m.devicePath);
      if (m.type === 'error') reject(new Error(`emulator: ${m.message}`));
    });
    child.once('exit', (code) => reject(new Error(`emulator exited (${code}) before it was ready`)));
  });
  return { child, devicePath };
}

/** Ask a forked emulator to stop and wait until it has exited (at once if it has already). */
export async function stopEmulator(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.send({ type: 'stop' });
  await exited;
}
