import { LaunchError } from './types.js';
import { pyFloat } from './coercion.js';

// $(eval): a safe subset of Python expressions, never JavaScript's eval.
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
/** A Python str's items: its code points (len('é') is 1, 'é'[0] is 'é'), not UTF-16 units. */
// eslint-disable-next-line @typescript-eslint/no-misused-spread -- code points are what Python's str is a sequence of
const codePoints = (s: string): string[] => [...s];
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
    case 'int':
      return x.v.toString();
    case 'float':
      return floatRepr(x.v);
    case 'bool':
      return x.v ? 'True' : 'False';
    case 'none':
      return 'None';
    case 'str':
      return x.v;
    case 'list':
      return x.tuple
        ? `(${x.v.map(pyRepr).join(', ')}${x.v.length === 1 ? ',' : ''})`
        : `[${x.v.map(pyRepr).join(', ')}]`;
    case 'fn':
      return `<built-in function ${x.name}>`;
    case 'module':
      return `<module '${x.name}' (built-in)>`;
  }
}

function pyRepr(x: Py): string {
  if (x.t !== 'str') return pyStr(x);
  const q = x.v.includes("'") && !x.v.includes('"') ? '"' : "'";
  return (
    q +
    x.v
      .replace(/\\/g, '\\\\')
      .replace(new RegExp(q, 'g'), '\\' + q)
      .replace(/\n/g, '\\n') +
    q
  );
}

