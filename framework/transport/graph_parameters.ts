import { COMMON_PARAMS } from '../params/common.js';
import type { ParamSchema } from '../../src/util/param_schema.js';
import type { GraphParameter, GraphParameterValue } from './types.js';

// The parameters of a node as others in the graph see them (NodeHandle.graphParameters): each
// declared parameter with its type and the value the node resolved at start-up. dynastack nodes
// read their parameters once, so these values are the ones in force for the node's life.

/** A node's declared parameters (its schema and the common ones) with their resolved values. */
export function graphParametersOf(
  node: string,
  schema: ParamSchema,
  values: Readonly<Record<string, unknown>>,
): GraphParameter[] {
  return Object.entries({ ...COMMON_PARAMS, ...schema }).flatMap(([name, spec]) => {
    const value = values[name];
    if (value === undefined) return [];
    const copy = (Array.isArray(value) ? [...(value as unknown[])] : value) as GraphParameterValue;
    return [{ node, name, type: spec.type, value: copy }];
  });
}
