import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../../src/util/paths.js';

// The import rule of docs/architecture.md, checked on the source: every folder belongs to one
// layer, a layer imports only the layers below it, and inside a layer its folders import in one
// direction too. A new import that breaks the rule fails here with the file, the line and the rule.
// The table below is the rule; docs/architecture.md shows the same table to people.

interface Layer {
  readonly name: string;
  /** folder prefixes (relative to the package root) that make the layer; the longest prefix wins */
  readonly folders: readonly string[];
  /** the layers it may import */
  readonly imports: readonly string[];
  /**
   * Its folders, top first: a folder imports only folders on a later row, or its own row's
   * folders when the row says so. `.` is the layer's own root files.
   */
  readonly order?: readonly (readonly string[])[];
  /** rows whose folders may import each other (none by default) */
  readonly rowsShared?: boolean;
}

export const LAYERS: readonly Layer[] = [
  { name: 'cli', folders: ['cli/'], imports: ['nodes', 'framework', 'domain', 'sim', 'hw', 'util'] },
  { name: 'nodes', folders: ['nodes/'], imports: ['framework', 'domain', 'sim', 'hw', 'util'] },
  {
    name: 'framework',
    folders: ['framework/'],
    imports: ['util'],
    order: [['runtime'], ['launch'], ['foxglove'], ['transport'], ['bag'], ['params', 'msgs'], ['time']],
  },
  {
    name: 'domain',
    folders: ['src/'],
    imports: ['sim', 'util'],
    order: [['rl'], ['control'], ['dynamics', 'tasks', 'estimation'], ['data', 'tensor']],
  },
  { name: 'sim', folders: ['sim/'], imports: ['util'], order: [['robot'], ['mujoco']] },
  {
    name: 'hw',
    folders: ['hw/'],
    imports: ['util'],
    order: [['arm', 'emulator', 'setup', 'input'], ['calibration'], ['.'], ['bus'], ['servos'], ['protocol']],
  },
  { name: 'util', folders: ['src/util/'], imports: [] },
];

/** Packages only one place may import: the seam where a dependency meets the code. */
const PACKAGE_HOMES: Readonly<Record<string, readonly string[]>> = {
  rclnodejs: ['framework/transport/ros2/'],
  serialport: ['hw/bus/'],
  '@mujoco/mujoco': ['sim/mujoco/'],
  // the tensor seam, and the engines of what trains networks: the ensemble's and soft actor-critic's
  '@tensorflow/': ['src/tensor/', 'src/dynamics/', 'src/rl/sac/'],
  winston: ['src/util/'],
  '@foxglove/': ['framework/msgs/'],
  // the rosbag2 MCAP files, and the zstd of their chunks (a more specific name than a scope wins)
  '@mcap/': ['framework/bag/'],
  '@foxglove/wasm-zstd': ['framework/bag/'],
  // the Foxglove WebSocket server (framework/foxglove/) and the WebSocket library under it
  '@foxglove/ws-protocol': ['framework/foxglove/'],
  ws: ['framework/foxglove/'],
};

/** The PACKAGE_HOMES entry that governs a specifier: the longest name or scope it falls under. */
function packageHomeOf(specifier: string): [string, readonly string[]] | undefined {
  let best: [string, readonly string[]] | undefined;
  for (const [pkg, homes] of Object.entries(PACKAGE_HOMES)) {
    const under = specifier === pkg || specifier.startsWith(pkg.endsWith('/') ? pkg : `${pkg}/`);
    if (under && (!best || pkg.length > best[0].length)) best = [pkg, homes];
  }
  return best;
}

const SOURCE_ROOTS = ['cli', 'nodes', 'framework', 'src', 'sim', 'hw'];

