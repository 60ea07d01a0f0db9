// Test signals for the estimator: a seeded Gaussian generator (so every run sees the same noise)
// and joints whose true position and velocity are known, integrated finely with RK4.

/** mulberry32: a small, fast, seeded uniform generator on [0, 1). */
export function uniform(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box–Muller) from a seed. */
export function gaussian(seed: number): () => number {
  const u = uniform(seed);
  return () => {
    let a = u();
    while (a === 0) a = u();
    return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u());
  };
}

export interface Sample {
  readonly t: number;
  readonly position: number;
  readonly velocity: number;
}

/**
 * A joint of second-order dynamics θ'' = f(θ, θ', t), integrated with RK4 at `stepS` and sampled
 * every `sampleS` for `durationS`.
 */
export function integrate(
  accel: (theta: number, omega: number, t: number) => number,
  theta0: number,
  omega0: number,
  durationS: number,
  sampleS: number,
  stepS = 1e-4,
): Sample[] {
  const sub = Math.round(sampleS / stepS);
  const h = sampleS / sub;
  const out: Sample[] = [];
  let th = theta0;
  let w = omega0;
  let t = 0;
  const samples = Math.round(durationS / sampleS);
  for (let k = 0; k <= samples; k++) {
    out.push({ t: k * sampleS, position: th, velocity: w });
    for (let s = 0; s < sub; s++) {
      const a1 = accel(th, w, t);
      const a2 = accel(th + (h / 2) * w, w + (h / 2) * a1, t + h / 2);
      const a3 = accel(th + (h / 2) * (w + (h / 2) * a1), w + (h / 2) * a2, t + h / 2);
      const a4 = accel(th + h * (w + (h / 2) * a2), w + h * a3, t + h);
      th += (h / 6) * (w + 2 * (w + (h / 2) * a1) + 2 * (w + (h / 2) * a2) + (w + h * a3));
      w += (h / 6) * (a1 + 2 * a2 + 2 * a3 + a4);
      t += h;
    }
  }
  return out;
}

/** A damped pendulum θ'' = −(g/L) sin θ − c θ'. */
export function pendulum(
  gOverL: number,
  damping: number,
  theta0: number,
  durationS: number,
  sampleS: number,
): Sample[] {
  return integrate((th, w) => -gOverL * Math.sin(th) - damping * w, theta0, 0, durationS, sampleS);
}

/** nanoseconds of a sample time, as a message stamp carries it */
export const stampNs = (t: number): bigint => BigInt(Math.round(t * 1e9));

export function rms(errors: readonly number[]): number {
  return Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / errors.length);
}
