import type { DiscreteModel } from './discretize.js';

// The Kalman filter of one joint: state x = [position, velocity], covariance P (2×2, symmetric,
// kept as its three distinct entries). Closed-form 2×2 algebra; updates use the Joseph form
// P' = (I − KH) P (I − KH)ᵀ + K R Kᵀ, which stays symmetric positive definite in floating point.

/** What an update did with one measurement. */
export interface Innovation {
  /** position innovation z − p̂ (rad) */
  readonly position: number;
  /** its predicted variance S_pp = P_pp + r (rad²) */
  readonly variance: number;
  /** squared Mahalanobis distance νᵀ S⁻¹ ν (normalised innovation squared; ≈ its dimension on average) */
  readonly nis: number;
  /** false when the outlier gate rejected the measurement: the prediction stands */
  readonly accepted: boolean;
}

export class JointFilter {
  position = 0;
  velocity = 0;
  ppp = 0;
  ppv = 0;
  pvv = 0;

  initialise(position: number, positionVariance: number, velocity: number, velocityVariance: number): void {
    this.position = position;
    this.velocity = velocity;
    this.ppp = positionVariance;
    this.ppv = 0;
    this.pvv = velocityVariance;
  }

  /** x ← F x + B u,  P ← F P Fᵀ + q Q;  `acceleration` is the known input u (rad/s²). */
  predict(m: DiscreteModel, q: number, acceleration = 0): void {
    const { f01, f11 } = m;
    this.position += f01 * this.velocity + m.bp * acceleration;
    this.velocity = f11 * this.velocity + m.bv * acceleration;
    const ppp = this.ppp + 2 * f01 * this.ppv + f01 * f01 * this.pvv + q * m.qpp;
    const ppv = f11 * (this.ppv + f01 * this.pvv) + q * m.qpv;
    const pvv = f11 * f11 * this.pvv + q * m.qvv;
    this.ppp = ppp;
    this.ppv = ppv;
    this.pvv = pvv;
  }

  /**
   * Fuse a position measurement z of variance r. `gate` is the largest Mahalanobis distance
   * (in standard deviations) accepted; 0 accepts everything.
   */
  updatePosition(z: number, r: number, gate = 0): Innovation {
    const nu = z - this.position;
    const s = this.ppp + r;
    const nis = (nu * nu) / s;
    if (gate > 0 && nis > gate * gate) return { position: nu, variance: s, nis, accepted: false };
    const k0 = this.ppp / s;
    const k1 = this.ppv / s;
    this.position += k0 * nu;
    this.velocity += k1 * nu;
    // Joseph form with H = [1 0]: A = I − K H = [1−k0 0; −k1 1]
    const a00 = 1 - k0;
    const ppp = a00 * a00 * this.ppp + k0 * k0 * r;
    const ppv = a00 * (this.ppv - k1 * this.ppp) + k0 * k1 * r;
    const pvv = this.pvv - 2 * k1 * this.ppv + k1 * k1 * this.ppp + k1 * k1 * r;
    this.ppp = ppp;
    this.ppv = ppv;
    this.pvv = pvv;
    return { position: nu, variance: s, nis, accepted: true };
  }

  /** Fuse position z (variance r) and velocity zv (variance rv) as one 2-D measurement (H = I). */
  updatePositionVelocity(z: number, zv: number, r: number, rv: number, gate = 0): Innovation {
    const n0 = z - this.position;
    const n1 = zv - this.velocity;
    const { ppp, ppv, pvv } = this;
    const s00 = ppp + r;
    const s01 = ppv;
    const s11 = pvv + rv;
    const det = s00 * s11 - s01 * s01;
    // S⁻¹ = [s11 −s01; −s01 s00] / det
    const nis = (s11 * n0 * n0 - 2 * s01 * n0 * n1 + s00 * n1 * n1) / det;
    if (gate > 0 && nis > gate * gate) return { position: n0, variance: s00, nis, accepted: false };
    // K = P S⁻¹
    const k00 = (ppp * s11 - ppv * s01) / det;
    const k01 = (ppv * s00 - ppp * s01) / det;
    const k10 = (ppv * s11 - pvv * s01) / det;
    const k11 = (pvv * s00 - ppv * s01) / det;
    this.position += k00 * n0 + k01 * n1;
    this.velocity += k10 * n0 + k11 * n1;
    // Joseph form with A = I − K: M = A P, P' = M Aᵀ + K R Kᵀ
    const a00 = 1 - k00,
      a01 = -k01,
      a10 = -k10,
      a11 = 1 - k11;
    const m00 = a00 * ppp + a01 * ppv;
    const m01 = a00 * ppv + a01 * pvv;
    const m10 = a10 * ppp + a11 * ppv;
    const m11 = a10 * ppv + a11 * pvv;
    this.ppp = m00 * a00 + m01 * a01 + k00 * k00 * r + k01 * k01 * rv;
    // the (1,0) entry of M Aᵀ equals (0,1) in exact arithmetic; average them to stay symmetric
    const c01 = m00 * a10 + m01 * a11 + k00 * k10 * r + k01 * k11 * rv;
    const c10 = m10 * a00 + m11 * a01 + k10 * k00 * r + k11 * k01 * rv;
    this.ppv = (c01 + c10) / 2;
    this.pvv = m10 * a10 + m11 * a11 + k10 * k10 * r + k11 * k11 * rv;
    return { position: n0, variance: s00, nis, accepted: true };
  }

  /** Write the covariance [pp, pv, vp, vv] (row-major) at `offset`. */
  covarianceInto(out: Float64Array, offset: number): void {
    out[offset] = this.ppp;
    out[offset + 1] = this.ppv;
    out[offset + 2] = this.ppv;
    out[offset + 3] = this.pvv;
  }
}