function truthy(x: Py): boolean {
  switch (x.t) {
    case 'int':
      return x.v !== 0n;
    case 'float':
      return x.v !== 0;
    case 'bool':
      return x.v;
    case 'str':
      return x.v.length > 0;
    case 'list':
      return x.v.length > 0;
    case 'none':
      return false;
    default:
      return true;
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
  if (x === undefined || y === undefined)
    throw pyErr('TypeError', `unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
  const zero = (): never => {
    throw pyErr('ZeroDivisionError', op === '/' ? 'division by zero' : 'integer division or modulo by zero');
  };
  if (typeof x === 'bigint' && typeof y === 'bigint') {
    switch (op) {
      case '+':
        return int(x + y);
      case '-':
        return int(x - y);
      case '*':
        return int(x * y);
      case '/':
        return y === 0n ? zero() : float(Number(x) / Number(y));
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
      case '**':
        return y >= 0n ? int(x ** y) : x === 0n ? zero() : float(Number(x) ** Number(y));
    }
  }
  const f = Number(x);
  const g = Number(y);
  switch (op) {
    case '+':
      return float(f + g);
    case '-':
      return float(f - g);
    case '*':
      return float(f * g);
    case '/':
      return g === 0 ? zero() : float(f / g);
    case '//':
      return g === 0 ? zero() : float(Math.floor(f / g));
    case '%':
      return g === 0 ? zero() : float(f - g * Math.floor(f / g));
    default: {
      if (f < 0 && !Number.isInteger(g))
        throw pyErr('ValueError', 'a negative number to a fractional power is complex');
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
    case '==':
      return pyEquals(a, b);
    case '!=':
      return !pyEquals(a, b);
    case 'is':
      return a.t === 'none' || b.t === 'none' || a.t === 'bool' || b.t === 'bool'
        ? a.t === b.t && pyEquals(a, b)
        : a === b;
    case 'is not':
      return !compare('is', a, b);
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
  if (x !== undefined && y !== undefined)
    c = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : Math.sign(Number(x) - Number(y));
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
  return [
    name,
    {
      t: 'fn',
      name,
      call: (args) => {
        if (arity && (args.length < arity[0] || args.length > arity[1]))
          throw pyErr(
            'TypeError',
            `${name}() takes ${arity[0] === arity[1] ? arity[0] : `${arity[0]} to ${arity[1]}`} arguments (${args.length} given)`,
          );
        return call(args);
      },
    },
  ];
}

function mathFn(
  name: string,
  f: (...x: number[]) => number,
  n = 1,
  domain?: (...x: number[]) => boolean,
): [string, Py] {
  return fn(
    name,
    (args) => {
      const xs = args.map((a) => toFloat(a, name));
      if (domain && !domain(...xs)) throw pyErr('ValueError', 'math domain error');
      return float(f(...xs));
    },
    [n, n],
  );
}

const toIntegral = (name: string, f: (x: number) => number): [string, Py] =>
  fn(
    name,
    ([x]) => {
      if (x!.t === 'int' || x!.t === 'bool') return int(numeric(x!) as bigint);
      const v = toFloat(x!, name);
      if (!Number.isFinite(v))
        throw pyErr(
          Number.isNaN(v) ? 'ValueError' : 'OverflowError',
          `cannot convert float ${floatRepr(v)} to integer`,
        );
      return int(BigInt(f(v)));
    },
    [1, 1],
  );

const TRUNC = toIntegral('trunc', Math.trunc);

const MATH = new Map<string, Py>([
  ['pi', float(Math.PI)],
  ['e', float(Math.E)],
  ['tau', float(2 * Math.PI)],
  ['inf', float(Infinity)],
  ['nan', float(NaN)],
  mathFn('sqrt', Math.sqrt, 1, (x) => x >= 0),
  mathFn('exp', Math.exp),
  mathFn('log10', Math.log10, 1, (x) => x > 0),
  mathFn('log2', Math.log2, 1, (x) => x > 0),
  mathFn('sin', Math.sin),
  mathFn('cos', Math.cos),
  mathFn('tan', Math.tan),
  mathFn('asin', Math.asin, 1, (x) => Math.abs(x) <= 1),
  mathFn('acos', Math.acos, 1, (x) => Math.abs(x) <= 1),
  mathFn('atan', Math.atan),
  mathFn('atan2', Math.atan2, 2),
  mathFn('sinh', Math.sinh),
  mathFn('cosh', Math.cosh),
  mathFn('tanh', Math.tanh),
  mathFn('hypot', Math.hypot, 2),
  mathFn('fabs', Math.abs),
  mathFn('degrees', (x) => (x * 180) / Math.PI),
  mathFn('radians', (x) => (x * Math.PI) / 180),
  mathFn('pow', Math.pow, 2),
  mathFn('copysign', (x, y) => (y < 0 || Object.is(y, -0) ? -Math.abs(x) : Math.abs(x)), 2),
  mathFn(
    'fmod',
    (x, y) => x % y,
    2,
    (_x, y) => y !== 0,
  ),
  fn(
    'log',
    (args) => {
      const [x, base] = args.map((a) => toFloat(a, 'log'));
      if (x! <= 0 || (base !== undefined && (base <= 0 || base === 1))) throw pyErr('ValueError', 'math domain error');
      return float(base === undefined ? Math.log(x!) : Math.log(x!) / Math.log(base));
    },
    [1, 2],
  ),
  fn(
    'isclose',
    ([a, b]) => {
      const x = toFloat(a!, 'isclose');
      const y = toFloat(b!, 'isclose');
      return bool(x === y || Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y)));
    },
    [2, 2],
  ),
  toIntegral('floor', Math.floor),
  toIntegral('ceil', Math.ceil),
  TRUNC,
]);

function extreme(name: string, sign: 1 | -1): [string, Py] {
  return fn(name, (args) => {
    const items = args.length === 1 && args[0]!.t === 'list' ? args[0]!.v : args;
    if (items.length === 0) throw pyErr('ValueError', `${name}() arg is an empty sequence`);
    return items.reduce((best, x) => (compare(sign > 0 ? '>' : '<', x, best) ? x : best));
  });
}

const BUILTINS = new Map<string, Py>([
  fn(
    'abs',
    ([x]) => {
      const n = numeric(x!);
      if (n === undefined) throw pyErr('TypeError', `bad operand type for abs(): '${typeName(x!)}'`);
      return typeof n === 'bigint' ? int(n < 0n ? -n : n) : float(Math.abs(n));
    },
    [1, 1],
  ),
  extreme('max', 1),
  extreme('min', -1),
  fn(
    'round',
    ([x, digits]) => {
      if (x!.t === 'int' || x!.t === 'bool') return int(numeric(x!) as bigint);
      const v = toFloat(x!, 'round');
      if (digits === undefined || digits.t === 'none') return int(BigInt(roundHalfEven(v)));
      const k = 10 ** Number(toInt(digits, 'round()'));
      return float(roundHalfEven(v * k) / k);
    },
    [1, 2],
  ),
  fn(
    'int',
    ([x]) => {
      if (x === undefined) return int(0n);
      if (x.t === 'str') {
        const s = x.v.trim();
        if (!/^[+-]?\d(?:_?\d)*$/.test(s))
          throw pyErr('ValueError', `invalid literal for int() with base 10: ${pyRepr(x)}`);
        return int(BigInt(s.replace(/_/g, '')));
      }
      return (TRUNC[1] as Extract<Py, { t: 'fn' }>).call([x]);
    },
    [0, 1],
  ),
  fn(
    'float',
    ([x]) => {
      if (x === undefined) return float(0);
      if (x.t === 'str') {
        const v = pyFloat(x.v);
        if (v === undefined) throw pyErr('ValueError', `could not convert string to float: ${pyRepr(x)}`);
        return float(v);
      }
      return float(toFloat(x, 'float'));
    },
    [0, 1],
  ),
  fn('str', ([x]) => str(x === undefined ? '' : pyStr(x)), [0, 1]),
  fn('bool', ([x]) => bool(x !== undefined && truthy(x)), [0, 1]),
  fn(
    'len',
    ([x]) => {
      if (x!.t === 'str') return int(BigInt(codePoints(x!.v).length));
      if (x!.t === 'list') return int(BigInt(x!.v.length));
      throw pyErr('TypeError', `object of type '${typeName(x!)}' has no len()`);
    },
    [1, 1],
  ),
]);

type Token = { kind: 'num' | 'str' | 'name' | 'op' | 'end'; text: string; value?: Py };

const TOKEN =
  /\s*(?:(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?)|([A-Za-z_]\w*)|('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")|(\*\*|\/\/|==|!=|<=|>=|[-+*/%<>()[\],.]))/y;

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
      const body = quoted
        .slice(1, -1)
        .replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)/g, (_, e: string) =>
          e.length > 1
            ? String.fromCharCode(parseInt(e.slice(1), 16))
            : (({ n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"' } as Record<string, string>)[
                e
              ] ?? '\\' + e),
        );
      out.push({ kind: 'str', text: quoted, value: str(body) });
    } else out.push({ kind: 'op', text: op! });
  }
  out.push({ kind: 'end', text: '' });
  return out;
}

type Expr = () => Py;
const KEYWORDS = new Set([
  'and',
  'or',
  'not',
  'in',
  'is',
  'if',
  'else',
  'True',
  'False',
  'None',
  'lambda',
  'for',
  'import',
  'await',
  'yield',
]);

/** Recursive descent over Python's expression grammar, building closures so and/or/if stay lazy. */
class PyParser {
  #i = 0;
  readonly #toks: Token[];
  constructor(
    private readonly src: string,
    private readonly names: ReadonlyMap<string, Py>,
  ) {
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
          if (!v)
            throw pyErr(
              'AttributeError',
              `'${typeName(m)}' object has no attribute '${t.text}' (methods are not available)`,
            );
          return v;
        };
      } else if (this.#eat('[')) {
        const target = e;
        const index = this.#expr();
        if (!this.#eat(']')) this.#fail("expected ']'");
        e = () => {
          const seq = target();
          const items: Py[] | undefined =
            seq.t === 'list' ? seq.v : seq.t === 'str' ? codePoints(seq.v).map(str) : undefined;
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
      if (!this.#eat(',') && !(close === '' ? this.#peek().kind === 'end' : this.#is(close)))
        this.#fail(close ? `expected ',' or '${close}'` : "expected ','");
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
          const hint = /^(true|false|none)$/i.test(t.text)
            ? ` (Python spells it ${t.text[0]!.toUpperCase()}${t.text.slice(1).toLowerCase()}; quote strings: '${t.text}')`
            : '';
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
