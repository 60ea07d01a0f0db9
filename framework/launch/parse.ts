import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve as resolvePath } from 'node:path';
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node as YamlNode,
} from 'yaml';
import { joinNamespace, validateNodeName, type RemapRule } from '../transport/names.js';
import { parseTemplate, plainText, resolve, unescape, type SubstitutionScope, type Template } from './substitutions.js';
import {
  coerceToType,
  conditionValue,
  hasParamType,
  isPyFloat,
  parameterValueProblem,
  PARAM_TYPES,
  PYYAML,
  toBool,
  yamlMessage,
  yamlProblem,
  yamlValue,
  type ParamType,
  type TypedValue,
} from './coercion.js';
import { resolveCommandLine } from './command_line.js';
import { LaunchError, type LaunchContext, type LaunchDescription, type LaunchNode, type LaunchParam } from './types.js';

export { LaunchError } from './types.js';
export type { LaunchContext, LaunchDescription, LaunchNode, LaunchParam } from './types.js';

// ROS 2 YAML launch files (launch_yaml + launch_ros) read the way `ros2 launch` reads them, in two
// steps as launch does: the whole file is parsed first (unknown entities, unknown attributes and
// bad substitution syntax are errors even under a false condition), then its actions run in order
// against launch configurations that scoped groups push and pop. Includes are not scoped.

// ─── errors carry a location ─────────────────────────────────────────────────────────────────────

const located = new WeakSet<Error>();

function fail(where: string, message: string): never {
  const err = new LaunchError(`${where}: ${message}`);
  located.add(err);
  throw err;
}

/** Run f, giving an error that has no location yet this one. */
function locate<T>(where: string, what: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof LaunchError && !located.has(err)) fail(where, `${what}: ${err.message}`);
    throw err;
  }
}

// ─── the YAML front end (launch_yaml's Entity) ───────────────────────────────────────────────────

interface Source {
  readonly path: string;
  readonly display: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v) || isSeq(v)) return 'a list';
  if (isMap(v)) return 'a mapping';
  if (v instanceof Date) return 'a date';
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- v is what a YAML 1.1 scalar held (a string, number, boolean, !!binary bytes…), which String() shows as written
  return `${typeof v === 'number' ? 'a number' : typeof v === 'boolean' ? 'a boolean' : typeof v} (${String(v)})`;
}

/** One entity: its type (the key) and its attributes, which must all be read before it is done. */
class Entity {
  readonly #attrs = new Map<string, YamlNode | null>();
  readonly #read = new Set<string>();
  #childrenRead = false;

  constructor(
    readonly type: string,
    private readonly element: YamlNode | null,
    readonly src: Source,
    readonly where: string,
  ) {
    if (!isMap(element)) return;
    for (const pair of element.items) {
      const key = isScalar(pair.key) ? pair.key.value : undefined;
      const value = this.deref(pair.value as YamlNode | null);
      if (typeof key === 'symbol' && key.description === '<<')
        this.#merge(value); // YAML 1.1 merge keys, which PyYAML applies
      else if (typeof key !== 'string')
        fail(this.at(pair.key as YamlNode), `${type}: attribute names must be strings, got ${describe(key)}`);
      else this.#attrs.set(key, value);
    }
  }

  #merge(value: YamlNode | null): void {
    for (const source of isSeq(value) ? value.items.map((i) => this.deref(i as YamlNode)) : [value]) {
      if (!isMap(source)) fail(this.where, `${this.type}: '<<' must merge mappings`);
      for (const p of source.items) {
        const k = isScalar(p.key) ? String(p.key.value) : '';
        if (!this.#attrs.has(k)) this.#attrs.set(k, this.deref(p.value as YamlNode | null));
      }
    }
  }

  deref(node: YamlNode | null | undefined): YamlNode | null {
    const n = isAlias(node) ? (node.resolve(this.src.doc) ?? null) : (node ?? null);
    return isScalar(n) && n.value === null ? null : n;
  }

  at(node: YamlNode | null | undefined): string {
    const offset = node?.range?.[0];
    return offset === undefined ? this.where : `${this.src.display}:${this.src.lines.linePos(offset).line}`;
  }

  has(name: string): boolean {
    return this.#attrs.has(name);
  }

