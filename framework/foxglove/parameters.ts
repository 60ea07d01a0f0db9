import type { Parameter } from '@foxglove/ws-protocol';
import type { ParamSchema } from '../../src/util/param_schema.js';

// A node's parameters as a Foxglove client sees them (spec "Parameter Values"): named
// '<fully qualified node>.<parameter>', as foxglove_bridge names them (ros/src/foxglove_bridge/
// src/parameter_interface.cpp: nodeName + '.' + paramName), and a double marked `float64` (a
// double array `float64_array`) so that 2.0 is not taken for an integer.

export class NodeParameters {
  readonly #list: Parameter[];

  constructor(fullyQualifiedName: string, schema: ParamSchema, values: Readonly<Record<string, unknown>>) {
    this.#list = Object.entries(schema).map(([name, spec]) => {
      const value = values[name];
      const copy = Array.isArray(value) ? [...(value as unknown[])] : value;
      return {
        name: `${fullyQualifiedName}.${name}`,
        value: copy as Parameter['value'],
        ...(spec.type === 'double' ? { type: 'float64' as const } : {}),
        ...(spec.type === 'double_array' ? { type: 'float64_array' as const } : {}),
      };
    });
  }

  /** The named parameters (unknown names are left out), or all of them when none are named. */
  get(names: readonly string[]): Parameter[] {
    if (names.length === 0) return [...this.#list];
    const wanted = new Set(names);
    return this.#list.filter((p) => wanted.has(p.name));
  }
}
