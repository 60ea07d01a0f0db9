import { spawn } from 'node:child_process';

// The dynastack CLI as a child process whose output a test waits on, shared by the CLI tests:
// `waitFor` resolves once the output (stdout and stderr) matches, and fails if the process ends
// first or after a generous deadline (start-up is slow on a loaded machine); `stop` signals it and
// resolves with its exit code; `kill` ends it whatever state it is in (after a failed wait).

export interface CliProcess {
  readonly child: ReturnType<typeof spawn>;
  output(): string;
  /** its exit code, once its output is complete ('close', not 'exit': only then are the pipes) */
  readonly exited: Promise<number | null>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(signal: NodeJS.Signals): Promise<number | null>;
  kill(): void;
}

/** `node <entry> <args>` in `cwd`, ROS_DISTRO unset: `run` takes the embedded transport, as on a machine without ROS 2. */
export function startCli(entry: string, args: readonly string[], cwd: string): CliProcess {
  const child = spawn(process.execPath, [entry, ...args], { cwd, env: { ...process.env, ROS_DISTRO: '' } });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let ended = false;
  void exited.then(() => (ended = true));
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return {
    child,
    output: () => output,
    exited,
    async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
      const end = performance.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (ended) throw new Error(`the process ended before printing ${pattern}:\n${output}`);
        if (performance.now() > end) throw new Error(`no ${pattern} within ${timeoutMs / 1000} s:\n${output}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop(signal: NodeJS.Signals): Promise<number | null> {
      child.kill(signal);
      return exited;
    },
    kill(): void {
      if (!ended) child.kill('SIGKILL');
    },
  };
}
