// The norms a residual cost applies to its residuals, as MuJoCo MPC's cost terms do (mjpc/norm.h):
// each gives its value n(r), its gradient g = ∂n/∂r and a positive semi-definite curvature H that
// the Gauss–Newton Hessians use (Jᵀ H J). Where a norm's true Hessian can be indefinite (the
// Gaussian kernel far from its centre), H keeps its positive part, so every stage cost's Hessian
// stays PSD and iLQR's regularisation only has to answer for the dynamics.
//   quadratic   n = ½‖r‖²                     g = r           H = I
//   smooth_abs  n = Σᵢ √(rᵢ² + p²) − p         gᵢ = rᵢ/sᵢ       Hᵢᵢ = p²/sᵢ³        (a smooth L1)
//   l2          n = √(‖r‖² + p²) − p           g = r/s         H = (I − g gᵀ)/s     (a smooth L2)
//   gaussian    n = 1 − exp(−‖r‖²/(2p²))       g = e r/p²      H = (e/p²)(I − c r̂ r̂ᵀ), c = min(1, ‖r‖²/p²)

export const NORM_KINDS = ['quadratic', 'smooth_abs', 'l2', 'gaussian'] as const;
export type NormKind = (typeof NORM_KINDS)[number];

export interface Norm {
  readonly kind: NormKind;
  /** the smoothing scale p (unused by quadratic) */
  readonly p: number;
}

export function norm(kind: NormKind, p = 0.1): Norm {
  if (kind !== 'quadratic' && !(p > 0)) throw new Error(`norm ${kind}: its scale p must be positive, got ${p}`);
  return { kind, p };
}

/** n(r) over the first `size` entries of r. */
export function normValue(n: Norm, r: ArrayLike<number>, size: number): number {
  const p = n.p;
  let ss = 0;
  switch (n.kind) {
    case 'quadratic':
      for (let i = 0; i < size; i++) ss += r[i]! * r[i]!;
      return 0.5 * ss;
    case 'smooth_abs': {
      let v = 0;
      for (let i = 0; i < size; i++) v += Math.sqrt(r[i]! * r[i]! + p * p) - p;
      return v;
    }
    case 'l2':
      for (let i = 0; i < size; i++) ss += r[i]! * r[i]!;
      return Math.sqrt(ss + p * p) - p;
    case 'gaussian':
      for (let i = 0; i < size; i++) ss += r[i]! * r[i]!;
      return 1 - Math.exp(-ss / (2 * p * p));
  }
}

/** n(r), with g (size) and the PSD curvature H (size × size, row-major) written. */
export function normDerivatives(n: Norm, r: ArrayLike<number>, size: number, g: Float64Array, H: Float64Array): number {
  const p = n.p;
  H.fill(0, 0, size * size);
  let ss = 0;
  for (let i = 0; i < size; i++) ss += r[i]! * r[i]!;
  switch (n.kind) {
    case 'quadratic':
      for (let i = 0; i < size; i++) {
        g[i] = r[i]!;
        H[i * size + i] = 1;
      }
      return 0.5 * ss;
    case 'smooth_abs': {
      let v = 0;
      for (let i = 0; i < size; i++) {
        const s = Math.sqrt(r[i]! * r[i]! + p * p);
        v += s - p;
        g[i] = r[i]! / s;
        H[i * size + i] = (p * p) / (s * s * s);
      }
      return v;
    }
    case 'l2': {
      const s = Math.sqrt(ss + p * p);
      for (let i = 0; i < size; i++) g[i] = r[i]! / s;
      for (let i = 0; i < size; i++)
        for (let j = 0; j < size; j++) H[i * size + j] = ((i === j ? 1 : 0) - g[i]! * g[j]!) / s;
      return s - p;
    }
    case 'gaussian': {
      const p2 = p * p;
      const e = Math.exp(-ss / (2 * p2));
      for (let i = 0; i < size; i++) g[i] = (e * r[i]!) / p2;
      const c = ss > 0 ? Math.min(1, ss / p2) / ss : 0;
      for (let i = 0; i < size; i++)
        for (let j = 0; j < size; j++) H[i * size + j] = (e / p2) * ((i === j ? 1 : 0) - c * r[i]! * r[j]!);
      return 1 - e;
    }
  }
}