  /** An attribute's node, marked as read; undefined when absent, null when empty. */
  raw(name: string): YamlNode | null | undefined {
    if (!this.#attrs.has(name)) return undefined;
    this.#read.add(name);
    return this.#attrs.get(name) ?? null;
  }

  string(name: string): string | undefined {
    const node = this.raw(name);
    if (node === undefined) return undefined;
    const v = isScalar(node) ? node.value : node;
    if (typeof v !== 'string') {
      const hint =
        typeof v === 'number' || typeof v === 'boolean'
          ? `; ros2 launch wants a string here, so quote it: '${String(isScalar(node) ? (node.source ?? v) : v)}'`
          : '';
      fail(this.at(node), `${this.type}: '${name}' must be a string, got ${describe(v)}${hint}`);
    }
    return v;
  }

  required(name: string): string {
    const v = this.string(name);
    if (v === undefined) fail(this.where, `${this.type} needs '${name}'`);
    return v;
  }

  template(name: string): Template | undefined {
    const text = this.string(name);
    return text === undefined
      ? undefined
      : locate(this.at(this.#attrs.get(name)), `${this.type} '${name}'`, () => parseTemplate(text));
  }

  requiredTemplate(name: string): Template {
    this.required(name);
    return this.template(name)!;
  }

  bool(name: string): boolean | undefined {
    const node = this.raw(name);
    if (node === undefined) return undefined;
    const v = isScalar(node) ? node.value : node;
    if (typeof v !== 'boolean')
      fail(this.at(node), `${this.type}: '${name}' must be true or false (unquoted), got ${describe(v)}`);
    return v;
  }

  /** A list of sub-entities written as mappings (remap, param, arg of include, …). */
  list(name: string): Entity[] | undefined {
    const node = this.raw(name);
    if (node === undefined) return undefined;
    const items = isSeq(node) ? node.items.map((i) => this.deref(i as YamlNode)) : [];
    if (items.length === 0 || !items.every((i) => isMap(i)))
      fail(this.at(node), `${this.type}: '${name}' must be a non-empty list of mappings`);
    return items.map((i) => new Entity(name, i, this.src, this.at(i)));
  }

  /** The entities inside: the element itself when it is a list, else its 'children'. */
  children(): Entity[] {
    this.#childrenRead = true;
    const list = isSeq(this.element) ? this.element : isMap(this.element) ? this.raw('children') : undefined;
    if (list === undefined)
      fail(this.where, `${this.type} needs a list of entities, written directly or under 'children'`);
    if (!isSeq(list)) fail(this.at(list), `${this.type}: its children must be a list of entities`);
    return list.items.map((item) => {
      const map = this.deref(item as YamlNode);
      const pair = isMap(map) && map.items.length === 1 ? map.items[0]! : undefined;
      const type = pair && isScalar(pair.key) ? pair.key.value : undefined;
      if (typeof type !== 'string')
        fail(
          this.at(map),
          `${this.type}: each entry must be a mapping with one key, the entity type (e.g. '- node: {pkg: …}')`,
        );
      return new Entity(type, this.deref(pair!.value as YamlNode | null), this.src, this.at(map));
    });
  }

  /** ros2 launch rejects attributes nobody read (assert_entity_completely_parsed). */
  done(): void {
    const unread = [...this.#attrs.keys()].filter((k) => !this.#read.has(k));
    if (unread.length)
      fail(
        this.where,
        `${this.type}: unknown attribute${unread.length > 1 ? 's' : ''} ${unread.map((k) => `'${k}'`).join(', ')}`,
      );
    if (isSeq(this.element) && !this.#childrenRead) fail(this.where, `${this.type} does not take a list`);
  }
}

// ─── the parsed launch description ───────────────────────────────────────────────────────────────

type Condition = { readonly unless: boolean; readonly expr: Template } | undefined;
type Pair = readonly [Template, Template];
type ParamValue =
  | { readonly plain: unknown; readonly double?: boolean }
  | { readonly template: Template }
  | { readonly list: readonly ParamValue[] };
interface ParamEntry {
  readonly where: string;
  readonly path: readonly Template[]; // nested params: a.b.c
  readonly value: ParamValue;
  readonly type?: ParamType;
}
type ParamAction =
  | { readonly kind: 'file'; readonly where: string; readonly from: Template; readonly allowSubsts: boolean | Template }
  | { readonly kind: 'values'; readonly entries: readonly ParamEntry[] };

interface NodeAction {
  readonly kind: 'node';
  readonly index: number;
  readonly pkg: Template;
  readonly exec: Template;
  readonly name?: Template;
  readonly namespace?: Template;
  readonly args?: Template;
  readonly rosArgs?: Template;
  readonly params: readonly ParamAction[];
  readonly remaps: readonly Pair[];
  readonly onExit?: 'shutdown';
  readonly ignored: readonly string[];
}

type Action = { readonly type: string; readonly where: string; readonly cond: Condition } & (
  | { readonly kind: 'arg'; readonly name: string; readonly default?: Template; readonly choices?: readonly string[] }
  | { readonly kind: 'let'; readonly name: Template; readonly value: Template }
  | {
      readonly kind: 'group';
      readonly scoped: boolean;
      readonly forwarding: boolean;
      readonly keep: readonly Pair[];
      readonly children: readonly Action[];
    }
  | { readonly kind: 'include'; readonly file: Template; readonly args: readonly Pair[] }
  | { readonly kind: 'namespace'; readonly namespace: Template }
  | { readonly kind: 'set_parameter'; readonly name: Template; readonly value: Template }
  | { readonly kind: 'set_parameters_from_file'; readonly filename: Template }
  | { readonly kind: 'set_remap'; readonly from: Template; readonly to: Template }
  | { readonly kind: 'set_env'; readonly name: Template; readonly value?: Template }
  | { readonly kind: 'log'; readonly message: Template }
  | { readonly kind: 'unsupported' }
  | NodeAction
);

/** Actions ros2 launch has that need a process, a running graph or timing the embedded launcher lacks. */
const UNSUPPORTED_TAGS = new Set([
  'executable',
  'timer',
  'ros_timer',
  'shutdown',
  'reset',
  'reset_env',
  'append_env',
  'node_container',
  'load_composable_node',
  'set_ros_log_dir',
  'set_use_sim_time',
]);
/** Node attributes ros2 launch accepts: harmless ones, and ones the embedded launcher ignores with a warning. */
const SILENT_NODE_ATTRS = ['output', 'emulate_tty', 'exec_name'];
const IGNORED_NODE_ATTRS = [
  'respawn',
  'respawn_delay',
  'respawn_max_retries',
  'launch-prefix',
  'cwd',
  'shell',
  'sigterm_timeout',
  'sigkill_timeout',
];

/** ROS 1 launch tags people carry over, and what ROS 2 has instead. */
const ROS1_TAGS: Readonly<Record<string, string>> = {
  rosparam: "a node's 'param: [{from: file.yaml}]'",
  param: "'set_parameter', or a node's 'param' list",
  remap: "'set_remap', or a node's 'remap' list",
};

function pairs(list: Entity[] | undefined, a: string, b: string): Pair[] {
  return (list ?? []).map((e) => {
    const pair = [e.requiredTemplate(a), e.requiredTemplate(b)] as const;
    e.done();
    return pair;
  });
}

function condition(e: Entity): Condition {
  const ifExpr = e.template('if');
  const unlessExpr = e.template('unless');
  if (ifExpr && unlessExpr) fail(e.where, `${e.type}: 'if' and 'unless' cannot be used together`);
  return ifExpr ? { unless: false, expr: ifExpr } : unlessExpr ? { unless: true, expr: unlessExpr } : undefined;
}

function parseAction(e: Entity, counter: { nodes: number }): Action {
  const base = { type: e.type, where: e.where, cond: condition(e) };
  if (UNSUPPORTED_TAGS.has(e.type)) return { ...base, kind: 'unsupported' };
  let action: Action;
  switch (e.type) {
    case 'arg':
      action = {
        ...base,
        kind: 'arg',
        name: unescape(e.required('name')),
        default: e.template('default'),
        choices: e.list('choice')?.map((c) => {
          const v = unescape(c.required('value'));
          c.done();
          return v;
        }),
      };
      e.string('description');
      break;
    case 'let':
      action = { ...base, kind: 'let', name: e.requiredTemplate('name'), value: e.requiredTemplate('value') };
      break;
    case 'group':
      action = {
        ...base,
        kind: 'group',
        scoped: e.bool('scoped') ?? true,
        forwarding: e.bool('forwarding') ?? true,
        keep: pairs(e.list('keep'), 'name', 'value'),
        children: e.children().map((c) => parseAction(c, counter)),
      };
      break;
    case 'include':
      action = {
        ...base,
        kind: 'include',
        file: e.requiredTemplate('file'),
        args: pairs(e.list('arg'), 'name', 'value'),
      };
      break;
    case 'push_ros_namespace':
    case 'push-ros-namespace':
      action = { ...base, kind: 'namespace', namespace: e.requiredTemplate('namespace') };
      break;
    case 'set_parameter':
      action = { ...base, kind: 'set_parameter', name: e.requiredTemplate('name'), value: e.requiredTemplate('value') };
      break;
    case 'set_parameters_from_file':
      action = { ...base, kind: 'set_parameters_from_file', filename: e.requiredTemplate('filename') };
      break;
    case 'set_remap':
      action = { ...base, kind: 'set_remap', from: e.requiredTemplate('from'), to: e.requiredTemplate('to') };
      break;
    case 'set_env':
      action = { ...base, kind: 'set_env', name: e.requiredTemplate('name'), value: e.requiredTemplate('value') };
      break;
    case 'unset_env':
      action = { ...base, kind: 'set_env', name: e.requiredTemplate('name') };
      break;
    case 'log':
      action = { ...base, kind: 'log', message: e.requiredTemplate('message') };
      break;
    case 'node':
      action = { ...base, ...parseNode(e, ++counter.nodes) };
      break;
    default:
      fail(
        e.where,
        `unknown entity '${e.type}' (ros2 launch has no such action${ROS1_TAGS[e.type] ? `; ROS 2 has ${ROS1_TAGS[e.type]}` : ''})`,
      );
  }
  e.done();
  return action;
}

function parseNode(e: Entity, index: number): NodeAction {
  const pkg = e.template('pkg');
  if (!pkg) fail(e.where, "node needs 'pkg': the embedded launcher starts executables from packages");
  const node: NodeAction = {
    kind: 'node',
    index,
    pkg,
    exec: e.requiredTemplate('exec'),
    name: e.template('name'),
    namespace: e.template('namespace'),
    args: e.template('args'),
    rosArgs: e.template('ros_args'),
    params: (e.list('param') ?? []).map(parseParam),
    remaps: pairs(e.list('remap'), 'from', 'to'),
    ...onExit(e),
    ignored: IGNORED_NODE_ATTRS.filter((a) => e.raw(a) !== undefined),
  };
  for (const a of SILENT_NODE_ATTRS) e.raw(a);
  const env = e.list('env');
  for (const v of env ?? []) {
    v.required('name');
    v.required('value');
    v.done();
  }
  return env ? { ...node, ignored: [...node.ignored, 'env'] } : node;
}

/**
 * A node's `on_exit`: what happens when its process exits. launch (Jazzy) takes the attribute as a
 * plain string, with no substitutions, and only `shutdown` (launch/actions/execute_process.py,
 * ExecuteProcess.parse: "Other on_exit actions not yet supported"): the whole launch shuts down.
 */
function onExit(e: Entity): { onExit?: 'shutdown' } {
  const value = e.string('on_exit');
  if (value === undefined) return {};
  if (value !== 'shutdown')
    fail(
      e.where,
      `node: on_exit must be 'shutdown' (the only action ros2 launch takes there, ending the launch when the node exits), got '${value}'`,
    );
  return { onExit: value };
}

function parseParam(p: Entity): ParamAction {
  const from = p.template('from');
  const allow = p.raw('allow_substs');
  if (from && p.has('name')) fail(p.where, "param: 'name' and 'from' are mutually exclusive");
  if (from) {
    const v = allow === undefined || allow === null ? false : isScalar(allow) ? allow.value : allow;
    if (typeof v !== 'boolean' && typeof v !== 'string')
      fail(p.where, `param: 'allow_substs' must be true or false, got ${describe(v)}`);
    p.done();
    return { kind: 'file', where: p.where, from, allowSubsts: typeof v === 'string' ? parseTemplate(v) : v };
  }
  if (!p.has('name'))
    fail(p.where, "param needs 'name' (with 'value' or nested 'param' entries) or 'from' (a parameter file)");
  if (allow !== undefined) fail(p.where, "param: 'allow_substs' only goes with 'from'");
  return { kind: 'values', entries: paramEntries(p, []) };
}

function paramEntries(p: Entity, prefix: readonly Template[]): ParamEntry[] {
  const path = [...prefix, p.requiredTemplate('name')];
  const typeName = p.string('type');
  if (typeName !== undefined && !(PARAM_TYPES as readonly string[]).includes(typeName))
    fail(p.where, `param: type '${typeName}' is not one of ${PARAM_TYPES.join(', ')}`);
  const type = typeName as ParamType | undefined;
  const value = p.raw('value');
  const nested = p.list('param');
  p.done();
  if (value && nested) fail(p.where, "param: 'value' and nested 'param' entries are mutually exclusive");
  if (type && nested) fail(p.where, "param: 'type' and nested 'param' entries are mutually exclusive");
  if (nested) return nested.flatMap((n) => paramEntries(n, path));
  if (!value) fail(p.where, "param needs a 'value' or nested 'param' entries");
  return [{ where: p.at(value), path, value: paramValue(p, value), ...(type ? { type } : {}) }];
}

/** Launch keeps plain YAML values as typed; strings with substitutions are typed after substitution. */
function paramValue(p: Entity, node: YamlNode | null, inList = false): ParamValue {
  if (isSeq(node) && !inList) return { list: node.items.map((i) => paramValue(p, p.deref(i as YamlNode), true)) };
  const v = isScalar(node) ? node.value : node;
  if (typeof v === 'string') {
    const t = locate(p.at(node), 'param', () => parseTemplate(v));
    const plain = plainText(t);
    return plain === undefined ? { template: t } : { plain };
  }
  if (typeof v === 'number') return { plain: v, double: isPyFloat(node) };
  if (typeof v === 'boolean') return { plain: v };
  fail(
    p.at(node),
    `param: ${describe(v)} is not a parameter value${isMap(v) ? " (nest mappings with 'param' entries)" : ''}`,
  );
}

// ─── running it ──────────────────────────────────────────────────────────────────────────────────

/** What launch keeps in its launch configurations and scopes with groups. */
interface Frame {
  readonly configs: Map<string, string>;
  readonly env: Map<string, string>;
  namespace: string | undefined; // 'ros_namespace', set by push_ros_namespace
  readonly params: LaunchParam[]; // 'global_params', set by set_parameter(s_from_file)
  readonly remaps: RemapRule[]; // 'ros_remaps', set by set_remap
}

const copyFrame = (f: Frame): Frame => ({
  configs: new Map(f.configs),
  env: new Map(f.env),
  namespace: f.namespace,
  params: [...f.params],
  remaps: [...f.remaps],
});

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** Arguments a file requires unconditionally: what launch checks at an include, before running it. */
function requiredArgs(
  actions: readonly Action[],
  conditional = false,
  seen = new Set<string>(),
): Extract<Action, { kind: 'arg' }>[] {
  const out: Extract<Action, { kind: 'arg' }>[] = [];
  for (const a of actions) {
    if (a.kind === 'arg' && !seen.has(a.name)) {
      seen.add(a.name); // the first declaration counts
      if (!a.default && !a.cond && !conditional) out.push(a);
    }
    // a non-forwarding group resets the configurations: arguments inside cannot come from outside
    if (a.kind === 'group' && !(a.scoped && !a.forwarding))
      out.push(...requiredArgs(a.children, conditional || !!a.cond, seen));
  }
  return out;
}

function declaredArgs(actions: readonly Action[], out: Set<string>): void {
  for (const a of actions) {
    if (a.kind === 'arg') out.add(a.name);
    if (a.kind === 'group') declaredArgs(a.children, out);
  }
}

class Run {
  frame: Frame;
  readonly #initialEnv: Map<string, string>;
  readonly #files: string[] = [];
  readonly cwd: string;
  readonly nodes: LaunchNode[] = [];
  readonly warnings: string[] = [];
  readonly logs: string[] = [];
  readonly declared = new Set<string>();
  readonly rootArgs: Record<string, string> = {};

  constructor(private readonly context: LaunchContext) {
    this.cwd = context.cwd ?? process.cwd();
    const env = Object.entries(context.env ?? process.env).filter((e): e is [string, string] => e[1] !== undefined);
    this.#initialEnv = new Map(env);
    this.frame = { configs: new Map(), env: new Map(env), namespace: undefined, params: [], remaps: [] };
  }

  display(path: string): string {
    const rel = relative(this.cwd, path);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
  }

  #scope(): SubstitutionScope {
    return {
      configs: this.frame.configs,
      env: this.frame.env,
      file: this.#files[this.#files.length - 1]!,
      cwd: this.cwd,
      context: this.context,
    };
  }

  #r(t: Template): string {
    return resolve(t, this.#scope());
  }

  /** Parse a launch file's text into actions. */
  parse(text: string, path: string): Action[] {
    const lines = new LineCounter();
    const doc = parseDocument(text, { ...PYYAML, lineCounter: lines, prettyErrors: true });
    const src: Source = { path, display: this.display(path), doc, lines };
    const error = yamlProblem(doc);
    if (error) {
      const pos = error.linePos?.[0] ?? { line: 1, col: 1 };
      fail(`${src.display}:${pos.line}:${pos.col}`, `not valid YAML: ${yamlMessage(error)}`);
    }
    const root = doc.contents;
    const file = new Entity('file', root, src, `${src.display}:1`);
    if (!isMap(root) || root.items.length !== 1 || !file.has('launch'))
      fail(`${src.display}:1`, "a launch file is a mapping with one key, 'launch'");
    const entity = new Entity('launch', file.raw('launch')!, src, file.at(root.items[0]!.key));
    const deprecated = entity.string('deprecated');
    if (deprecated !== undefined) this.warnings.push(`launch file ${src.display} is deprecated: ${deprecated}`);
    const counter = { nodes: 0 };
    const actions = entity.children().map((c) => parseAction(c, counter));
    entity.done();
    declaredArgs(actions, this.declared);
    return actions;
  }

  /** The first argument a file requires that is not given, described. */
  missing(actions: readonly Action[], given: readonly string[]): string | undefined {
    const arg = requiredArgs(actions).find((a) => !given.includes(a.name));
    return (
      arg &&
      `launch argument '${arg.name}' (declared at ${arg.where}, no default) is not given; given: ${given.length ? given.join(', ') : 'none'}`
    );
  }

  runFile(path: string, actions: readonly Action[]): void {
    this.#files.push(path);
    try {
      for (const a of actions) this.#exec(a);
    } finally {
      this.#files.pop();
    }
  }

  #exec(a: Action): void {
    locate(a.where, a.type, () => {
      if (a.cond) {
        const holds = locate(a.where, `${a.type}: ${a.cond.unless ? 'unless' : 'if'}`, () =>
          conditionValue(this.#r(a.cond!.expr)),
        );
        if (holds === a.cond.unless) return;
      }
      this.#perform(a);
    });
  }

  #perform(a: Action): void {
    const f = this.frame;
    switch (a.kind) {
      case 'arg': {
        if (!f.configs.has(a.name)) {
          if (!a.default)
            throw new LaunchError(`required launch argument '${a.name}' was not given (${a.name}:=value)`);
          f.configs.set(a.name, this.#r(a.default));
        }
        const value = f.configs.get(a.name)!;
        if (a.choices && !a.choices.includes(value))
          throw new LaunchError(
            `argument '${a.name}' is '${value}', not one of ${a.choices.map((c) => `'${c}'`).join(', ')}`,
          );
        if (this.#files.length === 1) this.rootArgs[a.name] = value;
        return;
      }
      case 'let':
        f.configs.set(this.#r(a.name), this.#r(a.value));
        return;
      case 'group': {
        this.#group(a);
        return;
      }
      case 'include': {
        this.#include(a);
        return;
      }
      case 'namespace': {
        const pushed = this.#r(a.namespace);
        try {
          f.namespace = joinNamespace(f.namespace ?? '/', pushed);
        } catch (err) {
          throw new LaunchError(
            `the resulting namespace is invalid (previous '${f.namespace ?? '/'}', pushed '${pushed}'): ${(err as Error).message}`,
          );
        }
        return;
      }
      case 'set_parameter': {
        // launch_ros gives these to every node in scope as a '/**' parameter file: a node that
        // does not declare the parameter ignores it
        const name = this.#r(a.name);
        const { value, double } = locate(a.where, `${a.type} '${name}'`, () => yamlValue(this.#r(a.value), false));
        f.params.push({ kind: 'value', name, value, ...(double ? { double } : {}), global: true });
        return;
      }
      case 'set_parameters_from_file': {
        const path = resolvePath(this.cwd, this.#r(a.filename));
        if (!isFile(path)) throw new LaunchError(`parameter file ${path} does not exist`);
        f.params.push({ kind: 'file', path });
        return;
      }
      case 'set_remap':
        f.remaps.push({ from: this.#r(a.from), to: this.#r(a.to) });
        return;
      case 'set_env': {
        const name = this.#r(a.name);
        if (a.value) f.env.set(name, this.#r(a.value));
        else f.env.delete(name);
        this.warnings.push(
          `${a.where}: ${a.type} changes what $(env ${name}) gives in this launch description only; embedded nodes share the launcher's environment`,
        );
        return;
      }
      case 'log':
        this.logs.push(this.#r(a.message));
        return;
      case 'unsupported':
        throw new LaunchError(`'${a.type}' works under ros2 launch, but the embedded launcher does not support it`);
      case 'node':
        this.nodes.push(this.#node(a));
        return;
    }
  }

  #group(a: Extract<Action, { kind: 'group' }>): void {
    const outer = this.frame;
    if (!a.scoped) {
      for (const [k, v] of a.keep) outer.configs.set(this.#r(k), this.#r(v));
      for (const c of a.children) this.#exec(c);
      return;
    }
    if (a.forwarding) {
      this.frame = copyFrame(outer);
      for (const [k, v] of a.keep) this.frame.configs.set(this.#r(k), this.#r(v));
    } else {
      // ResetLaunchConfigurations: only the kept values, evaluated outside, and the original environment
      const kept = a.keep.map(([k, v]) => [this.#r(k), this.#r(v)] as const);
      this.frame = {
        configs: new Map(kept),
        env: new Map(this.#initialEnv),
        namespace: undefined,
        params: [],
        remaps: [],
      };
    }
    try {
      for (const c of a.children) this.#exec(c);
    } finally {
      this.frame = outer;
    }
  }

  #include(a: Extract<Action, { kind: 'include' }>): void {
    const written = this.#r(a.file);
    const target = resolvePath(this.cwd, written);
    if (!isFile(target)) {
      const beside = resolvePath(dirname(this.#files[this.#files.length - 1]!), written);
      const hint =
        !isAbsolute(written) && isFile(beside)
          ? `; relative paths are resolved from the working directory, as ros2 launch does: write '$(dirname)/${written}'`
          : '';
      throw new LaunchError(`included file ${target} does not exist${hint}`);
    }
    if (/\.(py|xml)$/.test(target))
      throw new LaunchError(`${target}: only YAML launch files can be included by the embedded launcher`);
    if (this.#files.includes(target)) {
      throw new LaunchError(
        `include cycle: ${[...this.#files.slice(this.#files.indexOf(target)), target].map((p) => this.display(p)).join(' → ')}`,
      );
    }
    const actions = this.parse(readFileSync(target, 'utf8'), target);
    const missing = this.missing(
      actions,
      a.args.map(([n]) => this.#r(n)),
    );
    if (missing) throw new LaunchError(`${missing} (pass it with the include's 'arg' list)`);
    // IncludeLaunchDescription sets its arguments in the including scope, one after another
    for (const [n, v] of a.args) this.frame.configs.set(this.#r(n), this.#r(v));
    try {
      this.runFile(target, actions);
    } catch (err) {
      if (err instanceof LaunchError) err.message += `\n  included from ${a.where}`;
      throw err;
    }
  }

  #node(a: Extract<Action, { kind: 'node' }>): LaunchNode {
    const scope = this.#scope();
    const pkg = this.#r(a.pkg);
    const exec = this.#r(a.exec);
    const name = a.name && this.#r(a.name);
    if (name !== undefined) {
      try {
        validateNodeName(name);
      } catch (err) {
        throw new LaunchError((err as Error).message);
      }
    }
    const written = a.namespace && this.#r(a.namespace);
    let namespace: string;
    try {
      namespace = joinNamespace(this.frame.namespace ?? '/', written);
    } catch (err) {
      throw new LaunchError(`namespace: ${(err as Error).message}`);
    }
    const label = name ?? exec;
    for (const attr of a.ignored)
      this.warnings.push(`${a.where}: node ${label}: '${attr}' is ignored by the embedded launcher`);
    return {
      pkg,
      exec,
      ...(name !== undefined ? { name } : {}),
      namespace,
      parameters: [...this.frame.params, ...a.params.flatMap((p) => this.#params(p))],
      remaps: [...this.frame.remaps, ...a.remaps.map(([from, to]) => ({ from: this.#r(from), to: this.#r(to) }))],
      args: a.args ? resolveCommandLine(a.args, scope) : [],
      rosArgs: a.rosArgs ? resolveCommandLine(a.rosArgs, scope) : [],
      ...(a.onExit ? { onExit: a.onExit } : {}),
      origin: `${a.where}: node #${a.index} (${label})`,
    };
  }

  #params(p: ParamAction): LaunchParam[] {
    if (p.kind === 'values') {
      return p.entries.map((e) => {
        const name = e.path.map((t) => this.#r(t)).join('.');
        return locate(e.where, `param '${name}'`, (): LaunchParam => {
          const { value, double } = this.#value(e.value, e.type);
          return { kind: 'value', name, value, ...(double ? { double } : {}) };
        });
      });
    }
    const path = resolvePath(this.cwd, this.#r(p.from));
    const substs = typeof p.allowSubsts === 'boolean' ? p.allowSubsts : toBool(this.#r(p.allowSubsts), 'allow_substs');
    if (substs)
      fail(p.where, `param: 'allow_substs' (substitutions inside ${path}) is not supported by the embedded launcher`);
    if (!isFile(path)) {
      this.warnings.push(`${p.where}: parameter file ${path} is not a file; skipped, as ros2 launch does`);
      return [];
    }
    return [{ kind: 'file', path }];
  }

  /** A parameter's value, and whether it is a double (a float, or a list with floats, as launch_ros makes them). */
  #value(v: ParamValue, type: ParamType | undefined): TypedValue {
    if ('plain' in v) {
      const double = v.double === true;
      if (type && (!hasParamType(v.plain, type) || (type === 'int' && double))) {
        const hint =
          typeof v.plain === 'string'
            ? '; ros2 launch converts a quoted value only when it holds a substitution, so write it unquoted'
            : '';
        const shown = double && Number.isInteger(v.plain) ? (v.plain as number).toFixed(1) : JSON.stringify(v.plain);
        throw new LaunchError(`${shown} is not of type ${type}${hint}`);
      }
      return { value: v.plain, double: double || type === 'float' };
    }
    if ('template' in v) return coerceToType(this.#r(v.template), type);
    if (type && type !== 'yaml' && !type.startsWith('list_of_')) throw new LaunchError(`a list is not of type ${type}`);
    const itemType = type?.startsWith('list_of_') ? (type.slice(8) as ParamType) : undefined;
    const items = v.list.map((i) => this.#value(i, itemType));
    const values = items.map((i) => i.value);
    const problem = parameterValueProblem(values);
    if (problem) throw new LaunchError(problem);
    return { value: values, double: items.some((i) => i.double) };
  }
}

// ─── entry points ────────────────────────────────────────────────────────────────────────────────

/**
 * Resolve a launch file's text. `args` are the name:=value pairs of the command line; like
 * `ros2 launch`, they are set as launch configurations before the file runs, so an argument the
 * file does not declare is kept (with a warning) rather than refused.
 */
export function parseLaunchText(
  text: string,
  path: string,
  args: Record<string, string>,
  context: LaunchContext,
): LaunchDescription {
  const run = new Run(context);
  const file = resolvePath(run.cwd, path);
  const actions = run.parse(text, file);
  const missing = run.missing(actions, Object.keys(args));
  if (missing) fail(run.display(file), `${missing} (give it as name:=value)`);
  for (const [k, v] of Object.entries(args)) run.frame.configs.set(k, v);
  run.runFile(file, actions);
  for (const [k, v] of Object.entries(args)) {
    if (!run.declared.has(k))
      run.warnings.push(
        `launch argument '${k}' is not declared by ${run.display(file)} or the files it includes; it is set anyway, as ros2 launch does`,
      );
    if (!(k in run.rootArgs)) run.rootArgs[k] = v;
  }
  return { file, args: run.rootArgs, nodes: run.nodes, warnings: run.warnings, logs: run.logs };
}

export function loadLaunchFile(path: string, args: Record<string, string>, context: LaunchContext): LaunchDescription {
  const file = resolvePath(context.cwd ?? process.cwd(), path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LaunchError(
      `launch file ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return parseLaunchText(text, file, args, context);
}
