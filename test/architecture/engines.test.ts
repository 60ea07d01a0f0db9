import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import semver from 'semver';
import { packageRoot } from '../../src/util/paths.js';

// The Node.js versions package.json declares must be true: every version it admits must be one that
// every installed package (dependencies, optional and dev alike, from package-lock.json) admits too,
// so `npm ci` never warns EBADENGINE on a version we claim, and the version running the tests is
// one we claim. Ranges are compared on every release line's real minor versions, not by
// semver.subset, which cannot split a range across a union (^20 || >=21).

interface LockEntry {
  readonly version?: string;
  readonly engines?: { readonly node?: string } | readonly string[];
}

const root = packageRoot();
const declared = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines
  .node;
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>;
};

/** Node versions to probe: each major from 18 to 30, minors 0–40, at patch 0 and a late patch. */
function probes(): string[] {
  const out: string[] = [];
  for (let major = 18; major <= 30; major++)
    for (let minor = 0; minor <= 40; minor++) for (const patch of [0, 2, 20]) out.push(`${major}.${minor}.${patch}`);
  return out;
}

test('package.json engines: every Node version it admits is admitted by every installed package', () => {
  assert.ok(semver.validRange(declared), `engines.node '${declared}' is not a semver range`);
  const admitted = probes().filter((v) => semver.satisfies(v, declared));
  assert.ok(admitted.length > 0, `engines.node '${declared}' admits no version`);
  const problems: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    const range =
      entry.engines && !Array.isArray(entry.engines) ? (entry.engines as { node?: string }).node : undefined;
    if (!path || !range || !semver.validRange(range)) continue;
    const refused = admitted.filter((v) => !semver.satisfies(v, range));
    if (refused.length)
      problems.push(
        `${path.replace(/^node_modules\//, '')} needs node ${range}; engines admits ${refused[0]} (and ${refused.length - 1} more)`,
      );
  }
  assert.deepEqual(problems, []);
});

test('the Node.js running the tests is one package.json declares', () => {
  assert.ok(
    semver.satisfies(process.versions.node, declared),
    `node ${process.versions.node} is outside engines.node '${declared}'`,
  );
});
