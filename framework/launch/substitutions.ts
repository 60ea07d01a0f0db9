import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve as resolvePath } from 'node:path';
import { LaunchError, type LaunchContext } from './types.js';
import { pyFloat, toBool } from './coercion.js';
import { evalPython } from './python_eval.js';

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
  var: [1, 2],
  env: [1, 2],
  'find-pkg-share': [1, 1],
  'find-pkg-prefix': [1, 1],
  dirname: [0, 0],
  filename: [0, 0],
  anon: [1, 1],
  eval: [1, 2],
  not: [1, 1],
  and: [2, 2],
  or: [2, 2],
  any: [0, Infinity],
  all: [0, Infinity],
  equals: [2, 2],
  'not-equals': [2, 2],
  if: [2, 3],
  'file-content': [1, 1],
  // exist in ros2 launch, but need a process, a running graph or a log directory
  command: [1, 2],
  'find-exec': [1, 1],
  'exec-in-pkg': [2, 2],
  param: [1, 1],
  launch_log_dir: [0, 0],
  log_dir: [0, 0],
};
const UNSUPPORTED = new Set(['command', 'find-exec', 'exec-in-pkg', 'param', 'launch_log_dir', 'log_dir']);

/** launch's replace_escaped_characters: a backslash keeps the next character literally. */
export const unescape = (text: string): string => text.replace(/\\(.)/g, '$1');

/** ROS 1 substitutions people carry over, and their ROS 2 spelling. */
const ROS1: Readonly<Record<string, string>> = {
  arg: '$(var name)',
  optenv: '$(env NAME default)',
  find: '$(find-pkg-share pkg)',
};

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
      } else text += this.s[this.#i++]!;
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
    if (!arity)
      throw new LaunchError(
        `unknown substitution '${this.s.slice(start, this.#i)}'${ROS1[name] ? ` (ROS 2 writes ${ROS1[name]})` : ''}`,
      );
    if (args.length < arity[0] || args.length > arity[1]) {
      const want =
        arity[0] === arity[1]
          ? `${arity[0]}`
          : arity[1] === Infinity
            ? `at least ${arity[0]}`
            : `${arity[0]} or ${arity[1]}`;
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
    if (parts.length === 0)
      this.#fail('expected an argument (arguments are separated by one space; quote arguments with spaces)');
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
      } else text += this.s[this.#i++]!;
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

export function perform(sub: Substitution, scope: SubstitutionScope): string {
  const arg = (k: number): string => resolve(sub.args[k]!, scope);
  const bools = (): boolean[] => sub.args.map((_, k) => toBool(arg(k), sub.name));
  switch (sub.name) {
    case 'var': {
      const name = arg(0);
      const value = scope.configs.get(name);
      if (value !== undefined) return value;
      if (sub.args.length > 1) return arg(1);
      throw new LaunchError(
        `$(var ${name}): launch configuration '${name}' does not exist (declare it with 'arg' or set it with 'let')`,
      );
    }
    case 'env': {
      const fallback = sub.args.length > 1 ? arg(1) : undefined;
      const name = arg(0);
      const value = scope.env.get(name) ?? fallback;
      if (value === undefined)
        throw new LaunchError(
          `$(env ${name}): environment variable '${name}' does not exist (give a default: $(env ${name} default))`,
        );
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
      const modules =
        sub.args.length > 1
          ? arg(1)
              .split(',')
              .map((m) => m.trim())
              .filter(Boolean)
          : ['math'];
      const other = modules.find((m) => m !== 'math');
      if (other)
        throw new LaunchError(`$(eval): only the 'math' module is available to the embedded launcher, not '${other}'`);
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
      if (UNSUPPORTED.has(sub.name))
        throw new LaunchError(`$(${sub.name}) works under ros2 launch but not in the embedded launcher`);
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
  if (isBool(a) && isBool(b))
    return ['true', '1'].includes(a.toLowerCase()) === ['true', '1'].includes(b.toLowerCase());
  const x = pyFloat(a);
  const y = pyFloat(b);
  if (x !== undefined && y !== undefined)
    return x === y || Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));
  return a === b;
}
