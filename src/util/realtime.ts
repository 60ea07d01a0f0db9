import { readFileSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { defineParams, type ParamValues } from './param_schema.js';
import {
  errnoName,
  loadSchedAddon,
  procScheduling,
  threadId,
  threadNice,
  type SchedAddon,
  type SchedAddonLocation,
  type SchedLimits,
  type SettablePolicy,
  type ThreadScheduling,
} from './thread_priority.js';

// An opt-in real-time mode for a fixed-rate loop (the controller's command loop, the hardware
// bridge's bus loop), after ros2_control's controller_manager: the thread that runs the loop goes
// SCHED_FIFO at a configurable priority (controller_manager's ros2_control_node runs its loop at 50
// through realtime_tools' configure_sched_fifo) and the memory it runs from is locked in RAM
// (realtime_tools' lock_memory). The parameters are declared here once, and every node with such a
// loop merges the same fragment; applyRealtime is called at activate on the loop's own thread and
// says what happened in one line, a warning naming the cause where the process is not permitted
// (no CAP_SYS_NICE and RLIMIT_RTPRIO below the priority, the addon not built), after which the loop
// runs SCHED_OTHER at a lowered nice value instead.
//
// What is per thread and what is per process:
// - SCHED_FIFO is set on the calling thread only, with SCHED_RESET_ON_FORK (Linux), so threads it
//   starts later (workers, libuv's pool) begin SCHED_OTHER; the workers of the stack also reset
//   their own policy when they start (setThreadNice, src/util/thread_priority.ts). A node's
//   callbacks all run on its thread: a loop node on the main thread (the embedded launcher's
//   default) makes everything on that thread real-time, the other nodes there included; in a
//   worker of its own (embedded_thread: worker) only its loop is. Either way the loop still meets
//   SCHED_OTHER threads on shared locks (the process's memory map, which V8 changes as its heap
//   grows; the message ports to the main thread), so a starved SCHED_OTHER thread can hold it up.
// - Memory locking is per process, and is not mlockall(MCL_CURRENT | MCL_FUTURE) as in
//   realtime_tools: V8 frees pages with madvise(MADV_DONTNEED) and aborts the process when that
//   fails, as it does on locked pages (see native/src/realtime.cc). What is locked is the code of
//   node and of its shared libraries and addons (every mapping of a file mapped executable), which
//   V8 never frees and which the kernel would otherwise evict under memory pressure, swap or not.
//   The JavaScript heap stays unlocked: on a robot, run without swap.
// A runaway SCHED_FIFO loop cannot freeze the machine: the kernel's real-time throttling
// (sched_rt_runtime_us of sched_rt_period_us: 0.95 s of each 1 s by default) keeps CPU time for
// SCHED_OTHER threads, and one thread holds at most one core.

export const REALTIME_PARAMETERS = defineParams({
  'realtime.enabled': {
    type: 'bool',
    default: false,
    description:
      "run the loop's thread SCHED_FIFO at realtime.priority, as ros2_control's controller_manager does (needs root, CAP_SYS_NICE, or rtprio in /etc/security/limits.conf; else one warning and realtime.fallback_nice)",
  },
  'realtime.priority': {
    type: 'integer',
    default: 50,
    range: [1, 99],
    description: "SCHED_FIFO priority of the loop's thread, 1–99 (50: controller_manager's)",
  },
  'realtime.lock_memory': {
    type: 'bool',
    default: true,
    description:
      'with realtime.enabled: lock the code of node and its libraries in RAM (mlock; needs memlock unlimited or CAP_IPC_LOCK); the JavaScript heap cannot be locked under V8',
  },
  'realtime.fallback_nice': {
    type: 'integer',
    default: -10,
    range: [-20, 0],
    description:
      "with realtime.enabled where SCHED_FIFO is not permitted: the loop thread's nice value instead (lowering it needs CAP_SYS_NICE or RLIMIT_NICE as well; 0: leave it)",
  },
});

export type RealtimeParams = ParamValues<typeof REALTIME_PARAMETERS>;

/** Capabilities of the calling thread that lift the limits (capabilities(7)). */
export interface RealtimeCapabilities {
  /** CAP_SYS_NICE: any real-time priority, any nice value */
  readonly sysNice: boolean;
  /** CAP_IPC_LOCK: locking beyond RLIMIT_MEMLOCK */
  readonly ipcLock: boolean;
}

/** A mapped range of the address space. */
export interface MappedRange {
  readonly start: bigint;
  readonly length: bigint;
  readonly path: string;
}

/** The system calls applyRealtime makes: the real ones through the addon, or a test's. */
export interface RealtimeSystem {
  setScheduler(policy: SettablePolicy, priority: number, resetOnFork: boolean): number;
  getScheduler(): ThreadScheduling;
  limits(): SchedLimits;
  capabilities(): RealtimeCapabilities;
  /** the ranges to lock in RAM */
  codeRanges(): readonly MappedRange[];
  lockRange(start: bigint, length: bigint): number;
  /** set the calling thread's nice value: the errno value, 0 when done */
  setNice(nice: number): number;
  /** the calling thread's nice value */
  nice(): number | undefined;
}

/** What applyRealtime did, read back from the kernel, and how to undo it. */
export interface RealtimeOutcome {
  /** realtime.enabled */
  readonly enabled: boolean;
  /** the loop thread's policy afterwards */
  readonly policy: string;
  /** its real-time priority afterwards (0 under SCHED_OTHER) */
  readonly priority: number;
  /** its nice value afterwards, where known */
  readonly nice: number | undefined;
  /** bytes of code locked in RAM by this call */
  readonly lockedBytes: number;
  /** why real time is not (fully) in effect, when it was asked for */
  readonly cause: string | undefined;
  /** how to log `line`: debug when off, info when in effect, warn when not (fully) */
  readonly level: 'debug' | 'info' | 'warn';
  /** one line saying what happened */
  readonly line: string;
  /** put the thread's policy, priority and nice value back as they were (on the same thread); locked memory stays */
  restore(): void;
}

export interface RealtimeOptions {
  /** what the loop is called in the line, e.g. 'command loop' */
  readonly loop?: string;
  /** the system calls (default: the real ones, through the addon at addonLocation) */
  readonly system?: RealtimeSystem;
  readonly addonLocation?: SchedAddonLocation;
}

const CAP_IPC_LOCK = 14n;
const CAP_SYS_NICE = 23n;
const MIB = 1024 * 1024;

/** The calling thread's effective capabilities (/proc/thread-self/status CapEff); elsewhere root has all. */
export function threadCapabilities(): RealtimeCapabilities {
  try {
    const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/thread-self/status', 'utf8'))?.[1];
    if (hex !== undefined) {
      const effective = BigInt(`0x${hex}`);
      return { sysNice: ((effective >> CAP_SYS_NICE) & 1n) === 1n, ipcLock: ((effective >> CAP_IPC_LOCK) & 1n) === 1n };
    }
  } catch {
    // not Linux: fall through
  }
  const root = process.getuid?.() === 0;
  return { sysNice: root, ipcLock: root };
}

/**
 * The code of the process as mapped now (proc(5), /proc/self/maps): every readable mapping of a
 * file that is mapped executable somewhere (node, its shared libraries, loaded addons) — text,
 * read-only data and relocations alike. Empty off Linux.
 */
export function codeMappings(maps = readMaps()): MappedRange[] {
  const rows: { start: bigint; end: bigint; perms: string; path: string }[] = [];
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s+(\/.*)$/.exec(line);
    if (!m || m[4]!.startsWith('/dev/') || m[4]!.endsWith(' (deleted)')) continue;
    rows.push({ start: BigInt(`0x${m[1]!}`), end: BigInt(`0x${m[2]!}`), perms: m[3]!, path: m[4]! });
  }
  const executable = new Set(rows.filter((r) => r.perms[2] === 'x').map((r) => r.path));
  return rows
    .filter((r) => executable.has(r.path) && r.perms[0] === 'r')
    .map((r) => ({ start: r.start, length: r.end - r.start, path: r.path }));
}

