import { readFileSync } from 'node:fs';
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  Scalar,
  type Document,
  type Node as YamlNode,
  type YAMLError,
  type YAMLMap,
} from 'yaml';
import { rclScalar, type RclType } from './rcl_value.js';

// ROS 2 parameter files, as rcl_yaml_param_parser reads them:
//   node_name:            (or /ns/node_name, or nested  ns: node_name:, or wildcards /** and /*)
//     ros__parameters:
//       rate_hz: 100.0
//       limits: { max: 1.0 }      → limits.max
// Every scalar is typed as rcl types it (rcl_value.ts): `yes` is a boolean, `010` the integer 8,
// a quoted "5" a string, `null` a string. JavaScript numbers cannot tell 6.0 from 6, so the
// names whose values were written as doubles are kept beside the values: an integer parameter
// refuses them, as rclcpp does.

export interface ParamSource {
  /** where the values came from, for error messages: a file path, 'launch file x', 'command line' */
  readonly origin: string;
  readonly values: Readonly<Record<string, unknown>>;
  /** whether values for undeclared parameters are an error (a node-specific section) or ignored (wildcards) */
  readonly strict: boolean;
  /** the names whose values were written as doubles (a number, or an array of numbers); none when absent */
  readonly doubles?: readonly string[];
}

export interface ParamFileSection {
  /** fully qualified node pattern, e.g. '/controller', '/arm/controller', '/**' */
  readonly pattern: string;
  readonly values: Record<string, unknown>;
  /** the names whose values were written as doubles, in file order */
  readonly doubles: readonly string[];
}

export class ParamFileError extends Error {}

/** A YAML document whose scalars are all strings, typed afterwards as rcl types them. */
function parseUntyped(text: string, lineCounter?: LineCounter): Document.Parsed {
  return parseDocument(text, { schema: 'failsafe', lineCounter, logLevel: 'silent' });
}

