import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Set the nice value of the calling thread (Linux: setpriority on the thread id), so that heavy
 * work in a worker (learning, planning) yields the CPU to the fixed-rate command loop. Returns
 * false where this is not possible; nothing else changes then.
 */
export function setThreadNice(nice: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid)) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
