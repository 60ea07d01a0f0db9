import type { Parameter } from '@foxglove/ws-protocol';
import type { GraphParameter } from '../transport/types.js';

// The graph's parameters as a Foxglove client sees them (spec "Parameter Values"): named
// '<fully qualified node>.<parameter>', as foxglove_bridge names them (ros/src/foxglove_bridge/
// src/parameter_interface.cpp: nodeName + '.' + paramName), a double marked `float64` (a double
// array `float64_array`) so that 2.0 is not taken for an integer, a byte array as base64 marked
// `byte_array` (the spec's encoding of bytes).

/** Every parameter of `graph` in the protocol's form, or only the named ones when names are given. */
export function foxgloveParameters(graph: readonly GraphParameter[], names: readonly string[]): Parameter[] {
  const wanted = names.length ? new Set(names) : undefined;
  const out: Parameter[] = [];
  for (const p of graph) {
    const name = `${p.node}.${p.name}`;
    if (wanted && !wanted.has(name)) continue;
    if (p.value instanceof Uint8Array) {
      out.push({ name, value: Buffer.from(p.value).toString('base64'), type: 'byte_array' });
      continue;
    }
    const value = (Array.isArray(p.value) ? [...(p.value as unknown[])] : p.value) as Parameter['value'];
    out.push({
      name,
      value,
      ...(p.type === 'double' ? { type: 'float64' as const } : {}),
      ...(p.type === 'double_array' ? { type: 'float64_array' as const } : {}),
    });
  }
  return out;
}