/** The first line of a YAML error, without the position (the caller puts file:line:column first). */
function yamlMessage(err: YAMLError): string {
  return err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

type Where = (node: YamlNode | null) => string;

const article = (type: RclType): string => `${type === 'integer' ? 'an' : 'a'} ${type}`;

function isEmpty(node: YamlNode | null): boolean {
  return node === null || (isScalar(node) && node.type === Scalar.PLAIN && (node.value ?? '') === '');
}

/**
 * A parameter's value as rcl reads it: a scalar, or a sequence of scalars of one type. `double`
 * says it was written as a double (or a sequence of them).
 */
function typedValue(
  node: YamlNode | null,
  name: string,
  where: Where,
  deref: (node: unknown) => YamlNode | null = (n) => n as YamlNode | null,
): { value: unknown; double: boolean } {
  if (isEmpty(node)) throw new ParamFileError(`${where(node)}: parameter '${name}' has no value`);
  const scalar = (n: YamlNode | null): { value: unknown; type: RclType; text: string } => {
    if (!isScalar(n))
      throw new ParamFileError(
        `${where(n)}: parameter '${name}': ${isSeq(n) ? 'a sequence' : 'a mapping'} inside a sequence is not a parameter value`,
      );
    const text = typeof n.value === 'string' ? n.value : ''; // the failsafe schema: every scalar is a string
    return { ...rclScalar(text, n.type === Scalar.QUOTE_DOUBLE || n.type === Scalar.QUOTE_SINGLE), text };
  };
  if (isSeq(node)) {
    const items = node.items.map((i) => scalar(deref(i)));
    const first = items[0];
    const odd = items.findIndex((i) => i.type !== first!.type);
    if (odd >= 0)
      throw new ParamFileError(
        `${where(node.items[odd] as YamlNode)}: parameter '${name}': the items of a sequence must have one type ('${items[odd]!.text}' is ${article(items[odd]!.type)}, '${first!.text}' ${article(first!.type)})`,
      );
    return { value: items.map((i) => i.value), double: first?.type === 'double' };
  }
  const { value, type } = scalar(node);
  return { value, double: type === 'double' };
}

/** Parse the text of a parameter file into its node sections. */
export function parseParamFile(text: string, origin: string): ParamFileSection[] {
  const lines = new LineCounter();
  const doc = parseUntyped(text, lines);
  const error = doc.errors[0];
  if (error) {
    const pos = error.linePos?.[0];
    throw new ParamFileError(`${origin}${pos ? `:${pos.line}:${pos.col}` : ''}: not valid YAML: ${yamlMessage(error)}`);
  }
  const deref = (node: unknown): YamlNode | null =>
    isAlias(node) ? ((node.resolve(doc) as YamlNode | undefined) ?? null) : ((node as YamlNode | null) ?? null);
  const where: Where = (node) => {
    const offset = node?.range?.[0];
    if (offset === undefined) return origin;
    const { line, col } = lines.linePos(offset);
    return `${origin}:${line}:${col}`;
  };
  const root = deref(doc.contents);
  if (isEmpty(root)) return [];
  if (!isMap(root)) throw new ParamFileError(`${origin}: expected a mapping of node names to 'ros__parameters'`);
  const keyOf = (key: unknown): string => String(isScalar(key) ? key.value : key);
  const flatten = (map: YAMLMap, prefix: string, values: Record<string, unknown>, doubles: string[]): void => {
    for (const pair of map.items) {
      const name = prefix ? `${prefix}.${keyOf(pair.key)}` : keyOf(pair.key);
      const node = deref(pair.value);
      if (isMap(node)) {
        flatten(node, name, values, doubles);
        continue;
      }
      const { value, double } = typedValue(node, name, where, deref);
      values[name] = value;
      if (double) doubles.push(name);
    }
  };
  const sections: ParamFileSection[] = [];
  const walk = (map: YAMLMap, path: string[]): void => {
    for (const pair of map.items) {
      const key = keyOf(pair.key);
      const value = deref(pair.value);
      if (key === 'ros__parameters') {
        if (path.length === 0) throw new ParamFileError(`${origin}: 'ros__parameters' must be under a node name`);
        if (isEmpty(value)) continue;
        if (!isMap(value))
          throw new ParamFileError(`${origin}: '${path.join('/')}: ros__parameters' must be a mapping`);
        const pattern =
          '/' +
          path
            .map((p) => p.replace(/^\/+|\/+$/g, ''))
            .filter(Boolean)
            .join('/');
        const values: Record<string, unknown> = {};
        const doubles: string[] = [];
        flatten(value, '', values, doubles);
        sections.push({ pattern, values, doubles });
      } else if (isMap(value)) {
        walk(value, [...path, key]);
      } else {
        throw new ParamFileError(
          `${origin}: '${[...path, key].join('/')}' has no 'ros__parameters' section (node parameters go under node_name: ros__parameters:)`,
        );
      }
    }
  };
  walk(root, []);
  return sections;
}

export function loadParamFile(path: string): ParamFileSection[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ParamFileError(
      `parameter file ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return parseParamFile(text, path);
}

/** Whether a pattern from a parameter file names this node ('*' one token, '**' any number). */
export function patternMatches(pattern: string, fullyQualifiedName: string): boolean {
  const p = pattern.split('/').filter(Boolean);
  const n = fullyQualifiedName.split('/').filter(Boolean);
  const match = (i: number, j: number): boolean => {
    if (i === p.length) return j === n.length;
    if (p[i] === '**') return match(i + 1, j) || (j < n.length && match(i, j + 1));
    if (j === n.length) return false;
    const re = new RegExp('^' + p[i]!.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*') + '$');
    return re.test(n[j]!) && match(i + 1, j + 1);
  };
  return match(0, 0);
}

/** The sources a parameter file gives one node, in file order; wildcard sections are not strict. */
export function sourcesForNode(
  sections: readonly ParamFileSection[],
  fullyQualifiedName: string,
  origin: string,
): ParamSource[] {
  return sections
    .filter((s) => patternMatches(s.pattern, fullyQualifiedName))
    .map((s) => ({
      origin: `${origin} (${s.pattern})`,
      values: s.values,
      strict: !s.pattern.includes('*'),
      doubles: s.doubles,
    }));
}

/**
 * Parse 'name:=value' as rcl does (rcl_parse_yaml_value): the value is YAML typed as in parameter
 * files, so 1 is an integer, 1.0 a double, yes a boolean, [1, 2] an integer array.
 */
export function parseOverride(arg: string, origin: string): ParamSource {
  const at = arg.indexOf(':=');
  if (at <= 0) throw new ParamFileError(`${origin}: '${arg}' is not of the form name:=value`);
  const name = arg.slice(0, at);
  const text = arg.slice(at + 2);
  const doc = parseUntyped(text);
  const node = doc.contents as YamlNode | null;
  if (doc.errors.length) return { origin, values: { [name]: text }, strict: true };
  if (isMap(node)) return { origin, values: { [name]: doc.toJS() as unknown }, strict: true };
  const { value, double } = typedValue(node, name, () => origin);
  return { origin, values: { [name]: value }, strict: true, doubles: double ? [name] : [] };
}
