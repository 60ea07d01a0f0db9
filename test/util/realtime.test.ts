import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  REALTIME_PARAMETERS,
  applyRealtime,
  codeMappings,
  realtimeMetrics,
  threadCapabilities,
  type RealtimeParams,
  type RealtimeSystem,
} from '../../src/util/realtime.js';
import {
  SchedSupportError,
  defaultSchedAddonPath,
  errnoName,
  loadSchedAddon,
  procScheduling,
  type SchedLimits,
  type SettablePolicy,
  type ThreadScheduling,
} from '../../src/util/thread_priority.js';
import controller from '../../nodes/controller.js';
import { runThread, type Applied, type Inherited } from './realtime_thread.js';
import type { ChildReport } from './realtime_child.js';

// The real-time mode of the command loops (src/util/realtime.ts, native/src/realtime.cc): on a
// thread where it is permitted, the thread runs SCHED_FIFO at the priority, as the kernel reads it
// back both through the addon (sched_getscheduler) and through /proc from another thread, and
// restore() puts it back; where it is not (an injected EPERM with each cause, a process that really
// lacks the right, the addon not built), one warning line names the cause and the loop falls back
// to a lower nice value. A worker started from a SCHED_FIFO thread inherits the policy (pthread
// does), and setThreadNice — what the planning and training workers call when they start — puts it
// back to SCHED_OTHER; with SCHED_RESET_ON_FORK it never inherits it. Every test that changes a
// thread's policy does it in a worker thread of its own, never on the test runner's.

const MIB = 1024 * 1024;
const params = (over: Partial<RealtimeParams> = {}): RealtimeParams => ({
  'realtime.enabled': true,
  'realtime.priority': 50,
  'realtime.lock_memory': true,
  'realtime.fallback_nice': -10,
  ...over,
});
const addonBuilt = existsSync(defaultSchedAddonPath());

/** A kernel of our own: what the calls return is set by the test, and every call is recorded. */
function fakeSystem(
  over: {
    fifo?: number;
    readsBack?: ThreadScheduling;
    limits?: SchedLimits;
    sysNice?: boolean;
    ipcLock?: boolean;
    niceErr?: number;
    ranges?: number[];
  } = {},
): RealtimeSystem & { calls: string[] } {
  let state: ThreadScheduling = { policy: 'SCHED_OTHER', priority: 0, resetOnFork: false };
  let nice = 0;
  const calls: string[] = [];
  return {
    calls,
    setScheduler(policy: SettablePolicy, priority: number, resetOnFork: boolean) {
      calls.push(`setScheduler ${policy} ${priority} ${resetOnFork}`);
      if (policy === 'SCHED_FIFO' && over.fifo) return over.fifo;
      state = policy === 'SCHED_FIFO' && over.readsBack ? over.readsBack : { policy, priority, resetOnFork };
      return 0;
    },
    getScheduler: () => state,
    limits: () => over.limits ?? { rtprio: 0, memlock: 8 * MIB, nice: 0 },
    capabilities: () => ({ sysNice: over.sysNice ?? false, ipcLock: over.ipcLock ?? false }),
    codeRanges: () =>
      (over.ranges ?? [80 * MIB, 9 * MIB]).map((length, i) => ({
        start: BigInt((i + 1) * 0x1000_0000),
        length: BigInt(length),
        path: `/lib/${i}.so`,
      })),
    lockRange(start: bigint, length: bigint) {
      calls.push(`lockRange ${start.toString(16)} ${length}`);
      return 0;
    },
    setNice(value: number) {
      calls.push(`setNice ${value}`);
      if (over.niceErr) return over.niceErr;
      nice = value;
      return 0;
    },
    nice: () => nice,
  };
}

