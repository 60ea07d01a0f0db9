import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { applyRealtime, type RealtimeOutcome, type RealtimeParams } from '../../src/util/realtime.js';
import {
  loadSchedAddon,
  procScheduling,
  setThreadNice,
  threadId,
  threadNice,
  type ThreadScheduling,
} from '../../src/util/thread_priority.js';

// A worker thread for test/util/realtime.test.ts, so that what the tests make real-time is a thread
// of its own and never the test runner's. workerData.mode says what it does:
// - 'apply': applyRealtime on this thread, post what happened and how the addon reads it back, then
//   restore() when told and post the policy after;
// - 'inherit': go SCHED_FIFO (with or without SCHED_RESET_ON_FORK), start a 'worker' from here and
//   post what that one reports;
// - 'worker': what a planning or training worker does when it starts (setThreadNice), reporting
//   its policy before and after.

export type ThreadRequest =
  | { readonly mode: 'apply'; readonly params: RealtimeParams }
  | { readonly mode: 'inherit'; readonly priority: number; readonly resetOnFork: boolean; readonly nice: number }
  | { readonly mode: 'worker'; readonly nice: number };

export interface Applied {
  readonly tid: number | undefined;
  readonly outcome: Omit<RealtimeOutcome, 'restore'>;
  /** sched_getscheduler(0) through the addon, where it is built */
  readonly addon: ThreadScheduling | string;
}

export interface WorkerReport {
  readonly tid: number | undefined;
  readonly before: ThreadScheduling | undefined;
  readonly reset: boolean;
  readonly after: ThreadScheduling | undefined;
  readonly nice: number | undefined;
}

export interface Inherited {
  /** the starting thread's own setScheduler result (errno, 0: done) */
  readonly err: number;
  readonly worker?: WorkerReport;
}

function addonReading(): ThreadScheduling | string {
  try {
    return loadSchedAddon().getScheduler();
  } catch (err) {
    return (err as Error).message;
  }
}

/** Start a worker of this file and resolve with its first message (it is ended then). */
export function runThread<T>(request: ThreadRequest): Promise<T> {
  const worker = new Worker(new URL('./realtime_thread.js', import.meta.url), { workerData: request });
  return new Promise<T>((resolve, reject) => {
    worker.once('message', (m: T) => {
      void worker.terminate().then(() => resolve(m));
    });
    worker.once('error', reject);
  });
}

const request = isMainThread ? undefined : (workerData as ThreadRequest);
const port = parentPort!;

if (request?.mode === 'apply') {
  const applied = applyRealtime(request.params, { loop: 'command loop' });
  const { enabled, policy, priority, nice, lockedBytes, cause, level, line } = applied;
  const outcome = { enabled, policy, priority, nice, lockedBytes, cause, level, line };
  port.postMessage({ tid: threadId(), outcome, addon: addonReading() } satisfies Applied);
  port.once('message', () => {
    applied.restore();
    port.postMessage({ after: addonReading(), proc: procScheduling() });
  });
} else if (request?.mode === 'inherit') {
  const err = loadSchedAddon().setScheduler('SCHED_FIFO', request.priority, request.resetOnFork);
  const worker = err === 0 ? await runThread<WorkerReport>({ mode: 'worker', nice: request.nice }) : undefined;
  loadSchedAddon().setScheduler('SCHED_OTHER', 0, request.resetOnFork);
  port.postMessage({ err, ...(worker ? { worker } : {}) } satisfies Inherited);
} else if (request?.mode === 'worker') {
  const before = procScheduling();
  const reset = setThreadNice(request.nice);
  port.postMessage({
    tid: threadId(),
    before,
    reset,
    after: procScheduling(),
    nice: threadNice(),
  } satisfies WorkerReport);
}
