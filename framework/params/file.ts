import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';

// ROS 2 parameter files, as rcl_yaml_param_parser reads them:
//   node_name:            (or /ns/node_name, or nested  ns: node_name:, or wildcards /** and /*)
//     ros__parameters:
//       rate_hz: 100.0
//       limits: { max: 1.0 }      → limits.max

export interface ParamSource {
  /** where the values came from, for error messages: a file path, 'launch file x', 'command line' */
  readonly origin: string;
  readonly values: Readonly<Record<string, unknown>>;
  /** whether values for undeclared parameters are an error (a node-specific section) or ignored (wildcards) */
  readonly strict: boolean;
}

export interface ParamFileSection {
  /** fully qualified node pattern, e.g. '/controller', '/arm/controller', '/**' */
  readonly pattern: string;
  readonly values: Record<string, unknown>;
}

export class ParamFileError extends Error {}

export function flattenParams(
  value: Record<string, unknown>,
  prefix = '',
  out: Record<string, unknown> = {},
): Record<string, unknown> {
  for (const [key, v] of Object.entries(value)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      flattenParams(v as Record<string, unknown>, name, out);
    else out[name] = v;
  }
  return out;
}

/** Parse the text of a parameter file into its node sections. */
export function parseParamFile(text: string, origin: string): ParamFileSection[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new ParamFileError(`${origin}: not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return [];
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new ParamFileError(`${origin}: expected a mapping of node names to 'ros__parameters'`);
  const sections: ParamFileSection[] = [];
  const walk = (node: Record<string, unknown>, path: string[]): void => {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'ros__parameters') {
        if (path.length === 0) throw new ParamFileError(`${origin}: 'ros__parameters' must be under a node name`);
        if (value === null) continue;
        if (typeof value !== 'object' || Array.isArray(value))
          throw new ParamFileError(`${origin}: '${path.join('/')}: ros__parameters' must be a mapping`);
        const pattern =
          '/' +
          path
            .map((p) => p.replace(/^\/+|\/+$/g, ''))
            .filter(Boolean)
            .join('/');
        sections.push({ pattern, values: flattenParams(value as Record<string, unknown>) });
      } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        walk(value as Record<string, unknown>, [...path, key]);
      } else {
        throw new ParamFileError(
          `${origin}: '${[...path, key].join('/')}' has no 'ros__parameters' section (node parameters go under node_name: ros__parameters:)`,
        );
      }
    }
  };
  walk(doc as Record<string, unknown>, []);
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
    .map((s) => ({ origin: `${origin} (${s.pattern})`, values: s.values, strict: !s.pattern.includes('*') }));
}

/** Parse 'name:=value' as rcl does: the value is YAML (so 1 is an integer, 1.0 a double, [1, 2] an array). */
export function parseOverride(arg: string, origin: string): ParamSource {
  const at = arg.indexOf(':=');
  if (at <= 0) throw new ParamFileError(`${origin}: '${arg}' is not of the form name:=value`);
  const name = arg.slice(0, at);
  let value: unknown;
  try {
    value = parseYaml(arg.slice(at + 2));
  } catch {
    value = arg.slice(at + 2);
  }
  return { origin, values: { [name]: value }, strict: true };
}