function readMaps(): string {
  try {
    return readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return '';
  }
}

/** The real system calls, through the addon. */
export function systemCalls(addon: SchedAddon): RealtimeSystem {
  return {
    setScheduler: (policy, priority, resetOnFork) => addon.setScheduler(policy, priority, resetOnFork),
    getScheduler: () => addon.getScheduler(),
    limits: () => addon.limits(),
    capabilities: threadCapabilities,
    codeRanges: () => codeMappings(),
    lockRange: (start, length) => addon.lockRange(start, length),
    setNice: setOwnNice,
    nice: () => threadNice(),
  };
}

function setOwnNice(nice: number): number {
  const tid = threadId();
  if (tid === undefined) return constants.errno.ENOSYS;
  try {
    setPriority(tid, nice);
    return 0;
  } catch (err) {
    const code = (err as { info?: { errno?: number }; errno?: number }).info?.errno;
    return typeof code === 'number' ? Math.abs(code) : constants.errno.EACCES;
  }
}

const limitText = (v: number): string =>
  v === Infinity ? 'unlimited' : v >= MIB ? `${(v / MIB).toFixed(0)} MiB` : `${v} bytes`;
const mib = (bytes: number): string => `${(bytes / MIB).toFixed(0)} MiB`;

/** Why sched_setscheduler(SCHED_FIFO, priority) failed, in the terms of sched(7) and getrlimit(2). */
export function fifoRefusal(err: number, priority: number, limits: SchedLimits, caps: RealtimeCapabilities): string {
  const name = errnoName(err);
  if (err !== constants.errno.EPERM) return `${name} from sched_setscheduler`;
  if (caps.sysNice)
    return 'EPERM despite CAP_SYS_NICE: the control group grants no real-time runtime (cpu.rt_runtime_us is 0)';
  const rt = limits.rtprio;
  if (rt === undefined) return 'EPERM: the process is not privileged to use SCHED_FIFO';
  if (rt < priority)
    return `EPERM: RLIMIT_RTPRIO is ${rt}${rt > 0 ? `, below priority ${priority},` : ''} and the process lacks CAP_SYS_NICE`;
  return `EPERM although RLIMIT_RTPRIO is ${rt}: the control group grants no real-time runtime (cpu.rt_runtime_us is 0)`;
}

