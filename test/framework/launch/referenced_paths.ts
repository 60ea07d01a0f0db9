import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { isScalar, LineCounter, parseDocument, visit } from 'yaml';
import { registry } from '../../../nodes/index.js';
import { loadDefinition } from '../../../framework/runtime/registry.js';

// What the package names inside itself at run time, so that its ament install can be checked to
// hold all of it: the files that launch files, parameter files and node parameter defaults name
// relative to the package root (src/util/paths.ts packagePath) or under $(find-pkg-share dynastack),
// the executables launch files start (lib/dynastack/<exec>), and the native addons a build left in
// native/. Used by test/framework/launch/install_rules.test.ts (CMakeLists.txt's rules, no ROS 2)
// and test/ros2/install.test.ts (a colcon build of the package).

/** One thing the installed package must hold, and who names it. */
export interface Reference {
  /** relative to the package root (share/dynastack in an install), or lib/dynastack/<exec> */
  readonly path: string;
  /** 'launch/demo.launch.yaml:12', 'node sim_bridge: parameter model', … */
  readonly where: string;
}

export interface References {
  /** files under the package root, each once (the first place naming it) */
  readonly files: Reference[];
  /** lib/dynastack/<exec> of every executable a launch file starts */
  readonly executables: Reference[];
  /** paths into the package's own folders that do not exist in the source tree either */
  readonly broken: Reference[];
}

/** The package's own folders: a path starting with one of them is meant to be in the package. */
const PACKAGE_DIRS = ['config/', 'dist/', 'interfaces/', 'launch/', 'lib/', 'native/', 'sim/'];

/** Where runs write their plots, reports and run directories (gitignored): output, never installed. */
const OUTPUT_DIRS = ['out/'];

/**
 * Relative paths inside a text: `a/b.yaml`, `$(find-pkg-share dynastack)/config/x.yaml`, a quoted
 * path inside $(eval …). A path continuing another ('/tmp/x', '$(var out)/a.svg', '~/.config/…')
 * is not one.
 */
export function pathsIn(text: string): string[] {
  const plain = text.replaceAll('$(find-pkg-share dynastack)/', ' ');
  return [...plain.matchAll(/(?<![\w./$~)-])((?:[\w.-]+\/)+[\w.-]*\w)/g)].map((m) => m[1]!);
}

const YAML = /\.ya?ml$/;

function filesUnder(dir: string, pattern: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => pattern.test(f))
    .map((f) => join(dir, f))
    .sort();
}

/** The launch and parameter files of the package (launch/*.yaml, config/**\/*.yaml). */
export function packageYamlFiles(root: string): string[] {
  return [...filesUnder(join(root, 'launch'), YAML), ...filesUnder(join(root, 'config'), YAML)];
}

/** Everything the package at `root` names inside itself (see References). */
export async function referencedPaths(root: string): Promise<References> {
  const files = new Map<string, Reference>();
  const executables = new Map<string, Reference>();
  const broken: Reference[] = [];
  const consider = (text: string, where: string): void => {
    for (const path of pathsIn(text)) {
      if (files.has(path) || OUTPUT_DIRS.some((d) => path.startsWith(d))) continue;
      if (existsSync(join(root, path))) files.set(path, { path, where });
      else if (PACKAGE_DIRS.some((d) => path.startsWith(d))) broken.push({ path, where });
    }
  };
  for (const file of packageYamlFiles(root)) {
    const lines = new LineCounter();
    const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lines });
    const shown = relative(root, file);
    visit(doc, {
      Pair(_, pair) {
        if (!isScalar(pair.value) || typeof pair.value.value !== 'string') return;
        const where = `${shown}:${lines.linePos(pair.value.range?.[0] ?? 0).line}`;
        const key = isScalar(pair.key) ? pair.key.value : undefined;
        const value = pair.value.value;
        if (key === 'exec' && shown.startsWith('launch/') && !value.includes('$(')) {
          const path = `lib/dynastack/${value}`;
          if (!executables.has(path)) executables.set(path, { path, where });
        }
        consider(value, where);
      },
      Scalar(key, node) {
        // list items (a list of paths); pairs' values are taken above
        if (key !== 'key' && key !== 'value' && typeof node.value === 'string')
          consider(node.value, `${shown}:${lines.linePos(node.range?.[0] ?? 0).line}`);
      },
    });
  }
  for (const exec of Object.keys(registry.modules).sort()) {
    const { definition } = await loadDefinition(registry, exec);
    for (const [name, spec] of Object.entries(definition.parameters)) {
      const defaults: unknown[] = Array.isArray(spec.default) ? spec.default : [spec.default];
      for (const d of defaults) if (typeof d === 'string') consider(d, `node ${exec}: default of parameter '${name}'`);
    }
  }
  // the files MuJoCo models <include> (relative to the model's folder), as the sim loads them
  // (a Map's iteration visits what is added meanwhile: the includes of included files too)
  for (const ref of files.values()) {
    if (!ref.path.endsWith('.xml')) continue;
    for (const m of readFileSync(join(root, ref.path), 'utf8').matchAll(/<include\s+file="([^"]+)"/g))
      consider(posix.join(dirname(ref.path), m[1]!), `${ref.path} (<include>)`);
  }
  // the message definitions the codec reads at run time (framework/msgs/definitions.ts)
  for (const f of filesUnder(join(root, 'interfaces'), /\/msg\/\w+\.msg$/))
    consider(relative(root, f), 'read by the codec (framework/msgs/definitions.ts)');
  // the addons a build left (the package's loaders look for them under the package root)
  const release = join(root, 'native', 'build', 'Release');
  for (const f of existsSync(release) ? readdirSync(release).sort() : [])
    if (f.endsWith('.node') && statSync(join(release, f)).isFile())
      consider(`native/build/Release/${f}`, 'built by npm ci (scripts/build-native.js)');
  if (existsSync(join(root, 'native', 'build-failure.txt')))
    consider('native/build-failure.txt', 'written by npm ci when an addon could not be built');
  return { files: [...files.values()], executables: [...executables.values()], broken };
}
