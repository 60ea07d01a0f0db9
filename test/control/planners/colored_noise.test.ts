import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ColoredNoise } from '../../../src/control/planners/sampling/colored_noise.js';
import { Rng } from '../../../src/util/random.js';

// Many sequences of one length: the variance of every step is 1, and the averaged periodogram
// falls as 1/f^β, i.e. its log–log slope over frequency is −β.

const n = 64;
const sequences = 3000;

function draw(beta: number, seed = 7): Float32Array {
  const noise = new ColoredNoise(n, beta);
  const rng = new Rng(seed);
  const out = new Float32Array(sequences * n);
  for (let s = 0; s < sequences; s++) noise.fill(rng, out, s * n);
  return out;
}

/** mean |DFT_k|² / n over the sequences, k = 1 … n/2 */
function periodogram(x: Float32Array): Float64Array {
  const power = new Float64Array(n / 2 + 1);
  for (let s = 0; s < sequences; s++) {
    for (let k = 1; k <= n / 2; k++) {
      let re = 0;
      let im = 0;
      for (let t = 0; t < n; t++) {
        re += x[s * n + t]! * Math.cos((2 * Math.PI * k * t) / n);
        im -= x[s * n + t]! * Math.sin((2 * Math.PI * k * t) / n);
      }
      power[k]! += (re * re + im * im) / n / sequences;
    }
  }
  return power;
}

function logLogSlope(power: Float64Array): number {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = 1; k < n / 2; k++) {
    xs.push(Math.log(k));
    ys.push(Math.log(power[k]!));
  }
  const mx = xs.reduce((a, b) => a + b) / xs.length;
  const my = ys.reduce((a, b) => a + b) / ys.length;
  let sxy = 0;
  let sxx = 0;
  xs.forEach((x, i) => {
    sxy += (x - mx) * (ys[i]! - my);
    sxx += (x - mx) ** 2;
  });
  return sxy / sxx;
}

for (const beta of [0, 1, 2, 2.5]) {
  test(`coloured noise β = ${beta}: unit variance at every step, spectral slope −β`, () => {
    const x = draw(beta);
    for (const t of [0, n / 2, n - 1]) {
      let v = 0;
      for (let s = 0; s < sequences; s++) v += x[s * n + t]! ** 2;
      v /= sequences;
      assert.ok(Math.abs(v - 1) < 0.08, `variance at step ${t} is ${v}`);
    }
    const slope = logLogSlope(periodogram(x));
    assert.ok(Math.abs(slope + beta) < 0.1, `log–log slope ${slope}, expected ${-beta}`);
  });
}

test('coloured noise: β = 0 is white (neighbours uncorrelated), β = 2 is red (low frequencies dominate)', () => {
  const lag1 = (x: Float32Array): number => {
    let c = 0;
    for (let s = 0; s < sequences; s++) for (let t = 0; t + 1 < n; t++) c += x[s * n + t]! * x[s * n + t + 1]!;
    return c / (sequences * (n - 1));
  };
  assert.ok(Math.abs(lag1(draw(0))) < 0.03, 'white noise has no lag-1 correlation');
  const red = draw(2);
  assert.ok(lag1(red) > 0.9, `red noise is smooth: lag-1 correlation ${lag1(red)}`);
  const power = periodogram(red);
  let low = 0;
  let total = 0;
  for (let k = 1; k <= n / 2; k++) {
    total += power[k]!;
    if (k <= 4) low += power[k]!;
  }
  assert.ok(
    low / total > 0.85,
    `the lowest 4 of 32 frequencies carry ${((100 * low) / total).toFixed(1)}% of the power`,
  );
});

test('coloured noise: seeded, so it repeats; a length of 1 is one standard normal', () => {
  assert.deepEqual(draw(2, 3).subarray(0, 200), draw(2, 3).subarray(0, 200));
  const one = new ColoredNoise(1, 2).fill(new Rng(1), new Float32Array(1));
  const rng = new Rng(1);
  assert.equal(one[0], Math.fround(rng.normal()));
  assert.throws(() => new ColoredNoise(0, 1), /length must be a positive integer/);
  assert.throws(() => new ColoredNoise(8, -1), /exponent β must be ≥ 0/);
});
