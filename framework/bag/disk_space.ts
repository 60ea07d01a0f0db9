import { statfsSync } from 'node:fs';

// The free-space guard of the bag writer: a recording that fills the disk takes the rest of the
// robot's software with it (logs, parameters, models cannot be written), so the writer refuses to
// start, and stops cleanly while recording, when the file system of the bag has less free space
// than a floor. Free space is what an unprivileged process may use (statfs(2) f_bavail × f_bsize).

/** The figures of statfs(2) the check needs (node:fs StatsFs has them). */
export interface FsSpace {
  readonly bsize: number;
  readonly blocks: number;
  readonly bavail: number;
}

export type StatfsFn = (path: string) => FsSpace;

export interface DiskSpaceLimits {
  /** refuse below this many free bytes (default 500 MB) */
  readonly minFreeBytes?: number;
  /** refuse below this fraction of the file system free (default 0.01) */
  readonly minFreeFraction?: number;
  /** the statfs to use (tests inject a small disk) */
  readonly statfs?: StatfsFn;
}

export const DEFAULT_MIN_FREE_BYTES = 500 * 1024 * 1024;
export const DEFAULT_MIN_FREE_FRACTION = 0.01;

const mb = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(0)} MB`;

/** Why there is not enough free space at `path`, or undefined when there is. */
export function lowDiskSpace(path: string, limits: DiskSpaceLimits = {}): string | undefined {
  const statfs = limits.statfs ?? ((p: string) => statfsSync(p));
  const minBytes = limits.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES;
  const minFraction = limits.minFreeFraction ?? DEFAULT_MIN_FREE_FRACTION;
  const s = statfs(path);
  const free = s.bavail * s.bsize;
  const total = s.blocks * s.bsize;
  if (free < minBytes) return `only ${mb(free)} free on the disk of ${path} (the floor is ${mb(minBytes)})`;
  if (total > 0 && free / total < minFraction)
    return `only ${((100 * free) / total).toFixed(1)}% of the disk of ${path} is free (the floor is ${(100 * minFraction).toFixed(1)}%)`;
  return undefined;
}
