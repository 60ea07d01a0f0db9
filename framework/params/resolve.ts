import { checkParam, type ParamSchema, type ParamValues } from '../../src/util/param_schema.js';
import { COMMON_PARAMS } from './common.js';
import type { ParamSource } from './file.js';

// A node's parameter values from its declarations and its sources (parameter files, the launch
// file, the command line), later sources winning, every value checked against its declaration.

export class ParamError extends Error {}

function suggestion(name: string, schema: ParamSchema): string {
  const names = Object.keys(schema);
  const close = names.find((n) => n.toLowerCase() === name.toLowerCase() || n.startsWith(name) || name.startsWith(n));
  return close ? ` (did you mean '${close}'?)` : names.length ? ` (declared: ${names.join(', ')})` : '';
}

/**
 * The values of a node's parameters: declared defaults, then each source in order (later wins).
 * Any value of the wrong type or out of range, and any undeclared name in a node-specific source,
 * is an error naming the source, the node and the parameter.
 */
export function resolveParams<S extends ParamSchema>(
  schema: S,
  sources: readonly ParamSource[],
  nodeName: string,
): ParamValues<S & typeof COMMON_PARAMS> {
  const full: ParamSchema = { ...COMMON_PARAMS, ...schema };
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(full)) values[name] = spec.default;
  for (const source of sources) {
    for (const [name, raw] of Object.entries(source.values)) {
      const spec = full[name];
      if (!spec) {
        if (source.strict)
          throw new ParamError(
            `${source.origin}: node ${nodeName} has no parameter '${name}'${suggestion(name, full)}`,
          );
        continue;
      }
      const checked = checkParam(spec, raw, source.doubles?.includes(name) ?? false);
      if (typeof checked === 'string')
        throw new ParamError(`${source.origin}: node ${nodeName}: parameter '${name}': ${checked}`);
      values[name] = checked.value;
    }
  }
  return Object.freeze(values) as ParamValues<S & typeof COMMON_PARAMS>;
}