test('the parameters are declared once (realtime.*), and the controller merges that fragment', () => {
  assert.deepEqual(Object.keys(REALTIME_PARAMETERS), [
    'realtime.enabled',
    'realtime.priority',
    'realtime.lock_memory',
    'realtime.fallback_nice',
  ]);
  assert.equal(REALTIME_PARAMETERS['realtime.enabled'].default, false);
  assert.equal(REALTIME_PARAMETERS['realtime.priority'].default, 50);
  assert.deepEqual(REALTIME_PARAMETERS['realtime.priority'].range, [1, 99]);
  assert.equal(REALTIME_PARAMETERS['realtime.lock_memory'].default, true);
  for (const [name, spec] of Object.entries(REALTIME_PARAMETERS))
    assert.equal((controller.parameters as Record<string, unknown>)[name], spec, `the controller declares ${name}`);
  assert.throws(() => applyRealtime(params({ 'realtime.priority': 0 }), { system: fakeSystem() }), RangeError);
});

test('off (realtime.enabled false): nothing changes, one debug line', () => {
  const before = procScheduling();
  const system = fakeSystem();
  const outcome = applyRealtime(params({ 'realtime.enabled': false }), { loop: 'command loop', system });
  assert.equal(outcome.level, 'debug');
  assert.equal(outcome.line, 'real time off (realtime.enabled false): the command loop runs SCHED_OTHER');
  assert.deepEqual(system.calls, []);
  assert.deepEqual(procScheduling(), before);
  assert.equal(realtimeMetrics(outcome)['realtime_policy'], 'SCHED_OTHER');
});

