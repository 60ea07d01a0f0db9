import { Rng } from '../../util/random.js';
import type { NamedArray } from '../../tensor/weights.js';

// The layout every engine gives a small MLP (soft actor-critic's actor and critics): per layer l
// the kernel W_l [in_l × out_l] row-major, then the bias b_l [out_l], back to back in one array,
// named `<net>/dense<l>/kernel` and `<net>/dense<l>/bias` as TF.js weights. The initial values are
// PyTorch's nn.Linear default (uniform in ±1/√fan_in), drawn from a seeded source in this order, so
// the native and TF.js engines start from the same weights and a run repeats.

export interface MlpLayout {
  readonly widths: readonly number[];
  readonly layers: { readonly kernel: number; readonly bias: number; readonly shape: readonly [number, number] }[];
  /** total parameters */
  readonly size: number;
}

export function mlpLayout(widths: readonly number[]): MlpLayout {
  if (widths.length < 2 || !widths.every((w) => Number.isInteger(w) && w > 0))
    throw new Error(`MLP: bad layer widths [${widths.join(', ')}]`);
  const layers: MlpLayout['layers'] = [];
  let offset = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const shape = [widths[l]!, widths[l + 1]!] as const;
    layers.push({ kernel: offset, bias: offset + shape[0] * shape[1], shape });
    offset += shape[0] * shape[1] + shape[1];
  }
  return { widths: [...widths], layers, size: offset };
}

/** Seeded PyTorch-default initial parameters in the layout. */
export function initialParams(layout: MlpLayout, seed: number): Float32Array {
  const rng = new Rng(seed);
  const params = new Float32Array(layout.size);
  for (const { kernel, bias, shape } of layout.layers) {
    const bound = 1 / Math.sqrt(shape[0]);
    for (let i = 0; i < shape[0] * shape[1]; i++) params[kernel + i] = (2 * rng.uniform() - 1) * bound;
    for (let i = 0; i < shape[1]; i++) params[bias + i] = (2 * rng.uniform() - 1) * bound;
  }
  return params;
}

/** The parameters as named TF.js weights (copies). */
export function namedParams(name: string, layout: MlpLayout, params: Float32Array): NamedArray[] {
  return layout.layers.flatMap(({ kernel, bias, shape }, l) => [
    { name: `${name}/dense${l}/kernel`, shape: [...shape], values: params.slice(kernel, kernel + shape[0] * shape[1]) },
    { name: `${name}/dense${l}/bias`, shape: [shape[1]], values: params.slice(bias, bias + shape[1]) },
  ]);
}

/** Named weights back into the layout; one line naming what is missing or mis-shaped. */
export function paramsFromNamed(
  name: string,
  layout: MlpLayout,
  weights: ReadonlyMap<string, NamedArray>,
): Float32Array {
  const params = new Float32Array(layout.size);
  layout.layers.forEach(({ kernel, bias, shape }, l) => {
    for (const [key, offset, dims] of [
      [`${name}/dense${l}/kernel`, kernel, [...shape]],
      [`${name}/dense${l}/bias`, bias, [shape[1]]],
    ] as const) {
      const w = weights.get(key);
      if (!w) throw new Error(`weights: '${key}' is missing`);
      if (w.shape.join(',') !== dims.join(','))
        throw new Error(`weights: '${key}' has shape [${w.shape.join(', ')}], the network needs [${dims.join(', ')}]`);
      const count = dims.reduce((a, b) => a * b, 1);
      if (w.values.length !== count)
        throw new Error(`weights: '${key}' has ${w.values.length} values for its shape's ${count}`);
      params.set(w.values, offset);
    }
  });
  return params;
}

/** x [rows × in] through the network in plain JavaScript (ReLU hidden, linear output): inference where no engine is at hand. */
export function mlpForwardJs(
  layout: MlpLayout,
  params: Float32Array,
  x: ArrayLike<number>,
  rows: number,
): Float32Array {
  let h = Float32Array.from(x);
  layout.layers.forEach(({ kernel, bias, shape: [n, m] }, l) => {
    const out = new Float32Array(rows * m);
    for (let r = 0; r < rows; r++) {
      const o = r * m;
      for (let j = 0; j < m; j++) out[o + j] = params[bias + j]!;
      for (let k = 0; k < n; k++) {
        const hk = h[r * n + k]!;
        if (hk === 0) continue;
        const w = kernel + k * m;
        for (let j = 0; j < m; j++) out[o + j]! += hk * params[w + j]!;
      }
      if (l + 1 < layout.layers.length) for (let j = 0; j < m; j++) if (!(out[o + j]! > 0)) out[o + j] = 0;
    }
    h = out;
  });
  return h;
}