function sourceFiles(dir: string): string[] {
  const root = packageRoot();
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(join(root, d), { withFileTypes: true })) {
      const path = `${d}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
    }
  };
  walk(dir);
  return out;
}

interface ImportSite {
  readonly specifier: string;
  readonly line: number;
}

/** Every module a file names: static and dynamic imports, re-exports, and worker entry URLs. */
export function importsOf(text: string): ImportSite[] {
  const sites: ImportSite[] = [];
  const patterns = [
    /\bfrom\s*['"]([^'"\n]+)['"]/g,
    /^\s*import\s*['"]([^'"\n]+)['"]/gm,
    /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g,
    /\bnew URL\(\s*['"](\.{1,2}\/[^'"\n]+)['"]\s*,\s*import\.meta\.url\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const m of text.matchAll(pattern)) {
      sites.push({ specifier: m[1]!, line: text.slice(0, m.index).split('\n').length });
    }
  }
  return sites;
}

function layerOf(path: string): Layer | undefined {
  let best: { layer: Layer; length: number } | undefined;
  for (const layer of LAYERS) {
    for (const folder of layer.folders) {
      if (path.startsWith(folder) && (!best || folder.length > best.length)) best = { layer, length: folder.length };
    }
  }
  return best?.layer;
}

/** The folder of a file inside its layer's ordering ('.' for the layer's root files). */
function folderIn(layer: Layer, path: string): string {
  const prefix = layer.folders.find((f) => path.startsWith(f))!;
  const rest = path.slice(prefix.length);
  return rest.includes('/') ? rest.slice(0, rest.indexOf('/')) : '.';
}

function rowOf(layer: Layer, folder: string): number {
  return layer.order?.findIndex((row) => row.includes(folder)) ?? -1;
}

/** Why an import from `from` to `to` (package-relative paths) breaks the rule, or undefined. */
export function violation(from: string, to: string): string | undefined {
  const a = layerOf(from);
  const b = layerOf(to);
  if (!a || !b) return undefined;
  if (a !== b)
    return a.imports.includes(b.name)
      ? undefined
      : `layer ${a.name} may not import layer ${b.name} (it may import: ${a.imports.join(', ') || 'nothing of the project'})`;
  if (!a.order) return undefined;
  const fa = folderIn(a, from);
  const fb = folderIn(a, to);
  if (fa === fb) return undefined;
  const ra = rowOf(a, fa);
  const rb = rowOf(a, fb);
  if (ra < 0) return `${a.name}: folder '${fa}' is not in the layer's order (add it to LAYERS)`;
  if (rb < 0) return `${a.name}: folder '${fb}' is not in the layer's order (add it to LAYERS)`;
  if (rb > ra) return undefined;
  return `${a.name}: ${fa}/ may import only folders below it (${
    a.order
      .slice(ra + 1)
      .flat()
      .join(', ') || 'none'
  }), not ${fb}/`;
}

const PLANNERS_DIR = 'src/control/planners/';

/**
 * The planner folders' rule: a folder under src/control/planners/ imports no other planner's
 * folder but the shared ones — sampling/ (what the sampling optimisers share) and trajectory/ (what
 * the trajectory optimisers share: differentiable dynamics, residual costs) — and a planner's entry
 * (its index.ts) or its learned_*.ts files also ensemble_mpc/, which makes it a planner over the
 * learned model. The files at the root of planners/ (the entry interface, the registry) are shared by all.
 */
export function plannerFolderViolation(from: string, to: string): string | undefined {
  const folderOf = (path: string): string | undefined => {
    if (!path.startsWith(PLANNERS_DIR)) return undefined;
    const rest = path.slice(PLANNERS_DIR.length);
    return rest.includes('/') ? rest.slice(0, rest.indexOf('/')) : undefined;
  };
  const a = folderOf(from);
  const b = folderOf(to);
  if (a === undefined || b === undefined || a === b || b === 'sampling' || b === 'trajectory') return undefined;
  const file = from.slice(from.lastIndexOf('/') + 1);
  if (b === 'ensemble_mpc' && (file === 'index.ts' || file.startsWith('learned_'))) return undefined;
  return `planners: ${a}/ may import no other planner's folder but sampling/ and trajectory/ (its index.ts and learned_*.ts also ensemble_mpc/), not ${b}/`;
}

