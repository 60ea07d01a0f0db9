import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve as resolvePath } from 'node:path';
import { parse as parseYaml, type ParseOptions, type SchemaOptions, type Tags } from 'yaml';
import { LaunchError, type LaunchContext } from './types.js';

// The substitution language of ROS 2 launch frontends — `$(var x)`, `$(env HOME /tmp)`, nested and
// mixed with text — parsed as launch/share/launch/frontend/grammar.lark defines it, performed as the
// launch and launch_ros substitution classes do, and the type coercions launch applies to results.

// ─── templates ───────────────────────────────────────────────────────────────────────────────────

export interface Substitution {
  readonly name: string;
  readonly args: readonly Template[];
}
/** Literal text (escapes already removed) and substitutions, concatenated when performed. */
export type Template = readonly (string | Substitution)[];

/** Substitutions launch exposes to frontends, with their argument counts. */
const ARITY: Readonly<Record<string, readonly [number, number]>> = {
  var: [1, 2], env: [1, 2], 'find-pkg-share': [1, 1], 'find-pkg-prefix': [1, 1], dirname: [0, 0], filename: [0, 0],
  anon: [1, 1], eval: [1, 2], not: [1, 1], and: [2, 2], or: [2, 2], any: [0, Infinity], all: [0, Infinity],
  equals: [2, 2], 'not-equals': [2, 2], if: [2, 3], 'file-content': [1, 1],
  // exist in ros2 launch, but need a process, a running graph or a log directory
  command: [1, 2], 'find-exec': [1, 1], 'exec-in-pkg': [2, 2], param: [1, 1], launch_log_dir: [0, 0], log_dir: [0, 0],
};
const UNSUPPORTED = new Set(['command', 'find-exec', 'exec-in-pkg', 'param', 'launch_log_dir', 'log_dir']);

const unescape = (text: string): string => text.replace(/\\(.)/g, '$1'); // launch's replace_escaped_characters

/** A recursive-descent reading of grammar.lark: arguments are separated by exactly one space. */
class TemplateParser {
  #i = 0;
  constructor(private readonly s: string) {}

