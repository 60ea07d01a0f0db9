// Small dense linear algebra on row-major Float64Arrays, for the trajectory optimisers' inner
// loops (iLQR's backward pass, the box QP): matrices of a few to a few dozen rows, thousands of
// times per plan. ml-matrix (used by the LQR code, src/control/planners/lqr/) allocates a Matrix
// per operation, which at these sizes costs more than the arithmetic; these routines write into
// caller-owned arrays and allocate nothing. Cholesky as in MuJoCo's mju_cholFactor (engine_util_solve.c).

/** C (m×n) = A (m×k) · B (k×n), or C += when `add`. */
export function matMul(
  A: Float64Array,
  B: Float64Array,
  m: number,
  k: number,
  n: number,
  C: Float64Array,
  add = false,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = add ? C[i * n + j]! : 0;
      for (let p = 0; p < k; p++) s += A[i * k + p]! * B[p * n + j]!;
      C[i * n + j] = s;
    }
  }
}

/** C (m×n) = Aᵀ · B for A (k×m), B (k×n), or C += when `add`. */
export function matTMul(
  A: Float64Array,
  B: Float64Array,
  k: number,
  m: number,
  n: number,
  C: Float64Array,
  add = false,
): void {
  if (!add) C.fill(0, 0, m * n);
  for (let p = 0; p < k; p++) {
    for (let i = 0; i < m; i++) {
      const a = A[p * m + i]!;
      if (a === 0) continue;
      for (let j = 0; j < n; j++) C[i * n + j]! += a * B[p * n + j]!;
    }
  }
}

/** y (m) = A (m×n) · x (n), or y += when `add`. */
export function matVec(
  A: Float64Array,
  x: ArrayLike<number>,
  m: number,
  n: number,
  y: Float64Array,
  add = false,
): void {
  for (let i = 0; i < m; i++) {
    let s = add ? y[i]! : 0;
    for (let j = 0; j < n; j++) s += A[i * n + j]! * x[j]!;
    y[i] = s;
  }
}

/** y (n) = Aᵀ · x for A (m×n), x (m), or y += when `add`. */
export function matTVec(
  A: Float64Array,
  x: ArrayLike<number>,
  m: number,
  n: number,
  y: Float64Array,
  add = false,
): void {
  if (!add) y.fill(0, 0, n);
  for (let i = 0; i < m; i++) {
    const xi = x[i]!;
    if (xi === 0) continue;
    for (let j = 0; j < n; j++) y[j]! += A[i * n + j]! * xi;
  }
}

/** ½(M + Mᵀ) in place (n×n). */
export function symmetrise(M: Float64Array, n: number): void {
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (M[i * n + j]! + M[j * n + i]!);
      M[i * n + j] = v;
      M[j * n + i] = v;
    }
}

/**
 * Cholesky factor L (lower, n×n, row-major, upper part zeroed) of the symmetric M; false when M is
 * not positive definite (a pivot ≤ 0 or not finite). L may be M itself.
 */
export function cholesky(M: Float64Array, n: number, L: Float64Array): boolean {
  for (let j = 0; j < n; j++) {
    let d = M[j * n + j]!;
    for (let k = 0; k < j; k++) d -= L[j * n + k]! * L[j * n + k]!;
    if (!(d > 0) || !Number.isFinite(d)) return false;
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = M[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = s / ljj;
    }
    for (let i = 0; i < j; i++) L[i * n + j] = 0;
  }
  return true;
}

/** Solve (L Lᵀ) X = B in place for B (n×cols), L from cholesky(). */
export function choleskySolve(L: Float64Array, n: number, B: Float64Array, cols: number): void {
  for (let c = 0; c < cols; c++) {
    for (let i = 0; i < n; i++) {
      let s = B[i * cols + c]!;
      for (let k = 0; k < i; k++) s -= L[i * n + k]! * B[k * cols + c]!;
      B[i * cols + c] = s / L[i * n + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = B[i * cols + c]!;
      for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * B[k * cols + c]!;
      B[i * cols + c] = s / L[i * n + i]!;
    }
  }
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i]! * b[i]!;
  return s;
}
