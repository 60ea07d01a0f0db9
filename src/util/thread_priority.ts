import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants, getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from './paths.js';

// The scheduling of the calling thread: its nice value, its policy (SCHED_OTHER, or SCHED_FIFO for a
// real-time command loop, src/util/realtime.ts) and the native calls behind them. Node has no
// sched_setscheduler or mlock, so those come from a small addon, native/src/realtime.cc, built by
// `npm ci` (and `npm run build:native`) into native/build/Release/dynastack_rt.node; when it is
// missing, loading it fails with one line naming the cause (the first line of
// native/build-failure.txt when the build left one) and the command that builds it. The nice value
// and the policy as the kernel reports it (/proc/thread-self/stat) need no addon.
//
// setThreadNice is what heavy workers (learning, planning) call when they start: it yields the CPU
// to the command loop. pthread threads inherit their creator's policy (sched(7)), so a worker
// started from a loop that went SCHED_FIFO would run real-time too; setThreadNice puts the thread
// back to SCHED_OTHER first.

/** The calling thread's scheduling as the kernel reports it. */
export interface ThreadScheduling {
  /** SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE or SCHED_DEADLINE */
  readonly policy: string;
  /** the static (real-time) priority: 1–99 under SCHED_FIFO and SCHED_RR, 0 otherwise */
  readonly priority: number;
  /** SCHED_RESET_ON_FORK: threads it creates start SCHED_OTHER (false where the kernel does not say) */
  readonly resetOnFork: boolean;
}

/** The soft resource limits that decide what an unprivileged thread may do (Infinity: none). */
export interface SchedLimits {
  /** RLIMIT_RTPRIO: the highest real-time priority without CAP_SYS_NICE (Linux) */
  readonly rtprio?: number;
  /** RLIMIT_MEMLOCK: bytes that may be locked without CAP_IPC_LOCK */
  readonly memlock: number;
  /** RLIMIT_NICE: 20 - the lowest nice value without CAP_SYS_NICE (Linux) */
  readonly nice?: number;
}

export type SettablePolicy = 'SCHED_FIFO' | 'SCHED_RR' | 'SCHED_OTHER' | 'SCHED_BATCH' | 'SCHED_IDLE';

/** native/src/realtime.cc: each call acts on the calling thread; failures are errno values (0: done). */
export interface SchedAddon {
  setScheduler(policy: SettablePolicy, priority: number, resetOnFork: boolean): number;
  getScheduler(): ThreadScheduling;
  /** mlock(2) of a mapped range */
  lockRange(start: bigint, length: bigint): number;
  limits(): SchedLimits;
  /** lower a limit (soft and hard) for this process: 'rtprio' or 'memlock' */
  lowerLimit(name: 'rtprio' | 'memlock', value: number): number;
}

export interface SchedAddonLocation {
  /** the compiled addon (default: native/build/Release/dynastack_rt.node in the package) */
  readonly addonPath?: string;
  /** where scripts/build-native.js records why the build failed (default: native/build-failure.txt) */
  readonly buildFailurePath?: string;
}

/** Thrown when the real-time addon is not there; its message is the one line to show. */
export class SchedSupportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchedSupportError';
  }
}

export const SCHED_BUILD_COMMAND = 'npm run build:native';

export function defaultSchedAddonPath(): string {
  return join(packageRoot(), 'native', 'build', 'Release', 'dynastack_rt.node');
}

function defaultBuildFailurePath(): string {
  return join(packageRoot(), 'native', 'build-failure.txt');
}

const loaded = new Map<string, SchedAddon>();

