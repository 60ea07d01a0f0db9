import {
  loadParamFile,
  parseOverride,
  patternMatches,
  sourcesForNode,
  type ParamFileSection,
  type ParamSource,
} from '../params/file.js';
import type { RemapRule } from './names.js';

// The rcl command-line arguments a ROS 2 node receives (from `ros2 run` or `ros2 launch`):
//   --ros-args [-p|--param [node:]name:=value] [--params-file FILE] [-r|--remap [node:]from:=to]
//              [--log-level [name:=]level] [-e|--enclave X] [logging flags] [--] …
// Read the same way by both transports, so a node gets the same values embedded and under ROS 2.

export type RosArg =
  | { readonly kind: 'remap'; readonly node?: string; readonly from: string; readonly to: string }
  | { readonly kind: 'param'; readonly node?: string; readonly assignment: string; readonly text: string }
  | { readonly kind: 'params_file'; readonly path: string }
  | { readonly kind: 'log_level'; readonly spec: string };

// options of rcl's argument parser that take a value we do not use
const VALUE_OPTIONS = new Set(['-e', '--enclave', '--log-config-file', '--log-file-name']);
// options that take a value and that dynastack reads
const REMAP_OR_LEVEL = new Set(['-r', '--remap', '--log-level']);
// flags of rcl's argument parser that dynastack does not use
const FLAGS = new Set([
  '--enable-stdout-logs',
  '--disable-stdout-logs',
  '--enable-rosout-logs',
  '--disable-rosout-logs',
  '--enable-external-lib-logs',
  '--disable-external-lib-logs',
]);

/** Split '[node:]lhs:=rhs' as rcl does: a colon before ':=' ends a node-name prefix. */
function splitRule(text: string, option: string): { node?: string; lhs: string; rhs: string } {
  const sep = text.indexOf(':=');
  if (sep <= 0 || sep + 2 === text.length)
    throw new Error(`--ros-args ${option} '${text}': expected [node:]name:=value`);
  const left = text.slice(0, sep);
  const colon = left.indexOf(':');
  if (colon === 0) throw new Error(`--ros-args ${option} '${text}': empty node name before ':'`);
  return colon > 0
    ? { node: left.slice(0, colon), lhs: left.slice(colon + 1), rhs: text.slice(sep + 2) }
    : { lhs: left, rhs: text.slice(sep + 2) };
}

/**
 * The remaps, parameter assignments, parameter files and log levels of the process's
 * `--ros-args … [--]` sections, in order, as rcl_parse_arguments reads them. Options rcl knows
 * but dynastack does not use are skipped. Unknown ones are an error when `strict` (the embedded
 * transport, where nothing else reads them), else left for rcl, which refuses them at init.
 */
export function parseRosArgs(argv: readonly string[], strict = false): RosArg[] {
  const out: RosArg[] = [];
  let inRos = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--ros-args') {
      inRos = true;
      continue;
    }
    if (!inRos) continue;
    if (arg === '--') {
      inRos = false;
      continue;
    }
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`--ros-args ${arg} needs a value`);
      return v;
    };
    if (arg === '-r' || arg === '--remap') {
      const { node, lhs, rhs } = splitRule(value(), arg);
      out.push(
        node === undefined ? { kind: 'remap', from: lhs, to: rhs } : { kind: 'remap', node, from: lhs, to: rhs },
      );
    } else if (arg === '-p' || arg === '--param') {
      const text = value();
      const { node, lhs, rhs } = splitRule(text, arg);
      const assignment = `${lhs}:=${rhs}`;
      out.push(node === undefined ? { kind: 'param', assignment, text } : { kind: 'param', node, assignment, text });
    } else if (arg === '--params-file') {
      out.push({ kind: 'params_file', path: value() });
    } else if (arg === '--log-level') {
      out.push({ kind: 'log_level', spec: value().replace(':=', '=') });
    } else if (VALUE_OPTIONS.has(arg)) {
      value();
    } else if (strict && !FLAGS.has(arg)) {
      throw new Error(`--ros-args: unknown argument '${arg}'`);
    }
  }
  return out;
}

/**
 * The remap rules of `args` that apply to a node created as `name`: rules without a node prefix,
 * and rules whose prefix is the node's name before or after a __node remap (rcl compares the
 * prefix with the node name, not its namespace).
 */