test('planner folders stay apart: each imports only the shared sampling/ and trajectory/ (and an entry ensemble_mpc/)', () => {
  const root = packageRoot();
  const problems: string[] = [];
  let checked = 0;
  for (const file of sourceFiles(PLANNERS_DIR.slice(0, -1))) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const { specifier, line } of importsOf(text)) {
      if (!specifier.startsWith('.')) continue;
      checked++;
      const why = plannerFolderViolation(file, normalize(join(dirname(file), specifier)));
      if (why) problems.push(`${file}:${line} imports ${specifier}: ${why}`);
    }
  }
  assert.ok(checked > 50, `only ${checked} imports under ${PLANNERS_DIR}: the scanner is broken`);
  assert.deepEqual(problems, []);
  // and the rule can fail
  const p = PLANNERS_DIR;
  assert.match(
    plannerFolderViolation(`${p}cem/optimizer.ts`, `${p}mppi/optimizer.ts`) ?? '',
    /cem\/ may import no other/,
  );
  assert.match(plannerFolderViolation(`${p}cem/optimizer.ts`, `${p}ensemble_mpc/spec.ts`) ?? '', /not ensemble_mpc\//);
  assert.match(plannerFolderViolation(`${p}lqr/index.ts`, `${p}cem/index.ts`) ?? '', /not cem\//);
  assert.equal(plannerFolderViolation(`${p}cem/index.ts`, `${p}ensemble_mpc/sampling_entry.ts`), undefined);
  assert.equal(plannerFolderViolation(`${p}icem/optimizer.ts`, `${p}sampling/bounds.ts`), undefined);
  assert.equal(plannerFolderViolation(`${p}ilqr/solver.ts`, `${p}trajectory/dense.ts`), undefined);
  assert.equal(plannerFolderViolation(`${p}ilqr/learned_planner.ts`, `${p}ensemble_mpc/planner.ts`), undefined);
  assert.match(plannerFolderViolation(`${p}ilqr/solver.ts`, `${p}ensemble_mpc/planner.ts`) ?? '', /not ensemble_mpc\//);
  assert.equal(plannerFolderViolation(`${p}ensemble_mpc/planning_worker.ts`, `${p}registry.ts`), undefined);
  assert.equal(plannerFolderViolation(`${p}registry.ts`, `${p}cem/index.ts`), undefined);
});

test('imports run one way: every import of the source obeys the layer rule', () => {
  const root = packageRoot();
  const problems: string[] = [];
  let checked = 0;
  for (const dir of SOURCE_ROOTS) {
    for (const file of sourceFiles(dir)) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const { specifier, line } of importsOf(text)) {
        if (specifier.startsWith('.')) {
          const target = normalize(join(dirname(file), specifier));
          const why = violation(file, target);
          checked++;
          if (why) problems.push(`${file}:${line} imports ${relative(root, join(root, target))}: ${why}`);
        } else {
          const home = packageHomeOf(specifier);
          if (home && !home[1].some((h) => file.startsWith(h)))
            problems.push(`${file}:${line} imports ${specifier}, which only ${home[1].join(' or ')} may`);
        }
      }
    }
  }
  assert.ok(checked > 500, `only ${checked} imports were found: the scanner is broken`);
  assert.deepEqual(problems, []);
});

test('the layer rule itself: it refuses what it should', () => {
  // the checker must be able to fail: each of these is a real kind of mistake
  assert.match(
    violation('src/control/safety.ts', 'framework/msgs/types.ts') ?? '',
    /layer domain may not import layer framework/,
  );
  assert.match(violation('src/util/log.ts', 'framework/msgs/types.ts') ?? '', /layer util may not import/);
  assert.match(violation('sim/mujoco/sim.ts', 'src/control/planner.ts') ?? '', /layer sim may not import layer domain/);
  assert.match(
    violation('src/dynamics/ensemble.ts', 'src/control/planner.ts') ?? '',
    /dynamics\/ may import only folders below it/,
  );
  assert.match(violation('framework/time/clock.ts', 'framework/msgs/types.ts') ?? '', /time\/ may import only/);
  assert.match(violation('hw/protocol/types.ts', 'hw/bus/serial_link.ts') ?? '', /protocol\/ may import only/);
  assert.equal(violation('nodes/controller.ts', 'src/control/safety.ts'), undefined);
  assert.equal(violation('cli/main.ts', 'nodes/index.ts'), undefined);
  assert.equal(violation('src/control/planner.ts', 'src/util/log.ts'), undefined);
  // a package's most specific entry decides where it may be imported
  assert.deepEqual(packageHomeOf('@foxglove/wasm-zstd')?.[1], ['framework/bag/']);
  assert.deepEqual(packageHomeOf('@foxglove/rosmsg')?.[1], ['framework/msgs/']);
  assert.deepEqual(packageHomeOf('@foxglove/ws-protocol')?.[1], ['framework/foxglove/']);
  assert.deepEqual(packageHomeOf('ws')?.[1], ['framework/foxglove/']);
  assert.equal(packageHomeOf('wsx'), undefined);
  assert.equal(packageHomeOf('yaml'), undefined);
  assert.deepEqual(
    importsOf(
      "import a from './a.js';\nexport { b } from '../b.js';\nconst w = new Worker(new URL('./w.js', import.meta.url));\nawait import('./c.js');",
    )
      .map((s) => s.specifier)
      .sort(),
    ['../b.js', './a.js', './c.js', './w.js'],
  );
});

test('every source file opens with a header comment saying what it is and why', () => {
  const root = packageRoot();
  const missing: string[] = [];
  for (const dir of [...SOURCE_ROOTS, 'bench', 'test']) {
    for (const file of sourceFiles(dir)) {
      const lines = readFileSync(join(root, file), 'utf8').split('\n');
      // the header is the first comment after the imports (or the first lines of the file)
      const body = lines.findIndex(
        (l) => l.trim() !== '' && !/^(import\b|export (type )?(\*|\{).*\bfrom\b|\s|\}|#!)/.test(l),
      );
      const head = lines.slice(0, Math.max(body, 0) + 1).join('\n');
      if (!/^\s*(\/\/|\/\*)/m.test(head)) missing.push(file);
    }
  }
  assert.deepEqual(missing, [], 'files without a header comment');
});