test('on a loop thread, the kernel reads back SCHED_FIFO at the priority where permitted, and restore() undoes it; where not, the warning names the cause', async () => {
  const caps = threadCapabilities();
  const limits = addonBuilt ? loadSchedAddon().limits() : undefined;
  const permitted = addonBuilt && (caps.sysNice || (limits?.rtprio ?? 0) >= 50);
  const worker = new Worker(new URL('./realtime_thread.js', import.meta.url), {
    workerData: { mode: 'apply', params: params({ 'realtime.fallback_nice': 0 }) },
  });
  try {
    const applied = await new Promise<Applied>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const { outcome } = applied;
    assert.ok(applied.tid !== undefined, 'a Linux thread id');
    // read from this thread, through /proc: independent of the addon and of the worker
    const seen = procScheduling(applied.tid);
    const refusedByGroup = /cpu\.rt_runtime_us/.test(outcome.cause ?? '');
    if (permitted && !refusedByGroup) {
      assert.equal(outcome.policy, 'SCHED_FIFO', outcome.line);
      assert.equal(outcome.priority, 50);
      assert.deepEqual(applied.addon, { policy: 'SCHED_FIFO', priority: 50, resetOnFork: true });
      assert.deepEqual(seen, { policy: 'SCHED_FIFO', priority: 50, resetOnFork: false });
      assert.match(
        outcome.line,
        new RegExp(`^real time: the command loop \\(thread ${applied.tid}\\) runs SCHED_FIFO at priority 50`),
      );
      const code = codeMappings().reduce((sum, r) => sum + Number(r.length), 0);
      if (caps.ipcLock || (limits?.memlock ?? 0) >= code) {
        assert.equal(outcome.level, 'info', outcome.line);
        assert.ok(outcome.lockedBytes > 0, 'code locked');
        const vmLck = Number(/^VmLck:\s*(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) * 1024;
        assert.ok(vmLck >= outcome.lockedBytes, `VmLck ${vmLck} B holds the ${outcome.lockedBytes} B locked`);
      } else {
        assert.equal(outcome.level, 'warn');
        assert.match(outcome.line, /its code is NOT locked in RAM: RLIMIT_MEMLOCK is .* CAP_IPC_LOCK/);
      }
      const restored = await new Promise<{ after: ThreadScheduling; proc: ThreadScheduling }>((resolve) => {
        worker.once('message', resolve);
        worker.postMessage('restore');
      });
      assert.equal(restored.after.policy, 'SCHED_OTHER');
      assert.deepEqual(restored.proc, { policy: 'SCHED_OTHER', priority: 0, resetOnFork: false });
    } else {
      assert.equal(outcome.level, 'warn');
      assert.equal(outcome.policy, 'SCHED_OTHER');
      assert.equal(seen?.policy, 'SCHED_OTHER');
      assert.match(
        outcome.line,
        /^real time NOT in effect for the command loop \(thread \d+\): SCHED_FIFO at priority 50 not set: /,
      );
      assert.match(outcome.cause ?? '', addonBuilt ? /^EPERM/ : /the real-time addon is not built/);
    }
  } finally {
    await worker.terminate();
  }
});

test('not permitted (EPERM from sched_setscheduler): one warning line naming the cause, and the nice fallback', () => {
  const cases: { over: Parameters<typeof fakeSystem>[0]; cause: string }[] = [
    {
      over: { fifo: constants.errno.EPERM },
      cause: 'EPERM: RLIMIT_RTPRIO is 0 and the process lacks CAP_SYS_NICE',
    },
    {
      over: { fifo: constants.errno.EPERM, limits: { rtprio: 20, memlock: 0, nice: 0 } },
      cause: 'EPERM: RLIMIT_RTPRIO is 20, below priority 50, and the process lacks CAP_SYS_NICE',
    },
    {
      over: { fifo: constants.errno.EPERM, limits: { rtprio: 99, memlock: 0, nice: 0 } },
      cause:
        'EPERM although RLIMIT_RTPRIO is 99: the control group grants no real-time runtime (cpu.rt_runtime_us is 0)',
    },
    {
      over: { fifo: constants.errno.EPERM, sysNice: true },
      cause: 'EPERM despite CAP_SYS_NICE: the control group grants no real-time runtime (cpu.rt_runtime_us is 0)',
    },
    { over: { fifo: constants.errno.EINVAL }, cause: 'EINVAL from sched_setscheduler' },
  ];
  for (const { over, cause } of cases) {
    const system = fakeSystem(over);
    const outcome = applyRealtime(params(), { loop: 'command loop', system });
    assert.equal(outcome.level, 'warn');
    assert.equal(outcome.cause, cause);
    assert.equal(outcome.policy, 'SCHED_OTHER');
    assert.equal(outcome.nice, -10);
    assert.match(
      outcome.line,
      new RegExp(
        `^real time NOT in effect for the command loop \\(thread \\d+, the main thread\\): SCHED_FIFO at priority 50 not set: ${cause.replace(/[()]/g, '\\$&')}; the command loop runs SCHED_OTHER at nice -10 instead \\(see docs/on-a-robot\\.md\\)$`,
      ),
    );
    assert.equal(outcome.line.split('\n').length, 1, 'one line');
    assert.deepEqual(system.calls, ['setScheduler SCHED_FIFO 50 true', 'setNice -10']);
    outcome.restore();
    assert.deepEqual(system.calls.slice(2), ['setNice 0'], 'restore puts the nice value back, and only that');
  }

  // the fallback refused as well: RLIMIT_NICE 0
  const refused = applyRealtime(params(), {
    loop: 'command loop',
    system: fakeSystem({ fifo: constants.errno.EPERM, niceErr: constants.errno.EACCES }),
  });
  assert.match(
    refused.line,
    /; nice -10 was refused as well \(EACCES: RLIMIT_NICE is 0 and the process lacks CAP_SYS_NICE\), so the command loop runs SCHED_OTHER at nice 0 \(see docs\/on-a-robot\.md\)$/,
  );
  // no fallback asked
  const stays = applyRealtime(params({ 'realtime.fallback_nice': 0 }), {
    loop: 'command loop',
    system: fakeSystem({ fifo: constants.errno.EPERM }),
  });
  assert.match(stays.line, /; the command loop stays SCHED_OTHER at nice 0 \(see/);
});

test('SCHED_FIFO granted: the code is locked range by range, unless RLIMIT_MEMLOCK cannot hold it (one warning)', () => {
  const granted = fakeSystem({ ipcLock: true });
  const ok = applyRealtime(params(), { loop: 'command loop', system: granted });
  assert.equal(ok.level, 'info', ok.line);
  assert.equal(ok.policy, 'SCHED_FIFO');
  assert.equal(ok.lockedBytes, 89 * MIB);
  assert.match(
    ok.line,
    /runs SCHED_FIFO at priority 50 \(threads it starts do not inherit it\); 89 MiB of code locked/,
  );
  assert.deepEqual(granted.calls, [
    'setScheduler SCHED_FIFO 50 true',
    `lockRange 10000000 ${80 * MIB}`,
    `lockRange 20000000 ${9 * MIB}`,
  ]);
  assert.deepEqual(realtimeMetrics(ok), {
    realtime_policy: 'SCHED_FIFO',
    realtime_priority: 50,
    realtime_locked_mib: 89,
  });
  ok.restore();
  assert.equal(granted.calls.at(-1), 'setScheduler SCHED_OTHER 0 true');

  const limited = fakeSystem();
  const warn = applyRealtime(params(), { loop: 'command loop', system: limited });
  assert.equal(warn.level, 'warn');
  assert.equal(warn.policy, 'SCHED_FIFO', 'real time is in effect all the same');
  assert.equal(
    warn.cause,
    'memory: RLIMIT_MEMLOCK is 8 MiB, below the 89 MiB of code, and the process lacks CAP_IPC_LOCK',
  );
  assert.ok(!limited.calls.some((c) => c.startsWith('lockRange')), 'nothing locked past the limit');

  const unlocked = applyRealtime(params({ 'realtime.lock_memory': false }), {
    loop: 'command loop',
    system: fakeSystem(),
  });
  assert.equal(unlocked.level, 'info');
  assert.match(unlocked.line, /memory not locked \(realtime\.lock_memory false\)$/);

  const odd = applyRealtime(params(), {
    loop: 'command loop',
    system: fakeSystem({ readsBack: { policy: 'SCHED_OTHER', priority: 0, resetOnFork: false } }),
  });
  assert.equal(odd.level, 'warn');
  assert.match(odd.line, /sched_setscheduler succeeded, but the thread reads back SCHED_OTHER at priority 0$/);
});

test('a process that really may not (RLIMIT_RTPRIO 0, no CAP_SYS_NICE) gets the kernel EPERM, named in one warning line', () => {
  if (!addonBuilt) {
    // the same one line the loop logs then, with the command that builds the addon
    assert.throws(() => loadSchedAddon(), SchedSupportError);
    assert.throws(() => loadSchedAddon(), /not built .*npm run build:native/);
    return;
  }
  const child = spawnSync(process.execPath, [fileURLToPath(new URL('./realtime_child.js', import.meta.url))], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(child.status, 0, child.stderr);
  const report = JSON.parse(child.stdout) as ChildReport;
  assert.equal(report.lowered, 'done');
  assert.notEqual(report.uid, 0);
  if (report.caps.sysNice) {
    // a non-root user given CAP_SYS_NICE keeps it: SCHED_FIFO is allowed then
    assert.equal(report.policy, 'SCHED_FIFO', report.line);
    return;
  }
  assert.equal(report.level, 'warn');
  assert.equal(report.cause, 'EPERM: RLIMIT_RTPRIO is 0 and the process lacks CAP_SYS_NICE');
  assert.equal(report.kernel?.policy, 'SCHED_OTHER');
  assert.match(report.line, /not set: EPERM: RLIMIT_RTPRIO is 0 and the process lacks CAP_SYS_NICE; .*nice -10/);
});

test('the addon not built: one line naming it, the build failure and the command, and the fallback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rt-addon-'));
  try {
    const addonPath = join(dir, 'native', 'build', 'Release', 'dynastack_rt.node');
    const buildFailurePath = join(dir, 'native', 'build-failure.txt');
    mkdirSync(join(dir, 'native'), { recursive: true });
    writeFileSync(
      buildFailurePath,
      'node-gyp rebuild failed (dynastack_rt.node not built): make: g++: not found\n\nlog\n',
    );
    const before = procScheduling();
    const outcome = applyRealtime(params({ 'realtime.fallback_nice': 0 }), {
      loop: 'command loop',
      addonLocation: { addonPath, buildFailurePath },
    });
    assert.equal(outcome.level, 'warn');
    assert.equal(
      outcome.cause,
      `the real-time addon is not built (node-gyp rebuild failed (dynastack_rt.node not built): make: g++: not found; expected ${addonPath}): build it with \`npm run build:native\``,
    );
    assert.match(outcome.line, /; the command loop stays SCHED_OTHER at nice \d+ \(see docs\/on-a-robot\.md\)$/);
    assert.deepEqual(procScheduling(), before, 'nothing changed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a worker started from a SCHED_FIFO thread inherits it, and setThreadNice (the workers call it first) puts it back to SCHED_OTHER; with SCHED_RESET_ON_FORK it never inherits it', async (t) => {
  if (!addonBuilt) {
    t.skip(`the real-time addon is not built (${defaultSchedAddonPath()}): no thread can go SCHED_FIFO here`);
    return;
  }
  const plain = await runThread<Inherited>({ mode: 'inherit', priority: 50, resetOnFork: false, nice: 5 });
  if (plain.err !== 0) {
    t.skip(`SCHED_FIFO is not permitted here (${errnoName(plain.err)}): no thread can go real-time to start one`);
    return;
  }
  const w = plain.worker!;
  assert.deepEqual(w.before, { policy: 'SCHED_FIFO', priority: 50, resetOnFork: false }, 'pthread inherits the policy');
  assert.equal(w.reset, true);
  assert.deepEqual(w.after, { policy: 'SCHED_OTHER', priority: 0, resetOnFork: false });
  assert.equal(w.nice, 5);

  const reset = await runThread<Inherited>({ mode: 'inherit', priority: 50, resetOnFork: true, nice: 5 });
  assert.equal(reset.err, 0);
  assert.deepEqual(reset.worker!.before, { policy: 'SCHED_OTHER', priority: 0, resetOnFork: false });
  assert.equal(reset.worker!.nice, 5);
});

test('the code to lock: every readable mapping of a file that is mapped executable, nothing else', () => {
  const maps = [
    '55d0a0000000-55d0a1000000 r--p 00000000 08:01 100 /usr/bin/node',
    '55d0a1000000-55d0a5000000 r-xp 01000000 08:01 100 /usr/bin/node',
    '55d0a5000000-55d0a5100000 rw-p 05000000 08:01 100 /usr/bin/node',
    '7f0000000000-7f0000100000 rw-p 00000000 00:00 0 ',
    '7f0000100000-7f0000200000 r--p 00000000 08:01 200 /usr/share/icu/data.dat',
    '7f0000200000-7f0000201000 ---p 00000000 08:01 300 /usr/lib/libc.so.6',
    '7f0000201000-7f0000280000 r-xp 00001000 08:01 300 /usr/lib/libc.so.6',
    '7f0000300000-7f0000301000 r-xp 00000000 08:01 400 /tmp/gone.so (deleted)',
    '7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]',
    '7f0000400000-7f0000401000 rw-s 00000000 00:05 500 /dev/shm/x',
  ].join('\n');
  assert.deepEqual(
    codeMappings(maps).map((r) => `${r.path} ${r.start.toString(16)} ${r.length.toString(16)}`),
    [
      '/usr/bin/node 55d0a0000000 1000000',
      '/usr/bin/node 55d0a1000000 4000000',
      '/usr/bin/node 55d0a5000000 100000',
      '/usr/lib/libc.so.6 7f0000201000 7f000',
    ],
  );
});
