import {
  isScalar as isYamlScalar,
  isSeq,
  parseDocument,
  type Document,
  type DocumentOptions,
  type ParseOptions,
  type SchemaOptions,
  type Node as YamlNode,
  type Tags,
  type YAMLError,
} from 'yaml';
import { LaunchError } from './types.js';

// The type coercions ROS 2 launch applies: YAML 1.1 as PyYAML reads it, parameter values and
// their declared types, and launch's boolean conditions.

/**
 * YAML as PyYAML's safe_load reads it (YAML 1.1): launch files are loaded with it and launch types
 * substitution results with it. The `yaml` package's 1.1 schema also takes y/n as booleans and
 * floats without a dot or with an unsigned exponent; PyYAML does not.
 */
export const PYYAML: ParseOptions & DocumentOptions & SchemaOptions = {
  schema: 'yaml-1.1',
  logLevel: 'silent', // problems are reported through yamlProblem()
  customTags: (tags: Tags): Tags =>
    tags
      .filter((t) => typeof t === 'string' || t.format !== 'EXP')
      .map((t) => {
        if (typeof t === 'string' || !('test' in t) || !t.test) return t;
        if (t.tag === 'tag:yaml.org,2002:bool')
          return {
            ...t,
            test: t.test.test('true')
              ? /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/
              : /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/,
          };
        if (t.tag === 'tag:yaml.org,2002:float' && !t.format && t.test.test('1.5')) {
          return {
            ...t,
            test: /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?)$/,
          };
        }
        return t;
      }),
};

/** A document's first error, or an unknown tag, which PyYAML's safe_load refuses too. */
export function yamlProblem(doc: Document.Parsed): YAMLError | undefined {
  return doc.errors[0] ?? doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
}

/** The first line of a YAML error, without the position (messages give their own). */
export function yamlMessage(err: YAMLError): string {
  return err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

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
  if (!Array.isArray(value))
    return `${value === null ? 'null' : value instanceof Date ? 'a date' : typeof value === 'object' ? 'a mapping' : typeof value} is not a parameter value`;
  if (value.length === 0) return allowEmptyList ? undefined : 'an empty list is not a parameter value';
  if (!value.every(isScalar)) return 'list items must be booleans, numbers or strings';
  if (!value.every((x) => typeof x === typeof value[0]))
    return `list items must all have one type, got ${JSON.stringify(value)}`;
  return undefined;
}

/** PyYAML's int resolver (YAML 1.1): what a plain number that is not an int is a float. */
const PY_INT = /^[-+]?(?:0b[0-1_]+|0[0-7_]+|0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;

/**
 * Whether a YAML node read with PYYAML is a float, as Python sees it: JavaScript numbers cannot
 * tell 6.0 from 6, and launch_ros passes a float on as a double parameter, which an integer
 * parameter refuses.
 */
export function isPyFloat(node: YamlNode | null | undefined): boolean {
  if (!isYamlScalar(node) || typeof node.value !== 'number') return false;
  if (node.tag === 'tag:yaml.org,2002:float') return true;
  if (node.tag === 'tag:yaml.org,2002:int') return false;
  return !PY_INT.test(node.source ?? String(node.value));
}

/** A parameter value, and whether it is a float (or a list with floats, which launch_ros makes all floats). */
export interface TypedValue {
  readonly value: unknown;
  readonly double: boolean;
}

/** A substitution result typed by YAML rules, as launch_ros does for parameter values. */
export function yamlValue(text: string, allowEmptyList = true): TypedValue {
  if (text === '') return { value: '', double: false };
  const doc = parseDocument(text, PYYAML);
  const invalid = yamlProblem(doc);
  if (invalid) throw new LaunchError(`'${text}' is not valid YAML: ${yamlMessage(invalid)}`);
  const value: unknown = doc.toJS();
  const problem = parameterValueProblem(value, allowEmptyList);
  if (problem) throw new LaunchError(`'${text}' read as YAML: ${problem}`);
  const root = doc.contents;
  const double = isSeq(root) ? root.items.some((i) => isPyFloat(i)) : isPyFloat(root);
  return { value, double };
}

/** The `type` attribute of a node's `param` (launch.frontend.type_utils). */
export const PARAM_TYPES = [
  'str',
  'bool',
  'float',
  'int',
  'list_of_str',
  'list_of_bool',
  'list_of_float',
  'list_of_int',
  'yaml',
] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

const ofType = (v: unknown, scalar: string): boolean =>
  scalar === 'str'
    ? typeof v === 'string'
    : scalar === 'bool'
      ? typeof v === 'boolean'
      : scalar === 'int'
        ? Number.isInteger(v)
        : typeof v === 'number';

/** Whether a value written in the launch file (no substitutions) already has the declared type. */
export function hasParamType(value: unknown, type: ParamType): boolean {
  if (type === 'yaml') return true;
  if (type.startsWith('list_of_')) return Array.isArray(value) && value.every((x) => ofType(x, type.slice(8)));
  return ofType(value, type);
}

/** A substitution result coerced to a declared type (launch's coerce_to_type). */
export function coerceToType(text: string, type: ParamType | undefined): TypedValue {
  if (type === undefined || type === 'yaml') return yamlValue(text);
  if (type.startsWith('list_of_')) {
    const list = yamlValue(text);
    const itemType = type.slice(8);
    if (
      !Array.isArray(list.value) ||
      !list.value.every((x) => ofType(x, itemType)) ||
      (itemType === 'int' && list.double)
    )
      throw new LaunchError(`cannot convert '${text}' to ${type}`);
    return { value: list.value, double: itemType === 'float' };
  }
  const value =
    type === 'str' ? text : type === 'int' ? pyInt(text) : type === 'float' ? pyFloat(text) : toBoolOrUndefined(text);
  if (value === undefined) throw new LaunchError(`cannot convert '${text}' to ${type}`);
  return { value, double: type === 'float' };
}

function toBoolOrUndefined(text: string): boolean | undefined {
  try {
    return toBool(text, 'bool');
  } catch {
    return undefined;
  }
}
