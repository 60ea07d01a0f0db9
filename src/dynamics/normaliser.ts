// Per-column mean/std normalisation, fitted on a data set (mbrl-lib's Normalizer): the nets see
// inputs and targets of unit scale whatever the robot's units.

/** a column whose std is below this is constant: it is centred but not scaled */
const MIN_STD = 1e-6;

export class Normaliser {
  constructor(
    readonly mean: Float32Array,
    readonly std: Float32Array,
  ) {
    if (mean.length !== std.length) throw new Error(`normaliser: ${mean.length} means but ${std.length} stds`);
  }

  get dim(): number {
    return this.mean.length;
  }

  static identity(dim: number): Normaliser {
    return new Normaliser(new Float32Array(dim), new Float32Array(dim).fill(1));
  }

  /** fit on n rows of `dim` columns, row-major */
  static fit(rows: Float32Array, n: number, dim: number): Normaliser {
    if (rows.length < n * dim) throw new Error(`normaliser: ${rows.length} values for ${n}×${dim}`);
    const sum = new Float64Array(dim);
    for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) sum[j]! += rows[i * dim + j]!;
    const mean = sum.map((s) => s / Math.max(n, 1));
    // two passes: the one-pass formula loses precision for large offsets (e.g. positions in metres far from 0)
    const sq = new Float64Array(dim);
    for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) sq[j]! += (rows[i * dim + j]! - mean[j]!) ** 2;
    const std = sq.map((s) => Math.sqrt(s / Math.max(n, 1)));
    return new Normaliser(
      Float32Array.from(mean),
      Float32Array.from(std, (s) => (s < MIN_STD ? 1 : s)),
    );
  }

  /** (x − mean) / std for n rows, in place */
  normalise(rows: Float32Array, n: number): Float32Array {
    const dim = this.dim;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < dim; j++) rows[i * dim + j] = (rows[i * dim + j]! - this.mean[j]!) / this.std[j]!;
    return rows;
  }

  /** x·std + mean for n rows, in place */
  denormalise(rows: Float32Array, n: number): Float32Array {
    const dim = this.dim;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < dim; j++) rows[i * dim + j] = rows[i * dim + j]! * this.std[j]! + this.mean[j]!;
    return rows;
  }
}
