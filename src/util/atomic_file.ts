import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { threadId } from 'node:worker_threads';

// How the stack writes every file it makes (replay buffers, models, calibrations, plots, CSVs,
// reports), so that whoever reads it, or a run started after a kill or a power cut, finds the old
// file or the whole new one, never a part: the data goes to a temporary file in the target's
// folder, is flushed to disk (fsync), renamed over the target (rename(2) replaces it in one step
// within a file system), and then the folder is flushed so that the rename itself is on disk
// (fsync(2) on a directory: "Calling fsync() does not necessarily ensure that the entry in the
// directory containing the file has also reached disk. For that an explicit fsync() on a file
// descriptor for the directory is also needed", Linux man-pages, fsync(2)).
//
// A writer killed between the two leaves its temporary, named `<target name>.<pid>.<n>.tmp`: the
// pid of the writer lets a later start remove the temporaries whose writer is gone
// (removeStaleTemps) without touching those of a writer still at work. Writes remove their
// target's stale temporaries first, so they do not pile up. The pieces (a temporary's name, a
// flushed write, a flushed folder) are exported for writers of more than one file, such as a
// model folder (src/tensor/file_io.ts), which swaps whole folders in the same way.

/** What a file is written from: text (UTF-8), bytes, or byte chunks in order. */
export type FileData = string | Uint8Array | Iterable<Uint8Array>;

let sequence = 0;

/** A new temporary path for a write of `target`: in its folder, `<name>.<pid>.<n>.tmp`. */
export function tempPathFor(target: string): string {
  sequence = (sequence + 1) % 1_000_000;
  // threads of one process share the pid: the thread id keeps their names apart
  const n = threadId * 1_000_000 + sequence;
  return join(dirname(target), `${basename(target)}.${process.pid}.${n}.tmp`);
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The pid of the writer of the temporary `name` when it is one of `targetName`'s (both names in
 * one folder), else undefined. Besides this module's names it knows those that earlier versions
 * of the stack left: `.<name>.<pid>.tmp` (calibration files) and `<name>.tmp-<pid>-<random>`
 * (model folders); the replay buffer's `<name>.<pid>.<thread>.tmp` is this module's form.
 */
export function tempWriter(targetName: string, name: string): number | undefined {
  const t = escape(targetName);
  const match =
    new RegExp(`^${t}\\.(\\d+)\\.\\d+\\.tmp$`).exec(name) ??
    new RegExp(`^\\.${t}\\.(\\d+)\\.tmp$`).exec(name) ??
    new RegExp(`^${t}\\.tmp-(\\d+)-[0-9a-z]+$`).exec(name);
  if (!match) return undefined;
  const pid = Number(match[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** Whether process `pid` exists (signal 0 checks without sending; EPERM: it exists, not ours). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the temporaries (files or folders) of `target` left by writers that are gone; returns
 * their paths. Those of this process and of live processes stay (a write may be under way); a
 * folder that cannot be read has none.
 */
export function removeStaleTemps(target: string): string[] {
  const folder = dirname(resolve(target));
  const name = basename(target);
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const pid = tempWriter(name, entry);
    if (pid === undefined || pid === process.pid || processAlive(pid)) continue;
    const path = join(folder, entry);
    rmSync(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}

function chunksOf(data: FileData): Iterable<Uint8Array> {
  if (typeof data === 'string') return [Buffer.from(data, 'utf8')];
  if (data instanceof Uint8Array) return [data];
  return data;
}

function failure(path: string, err: unknown): Error {
  return new Error(`cannot write ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/** Flush a folder's entries (the renames into it) to disk. */
export function syncDir(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function syncDirAsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Write `data` to `path` and flush it to disk; no rename (for files in a temporary folder). */
export function writeFileDurably(path: string, data: FileData): void {
  const fd = openSync(path, 'w');
  try {
    for (const chunk of chunksOf(data)) {
      for (let written = 0; written < chunk.byteLength;)
        written += writeSync(fd, chunk, written, chunk.byteLength - written);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function writeFileDurablyAsync(path: string, data: FileData): Promise<void> {
  const handle = await open(path, 'w');
  try {
    for (const chunk of chunksOf(data)) {
      for (let written = 0; written < chunk.byteLength;)
        written += (await handle.write(chunk, written, chunk.byteLength - written)).bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replace `path` with `data` so that readers see the old file or the whole new one, never a part:
 * a temporary file beside it, flushed, renamed over it, the folder flushed (the folder is made if
 * need be). If anything fails the temporary is removed, `path` is as it was, and the error names
 * `path`.
 */
export function writeFileAtomic(path: string, data: FileData): void {
  const temp = tempPathFor(path);
  try {
    mkdirSync(dirname(path), { recursive: true });
    removeStaleTemps(path);
    writeFileDurably(temp, data);
    renameSync(temp, path);
    syncDir(dirname(path));
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // never made, or already renamed
    }
    throw failure(path, err);
  }
}

/** writeFileAtomic without blocking the thread while the data goes to disk. */
export async function writeFileAtomicAsync(path: string, data: FileData): Promise<void> {
  const temp = tempPathFor(path);
  try {
    await mkdir(dirname(path), { recursive: true });
    removeStaleTemps(path);
    await writeFileDurablyAsync(temp, data);
    await rename(temp, path);
    await syncDirAsync(dirname(path));
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw failure(path, err);
  }
}
