import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

// Conversions between the row-major Float64Arrays that cross module boundaries (the sim's
// linearisation, policies, messages) and ml-matrix, which does the arithmetic. Sizes are explicit
// and checked here, so a wrong size fails with the matrix's name rather than deep inside ml-matrix.

/** A rows × cols matrix from row-major data; `name` appears in the error if the size is wrong. */
export function toMatrix(data: ArrayLike<number>, rows: number, cols: number, name: string): Matrix {
  if (data.length !== rows * cols) {
    throw new Error(`${name} must be ${rows}×${cols} (${rows * cols} values, row-major), got ${data.length} values`);
  }
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, data[i * cols + j]!);
  return m;
}

/** Row-major copy of a matrix. */
export function fromMatrix(m: Matrix): Float64Array {
  const out = new Float64Array(m.rows * m.columns);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.columns; j++) out[i * m.columns + j] = m.get(i, j);
  return out;
}

/** ½(M + Mᵀ): cost and value matrices are symmetric in exact arithmetic; round-off is not. */
export function symmetrised(m: Matrix): Matrix {
  const n = m.rows;
  const s = new Matrix(n, n);
  for (let i = 0; i < n; i++) {
    s.set(i, i, m.get(i, i));
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (m.get(i, j) + m.get(j, i));
      s.set(i, j, v);
      s.set(j, i, v);
    }
  }
  return s;
}

/** The largest |m_ij − m_ji| relative to the largest |m_ij| (0 for a symmetric or zero matrix). */
export function asymmetry(m: Matrix): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.columns; j++) {
      scale = Math.max(scale, Math.abs(m.get(i, j)));
      diff = Math.max(diff, Math.abs(m.get(i, j) - m.get(j, i)));
    }
  }
  return scale === 0 ? 0 : diff / scale;
}

/** The largest |m_ij|. */
export function maxAbs(m: Matrix): number {
  let out = 0;
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.columns; j++) out = Math.max(out, Math.abs(m.get(i, j)));
  return out;
}

/** max |λ| over the (complex) eigenvalues of a square matrix: < 1 means x ← Mx is stable. */
export function spectralRadius(m: Matrix): number {
  const evd = new EigenvalueDecomposition(m);
  const re = evd.realEigenvalues;
  const im = evd.imaginaryEigenvalues;
  let rho = 0;
  for (let i = 0; i < re.length; i++) rho = Math.max(rho, Math.hypot(re[i]!, im[i]!));
  return rho;
}

/** The smallest eigenvalue of a symmetric matrix (to check semi-definiteness). */
export function smallestEigenvalue(m: Matrix): number {
  const evd = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  return Math.min(...evd.realEigenvalues);
}
