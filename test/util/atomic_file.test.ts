import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  processAlive,
  removeStaleTemps,
  tempPathFor,
  tempWriter,
  writeFileAtomic,
  writeFileAtomicAsync,
} from '../../src/util/atomic_file.js';
import { Rng } from '../../src/util/random.js';

// The one way the stack writes its files (src/util/atomic_file.ts): a reader sees the old file or
// the whole new one, never a part, whatever fails or whenever the writer is killed; the temporary
// files a killed writer leaves carry its pid, so a later start recognises them and removes those
// whose writer is gone (and no other file).

function withDir(body: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
  return Promise.resolve(body(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** the pid of a process that has ended (a child run to its end) */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid!;
  await new Promise((resolve) => child.once('close', resolve));
  assert.equal(processAlive(pid), false);
  return pid;
}

test('atomic write: text, bytes or chunks, the folders made, no temporary left; sync and async alike', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'a', 'b', 'file.csv');
    writeFileAtomic(path, 'x,y\n1,2\n');
    assert.equal(readFileSync(path, 'utf8'), 'x,y\n1,2\n');
    writeFileAtomic(path, [Buffer.from('ab'), new Uint8Array([99, 100])]);
    assert.equal(readFileSync(path, 'utf8'), 'abcd');
    await writeFileAtomicAsync(path, new TextEncoder().encode('async'));
    assert.equal(readFileSync(path, 'utf8'), 'async');
    await writeFileAtomicAsync(join(dir, 'c', 'other.svg'), '<svg/>');
    assert.equal(readFileSync(join(dir, 'c', 'other.svg'), 'utf8'), '<svg/>');
    assert.deepEqual(readdirSync(join(dir, 'a', 'b')), ['file.csv'], 'no temporary file left');
  });
});

test('atomic write: a write that fails leaves the old file as it was, no temporary file, and names the path', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'buffer.bin');
    writeFileAtomic(path, 'old');
    function* failing(): Generator<Uint8Array> {
      yield new Uint8Array(1000).fill(7);
      throw new Error('disk full');
    }
    assert.throws(() => writeFileAtomic(path, failing()), new RegExp(`cannot write ${path}: disk full`));
    await assert.rejects(writeFileAtomicAsync(path, failing()), new RegExp(`cannot write ${path}: disk full`));
    assert.equal(readFileSync(path, 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir), ['buffer.bin']);
    // a folder where the file should go: the rename fails, and the temporary file is removed
    mkdirSync(join(dir, 'target'));
    assert.throws(() => writeFileAtomic(join(dir, 'target'), 'x'), /cannot write .*target/);
    await assert.rejects(writeFileAtomicAsync(join(dir, 'target'), 'x'), /cannot write .*target/);
    assert.deepEqual(readdirSync(dir).sort(), ['buffer.bin', 'target']);
  });
});

test("temporary names: in the target's folder, recognised as its own with the writer's pid, and no other's", () => {
  const temp = tempPathFor('/data/run/buffer.bin');
  assert.ok(temp.startsWith('/data/run/'), temp);
  assert.notEqual(tempPathFor('/data/run/buffer.bin'), temp, 'each write has its own');
  assert.equal(tempWriter('buffer.bin', basename(temp)), process.pid);
  // the names earlier versions used: the replay buffer's, the calibration file's, the model folder's
  assert.equal(tempWriter('buffer.bin', 'buffer.bin.4242.1.tmp'), 4242);
  assert.equal(tempWriter('arm.yaml', '.arm.yaml.4242.tmp'), 4242);
  assert.equal(tempWriter('model', 'model.tmp-4242-k3j5x9'), 4242);
  for (const other of [
    'buffer.bin',
    'buffer.bin2.4242.1.tmp',
    'xbuffer.bin.4242.1.tmp',
    'buffer.bin.old',
    'other.4242.1.tmp',
  ])
    assert.equal(tempWriter('buffer.bin', other), undefined, other);
  assert.equal(tempWriter('model', 'model.old'), undefined);
});

test('stale temporaries: those (files or folders) of a writer that is gone are removed; live writers and other files stay', async () => {
  const dead = await deadPid();
  const live = process.ppid;
  await withDir((dir) => {
    const make = (name: string, folder = false): void => {
      if (folder) {
        mkdirSync(join(dir, name));
        writeFileSync(join(dir, name, 'weights.bin'), 'w');
      } else writeFileSync(join(dir, name), 't');
    };
    make(`buffer.bin.${dead}.1.tmp`);
    make(`buffer.bin.${dead}.77.tmp`);
    make(`buffer.bin.${live}.1.tmp`); // its writer may still be writing
    make(basename(tempPathFor(join(dir, 'buffer.bin')))); // this process's own
    make(`model.${dead}.3.tmp`, true);
    make(`model.tmp-${dead}-abc`, true);
    make('buffer.bin');
    make('notes.txt');
    const removed = removeStaleTemps(join(dir, 'buffer.bin'));
    assert.deepEqual(removed.map((p) => basename(p)).sort(), [`buffer.bin.${dead}.1.tmp`, `buffer.bin.${dead}.77.tmp`]);
    assert.deepEqual(
      removeStaleTemps(join(dir, 'model'))
        .map((p) => basename(p))
        .sort(),
      [`model.${dead}.3.tmp`, `model.tmp-${dead}-abc`],
    );
    const left = readdirSync(dir).sort();
    assert.ok(left.includes(`buffer.bin.${live}.1.tmp`) && left.includes('buffer.bin') && left.includes('notes.txt'));
    assert.equal(left.length, 4, left.join(', '));
    assert.deepEqual(removeStaleTemps(join(dir, 'missing', 'file')), [], 'a folder that does not exist has none');
  });
});

test('atomic write: a writer killed (SIGKILL) mid-write leaves the old or the new file whole; its temporary goes at the next start', async () => {
  const child = fileURLToPath(new URL('./atomic_child.js', import.meta.url));
  const rng = new Rng(5);
  await withDir(async (dir) => {
    const path = join(dir, 'big.bin');
    for (let round = 0; round < 3; round++) {
      const proc = spawn(process.execPath, [child, path], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        let written = 0;
        let armed = false;
        proc.stdout.on('data', (chunk: Buffer) => {
          written += chunk
            .toString()
            .split('\n')
            .filter((l) => l.startsWith('written')).length;
          if (written >= 2 && !armed) {
            armed = true;
            setTimeout(resolve, rng.uniform() * 20);
          }
        });
        proc.on('exit', (code) => reject(new Error(`writer exited early (${code})`)));
      });
      proc.kill('SIGKILL');
      await new Promise((resolve) => proc.once('close', resolve));
      // file k is 2 MB of byte k: what is there must be one of them, whole
      const bytes = readFileSync(path);
      assert.equal(bytes.length, 2 ** 21, `round ${round}: torn file of ${bytes.length} bytes`);
      assert.ok(
        bytes.every((b) => b === bytes[0]),
        `round ${round}: a mixed file`,
      );
      removeStaleTemps(path);
      assert.deepEqual(readdirSync(dir), ['big.bin'], `round ${round}: the killed writer's temporary is removed`);
    }
  });
});
