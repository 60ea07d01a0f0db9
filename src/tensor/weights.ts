import type * as tf from '@tensorflow/tfjs-core';

// Named float32 arrays packed as TF.js weights (specs + one little-endian buffer, the layout of
// tf.io.encodeWeights for float32), but synchronous and from plain arrays: a model blob sent in a
// message should not need a tensor round trip.

export interface NamedArray {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

export function packFloat32(arrays: readonly NamedArray[]): { specs: tf.io.WeightsManifestEntry[]; data: Uint8Array } {
  let total = 0;
  for (const a of arrays) {
    if (a.values.length !== a.shape.reduce((p, d) => p * d, 1))
      throw new Error(`weight '${a.name}': ${a.values.length} values for shape [${a.shape.join(',')}]`);
    total += a.values.length;
  }
  const values = new Float32Array(total);
  let offset = 0;
  for (const a of arrays) {
    values.set(a.values, offset);
    offset += a.values.length;
  }
  return {
    specs: arrays.map((a) => ({ name: a.name, shape: [...a.shape], dtype: 'float32' as const })),
    data: new Uint8Array(values.buffer),
  };
}

export function unpackFloat32(specs: readonly tf.io.WeightsManifestEntry[], data: Uint8Array): Map<string, NamedArray> {
  const out = new Map<string, NamedArray>();
  let offset = 0;
  for (const spec of specs) {
    if (spec.dtype !== 'float32' || spec.quantization)
      throw new Error(`weight '${spec.name}': only unquantised float32 is supported, not ${spec.dtype}`);
    const count = spec.shape.reduce((p, d) => p * d, 1);
    const bytes = count * 4;
    if (offset + bytes > data.byteLength)
      throw new Error(`weight '${spec.name}' runs past the end of the data (${data.byteLength} bytes)`);
    // a copy: the source may be unaligned for a Float32Array view
    const values = new Float32Array(data.slice(offset, offset + bytes).buffer);
    out.set(spec.name, { name: spec.name, shape: spec.shape, values });
    offset += bytes;
  }
  if (offset !== data.byteLength) throw new Error(`weight data has ${data.byteLength - offset} bytes beyond its specs`);
  return out;
}
