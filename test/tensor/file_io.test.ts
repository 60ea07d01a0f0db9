import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { fileHandler } from '../../src/tensor/file_io.js';
import { ProbabilisticEnsemble } from '../../src/dynamics/ensemble.js';
import { tempWriter } from '../../src/util/atomic_file.js';

// Model folders (model.json + weights.bin): a folder that is missing or not a whole model is
// refused in one line that names the folder and what is wrong; the save writes its files through
// the atomic-file helper's pieces, in a temporary folder named as the helper names temporaries, and
// removes the temporary folders of saves whose process is gone (and only those).

function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'file-io-'));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const ARTIFACTS: tf.io.ModelArtifacts = {
  modelTopology: { class: 'Test' },
  format: 'test',
  generatedBy: 'file_io.test',
  convertedBy: null,
  weightSpecs: [{ name: 'w', shape: [2, 3], dtype: 'float32' }],
  weightData: new Float32Array([1, 2, 3, 4, 5, 6]).buffer,
  userDefinedMetadata: { note: 'hello' },
};

/** the error `load` gives, checked to be one line naming `dir` */
async function loadError(dir: string): Promise<string> {
  let message = '';
  await assert.rejects(fileHandler(dir).load(), (e: Error) => {
    message = e.message;
    return true;
  });
  assert.ok(message.includes(dir), `the message names the folder: ${message}`);
  assert.ok(!message.includes('\n'), `one line: ${message}`);
  return message;
}

test('model folder: saved and loaded back; a missing or broken folder is named in one line with what is wrong', async () => {
  await withDir(async (parent) => {
    const dir = join(parent, 'model');
    await fileHandler(dir).save(ARTIFACTS);
    const back = await fileHandler(dir).load();
    assert.deepEqual(back.userDefinedMetadata, { note: 'hello' });
    assert.deepEqual(Array.from(new Float32Array(back.weightData as ArrayBuffer)), [1, 2, 3, 4, 5, 6]);

    assert.match(await loadError(join(parent, 'nowhere')), /does not exist/);
    const empty = join(parent, 'empty');
    mkdirSync(empty);
    assert.match(await loadError(empty), /no model\.json/);
    const notAFolder = join(parent, 'file');
    writeFileSync(notAFolder, 'x');
    assert.match(await loadError(notAFolder), /not a folder/);

    const json = readFileSync(join(dir, 'model.json'), 'utf8');
    writeFileSync(join(dir, 'model.json'), json.slice(0, 20));
    assert.match(await loadError(dir), /model\.json is not valid JSON/);
    writeFileSync(join(dir, 'model.json'), '{"format":"test"}');
    assert.match(await loadError(dir), /model\.json has no weightsManifest/);
    writeFileSync(join(dir, 'model.json'), json);
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array(10));
    assert.match(await loadError(dir), /weights\.bin holds 10 bytes, the manifest's weights take 24/);
    rmSync(join(dir, 'weights.bin'));
    assert.match(await loadError(dir), /cannot read weights\.bin/);

    // an ensemble from a folder that holds some other model says which folder
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer));
    await assert.rejects(
      ProbabilisticEnsemble.load(dir),
      (e: Error) => e.message.includes(dir) && /format/.test(e.message),
    );
  });
});

test("model folder: the save's temporary folder is the helper's; those of saves whose process is gone are removed", async () => {
  await withDir(async (parent) => {
    const dir = join(parent, 'model');
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    const dead = child.pid!;
    await new Promise((resolve) => child.once('close', resolve));
    for (const name of [`model.${dead}.1.tmp`, `model.tmp-${dead}-x1y2`, `model.${process.ppid}.1.tmp`]) {
      mkdirSync(join(parent, name));
      writeFileSync(join(parent, name, 'weights.bin'), 'partial');
    }
    const written: string[] = [];
    await fileHandler(dir, {
      writeFile: async (path, data) => {
        written.push(path);
        mkdirSync(dirname(path), { recursive: true });
        await Promise.resolve();
        writeFileSync(path, data);
      },
    }).save(ARTIFACTS);
    assert.equal(written.length, 2);
    for (const path of written)
      assert.equal(
        tempWriter('model', basename(dirname(path))),
        process.pid,
        `written in the helper's temporary: ${path}`,
      );
    assert.deepEqual(
      readdirSync(parent).sort(),
      ['model', `model.${process.ppid}.1.tmp`],
      'the live writer keeps its own',
    );
  });
});
