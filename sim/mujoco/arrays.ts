// The package types every array as `any`; these narrow them once, at the boundary, so a changed
// binding fails loudly here rather than as NaNs in a controller.

export function f64(value: unknown, what: string): Float64Array {
  if (value instanceof Float64Array) return value;
  throw new Error(`MuJoCo binding: expected ${what} as a Float64Array, got ${describe(value)}`);
}

/** MuJoCo's float arrays (geom_rgba, mat_rgba, mesh_vert: float, not mjtNum, in mjModel). */
export function f32(value: unknown, what: string): Float32Array {
  if (value instanceof Float32Array) return value;
  throw new Error(`MuJoCo binding: expected ${what} as a Float32Array, got ${describe(value)}`);
}

export function i32(value: unknown, what: string): Int32Array {
  if (value instanceof Int32Array) return value;
  throw new Error(`MuJoCo binding: expected ${what} as an Int32Array, got ${describe(value)}`);
}

export function bool(value: unknown, what: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  throw new Error(`MuJoCo binding: expected ${what} as a boolean, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  return typeof value === 'object' ? value.constructor.name : typeof value;
}

/**
 * Check that `values` has `expected` finite numbers, naming each entry with `names` in the message.
 * Called before any write, so a bad array leaves the simulation untouched.
 */
export function checkFinite(values: ArrayLike<number>, expected: number, what: string, names: readonly string[]): void {
  if (values.length !== expected) {
    throw new Error(
      `${what}: expected ${expected} values${names.length ? ` (${names.join(', ')})` : ''}, got ${values.length}`,
    );
  }
  for (let i = 0; i < expected; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v))
      throw new Error(
        `${what}: value ${i}${names[i] ? ` ('${names[i]}')` : ''} is ${v}; every value must be a finite number`,
      );
  }
}

/** Copy a wasm view into a caller's array (allocating one when none is given), so callers never hold a view. */
export function copyOut(
  view: Float64Array,
  out: Float64Array | undefined,
  what: string,
  offset = 0,
  length = view.length - offset,
): Float64Array {
  const target = out ?? new Float64Array(length);
  if (target.length < length)
    throw new Error(`${what}: the output array has ${target.length} elements, needs ${length}`);
  for (let i = 0; i < length; i++) target[i] = view[offset + i]!;
  return target;
}
