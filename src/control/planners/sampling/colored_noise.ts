import type { Rng } from '../../../util/random.js';

// Gaussian noise with a power-law spectrum, PSD ∝ 1/f^β (β = 0 white, 1 pink, 2 red/Brownian),
// as iCEM samples action sequences along time: low frequencies carry the power, so a sample is a
// smooth excursion rather than jitter. A real Fourier synthesis over the sequence length n:
//   x_t = c (s_0 z_0 + Σ_k √2 s_k (z_k cos ω_k t + z'_k sin ω_k t) + s_{n/2} z_{n/2} (−1)^t),
// with ω_k = 2πk/n, s_k = (k/n)^(−β/2) and s_0 = s_1 (the lowest frequency bounds the DC term,
// as Timmer & König's method and the `colorednoise` package do). The √2 gives each ±k pair its
// two-sided power, so β = 0 is exactly white; c normalises the variance of every x_t to 1. The
// sequence is circular (its end correlates with its start), as FFT-synthesised noise is.
// Horizons are tens of steps, so the n × n synthesis matrix is cheaper than an FFT's bookkeeping.

export class ColoredNoise {
  /** n × n, row t: the weight of each normal draw in x_t */
  readonly #synthesis: Float64Array;
  readonly #draws: Float64Array;

  constructor(
    readonly length: number,
    readonly beta: number,
  ) {
    if (!Number.isInteger(length) || length < 1)
      throw new Error(`coloured noise: length must be a positive integer, got ${length}`);
    if (!Number.isFinite(beta) || beta < 0) throw new Error(`coloured noise: the exponent β must be ≥ 0, got ${beta}`);
    const n = length;
    const scale = (k: number): number => Math.pow(Math.max(k, 1) / n, -beta / 2);
    // one column per draw: [DC, cos 1, sin 1, …, (Nyquist)]
    const columns: Array<(t: number) => number> = [() => scale(0)];
    for (let k = 1; 2 * k < n; k++) {
      const w = (2 * Math.PI * k) / n;
      const s = Math.SQRT2 * scale(k);
      columns.push(
        (t) => s * Math.cos(w * t),
        (t) => s * Math.sin(w * t),
      );
    }
    if (n % 2 === 0 && n > 1) columns.push((t) => scale(n / 2) * (t % 2 === 0 ? 1 : -1));
    let variance = scale(0) ** 2;
    for (let k = 1; 2 * k < n; k++) variance += 2 * scale(k) ** 2;
    if (n % 2 === 0 && n > 1) variance += scale(n / 2) ** 2;
    const c = 1 / Math.sqrt(variance);
    this.#synthesis = new Float64Array(n * n);
    for (let t = 0; t < n; t++) for (let i = 0; i < n; i++) this.#synthesis[t * n + i] = c * columns[i]!(t);
    this.#draws = new Float64Array(n);
  }

  /** Write one sequence of `length` values to out[offset + t·stride]. */
  fill(rng: Rng, out: Float32Array, offset = 0, stride = 1): Float32Array {
    const n = this.length;
    const z = this.#draws;
    for (let i = 0; i < n; i++) z[i] = rng.normal();
    const m = this.#synthesis;
    for (let t = 0; t < n; t++) {
      let x = 0;
      for (let i = 0; i < n; i++) x += m[t * n + i]! * z[i]!;
      out[offset + t * stride] = x;
    }
    return out;
  }
}