export function remapsForNode(args: readonly RosArg[], name: string): RemapRule[] {
  const remaps = args.filter((a): a is Extract<RosArg, { kind: 'remap' }> => a.kind === 'remap');
  const rename = remaps.find(
    (r) => (r.from === '__node' || r.from === '__name') && (r.node === undefined || r.node === name),
  );
  const names = [name, rename?.to ?? name];
  return remaps.filter((r) => r.node === undefined || names.includes(r.node)).map((r) => ({ from: r.from, to: r.to }));
}

/** Whether a node prefix ('talker', '/arm/talker', '/**') names this node. */
function prefixMatches(prefix: string, fullyQualifiedName: string): boolean {
  return patternMatches(prefix.startsWith('/') ? prefix : `/**/${prefix}`, fullyQualifiedName);
}

/**
 * The parameter sources `args` give one node, lowest precedence first, in command-line order as
 * rcl applies them: each --params-file's matching sections (a node's own section is strict about
 * undeclared names, wildcard sections are not), and each -p that has no node prefix or names
 * this node. A -p without prefix goes to every node of the process, so, as in rcl, a node that
 * does not declare it ignores it; a -p that names the node is strict.
 */
export function rosParamSources(
  args: readonly RosArg[],
  fullyQualifiedName: string,
  load: (path: string) => ParamFileSection[] = loadParamFile,
): ParamSource[] {
  const sources: ParamSource[] = [];
  for (const arg of args) {
    if (arg.kind === 'params_file') sources.push(...sourcesForNode(load(arg.path), fullyQualifiedName, arg.path));
    else if (arg.kind === 'param' && (arg.node === undefined || prefixMatches(arg.node, fullyQualifiedName))) {
      sources.push({
        ...parseOverride(arg.assignment, `command line (--ros-args -p ${arg.text})`),
        strict: arg.node !== undefined,
      });
    }
  }
  return sources;
}

/** The arguments outside `--ros-args … [--]` sections. */
export function nonRosArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  let inRos = false;
  for (const arg of argv) {
    if (arg === '--ros-args') inRos = true;
    else if (inRos && arg === '--') inRos = false;
    else if (!inRos) out.push(arg);
  }
  return out;
}

/**
 * The argv to hand rcl_init (through rclnodejs's init): `argv` without the parameter options of its
 * --ros-args sections (-p/--param and --params-file, each with its value); remaps, log options,
 * enclave and the rest stay. dynastack resolves parameters itself (rosParamSources), and rclnodejs
 * 2.2.0 must not see them: each of its nodes turns every section of the process's overrides, other
 * nodes' included, into a Parameter (lib/node.js _getNativeParameterOverrides), whose validation
 * (lib/parameter.js) refuses an integer array ("Type mismatch for parameter 'ids': expected 7, got
 * object"), so one integer array anywhere would stop every node of the process.
 */
export function rclArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  let inRos = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--ros-args') inRos = true;
    else if (inRos && arg === '--') inRos = false;
    else if (inRos && (arg === '-p' || arg === '--param' || arg === '--params-file')) {
      i++; // and its value
      continue;
    } else if (inRos && (VALUE_OPTIONS.has(arg) || REMAP_OR_LEVEL.has(arg)) && i + 1 < argv.length) {
      out.push(arg, argv[++i]!); // a value is never taken for an option
      continue;
    }
    out.push(arg);
  }
  return out;
}

/**
 * Whether rcl would publish the process's log lines on /rosout: yes unless its --ros-args say
 * --disable-rosout-logs (the last of --enable-rosout-logs/--disable-rosout-logs wins), as
 * rcl_parse_arguments reads them (rcl/src/rcl/arguments.c, RCL_LOG_ROSOUT_FLAG_SUFFIX).
 */
export function rosoutLogsEnabled(argv: readonly string[]): boolean {
  let enabled = true;
  let inRos = false;
  for (const arg of argv) {
    if (arg === '--ros-args') inRos = true;
    else if (inRos && arg === '--') inRos = false;
    else if (inRos && arg === '--enable-rosout-logs') enabled = true;
    else if (inRos && arg === '--disable-rosout-logs') enabled = false;
  }
  return enabled;
}
