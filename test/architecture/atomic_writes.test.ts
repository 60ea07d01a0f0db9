import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../../src/util/paths.js';

// Every file the stack writes goes through src/util/atomic_file.ts, so that a kill or a full disk
// never leaves one half written. Checked on the source: a call that writes a file directly
// (writeFile, appendFile, createWriteStream, copyFile, rename, or an open with a write flag) in
// cli/, nodes/, framework/, src/, sim/, hw/ or bench/ fails here with the file and the line,
// unless the allow-list below names it with the reason. Tests are not scanned: they write their
// fixtures as they like. What does not write a file (a serial port's write, the log's console
// stream, process.stdout) does not match.

const HELPER = 'src/util/atomic_file.ts';
const ROOTS = ['cli', 'nodes', 'framework', 'src', 'sim', 'hw', 'bench'];

/** The direct writes allowed: file, the call, and why. */
const ALLOWED: readonly { readonly file: string; readonly call: string; readonly why: string }[] = [
  {
    file: 'src/tensor/file_io.ts',
    call: 'rename',
    why: "a model is a folder: it is swapped in with folder renames (the files in it are written by the helper's pieces)",
  },
  {
    file: 'src/data/lerobot/writer.ts',
    call: 'rename',
    why: 'a dataset is a folder: it is written whole beside its place (each file by the helper) and swapped in with folder renames',
  },
  {
    file: 'framework/bag/mcap_file_writer.ts',
    call: 'openSync',
    why: 'a recording is an append-only log that cannot be written whole first: it is crash-safe by its closed chunks (a kill loses at most the open one; bag_reader.ts reads the rest, repair.ts makes it whole)',
  },
  {
    file: 'framework/bag/repair.ts',
    call: 'renameSync',
    why: 'the repaired MCAP file is written to a temporary file by the chunk writer and renamed over the broken one: the atomic write, done by hand as the file is streamed',
  },
];

const CALLS = [
  'writeFileSync',
  'writeFile',
  'appendFileSync',
  'appendFile',
  'createWriteStream',
  'copyFileSync',
  'copyFile',
  'cpSync',
  'renameSync',
  'rename',
];
// a call of one of them, bare (imported by name) or as a method (fs.writeFileSync, handle.writeFile)
const CALL = new RegExp(`(?<![\\w$])(?:[\\w$]+\\.)?(${CALLS.join('|')})\\s*\\(`, 'g');
// open / openSync with a flag that writes
const OPEN =
  /(?<![\w$])(?:[\w$]+\.)?(openSync|open)\s*\([^()]*,\s*['"`](?:w|a|r\+|wx|ax|w\+|a\+|wx\+|ax\+|as|as\+)['"`]/g;

function sourceFiles(): string[] {
  const root = packageRoot();
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(join(root, d), { withFileTypes: true })) {
      const path = `${d}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
    }
  };
  for (const r of ROOTS) walk(r);
  return out;
}

interface Site {
  readonly file: string;
  readonly line: number;
  readonly call: string;
  readonly text: string;
}

/** the direct writes in a file's code (comment lines skipped) */
function writesIn(file: string): Site[] {
  const sites: Site[] = [];
  readFileSync(join(packageRoot(), file), 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const code = text.trim();
      if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) return;
      for (const re of [CALL, OPEN])
        for (const m of code.matchAll(re)) sites.push({ file, line: i + 1, call: m[1]!, text: code });
    });
  return sites;
}

test('files are written only through src/util/atomic_file.ts (or an allowed, explained exception)', () => {
  const files = sourceFiles();
  assert.ok(files.includes(HELPER), `${HELPER} exists`);
  assert.ok(files.length > 100, `found ${files.length} source files`);
  const sites = files.filter((f) => f !== HELPER).flatMap(writesIn);
  const allowed = (s: Site): boolean => ALLOWED.some((a) => a.file === s.file && a.call === s.call);
  const offending = sites.filter((s) => !allowed(s));
  assert.deepEqual(
    offending.map((s) => `${s.file}:${s.line}: ${s.call} (${s.text})`),
    [],
    'write these through src/util/atomic_file.ts (writeFileAtomic, writeFileAtomicAsync, …)',
  );
  // an allowance that no longer matches anything is dropped, so the list stays the truth
  for (const a of ALLOWED)
    assert.ok(
      sites.some((s) => s.file === a.file && s.call === a.call),
      `allow-list entry ${a.file} ${a.call} matches nothing`,
    );
});

test('the scan finds the writes it is meant to find', () => {
  const found = (code: string): string[] => [...code.matchAll(CALL), ...code.matchAll(OPEN)].map((m) => m[1]!).sort();
  assert.deepEqual(found("writeFileSync(path, 'x');"), ['writeFileSync']);
  assert.deepEqual(found('await fs.promises.writeFile(p, d)'), ['writeFile']);
  assert.deepEqual(found('const s = createWriteStream(p);'), ['createWriteStream']);
  assert.deepEqual(found("appendFileSync(log, line); const fd = openSync(p, 'w');"), ['appendFileSync', 'openSync']);
  assert.deepEqual(found("await open(path, 'a')"), ['open']);
  assert.deepEqual(found("readFileSync(p); openSync(p, 'r'); process.stdout.write('x'); port.write(bytes)"), []);
  assert.deepEqual(found('myWriteFileSync(x); rewriteFile(y)'), []);
});