/** Why lowering the nice value failed (getrlimit(2): RLIMIT_NICE lets nice go down to 20 - the limit). */
function niceRefusal(err: number, nice: number, limits: SchedLimits | undefined): string {
  const name = errnoName(err);
  const limit = limits?.nice;
  if (limit === undefined || limit === Infinity || 20 - limit <= nice) return name;
  return limit === 0
    ? `${name}: RLIMIT_NICE is 0 and the process lacks CAP_SYS_NICE`
    : `${name}: RLIMIT_NICE allows no nice below ${20 - limit}`;
}

interface Lock {
  readonly bytes: number;
  readonly cause?: string;
}

/** Lock the code ranges, unless RLIMIT_MEMLOCK (without CAP_IPC_LOCK) cannot hold them. */
function lockCode(system: RealtimeSystem, limits: SchedLimits, caps: RealtimeCapabilities): Lock {
  const ranges = system.codeRanges();
  const total = ranges.reduce((sum, r) => sum + Number(r.length), 0);
  if (!ranges.length) return { bytes: 0, cause: 'no code mappings to lock (/proc/self/maps is Linux only)' };
  if (!caps.ipcLock && limits.memlock < total)
    return {
      bytes: 0,
      cause: `RLIMIT_MEMLOCK is ${limitText(limits.memlock)}, below the ${mib(total)} of code, and the process lacks CAP_IPC_LOCK`,
    };
  let bytes = 0;
  for (const r of ranges) {
    const err = system.lockRange(r.start, r.length);
    if (err) return { bytes, cause: `mlock of ${r.path}: ${errnoName(err)}` };
    bytes += Number(r.length);
  }
  return { bytes };
}

/**
 * Apply the real-time parameters to the calling thread, which must be the one that runs the loop:
 * SCHED_FIFO at realtime.priority (read back from the kernel) and the code locked in RAM; where
 * SCHED_FIFO is refused, SCHED_OTHER at realtime.fallback_nice. Never throws for a refusal: the
 * outcome's line (a warning) names the cause.
 */
