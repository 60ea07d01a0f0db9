import { applyRealtime, threadCapabilities, type RealtimeCapabilities } from '../../src/util/realtime.js';
import { errnoName, loadSchedAddon, procScheduling, type ThreadScheduling } from '../../src/util/thread_priority.js';

// A process for test/util/realtime.test.ts that is really not permitted to use SCHED_FIFO: it lowers
// its RLIMIT_RTPRIO to 0 and, when it runs as root, becomes user nobody (setuid drops every
// capability, CAP_SYS_NICE with them), after the modules and the addon are loaded. Then it applies
// the real-time parameters to its main thread as the controller does, and prints what happened as
// JSON on stdout.

export interface ChildReport {
  readonly uid: number | undefined;
  /** lowering RLIMIT_RTPRIO to 0: the errno value, 0 when done */
  readonly lowered: string;
  readonly caps: RealtimeCapabilities;
  readonly level: string;
  readonly line: string;
  readonly cause: string | undefined;
  readonly policy: string;
  readonly kernel: ThreadScheduling | undefined;
}

const NOBODY = 65534;
const addon = loadSchedAddon();
const lowered = addon.lowerLimit('rtprio', 0);
if (process.getuid?.() === 0 && process.setgroups && process.setgid && process.setuid) {
  process.setgroups([NOBODY]);
  process.setgid(NOBODY);
  process.setuid(NOBODY);
}
const outcome = applyRealtime(
  { 'realtime.enabled': true, 'realtime.priority': 50, 'realtime.lock_memory': true, 'realtime.fallback_nice': -10 },
  { loop: 'command loop' },
);
const report: ChildReport = {
  uid: process.getuid?.(),
  lowered: lowered ? errnoName(lowered) : 'done',
  caps: threadCapabilities(),
  level: outcome.level,
  line: outcome.line,
  cause: outcome.cause,
  policy: outcome.policy,
  kernel: procScheduling(),
};
process.stdout.write(JSON.stringify(report));