  parse(): Template {
    const parts: (string | Substitution)[] = [];
    let text = '';
    while (this.#i < this.s.length) {
      if (this.#opens()) {
        if (text) parts.push(unescape(text));
        text = '';
        parts.push(this.#substitution(''));
      } else text += this.s[this.#i++];
    }
    if (text || parts.length === 0) parts.push(unescape(text));
    return parts;
  }

  #fail(message: string): never {
    throw new LaunchError(`bad substitution syntax in '${this.s}' at column ${this.#i + 1}: ${message}`);
  }

  /** `$(` starts a substitution unless the `$` is escaped with a backslash. */
  #opens(): boolean {
    return this.s.startsWith('$(', this.#i) && this.s[this.#i - 1] !== '\\';
  }

  #substitution(quote: string): Substitution {
    const start = this.#i;
    this.#i += 2;
    const m = /[A-Za-z][A-Za-z0-9_-]*/y;
    m.lastIndex = this.#i;
    const name = m.exec(this.s)?.[0];
    if (!name) this.#fail("expected a substitution name after '$('");
    this.#i += name.length;
    const args: Template[] = [];
    while (this.s[this.#i] === ' ') {
      this.#i++;
      args.push(this.#value(quote));
    }
    if (this.s[this.#i] !== ')') this.#fail(`expected ')' to close '$(${name}'`);
    this.#i++;
    const arity = ARITY[name];
    if (!arity) throw new LaunchError(`unknown substitution '${this.s.slice(start, this.#i)}'`);
    if (args.length < arity[0] || args.length > arity[1]) {
      const want = arity[0] === arity[1] ? `${arity[0]}` : arity[1] === Infinity ? `at least ${arity[0]}` : `${arity[0]} or ${arity[1]}`;
      throw new LaunchError(`$(${name}) takes ${want} argument${want === '1' ? '' : 's'}, got ${args.length}`);
    }
    return { name, args };
  }

  /** One argument: a quoted template (only outside quotes) or unquoted text and substitutions, no spaces. */
  #value(quote: string): Template {
    const c = this.s[this.#i];
    if (quote === '' && (c === "'" || c === '"')) return this.#quoted(c);
    const parts: (string | Substitution)[] = [];
    let text = '';
    for (;;) {
      if (this.#opens()) {
        if (text) parts.push(unescape(text));
        text = '';
        parts.push(this.#substitution(quote));
        continue;
      }
      const n = this.#bareLength(quote);
      if (n === 0) break;
      text += this.s.slice(this.#i, this.#i + n);
      this.#i += n;
    }
    if (text) parts.push(unescape(text));
    if (parts.length === 0) this.#fail('expected an argument (arguments are separated by one space; quote arguments with spaces)');
    return parts;
  }

  /** Length of the next piece of an unquoted argument (the *_RSTRING terminals), 0 at its end. */
  #bareLength(quote: string): number {
    const c = this.s[this.#i];
    const quotes = quote === '' ? `'"` : quote;
    if (c === undefined || c === ' ') return 0;
    if (c === '\\') return this.s[this.#i + 1] !== undefined && quotes.includes(this.s[this.#i + 1]!) ? 2 : 1;
    if (quotes.includes(c)) return 0;
    if (c === '(' || c === ')') return this.s[this.#i - 1] === '\\' ? 1 : 0;
    return 1;
  }

  #quoted(q: string): Template {
    const start = this.#i++;
    const parts: (string | Substitution)[] = [];
    let text = '';
    for (;;) {
      if (this.#i >= this.s.length) {
        this.#i = start;
        this.#fail(`unterminated ${q}`);
      }
      if (this.s[this.#i] === '\\' && this.s[this.#i + 1] === q) {
        text += this.s.slice(this.#i, this.#i + 2);
        this.#i += 2;
      } else if (this.s[this.#i] === q) {
        this.#i++;
        break;
      } else if (this.#opens()) {
        if (text) parts.push(unescape(text));
        text = '';
        parts.push(this.#substitution(q));
      } else text += this.s[this.#i++];
    }
    if (text) parts.push(unescape(text));
    return parts;
  }
}

/** Parse text with substitutions; unknown substitutions and wrong argument counts are errors here, as in launch. */
export function parseTemplate(text: string): Template {
  return new TemplateParser(text).parse();
}

/** Whether a template is plain text (launch keeps such parameter values as strings). */
export function plainText(t: Template): string | undefined {
  return t.every((p) => typeof p === 'string') ? t.join('') : undefined;
}

// ─── performing substitutions ────────────────────────────────────────────────────────────────────

export interface SubstitutionScope {
  /** launch configurations (arguments, `let`); $(anon) memoises into it, as launch does */
  readonly configs: Map<string, string>;
  readonly env: ReadonlyMap<string, string>;
  /** absolute path of the launch file being read, for $(dirname) and $(filename) */
  readonly file: string;
  readonly cwd: string;
  readonly context: LaunchContext;
}

export function resolve(t: Template, scope: SubstitutionScope): string {
  return t.map((p) => (typeof p === 'string' ? p : perform(p, scope))).join('');
}

function perform(sub: Substitution, scope: SubstitutionScope): string {
  const arg = (k: number): string => resolve(sub.args[k]!, scope);
  const bools = (): boolean[] => sub.args.map((_, k) => toBool(arg(k), sub.name));
  switch (sub.name) {
    case 'var': {
      const name = arg(0);
      const value = scope.configs.get(name);
      if (value !== undefined) return value;
      if (sub.args.length > 1) return arg(1);
      throw new LaunchError(`$(var ${name}): launch configuration '${name}' does not exist (declare it with 'arg' or set it with 'let')`);
    }
    case 'env': {
      const fallback = sub.args.length > 1 ? arg(1) : undefined;
      const name = arg(0);
      const value = scope.env.get(name) ?? fallback;
      if (value === undefined) throw new LaunchError(`$(env ${name}): environment variable '${name}' does not exist (give a default: $(env ${name} default))`);
      return value;
    }
    case 'find-pkg-share':
      return findPackage(arg(0), scope.context, 'share');
    case 'find-pkg-prefix':
      return findPackage(arg(0), scope.context, 'prefix');
    case 'dirname':
      return dirname(scope.file);
    case 'filename':
      return scope.file;
    case 'anon': {
      const name = arg(0);
      let value = scope.configs.get('anon' + name);
      if (value === undefined) {
        const random = BigInt.asUintN(63, randomBytes(8).readBigUInt64BE());
        value = `${name}_${hostname()}_${process.pid}_${random}`.replace(/[.\-:]/g, '_');
        scope.configs.set('anon' + name, value);
      }
      return value;
    }
    case 'eval': {
      const modules = sub.args.length > 1 ? arg(1).split(',').map((m) => m.trim()).filter(Boolean) : ['math'];
      const other = modules.find((m) => m !== 'math');
      if (other) throw new LaunchError(`$(eval): only the 'math' module is available to the embedded launcher, not '${other}'`);
      return evalPython(arg(0), modules.includes('math'));
    }
    case 'not':
      return String(!bools()[0]);
    case 'and': {
      const [a, b] = bools(); // launch evaluates both sides
      return String(a! && b!);
    }
    case 'or': {
      const [a, b] = bools();
      return String(a! || b!);
    }
    case 'any':
      return String(bools().some((b) => b));
    case 'all':
      return String(bools().every((b) => b));
    case 'equals':
      return String(launchEquals(arg(0), arg(1)));
    case 'not-equals':
      return String(!launchEquals(arg(0), arg(1)));
    case 'if':
      return toBool(arg(0), 'if') ? arg(1) : sub.args.length > 2 ? arg(2) : '';
    case 'file-content': {
      const path = resolvePath(scope.cwd, arg(0));
      try {
        return readFileSync(path, 'utf8');
      } catch {
        throw new LaunchError(`$(file-content): file not found: ${path}`);
      }
    }
    default:
      if (UNSUPPORTED.has(sub.name)) throw new LaunchError(`$(${sub.name}) works under ros2 launch but not in the embedded launcher`);
      throw new LaunchError(`unknown substitution '$(${sub.name})'`);
  }
}

function findPackage(pkg: string, context: LaunchContext, which: 'share' | 'prefix'): string {
  try {
    if (which === 'share') return context.findPackageShare(pkg);
    if (context.findPackagePrefix) return context.findPackagePrefix(pkg);
    const share = context.findPackageShare(pkg);
    const m = /^(.*)[/\\]share[/\\]([^/\\]+)[/\\]?$/.exec(share);
    if (!m || m[2] !== pkg) throw new Error(`its share directory ${share} is not <prefix>/share/${pkg}`);
    return m[1]!;
  } catch (err) {
    throw new LaunchError(`$(find-pkg-${which} ${pkg}): package '${pkg}' not found: ${(err as Error).message}`);
  }
}

/** EqualsSubstitution: booleans by truth, numbers with math.isclose, else as strings. */
function launchEquals(a: string, b: string): boolean {
  const isBool = (s: string): boolean => ['true', 'false', '1', '0'].includes(s.toLowerCase());
  if (isBool(a) && isBool(b)) return ['true', '1'].includes(a.toLowerCase()) === ['true', '1'].includes(b.toLowerCase());
  const x = pyFloat(a);
  const y = pyFloat(b);
  if (x !== undefined && y !== undefined) return x === y || Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));
  return a === b;
}

// ─── coercions ───────────────────────────────────────────────────────────────────────────────────

/**
 * YAML as PyYAML's safe_load reads it (YAML 1.1): launch files are loaded with it and launch types
 * substitution results with it. The `yaml` package's 1.1 schema also takes y/n as booleans and
 * floats without a dot or with an unsigned exponent; PyYAML does not.
 */
export const PYYAML: ParseOptions & SchemaOptions = {
  schema: 'yaml-1.1',
  customTags: (tags: Tags): Tags =>
    tags
      .filter((t) => typeof t === 'string' || t.format !== 'EXP')
      .map((t) => {
        if (typeof t === 'string' || !('test' in t) || !t.test) return t;
        if (t.tag === 'tag:yaml.org,2002:bool') return { ...t, test: t.test.test('true') ? /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/ : /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/ };
        if (t.tag === 'tag:yaml.org,2002:float' && !t.format && t.test.test('1.5')) {
          return { ...t, test: /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?)$/ };
        }
        return t;
      }),
};

/** IfCondition / UnlessCondition: stripped, lower-cased 'true' / '1' / 'false' / '0'. */
export function conditionValue(text: string): boolean {
  const v = text.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new LaunchError(`condition evaluated to '${text}'; expected true, false, 1 or 0`);
}

/** A substitution result coerced to bool as launch does: '1' and '0', then YAML 1.1 booleans. */
export function toBool(text: string, what: string): boolean {
  const v = text.trim();
  if (v === '1' || /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/.test(v)) return true;
  if (v === '0' || /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/.test(v)) return false;
  throw new LaunchError(`${what}: '${text}' is not a boolean (true/false, 1/0, yes/no, on/off)`);
}

/** Python's float(): decimal or scientific, underscores between digits, inf and nan. */
export function pyFloat(text: string): number | undefined {
  const s = text.trim();
  if (/^[+-]?(?:inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(s)) return NaN;
  if (!/^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/.test(s)) return undefined;
  return Number(s.replace(/_/g, ''));
}

function pyInt(text: string): number | undefined {
  const s = text.trim();
  return /^[+-]?\d(?:_?\d)*$/.test(s) ? Number(s.replace(/_/g, '')) : undefined;
}

type Scalar = boolean | number | string;
const isScalar = (v: unknown): v is Scalar => typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string';

/** Whether a value is one a ROS parameter can hold: a scalar, or a list of one scalar type. */
export function parameterValueProblem(value: unknown, allowEmptyList = true): string | undefined {
  if (isScalar(value)) return undefined;
  if (!Array.isArray(value)) return `${value === null ? 'null' : value instanceof Date ? 'a date' : typeof value === 'object' ? 'a mapping' : typeof value} is not a parameter value`;
  if (value.length === 0) return allowEmptyList ? undefined : 'an empty list is not a parameter value';
  if (!value.every(isScalar)) return 'list items must be booleans, numbers or strings';
  if (!value.every((x) => typeof x === typeof value[0])) return `list items must all have one type, got ${JSON.stringify(value)}`;
  return undefined;
}

/** A substitution result typed by YAML rules, as launch_ros does for parameter values. */
export function yamlValue(text: string, allowEmptyList = true): unknown {
  if (text === '') return '';
  let value: unknown;
  try {
    value = parseYaml(text, PYYAML);
  } catch (err) {
    throw new LaunchError(`'${text}' is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const problem = parameterValueProblem(value, allowEmptyList);
  if (problem) throw new LaunchError(`'${text}' read as YAML: ${problem}`);
  return value;
}

/** The `type` attribute of a node's `param` (launch.frontend.type_utils). */
export const PARAM_TYPES = ['str', 'bool', 'float', 'int', 'list_of_str', 'list_of_bool', 'list_of_float', 'list_of_int', 'yaml'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

const ofType = (v: unknown, scalar: string): boolean =>
  scalar === 'str' ? typeof v === 'string'
  : scalar === 'bool' ? typeof v === 'boolean'
  : scalar === 'int' ? Number.isInteger(v)
  : typeof v === 'number';

/** Whether a value written in the launch file (no substitutions) already has the declared type. */
export function hasParamType(value: unknown, type: ParamType): boolean {
  if (type === 'yaml') return true;
  if (type.startsWith('list_of_')) return Array.isArray(value) && value.every((x) => ofType(x, type.slice(8)));
  return ofType(value, type);
}

/** A substitution result coerced to a declared type (launch's coerce_to_type). */
export function coerceToType(text: string, type: ParamType | undefined): unknown {
  if (type === undefined || type === 'yaml') return yamlValue(text);
  if (type.startsWith('list_of_')) {
    const list = yamlValue(text);
    if (!Array.isArray(list) || !list.every((x) => ofType(x, type.slice(8)))) throw new LaunchError(`cannot convert '${text}' to ${type}`);
    return list;
  }
  const value =
    type === 'str' ? text
    : type === 'int' ? pyInt(text)
    : type === 'float' ? pyFloat(text)
    : toBoolOrUndefined(text);
  if (value === undefined) throw new LaunchError(`cannot convert '${text}' to ${type}`);
  return value;
}

function toBoolOrUndefined(text: string): boolean | undefined {
  try {
    return toBool(text, 'bool');
  } catch {
    return undefined;
  }
}

// ─── command lines ───────────────────────────────────────────────────────────────────────────────

/**
 * `args` / `ros_args` split into arguments as ExecuteProcess._parse_cmdline does: text is split
 * shell-style, and a substitution joins the argument it touches.
 */
export function resolveCommandLine(t: Template, scope: SubstitutionScope): string[] {
  const out: string[][] = [];
  let arg: string[] = [];
  const flush = (): void => {
    out.push(arg);
    arg = [];
  };
  for (const part of t) {
    if (typeof part !== 'string') {
      arg.push(perform(part, scope));
      continue;
    }
    const tokens = shlexSplit(part);
    if (tokens.length === 0) {
      flush();
      continue;
    }
    if (/^\s/.test(part) && arg.length) flush();
    arg.push(tokens[0]!);
    if (tokens.length > 1) {
      flush();
      arg.push(tokens[tokens.length - 1]!);
    }
    if (tokens.length > 2) out.push(...tokens.slice(1, -1).map((x) => [x]));
    if (/\s$/.test(part)) flush();
  }
  if (arg.length) out.push(arg);
  return out.map((pieces) => pieces.join(''));
}

/** Python's shlex.split (POSIX mode, no comments). */
function shlexSplit(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inToken = false;
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      if (inToken) out.push(cur);
      cur = '';
      inToken = false;
      i++;
      continue;
    }
    inToken = true;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new LaunchError(`no closing quotation in '${s}'`);
      cur += s.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      for (i++; ; ) {
        if (i >= s.length) throw new LaunchError(`no closing quotation in '${s}'`);
        const d = s[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < s.length && '\\"$`\n'.includes(s[i + 1]!)) {
          cur += s[i + 1];
          i += 2;
        } else {
          cur += d;
          i++;
        }
      }
    } else if (c === '\\') {
      if (i + 1 >= s.length) throw new LaunchError(`no escaped character at the end of '${s}'`);
      cur += s[i + 1];
      i += 2;
    } else {
      cur += c;
      i++;
    }
  }
  if (inToken) out.push(cur);
  return out;
}

// ─── $(eval): a safe subset of Python expressions ────────────────────────────────────────────────
// launch runs Python's eval() with the math module's names in scope. Here: numbers (int and float
// kept apart, as Python does), strings, lists, True/False/None, arithmetic, comparisons (chained),
// and/or/not, `x if c else y`, `in`, math's functions and constants, and a few builtins.

type Py =
  | { t: 'int'; v: bigint }
  | { t: 'float'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'str'; v: string }
  | { t: 'none' }
  | { t: 'list'; v: Py[]; tuple?: boolean }
  | { t: 'fn'; name: string; call: (args: Py[]) => Py }
  | { t: 'module'; name: string; attrs: ReadonlyMap<string, Py> };

const pyErr = (kind: string, message: string): LaunchError => new LaunchError(`${kind}: ${message}`);
const int = (v: bigint): Py => ({ t: 'int', v });
const float = (v: number): Py => ({ t: 'float', v });
const bool = (v: boolean): Py => ({ t: 'bool', v });
const str = (v: string): Py => ({ t: 'str', v });
const NONE: Py = { t: 'none' };

function typeName(x: Py): string {
  return x.t === 'fn' ? 'builtin_function_or_method' : x.t === 'none' ? 'NoneType' : x.t;
}

/** Python's repr of a float: shortest round-trip digits, exponent outside [1e-4, 1e16). */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, e] = x.toExponential().split('e') as [string, string];
  const exp = Number(e);
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = x < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

function pyStr(x: Py): string {
  switch (x.t) {
    case 'int': return x.v.toString();
    case 'float': return floatRepr(x.v);
    case 'bool': return x.v ? 'True' : 'False';
    case 'none': return 'None';
    case 'str': return x.v;
    case 'list': return x.tuple ? `(${x.v.map(pyRepr).join(', ')}${x.v.length === 1 ? ',' : ''})` : `[${x.v.map(pyRepr).join(', ')}]`;
    case 'fn': return `<built-in function ${x.name}>`;
    case 'module': return `<module '${x.name}' (built-in)>`;
  }
}

function pyRepr(x: Py): string {
  if (x.t !== 'str') return pyStr(x);
  const q = x.v.includes("'") && !x.v.includes('"') ? '"' : "'";
  return q + x.v.replace(/\\/g, '\\\\').replace(new RegExp(q, 'g'), '\\' + q).replace(/\n/g, '\\n') + q;
}

function truthy(x: Py): boolean {
  switch (x.t) {
    case 'int': return x.v !== 0n;
    case 'float': return x.v !== 0;
    case 'bool': return x.v;
    case 'str': return x.v.length > 0;
    case 'list': return x.v.length > 0;
    case 'none': return false;
    default: return true;
  }
}

/** A number as Python sees it: bool is an int. */
function numeric(x: Py): bigint | number | undefined {
  return x.t === 'int' ? x.v : x.t === 'bool' ? (x.v ? 1n : 0n) : x.t === 'float' ? x.v : undefined;
}

function toFloat(x: Py, fn: string): number {
  const n = numeric(x);
  if (n === undefined) throw pyErr('TypeError', `${fn}() needs a number, not '${typeName(x)}'`);
  return Number(n);
}

function toInt(x: Py, what: string): bigint {
  const n = numeric(x);
  if (typeof n !== 'bigint') throw pyErr('TypeError', `${what} needs an integer, not '${typeName(x)}'`);
  return n;
}

function arithmetic(op: string, a: Py, b: Py): Py {
  if (op === '+' && a.t === 'str' && b.t === 'str') return str(a.v + b.v);
  if (op === '+' && a.t === 'list' && b.t === 'list') return { t: 'list', v: [...a.v, ...b.v] };
  if (op === '*' && (a.t === 'str' || a.t === 'list' || b.t === 'str' || b.t === 'list')) {
    const [seq, n] = a.t === 'str' || a.t === 'list' ? [a, b] : [b, a];
    const times = Math.max(0, Number(toInt(n, "can't multiply sequence by non-int:")));
    if (seq.t === 'str') return str(seq.v.repeat(times));
    if (seq.t === 'list') return { t: 'list', v: Array.from({ length: times }, () => seq.v).flat() };
  }
  const x = numeric(a);
  const y = numeric(b);
  if (x === undefined || y === undefined) throw pyErr('TypeError', `unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
  const zero = (): never => {
    throw pyErr('ZeroDivisionError', op === '/' ? 'division by zero' : 'integer division or modulo by zero');
  };
  if (typeof x === 'bigint' && typeof y === 'bigint') {
    switch (op) {
      case '+': return int(x + y);
      case '-': return int(x - y);
      case '*': return int(x * y);
      case '/': return y === 0n ? zero() : float(Number(x) / Number(y));
      case '//': {
        if (y === 0n) zero();
        const q = x / y;
        return int(x % y !== 0n && x < 0n !== y < 0n ? q - 1n : q);
      }
      case '%': {
        if (y === 0n) zero();
        const r = x % y;
        return int(r !== 0n && r < 0n !== y < 0n ? r + y : r);
      }
      case '**': return y >= 0n ? int(x ** y) : x === 0n ? zero() : float(Number(x) ** Number(y));
    }
  }
  const f = Number(x);
  const g = Number(y);
  switch (op) {
    case '+': return float(f + g);
    case '-': return float(f - g);
    case '*': return float(f * g);
    case '/': return g === 0 ? zero() : float(f / g);
    case '//': return g === 0 ? zero() : float(Math.floor(f / g));
    case '%': return g === 0 ? zero() : float(f - g * Math.floor(f / g));
    default: {
      if (f < 0 && !Number.isInteger(g)) throw pyErr('ValueError', 'a negative number to a fractional power is complex');
      return float(f ** g);
    }
  }
}

function pyEquals(a: Py, b: Py): boolean {
  const x = numeric(a);
  const y = numeric(b);
  if (x !== undefined && y !== undefined) return typeof x === typeof y ? x === y : Number(x) === Number(y);
  if (a.t === 'str' && b.t === 'str') return a.v === b.v;
  if (a.t === 'none' || b.t === 'none') return a.t === b.t;
  if (a.t === 'list' && b.t === 'list') return a.v.length === b.v.length && a.v.every((v, i) => pyEquals(v, b.v[i]!));
  return a === b;
}

function compare(op: string, a: Py, b: Py): boolean {
  switch (op) {
    case '==': return pyEquals(a, b);
    case '!=': return !pyEquals(a, b);
    case 'is': return a.t === 'none' || b.t === 'none' || a.t === 'bool' || b.t === 'bool' ? a.t === b.t && pyEquals(a, b) : a === b;
    case 'is not': return !compare('is', a, b);
    case 'in':
    case 'not in': {
      let found: boolean;
      if (b.t === 'str' && a.t === 'str') found = b.v.includes(a.v);
      else if (b.t === 'list') found = b.v.some((x) => pyEquals(a, x));
      else throw pyErr('TypeError', `argument of type '${typeName(b)}' is not iterable`);
      return op === 'in' ? found : !found;
    }
  }
  const x = numeric(a);
  const y = numeric(b);
  let c: number;
  if (x !== undefined && y !== undefined) c = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : Math.sign(Number(x) - Number(y));
  else if (a.t === 'str' && b.t === 'str') c = a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
  else throw pyErr('TypeError', `'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
  return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
}

/** round() with Python's ties-to-even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

function fn(name: string, call: (args: Py[]) => Py, arity?: [number, number]): [string, Py] {
  return [name, {
    t: 'fn', name,
    call: (args) => {
      if (arity && (args.length < arity[0] || args.length > arity[1])) throw pyErr('TypeError', `${name}() takes ${arity[0] === arity[1] ? arity[0] : `${arity[0]} to ${arity[1]}`} arguments (${args.length} given)`);
      return call(args);
    },
  }];
}

function mathFn(name: string, f: (...x: number[]) => number, n = 1, domain?: (...x: number[]) => boolean): [string, Py] {
  return fn(name, (args) => {
    const xs = args.map((a) => toFloat(a, name));
    if (domain && !domain(...xs)) throw pyErr('ValueError', 'math domain error');
    return float(f(...xs));
  }, [n, n]);
}

const toIntegral = (name: string, f: (x: number) => number): [string, Py] =>
  fn(name, ([x]) => {
    if (x!.t === 'int' || x!.t === 'bool') return int(numeric(x!) as bigint);
    const v = toFloat(x!, name);
    if (!Number.isFinite(v)) throw pyErr(Number.isNaN(v) ? 'ValueError' : 'OverflowError', `cannot convert float ${floatRepr(v)} to integer`);
    return int(BigInt(f(v)));
  }, [1, 1]);

const TRUNC = toIntegral('trunc', Math.trunc);

const MATH = new Map<string, Py>([
  ['pi', float(Math.PI)], ['e', float(Math.E)], ['tau', float(2 * Math.PI)], ['inf', float(Infinity)], ['nan', float(NaN)],
  mathFn('sqrt', Math.sqrt, 1, (x) => x >= 0), mathFn('exp', Math.exp), mathFn('log10', Math.log10, 1, (x) => x > 0),
  mathFn('log2', Math.log2, 1, (x) => x > 0), mathFn('sin', Math.sin), mathFn('cos', Math.cos), mathFn('tan', Math.tan),
  mathFn('asin', Math.asin, 1, (x) => Math.abs(x) <= 1), mathFn('acos', Math.acos, 1, (x) => Math.abs(x) <= 1), mathFn('atan', Math.atan),
  mathFn('atan2', Math.atan2, 2), mathFn('sinh', Math.sinh), mathFn('cosh', Math.cosh), mathFn('tanh', Math.tanh),
  mathFn('hypot', Math.hypot, 2), mathFn('fabs', Math.abs), mathFn('degrees', (x) => (x * 180) / Math.PI),
  mathFn('radians', (x) => (x * Math.PI) / 180), mathFn('pow', Math.pow, 2), mathFn('copysign', (x, y) => (y < 0 || Object.is(y, -0) ? -Math.abs(x) : Math.abs(x)), 2),
  mathFn('fmod', (x, y) => x % y, 2, (_x, y) => y !== 0),
  fn('log', (args) => {
    const [x, base] = args.map((a) => toFloat(a, 'log'));
    if (x! <= 0 || (base !== undefined && (base <= 0 || base === 1))) throw pyErr('ValueError', 'math domain error');
    return float(base === undefined ? Math.log(x!) : Math.log(x!) / Math.log(base));
  }, [1, 2]),
  fn('isclose', ([a, b]) => {
    const x = toFloat(a!, 'isclose');
    const y = toFloat(b!, 'isclose');
    return bool(x === y || Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y)));
  }, [2, 2]),
  toIntegral('floor', Math.floor), toIntegral('ceil', Math.ceil), TRUNC,
]);

function extreme(name: string, sign: 1 | -1): [string, Py] {
  return fn(name, (args) => {
    const items = args.length === 1 && args[0]!.t === 'list' ? args[0]!.v : args;
    if (items.length === 0) throw pyErr('ValueError', `${name}() arg is an empty sequence`);
    return items.reduce((best, x) => (compare(sign > 0 ? '>' : '<', x, best) ? x : best));
  });
}

const BUILTINS = new Map<string, Py>([
  fn('abs', ([x]) => {
    const n = numeric(x!);
    if (n === undefined) throw pyErr('TypeError', `bad operand type for abs(): '${typeName(x!)}'`);
    return typeof n === 'bigint' ? int(n < 0n ? -n : n) : float(Math.abs(n));
  }, [1, 1]),
  extreme('max', 1), extreme('min', -1),
  fn('round', ([x, digits]) => {
    if (x!.t === 'int' || x!.t === 'bool') return int(numeric(x!) as bigint);
    const v = toFloat(x!, 'round');
    if (digits === undefined || digits.t === 'none') return int(BigInt(roundHalfEven(v)));
    const k = 10 ** Number(toInt(digits, 'round()'));
    return float(roundHalfEven(v * k) / k);
  }, [1, 2]),
  fn('int', ([x]) => {
    if (x === undefined) return int(0n);
    if (x.t === 'str') {
      const s = x.v.trim();
      if (!/^[+-]?\d(?:_?\d)*$/.test(s)) throw pyErr('ValueError', `invalid literal for int() with base 10: ${pyRepr(x)}`);
      return int(BigInt(s.replace(/_/g, '')));
    }
    return (TRUNC[1] as Extract<Py, { t: 'fn' }>).call([x]);
  }, [0, 1]),
  fn('float', ([x]) => {
    if (x === undefined) return float(0);
    if (x.t === 'str') {
      const v = pyFloat(x.v);
      if (v === undefined) throw pyErr('ValueError', `could not convert string to float: ${pyRepr(x)}`);
      return float(v);
    }
    return float(toFloat(x, 'float'));
  }, [0, 1]),
  fn('str', ([x]) => str(x === undefined ? '' : pyStr(x)), [0, 1]),
  fn('bool', ([x]) => bool(x !== undefined && truthy(x)), [0, 1]),
  fn('len', ([x]) => {
    if (x!.t === 'str') return int(BigInt([...x!.v].length));
    if (x!.t === 'list') return int(BigInt(x!.v.length));
    throw pyErr('TypeError', `object of type '${typeName(x!)}' has no len()`);
  }, [1, 1]),
]);

type Token = { kind: 'num' | 'str' | 'name' | 'op' | 'end'; text: string; value?: Py };

const TOKEN = /\s*(?:(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?)|([A-Za-z_]\w*)|('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")|(\*\*|\/\/|==|!=|<=|>=|[-+*/%<>()[\],.]))/y;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  for (;;) {
    const at = TOKEN.lastIndex;
    if (/^\s*$/.test(src.slice(at))) break;
    const m = TOKEN.exec(src);
    if (!m) throw pyErr('SyntaxError', `unexpected '${src.slice(at).trim()[0]}' in '${src}'`);
    const [, num, name, quoted, op] = m;
    if (num !== undefined) {
      const clean = num.replace(/_/g, '');
      const isFloat = !/^0[xXoObB]/.test(clean) && /[.eE]/.test(clean);
      out.push({ kind: 'num', text: num, value: isFloat ? float(Number(clean)) : int(BigInt(clean)) });
    } else if (name !== undefined) out.push({ kind: 'name', text: name });
    else if (quoted !== undefined) {
      const body = quoted.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)/g, (_, e: string) =>
        e.length > 1 ? String.fromCharCode(parseInt(e.slice(1), 16)) : ({ n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"' } as Record<string, string>)[e] ?? '\\' + e);
      out.push({ kind: 'str', text: quoted, value: str(body) });
    } else out.push({ kind: 'op', text: op! });
  }
  out.push({ kind: 'end', text: '' });
  return out;
}

type Expr = () => Py;
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else', 'True', 'False', 'None', 'lambda', 'for', 'import', 'await', 'yield']);

/** Recursive descent over Python's expression grammar, building closures so and/or/if stay lazy. */
class PyParser {
  #i = 0;
  readonly #toks: Token[];
  constructor(private readonly src: string, private readonly names: ReadonlyMap<string, Py>) {
    this.#toks = tokenize(src);
  }

  /** An expression list: `1, 2` is a tuple, as in Python. */
  parse(): Expr {
    const first = this.#expr();
    let e = first;
    if (this.#eat(',')) {
      const rest = this.#list('');
      e = () => ({ t: 'list', v: [first(), ...rest.map((r) => r())], tuple: true });
    }
    if (this.#peek().kind !== 'end') this.#fail(`unexpected '${this.#peek().text}'`);
    return e;
  }

  #peek(): Token {
    return this.#toks[this.#i]!;
  }
  #is(text: string): boolean {
    const t = this.#peek();
    return (t.kind === 'op' || t.kind === 'name') && t.text === text;
  }
  #eat(text: string): boolean {
    if (!this.#is(text)) return false;
    this.#i++;
    return true;
  }
  #fail(message: string): never {
    throw pyErr('SyntaxError', `${message} in '${this.src}' (the embedded launcher evaluates a subset of Python)`);
  }

  #expr(): Expr {
    const body = this.#or();
    if (!this.#eat('if')) return body;
    const cond = this.#or();
    if (!this.#eat('else')) this.#fail("expected 'else'");
    const other = this.#expr();
    return () => (truthy(cond()) ? body() : other());
  }

  #or(): Expr {
    let left = this.#and();
    while (this.#eat('or')) {
      const a = left;
      const b = this.#and();
      left = () => {
        const x = a();
        return truthy(x) ? x : b();
      };
    }
    return left;
  }

  #and(): Expr {
    let left = this.#not();
    while (this.#eat('and')) {
      const a = left;
      const b = this.#not();
      left = () => {
        const x = a();
        return truthy(x) ? b() : x;
      };
    }
    return left;
  }

  #not(): Expr {
    if (!this.#eat('not')) return this.#comparison();
    const x = this.#not();
    return () => bool(!truthy(x()));
  }

  #comparison(): Expr {
    const first = this.#arith();
    const chain: [string, Expr][] = [];
    for (;;) {
      let op = ['==', '!=', '<=', '>=', '<', '>', 'in'].find((o) => this.#is(o));
      if (op) this.#i++;
      else if (this.#is('not') && this.#toks[this.#i + 1]?.text === 'in') {
        this.#i += 2;
        op = 'not in';
      } else if (this.#eat('is')) op = this.#eat('not') ? 'is not' : 'is';
      if (!op) break;
      chain.push([op, this.#arith()]);
    }
    if (chain.length === 0) return first;
    return () => {
      let left = first();
      for (const [op, next] of chain) {
        const right = next();
        if (!compare(op, left, right)) return bool(false);
        left = right;
      }
      return bool(true);
    };
  }

  #binary(next: () => Expr, ops: readonly string[]): Expr {
    let left = next();
    for (;;) {
      const op = ops.find((o) => this.#is(o));
      if (!op) return left;
      this.#i++;
      const a = left;
      const b = next();
      left = () => arithmetic(op, a(), b());
    }
  }

  #arith(): Expr {
    return this.#binary(() => this.#term(), ['+', '-']);
  }

  #term(): Expr {
    return this.#binary(() => this.#factor(), ['*', '/', '//', '%']);
  }

  #factor(): Expr {
    if (this.#eat('-')) {
      const x = this.#factor();
      return () => {
        const v = x();
        const n = numeric(v);
        if (n === undefined) throw pyErr('TypeError', `bad operand type for unary -: '${typeName(v)}'`);
        return typeof n === 'bigint' ? int(-n) : float(-n);
      };
    }
    if (this.#eat('+')) {
      const x = this.#factor();
      return () => arithmetic('+', int(0n), x());
    }
    const base = this.#primary();
    if (!this.#eat('**')) return base;
    const exponent = this.#factor();
    return () => arithmetic('**', base(), exponent());
  }

  #primary(): Expr {
    let e = this.#atom();
    for (;;) {
      if (this.#eat('(')) {
        const callee = e;
        const args = this.#list(')');
        e = () => {
          const f = callee();
          if (f.t !== 'fn') throw pyErr('TypeError', `'${typeName(f)}' object is not callable`);
          return f.call(args.map((a) => a()));
        };
      } else if (this.#eat('.')) {
        const t = this.#toks[this.#i++]!;
        if (t.kind !== 'name') this.#fail("expected a name after '.'");
        const target = e;
        e = () => {
          const m = target();
          const v = m.t === 'module' ? m.attrs.get(t.text) : undefined;
          if (!v) throw pyErr('AttributeError', `'${typeName(m)}' object has no attribute '${t.text}' (methods are not available)`);
          return v;
        };
      } else if (this.#eat('[')) {
        const target = e;
        const index = this.#expr();
        if (!this.#eat(']')) this.#fail("expected ']'");
        e = () => {
          const seq = target();
          const items: Py[] | undefined = seq.t === 'list' ? seq.v : seq.t === 'str' ? [...seq.v].map(str) : undefined;
          if (!items) throw pyErr('TypeError', `'${typeName(seq)}' object is not subscriptable`);
          let k = Number(toInt(index(), 'an index'));
          if (k < 0) k += items.length;
          const v = items[k];
          if (!v) throw pyErr('IndexError', 'index out of range');
          return v;
        };
      } else return e;
    }
  }

  /** Comma-separated expressions up to a closing bracket, or the end for '' (a trailing comma is allowed). */
  #list(close: string): Expr[] {
    const items: Expr[] = [];
    const closed = (): boolean => (close === '' ? this.#peek().kind === 'end' : this.#eat(close));
    while (!closed()) {
      items.push(this.#expr());
      if (!this.#eat(',') && !(close === '' ? this.#peek().kind === 'end' : this.#is(close))) this.#fail(close ? `expected ',' or '${close}'` : "expected ','");
    }
    return items;
  }

  #atom(): Expr {
    const t = this.#toks[this.#i++]!;
    if (t.kind === 'num') return () => t.value!;
    if (t.kind === 'str') {
      let text = (t.value as { v: string }).v;
      while (this.#peek().kind === 'str') text += (this.#toks[this.#i++]!.value as { v: string }).v; // 'a' 'b' → 'ab'
      return () => str(text);
    }
    if (t.kind === 'name') {
      if (t.text === 'True' || t.text === 'False') return () => bool(t.text === 'True');
      if (t.text === 'None') return () => NONE;
      if (KEYWORDS.has(t.text)) this.#fail(`'${t.text}' is not supported here`);
      return () => {
        const v = this.names.get(t.text);
        if (!v) {
          const hint = /^(true|false|none)$/i.test(t.text) ? ` (Python spells it ${t.text[0]!.toUpperCase()}${t.text.slice(1).toLowerCase()}; quote strings: '${t.text}')` : '';
          throw pyErr('NameError', `name '${t.text}' is not defined${hint}`);
        }
        return v;
      };
    }
    if (t.text === '(') {
      if (this.#eat(')')) return () => ({ t: 'list', v: [], tuple: true });
      const first = this.#expr();
      if (this.#eat(')')) return first;
      if (!this.#eat(',')) this.#fail("expected ')'");
      const rest = this.#list(')');
      return () => ({ t: 'list', v: [first(), ...rest.map((r) => r())], tuple: true });
    }
    if (t.text === '[') {
      const items = this.#list(']');
      return () => ({ t: 'list', v: items.map((i) => i()) });
    }
    this.#fail(t.kind === 'end' ? 'unexpected end of expression' : `unexpected '${t.text}'`);
  }
}

/** $(eval expr): the expression's value as Python's str() writes it. */
export function evalPython(expression: string, withMath = true): string {
  const names = new Map<string, Py>(BUILTINS);
  if (withMath) {
    for (const [k, v] of MATH) names.set(k, v);
    names.set('math', { t: 'module', name: 'math', attrs: MATH });
  }
  try {
    return pyStr(new PyParser(expression, names).parse()());
  } catch (err) {
    if (err instanceof LaunchError) throw new LaunchError(`$(eval '${expression}'): ${err.message}`);
    throw err;
  }
}
