import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Where the package is: its root in a checkout or an ament install, the compiled file of a source
// path, and paths that parameters give relative to the package root.

let root: string | undefined;

/**
 * The dynastack package root: the folder holding its package.json, in a checkout (dist/ beside
 * src/) and in an ament install (share/dynastack/) alike.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && packageName(manifest) === 'dynastack') {
      root = dir;
      return dir;
    }
    const parent = resolve(dir, '..');
    if (parent === dir)
      throw new Error('cannot find the dynastack package root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** The `name` field of a package.json (undefined when it has none). */
function packageName(manifest: string): unknown {
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
}

/** Where compiled JavaScript lives for a source path such as 'nodes/talker.ts'. */
export function compiledPath(sourcePath: string): string {
  return join(packageRoot(), 'dist', sourcePath.replace(/\.ts$/, '.js'));
}

/** A path as parameters give it: absolute, or relative to the package root. */
export function packagePath(path: string): string {
  return isAbsolute(path) ? path : join(packageRoot(), path);
}
