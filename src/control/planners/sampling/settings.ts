import { quarterRange } from './bounds.js';

// Checks for planner settings: a bad value stops construction with a message naming it.

export function positiveInteger(who: string, name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${who}: ${name} must be a positive integer, got ${value}`);
  return value;
}

export function inRange(
  who: string,
  name: string,
  value: number,
  low: number,
  high: number,
  closed: { low: boolean; high: boolean } = { low: true, high: true },
): number {
  const aboveLow = closed.low ? value >= low : value > low;
  const belowHigh = closed.high ? value <= high : value < high;
  if (!(aboveLow && belowHigh))
    throw new Error(
      `${who}: ${name} must be in ${closed.low ? '[' : '('}${low}, ${high}${closed.high ? ']' : ')'}, got ${value}`,
    );
  return value;
}

/** A per-dimension value given as one number or nu numbers, as a Float32Array of nu. */
export function perDimension(who: string, name: string, value: number | readonly number[], nu: number): Float32Array {
  const values = typeof value === 'number' ? new Array<number>(nu).fill(value) : value;
  if (values.length !== nu) throw new Error(`${who}: ${name} needs 1 or ${nu} values, got ${values.length}`);
  values.forEach((v) => {
    if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`${who}: ${name} must be finite and ≥ 0, got ${v}`);
  });
  return Float32Array.from(values);
}

/** A configured initial std per action dimension, tiled over the horizon; default (high − low) / 4. */
export function initialStd(
  setting: number | readonly number[] | undefined,
  low: Float32Array,
  high: Float32Array,
  horizon: number,
  who: string,
): Float32Array {
  if (setting === undefined) return quarterRange(low, high, horizon);
  const perAction = perDimension(who, 'initial_std', setting, low.length);
  const out = new Float32Array(horizon * low.length);
  for (let i = 0; i < out.length; i++) out[i] = perAction[i % low.length]!;
  return out;
}