export function applyRealtime(p: RealtimeParams, options: RealtimeOptions = {}): RealtimeOutcome {
  const loop = options.loop ?? 'loop';
  const priority = p['realtime.priority'];
  if (!Number.isInteger(priority) || priority < 1 || priority > 99)
    throw new RangeError(`realtime.priority must be an integer from 1 to 99, got ${priority}`);
  const tid = threadId();
  const thread = `${tid === undefined ? 'thread' : `thread ${tid}`}${isMainThread ? ', the main thread' : ''}`;

  let system = options.system;
  let missing: string | undefined;
  if (!system) {
    try {
      system = systemCalls(loadSchedAddon(options.addonLocation));
    } catch (err) {
      missing = (err as Error).message;
    }
  }
  const readBack = (): ThreadScheduling =>
    system?.getScheduler() ?? procScheduling() ?? { policy: 'SCHED_OTHER', priority: 0, resetOnFork: false };
  const niceNow = (): number | undefined => (system ? system.nice() : threadNice());
  const before = readBack();
  const niceBefore = niceNow();
  let changedPolicy = false;
  let changedNice = false;
  const restore = (): void => {
    if (threadId() !== tid) throw new Error(`realtime: restore() must run on the loop's own thread (${thread})`);
    if (changedPolicy && system) system.setScheduler(before.policy as SettablePolicy, before.priority, true);
    if (changedNice && niceBefore !== undefined) (system?.setNice ?? setOwnNice)(niceBefore);
    changedPolicy = changedNice = false;
  };
  const outcome = (level: RealtimeOutcome['level'], line: string, cause?: string, lockedBytes = 0): RealtimeOutcome => {
    const now = readBack();
    return { enabled: p['realtime.enabled'], ...now, nice: niceNow(), lockedBytes, cause, level, line, restore };
  };

  if (!p['realtime.enabled'])
    return outcome('debug', `real time off (realtime.enabled false): the ${loop} runs ${before.policy}`);

  let refusal: string;
  let limits: SchedLimits | undefined;
  if (system) {
    limits = system.limits();
    const caps = system.capabilities();
    const err = system.setScheduler('SCHED_FIFO', priority, true);
    if (err === 0) {
      changedPolicy = true;
      const now = system.getScheduler();
      if (now.policy !== 'SCHED_FIFO' || now.priority !== priority) {
        const cause = `sched_setscheduler succeeded, but the thread reads back ${now.policy} at priority ${now.priority}`;
        return outcome('warn', `real time NOT in effect for the ${loop} (${thread}): ${cause}`, cause);
      }
      const head = `real time: the ${loop} (${thread}) runs SCHED_FIFO at priority ${priority}${now.resetOnFork ? ' (threads it starts do not inherit it)' : ''}`;
      if (!p['realtime.lock_memory']) return outcome('info', `${head}; memory not locked (realtime.lock_memory false)`);
      const lock = lockCode(system, limits, caps);
      if (lock.cause)
        return outcome(
          'warn',
          `${head}; but its code is NOT locked in RAM: ${lock.cause} (see docs/on-a-robot.md)`,
          `memory: ${lock.cause}`,
          lock.bytes,
        );
      return outcome(
        'info',
        `${head}; ${mib(lock.bytes)} of code locked in RAM (node and its libraries; the JavaScript heap cannot be)`,
        undefined,
        lock.bytes,
      );
    }
    refusal = fifoRefusal(err, priority, limits, caps);
  } else {
    refusal = missing ?? 'the real-time addon is not available';
  }

  // the fallback: SCHED_OTHER at a lower nice value, where that is permitted
  const fallbackNice = p['realtime.fallback_nice'];
  let fallback: string;
  if (fallbackNice === 0 || (niceBefore !== undefined && niceBefore <= fallbackNice)) {
    fallback = `the ${loop} stays SCHED_OTHER at nice ${niceBefore ?? 0}`;
  } else {
    const err = (system?.setNice ?? setOwnNice)(fallbackNice);
    if (err === 0) {
      changedNice = true;
      fallback = `the ${loop} runs SCHED_OTHER at nice ${fallbackNice} instead`;
    } else {
      fallback = `nice ${fallbackNice} was refused as well (${niceRefusal(err, fallbackNice, limits)}), so the ${loop} runs SCHED_OTHER at nice ${niceBefore ?? 0}`;
    }
  }
  return outcome(
    'warn',
    `real time NOT in effect for the ${loop} (${thread}): SCHED_FIFO at priority ${priority} not set: ${refusal}; ${fallback} (see docs/on-a-robot.md)`,
    refusal,
  );
}

/** Figures for a node's metrics: what the loop thread runs. */
export function realtimeMetrics(o: RealtimeOutcome | undefined): Record<string, number | string> {
  if (!o) return {};
  return {
    realtime_policy: o.policy,
    realtime_priority: o.priority,
    realtime_locked_mib: Math.round((o.lockedBytes / MIB) * 10) / 10,
    ...(o.cause ? { realtime_cause: o.cause } : {}),
  };
}

/** The same for /diagnostics values. */
export function realtimeValues(o: RealtimeOutcome | undefined): Record<string, string | number> {
  if (!o) return {};
  return {
    'realtime.policy': o.policy,
    'realtime.priority': o.priority,
    ...(o.nice !== undefined ? { 'realtime.nice': o.nice } : {}),
    'realtime.locked_mib': Math.round((o.lockedBytes / MIB) * 10) / 10,
    ...(o.cause ? { 'realtime.cause': o.cause } : {}),
  };
}
