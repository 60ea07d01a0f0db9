import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { removeStaleTemps, syncDirAsync, tempPathFor, writeFileDurablyAsync } from '../util/atomic_file.js';

// TF.js artifacts on disk (model.json + weights.bin, the layout tfjs-node writes) without
// tfjs-node, whose file:// handler (tfjs-node/src/io/file_system.ts) is the only built-in one for
// Node: without it, tfjs-core finds no save handler for a file:// URL.
// Saving is atomic with respect to a kill: everything goes to a sibling temporary folder, named
// and written (each file flushed) through the atomic-file helper (src/util/atomic_file.ts), the
// folder flushed, and only then renamed into place. A folder cannot be renamed over a non-empty
// one, so the old model steps aside to `<dir>.old` first; a kill between the two renames leaves
// it there, and load() falls back to it. The temporary folders of saves whose process is gone are
// removed at the next save (removeStaleTemps). A folder that is missing or not a whole model is
// refused in one line naming it and what is wrong.

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
  const write = options.writeFile ?? writeFileDurablyAsync;
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
      removeStaleTemps(dir);
      const temp = tempPathFor(dir);
      try {
        await mkdir(temp);
        await write(join(temp, WEIGHTS), weights);
        await write(join(temp, MODEL), new TextEncoder().encode(JSON.stringify(json)));
        await syncDirAsync(temp);
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
      await syncDirAsync(dirname(dir));
      await rm(old, { recursive: true, force: true });
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const fail = (what: string): Error => new Error(`model folder ${dir}: ${what}`);
      // the old model, if a save was killed between its two renames
      const from = (await exists(join(dir, MODEL))) || !(await exists(join(`${dir}.old`, MODEL))) ? dir : `${dir}.old`;
      const info = await stat(from).catch(() => undefined);
      if (!info) throw fail('does not exist');
      if (!info.isDirectory()) throw fail('not a folder (a model is a folder of model.json and weights.bin)');
      let text: string;
      try {
        text = await readFile(join(from, MODEL), 'utf8');
      } catch (e) {
        throw fail(`no ${MODEL} in it (${oneLine(e)})`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw fail(`${MODEL} is not valid JSON (${oneLine(e)})`);
      }
      if (!isModelJson(parsed)) throw fail(`${MODEL} has no weightsManifest: not a TF.js model`);
      const json = parsed;
      const specs = json.weightsManifest.flatMap((group) => group.weights);
      const needed = specs.reduce((sum, spec) => sum + weightBytes(spec), 0);
      const buffers: ArrayBuffer[] = [];
      for (const path of json.weightsManifest.flatMap((group) => group.paths)) {
        let bytes: Buffer;
        try {
          bytes = await readFile(join(from, path));
        } catch (e) {
          throw fail(`cannot read ${path} (${oneLine(e)})`);
        }
        buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
      }
      const held = buffers.reduce((sum, b) => sum + b.byteLength, 0);
      if (Number.isFinite(needed) && held !== needed)
        throw fail(
          `${json.weightsManifest.flatMap((group) => group.paths).join(', ')} holds ${held} bytes, the manifest's weights take ${needed} (truncated or corrupt)`,
        );
      try {
        return await tf.io.getModelArtifactsForJSON(json, () =>
          Promise.resolve([specs, tf.io.CompositeArrayBuffer.join(buffers)]),
        );
      } catch (e) {
        throw fail(oneLine(e));
      }
    },
  };
}

/** a parsed model.json, as far as load() relies on it */
function isModelJson(x: unknown): x is tf.io.ModelJSON {
  return typeof x === 'object' && x !== null && Array.isArray((x as { weightsManifest?: unknown }).weightsManifest);
}

const DTYPE_BYTES: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/** bytes a weight takes in weights.bin (Infinity: not known, e.g. strings) */
function weightBytes(spec: tf.io.WeightsManifestEntry): number {
  const count = spec.shape.reduce((p, d) => p * d, 1);
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  return count * (DTYPE_BYTES[dtype] ?? Number.POSITIVE_INFINITY);
}

/** an error's message on one line */
function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ');
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );
