// The type rcl gives a scalar of a parameter file or of a `-p name:=value`, as get_value in
// rcl_yaml_param_parser/src/parse.c decides it, in this order:
//  - a plain (not quoted) scalar that is one of rcl's boolean words — y Y yes Yes YES true True
//    TRUE on On ON, n N no No NO false False FALSE off Off OFF, only these spellings — is a bool;
//  - a plain scalar that strtol(value, &end, 0) reads whole without overflow is an integer: decimal,
//    hex after 0x, octal after a leading 0 (010 is 8), with an optional sign;
//  - a plain scalar that is one of .nan .NaN .NAN [+-].inf .Inf .INF, or that strtod reads whole
//    without ERANGE (decimals, exponents, hex floats, inf, infinity, nan in any case), is a double
//    (09 too: strtol stops at the 9, strtod does not);
//  - anything else, and every single- or double-quoted scalar, is a string. ROS parameters have no
//    null: `null` and `~` are strings.
// parse_value then requires a sequence's items to have one type ("Sequence should be of same type").

export type RclType = 'bool' | 'integer' | 'double' | 'string';

export interface RclScalar {
  readonly value: boolean | number | string;
  readonly type: RclType;
}

const TRUE_WORDS = new Set(['Y', 'y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const FALSE_WORDS = new Set(['N', 'n', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
const YAML_NAN = new Set(['.nan', '.NaN', '.NAN']);
const YAML_INF = /^[+-]?\.(?:inf|Inf|INF)$/;
/** C's isspace, which strtol and strtod skip at the start */
const LEADING_SPACE = /^[ \t\n\v\f\r]+/;

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
/** the smallest normal double: below it (and above 0) glibc's strtod reports underflow */
const MIN_NORMAL = 2.2250738585072014e-308;

/** strtol(text, &end, 0) on an LP64 system when it reads all of `text` and sets no ERANGE. */
function strtolBase0(text: string): bigint | undefined {
  const m = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|0([0-7]*)|([1-9][0-9]*))$/.exec(text.replace(LEADING_SPACE, ''));
  if (!m) return undefined;
  const [, sign, hex, octal, decimal] = m;
  const magnitude =
    hex !== undefined ? BigInt(`0x${hex}`) : octal !== undefined ? BigInt(`0o0${octal}`) : BigInt(decimal!);
  const value = sign === '-' ? -magnitude : magnitude;
  return value < LONG_MIN || value > LONG_MAX ? undefined : value;
}

/** strtod(text, &end) when it reads all of `text` and sets no ERANGE. */
function strtod(text: string): number | undefined {
  const s = text.replace(LEADING_SPACE, '');
  const special = /^([+-]?)(?:(inf|infinity)|nan(?:\([0-9A-Za-z_]*\))?)$/i.exec(s);
  if (special) return special[2] === undefined ? NaN : special[1] === '-' ? -Infinity : Infinity;
  let value: number;
  let nonZeroDigit: boolean;
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?$/.exec(s);
  if (hex) {
    const [, sign, whole = '', fraction = '', exponent = '0'] = hex;
    if (!whole && !fraction) return undefined; // "0x" alone: strtod reads the 0 and stops at the x
    const mantissa = Number(BigInt(`0x${whole}${fraction}`));
    value = (sign === '-' ? -1 : 1) * mantissa * 2 ** (Number(exponent) - 4 * fraction.length);
    nonZeroDigit = /[1-9a-fA-F]/.test(whole + fraction);
  } else {
    if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(s)) return undefined;
    value = Number(s);
    nonZeroDigit = /[1-9]/.test(s.replace(/[eE].*$/, ''));
  }
  // ERANGE: overflow, or a non-zero number too small for a normal double
  if (!Number.isFinite(value)) return undefined;
  if (nonZeroDigit && Math.abs(value) < MIN_NORMAL) return undefined;
  return value;
}

/** The value and type rcl gives a scalar; `quoted` when it was single- or double-quoted. */
export function rclScalar(text: string, quoted: boolean): RclScalar {
  if (quoted) return { value: text, type: 'string' };
  if (TRUE_WORDS.has(text)) return { value: true, type: 'bool' };
  if (FALSE_WORDS.has(text)) return { value: false, type: 'bool' };
  const integer = strtolBase0(text);
  if (integer !== undefined) return { value: Number(integer), type: 'integer' };
  if (YAML_NAN.has(text)) return { value: NaN, type: 'double' };
  if (YAML_INF.test(text)) return { value: text.startsWith('-') ? -Infinity : Infinity, type: 'double' };
  const double = strtod(text);
  if (double !== undefined) return { value: double, type: 'double' };
  return { value: text, type: 'string' };
}