/** The addon at `addonPath` (loaded once per path and thread); throws SchedSupportError naming why not. */
export function loadSchedAddon(location: SchedAddonLocation = {}): SchedAddon {
  const path = location.addonPath ?? defaultSchedAddonPath();
  const cached = loaded.get(path);
  if (cached) return cached;
  if (process.platform === 'win32')
    throw new SchedSupportError('real-time scheduling (SCHED_FIFO) is POSIX only: the addon is not built on Windows');
  if (!existsSync(path)) {
    const failurePath = location.buildFailurePath ?? defaultBuildFailurePath();
    const failure = existsSync(failurePath) ? readFileSync(failurePath, 'utf8').trim().split('\n')[0] : undefined;
    throw new SchedSupportError(
      `the real-time addon is not built (${failure ? `${failure}; ` : ''}expected ${path}): build it with \`${SCHED_BUILD_COMMAND}\``,
    );
  }
  let addon: SchedAddon;
  try {
    addon = createRequire(import.meta.url)(path) as SchedAddon;
  } catch (err) {
    throw new SchedSupportError(
      `the real-time addon did not load (${(err as Error).message.split('\n')[0]}): rebuild it with \`${SCHED_BUILD_COMMAND}\``,
    );
  }
  if (typeof addon.setScheduler !== 'function' || typeof addon.lockRange !== 'function')
    throw new SchedSupportError(`${path} is not the real-time addon: rebuild it with \`${SCHED_BUILD_COMMAND}\``);
  loaded.set(path, addon);
  return addon;
}

/** The symbolic name of an errno value, e.g. 1 → 'EPERM'. */
export function errnoName(code: number): string {
  for (const [name, value] of Object.entries(constants.errno)) if (value === code) return name;
  return `errno ${code}`;
}

/** The kernel's id of the calling thread (Linux), undefined elsewhere. */
export function threadId(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** The nice value of a thread (default: the calling one); undefined where it cannot be read. */
export function threadNice(tid = threadId()): number | undefined {
  if (tid === undefined) return undefined;
  try {
    return getPriority(tid);
  } catch {
    return undefined;
  }
}

const PROC_POLICIES: Readonly<Record<number, string>> = {
  0: 'SCHED_OTHER',
  1: 'SCHED_FIFO',
  2: 'SCHED_RR',
  3: 'SCHED_BATCH',
  5: 'SCHED_IDLE',
  6: 'SCHED_DEADLINE',
};

/**
 * A thread's policy and real-time priority from /proc (proc(5): fields 40 rt_priority and 41
 * policy of /proc/<pid>/task/<tid>/stat), without the addon; the calling thread by default.
 * Undefined off Linux.
 */
export function procScheduling(tid?: number): ThreadScheduling | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = readFileSync(tid === undefined ? '/proc/thread-self/stat' : `/proc/self/task/${tid}/stat`, 'utf8');
    // after the command name in parentheses (which may hold spaces) come fields 3, 4, …
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const priority = Number(fields[40 - 3]);
    const policy = Number(fields[41 - 3]);
    return { policy: PROC_POLICIES[policy] ?? `policy ${policy}`, priority, resetOnFork: false };
  } catch {
    return undefined;
  }
}

const REAL_TIME = new Set(['SCHED_FIFO', 'SCHED_RR', 'SCHED_DEADLINE']);

/** Whether a policy is one of the kernel's real-time classes. */
export function isRealTime(policy: string): boolean {
  return REAL_TIME.has(policy);
}

/**
 * Put the calling thread on SCHED_OTHER at a nice value (Linux: setpriority on the thread id), so
 * that heavy work in a worker (learning, planning) yields the CPU to the fixed-rate command loop. A
 * thread that inherited a real-time policy from the thread that started it (a command loop running
 * SCHED_FIFO, src/util/realtime.ts) is put back to SCHED_OTHER first, through the real-time addon.
 * Returns true when the thread runs SCHED_OTHER at `nice` afterwards; false where this is not
 * possible (nothing else changes then).
 */
export function setThreadNice(nice: number, options: { readonly addon?: SchedAddon } = {}): boolean {
  if (process.platform !== 'linux') return false;
  const tid = threadId();
  if (tid === undefined) return false;
  let other = true;
  const current = procScheduling();
  if (current && isRealTime(current.policy)) {
    try {
      other = (options.addon ?? loadSchedAddon()).setScheduler('SCHED_OTHER', 0, false) === 0;
    } catch {
      other = false;
    }
  }
  try {
    setPriority(tid, nice);
    return other;
  } catch {
    return false;
  }
}
