import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

// TF.js artifacts on disk (model.json + weights.bin, the layout tfjs-node writes) without
// tfjs-node, whose file:// handler (tfjs-node/src/io/file_system.ts) is the only built-in one for
// Node: without it, tfjs-core finds no save handler for a file:// URL.
// Saving is atomic with respect to a kill: everything goes to a sibling temp directory, flushed,
// and only then renamed into place. A directory cannot be renamed over a non-empty one, so the
// old model steps aside to `<dir>.old` first; a kill between the two renames leaves it there, and
// load() falls back to it.

const MODEL = 'model.json';
const WEIGHTS = 'weights.bin';

export interface FileHandlerOptions {
  /** how a file is written and flushed (tests inject a failure here) */
  readonly writeFile?: (path: string, data: Uint8Array) => Promise<void>;
}

/** An IOHandler for a model directory. */
export function fileHandler(
  dir: string,
  options: FileHandlerOptions = {},
): Required<Pick<tf.io.IOHandler, 'save' | 'load'>> {
  const writeFile = options.writeFile ?? writeDurably;
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const weights = new Uint8Array(
        artifacts.weightData ? new tf.io.CompositeArrayBuffer(artifacts.weightData).slice() : new ArrayBuffer(0),
      );
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      await mkdir(dirname(dir), { recursive: true });
      await removeStaleTemps(dir);
      const temp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
      try {
        await mkdir(temp);
        await writeFile(join(temp, WEIGHTS), weights);
        await writeFile(join(temp, MODEL), new TextEncoder().encode(JSON.stringify(json)));
        await syncDir(temp);
      } catch (e) {
        await rm(temp, { recursive: true, force: true });
        throw e;
      }
      const old = `${dir}.old`;
      if (await exists(dir)) {
        await rm(old, { recursive: true, force: true });
        await rename(dir, old);
      }
      await rename(temp, dir);
      await syncDir(dirname(dir));
      await rm(old, { recursive: true, force: true });
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      // the old model, if a save was killed between its two renames
      const from = (await exists(join(dir, MODEL))) || !(await exists(join(`${dir}.old`, MODEL))) ? dir : `${dir}.old`;
      const json = JSON.parse(await readFile(join(from, MODEL), 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const buffers = await Promise.all(
          manifest
            .flatMap((group) => group.paths)
            .map(async (p) => {
              const bytes = await readFile(join(from, p));
              return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
            }),
        );
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

async function writeDurably(path: string, data: Uint8Array): Promise<void> {
  const file = await open(path, 'w');
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** flush a directory's entries (the renames), so a power cut after save keeps them */
async function syncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/** temp directories left by killed saves: their process is gone */
async function removeStaleTemps(dir: string): Promise<void> {
  const prefix = `${basename(dir)}.tmp-`;
  for (const name of await readdir(dirname(dir))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !alive(pid))
      await rm(join(dirname(dir), name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: unknown }).code === 'EPERM';
  }
}
