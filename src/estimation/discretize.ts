// One joint's motion model, discretised exactly over a step of dt seconds:
//   ṗ = v,   v̇ = −a·v + u + w
// with a = damping / inertia (1/s), u = effort / inertia (rad/s²) held constant over the step
// (zero-order hold, as a command is), and w white acceleration noise of spectral density q.
// With a = 0 it is the textbook constant-velocity (white-noise acceleration) model:
//   F = [1 dt; 0 1],  B = [dt²/2; dt],  Q = q·[dt³/3 dt²/2; dt²/2 dt].

export interface DiscreteModel {
  /** F = [[1, f01], [0, f11]] */
  readonly f01: number;
  readonly f11: number;
  /** the state change a unit acceleration held over the step causes */
  readonly bp: number;
  readonly bv: number;
  /** Q / q, the process noise covariance per unit spectral density (symmetric, so qvp = qpv) */
  readonly qpp: number;
  readonly qpv: number;
  readonly qvv: number;
}

// Below this a·dt the closed forms lose digits to cancellation (h − 2(1 − e^−h) + … ≈ h³/3);
// the power series converge fast there: every term is at most 4·(2h)^j/(j+3)! ≤ 4/(j+3)!.
const SERIES_BELOW = 0.5;
const SERIES_TERMS = 20;

export function discretize(dt: number, a = 0): DiscreteModel {
  if (!(dt >= 0) || !Number.isFinite(dt)) throw new Error(`time step ${dt} s must be finite and not negative`);
  if (!(a >= 0) || !Number.isFinite(a)) throw new Error(`damping rate ${a} 1/s must be finite and not negative`);
  const h = a * dt;
  const f11 = Math.exp(-h);
  if (h < SERIES_BELOW) {
    // each sum re-indexed to start at j = 0: Σ c_j (−h)^j / (j + m)!
    let f01 = 0,
      bp = 0,
      qpp = 0,
      qpv = 0,
      qvv = 0;
    let pw = 1; // (−h)^j
    let pow2 = 1; // 2^j
    let if1 = 1; // 1/(j+1)!
    for (let j = 0; j < SERIES_TERMS; j++) {
      const if2 = if1 / (j + 2);
      const if3 = if2 / (j + 3);
      f01 += pw * if1;
      bp += pw * if2;
      qpp += (4 * pow2 - 2) * pw * if3;
      qpv += (2 * pow2 - 1) * pw * if2;
      qvv += pow2 * pw * if1;
      pw *= -h;
      pow2 *= 2;
      if1 = if2;
    }
    return {
      f01: f01 * dt,
      f11,
      bp: bp * dt * dt,
      bv: f01 * dt,
      qpp: qpp * dt ** 3,
      qpv: qpv * dt * dt,
      qvv: qvv * dt,
    };
  }
  const e1 = -Math.expm1(-h); // 1 − e^−h
  const e2 = -Math.expm1(-2 * h); // 1 − e^−2h
  return {
    f01: e1 / a,
    f11,
    bp: (h - e1) / (a * a),
    bv: e1 / a,
    qpp: (h - 2 * e1 + e2 / 2) / a ** 3,
    qpv: (e1 - e2 / 2) / (a * a),
    qvv: e2 / (2 * a),
  };
}
