import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/util/paths.js';

// The test scripts count every result: with --test-force-exit each test file's process exits as its
// last test ends, and results still queued on its stdout pipe were lost (a run of 782 tests reported
// 765, all passing). The scripts preload test/blocking_stdio.ts, which makes those writes blocking:
// the scripts must use it, and it must keep what a process wrote before exiting.

const PRELOAD = './dist/test/blocking_stdio.js';
const BYTES = 1 << 20;

test('npm test and test:ros2 preload blocking stdio wherever they force the exit', () => {
  const scripts = (
    JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts;
  for (const name of ['test', 'test:ros2']) {
    const script = scripts[name] ?? '';
    assert.match(script, /--test-force-exit/, `${name} forces the exit (a failed test cannot hang CI)`);
    assert.ok(script.includes(`--import ${PRELOAD} --test`), `${name} preloads ${PRELOAD}: ${script}`);
  }
});

test('with the preload a process that exits at once still hands over all it wrote to a slow pipe', async () => {
  // 1 MiB written, then process.exit(): without blocking writes all but what the pipe holds (64 KiB)
  // is dropped; the reader here starts only after 300 ms, as a busy test runner would
  const script = `process.stdout.write('x'.repeat(${BYTES})); process.exit(0);`;
  for (const preload of [true, false]) {
    const child = spawn(process.execPath, [...(preload ? ['--import', PRELOAD] : []), '-e', script], {
      cwd: packageRoot(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const closed = once(child, 'close');
    child.stdout.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
    let received = 0;
    child.stdout.on('data', (chunk: Buffer) => (received += chunk.length));
    child.stdout.resume();
    await closed;
    if (preload) assert.equal(received, BYTES, 'with the preload every byte arrives');
    else
      assert.ok(
        received < BYTES,
        `without it the tail is lost (${received} of ${BYTES} bytes): the preload is what saves it`,
      );
  }
});
