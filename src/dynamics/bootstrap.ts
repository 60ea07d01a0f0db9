import type { Rng } from '../util/random.js';

// Data splits for ensemble training: a held-out validation set, and one bootstrap resample of the
// training rows per member (drawn with replacement, as large as the training set), so the members
// disagree where data are scarce: their disagreement is the epistemic uncertainty.

/** Fisher–Yates */
export function shuffleInPlace(a: Int32Array, rng: Rng): Int32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

/** a random split of rows 0…n−1: ⌊n·ratio⌋ for validation (at least one row stays for training) */
export function holdoutSplit(n: number, ratio: number, rng: Rng): { train: Int32Array; validation: Int32Array } {
  if (!(ratio >= 0 && ratio < 1)) throw new Error(`holdout ratio ${ratio} is not in [0, 1)`);
  const order = shuffleInPlace(
    Int32Array.from({ length: n }, (_, i) => i),
    rng,
  );
  const nVal = Math.min(Math.floor(n * ratio), Math.max(n - 1, 0));
  return { validation: order.slice(0, nVal), train: order.slice(nVal) };
}

/** one resample of `pool` per member, each pool.length draws with replacement */
export function bootstrapResamples(pool: Int32Array, members: number, rng: Rng): Int32Array[] {
  return Array.from({ length: members }, () =>
    Int32Array.from(pool, () => pool[Math.floor(rng.uniform() * pool.length)]!),
  );
}
