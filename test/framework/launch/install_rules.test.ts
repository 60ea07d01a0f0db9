import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { packageRoot } from '../../../src/util/paths.js';
import { referencedPaths, type Reference } from './referenced_paths.js';

// CMakeLists.txt's install rules hold everything the package names inside itself (launch files,
// parameter files, models, robot and calibration files, message definitions, native addons, node
// executables), checked without ROS 2 by reading the rules the way CMake applies them: FILES and
// PROGRAMS install each file into DESTINATION, DIRECTORY installs a folder as DESTINATION/<folder
// name> (FILES_MATCHING PATTERN keeping only matching files), file(GLOB) lists files, foreach
// repeats its body; conditions are taken as true. test/ros2/install.test.ts checks the same
// against a real colcon build.

interface Rule {
  readonly kind: 'FILES' | 'PROGRAMS' | 'DIRECTORY';
  /** absolute source paths */
  readonly items: readonly string[];
  readonly destination: string;
  /** FILES_MATCHING PATTERN globs (DIRECTORY only) */
  readonly patterns: readonly string[];
}

/** CMake commands as name and arguments (quoted arguments unquoted), comments dropped. */
function commands(text: string): { name: string; args: string[] }[] {
  const out: { name: string; args: string[] }[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const m = /^[A-Za-z_]\w*/.exec(text.slice(i));
    if (text[i] === '#') {
      while (i < n && text[i] !== '\n') i++;
    } else if (m && /^\s*\(/.test(text.slice(i + m[0].length))) {
      i = text.indexOf('(', i + m[0].length) + 1;
      const args: string[] = [];
      let depth = 0;
      let arg: string | undefined;
      for (; i < n; i++) {
        const c = text[i]!;
        if (c === '"') {
          let s = '';
          for (i++; i < n && text[i] !== '"'; i++) s += (text[i] === '\\' ? text[++i] : text[i]) ?? '';
          arg = (arg ?? '') + s;
        } else if (c === '#') {
          while (i < n && text[i] !== '\n') i++;
        } else if (c === '(') {
          depth++;
          arg = (arg ?? '') + c;
        } else if (c === ')' && depth > 0) {
          depth--;
          arg = (arg ?? '') + c;
        } else if (c === ')' || /\s/.test(c)) {
          if (arg !== undefined) args.push(arg);
          arg = undefined;
          if (c === ')') break;
        } else arg = (arg ?? '') + c;
      }
      i++;
      out.push({ name: m[0].toLowerCase(), args });
    } else i++;
  }
  return out;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '[^/]*')
      .replaceAll('?', '[^/]')}$`,
  );
}

/** The install rules of a CMakeLists.txt at `root`, variables and globs expanded. */
function installRules(text: string, root: string): Rule[] {
  const vars = new Map<string, string[]>([['CMAKE_CURRENT_SOURCE_DIR', [root]]]);
  const expand = (arg: string): string[] => {
    const whole = /^\$\{(\w+)\}$/.exec(arg);
    if (whole) return vars.get(whole[1]!) ?? [];
    return [arg.replace(/\$\{(\w+)\}/g, (_, v: string) => (vars.get(v) ?? []).join(';'))];
  };
  const rules: Rule[] = [];
  const run = (list: readonly { name: string; args: string[] }[]): void => {
    for (let k = 0; k < list.length; k++) {
      const { name, args } = list[k]!;
      const values = args.flatMap(expand);
      if (name === 'foreach') {
        // the body, up to the matching endforeach, once per item (foreach(var a b c) only)
        let depth = 1;
        let end = k + 1;
        for (; end < list.length; end++) {
          if (list[end]!.name === 'foreach') depth++;
          if (list[end]!.name === 'endforeach' && --depth === 0) break;
        }
        for (const item of values.slice(1)) {
          vars.set(values[0]!, [item]);
          run(list.slice(k + 1, end));
        }
        k = end;
      } else perform(name, args, values);
    }
  };
  const perform = (name: string, args: string[], values: string[]): void => {
    if (name === 'project') vars.set('PROJECT_NAME', [values[0]!]);
    else if (name === 'set') vars.set(values[0]!, values.slice(1));
    else if (name === 'file' && values[0] === 'GLOB') {
      const patterns = values
        .slice(2)
        .filter((v, k, all) => v !== 'LIST_DIRECTORIES' && all[k - 1] !== 'LIST_DIRECTORIES');
      vars.set(
        values[1]!,
        patterns.flatMap((p) => {
          const abs = isAbsolute(p) ? p : join(root, p);
          const dir = dirname(abs);
          const re = globToRegExp(basename(abs));
          return existsSync(dir)
            ? readdirSync(dir)
                .filter((f) => re.test(f))
                .map((f) => join(dir, f))
            : [];
        }),
      );
    } else if (name === 'install') {
      const kind = values[0] as Rule['kind'];
      if (!['FILES', 'PROGRAMS', 'DIRECTORY'].includes(kind)) return;
      const at = values.indexOf('DESTINATION');
      assert.ok(at > 0, `install(${args.join(' ')}) has no DESTINATION`);
      const matching = values.indexOf('FILES_MATCHING');
      const patterns = matching < 0 ? [] : values.slice(matching).filter((v, k, all) => all[k - 1] === 'PATTERN');
      rules.push({
        kind,
        items: values.slice(1, at).map((p) => resolve(root, p)),
        destination: values[at + 1]!,
        patterns,
      });
    }
  };
  run(commands(text));
  return rules;
}

/** Where a reference is installed (relative to the install prefix), as ament_cmake lays a package out. */
function installedAt(ref: Reference): string {
  return ref.path.startsWith('lib/') ? ref.path : `share/dynastack/${ref.path}`;
}

/** Whether some rule installs the source file `ref.path` to where the package will look for it. */
function covered(rules: readonly Rule[], ref: Reference, root: string): boolean {
  const source = join(root, ref.path);
  const target = installedAt(ref);
  return rules.some((r) =>
    r.items.some((item) => {
      if (r.kind !== 'DIRECTORY') return item === source && `${r.destination}/${basename(item)}` === target;
      const rel = relative(item, source);
      if (rel.startsWith('..') || isAbsolute(rel)) return false;
      if (r.patterns.length && !r.patterns.some((p) => globToRegExp(p).test(basename(source)))) return false;
      return `${r.destination}/${basename(item)}/${rel}` === target;
    }),
  );
}

/** The references no rule of `cmake` installs. */
async function uninstalled(cmake: string): Promise<string[]> {
  const root = packageRoot();
  const rules = installRules(cmake, root);
  const { files, executables } = await referencedPaths(root);
  return [...files, ...executables]
    .filter((ref) => !covered(rules, ref, root))
    .map((ref) => `${ref.path} (named at ${ref.where})`);
}

test('CMakeLists.txt installs every file the launch files, parameter files and node defaults name, every addon built, every executable', async () => {
  const root = packageRoot();
  const { files, executables, broken } = await referencedPaths(root);
  assert.deepEqual(broken, [], 'paths into the package that do not exist in the source tree');
  // what the check relies on being found at all
  for (const path of [
    'sim/models/cartpole.xml',
    'sim/models/so_arm_body.xml',
    'config/robots/so101_emulated.yaml',
    'config/calibration/so101_emulated.yaml',
    'launch/arm_lqr.launch.yaml',
  ])
    assert.ok(
      files.some((f) => f.path === path),
      `${path} is among the references`,
    );
  assert.ok(executables.some((e) => e.path === 'lib/dynastack/sim_bridge'));
  assert.deepEqual(await uninstalled(readFileSync(join(root, 'CMakeLists.txt'), 'utf8')), []);
});

test('the install check finds what a CMakeLists.txt leaves out', async () => {
  const root = packageRoot();
  const cmake = readFileSync(join(root, 'CMakeLists.txt'), 'utf8');
  const without = cmake
    .split('\n')
    .filter((l) => !l.includes('sim/models DESTINATION') && !l.startsWith('install(PROGRAMS'))
    .join('\n');
  const missing = await uninstalled(without);
  assert.ok(
    missing.some((m) => m.startsWith('sim/models/cartpole.xml (named at ')),
    missing.join('\n'),
  );
  assert.ok(
    missing.some((m) => m.startsWith('lib/dynastack/controller ')),
    missing.join('\n'),
  );
  assert.ok(!missing.some((m) => m.startsWith('config/')), missing.join('\n'));
});
