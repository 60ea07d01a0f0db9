import type { NativeKernels } from '../../tensor/native_kernels.js';
import type { NamedArray } from '../../tensor/weights.js';
import { Rng } from '../../util/random.js';
import { Adam } from './adam.js';
import { namedParams, paramsFromNamed } from './mlp_layout.js';
import { NativeMlp } from './native_mlp.js';
import {
  actionScale,
  checkBatch,
  HALF_LOG_2PI,
  LOG_STD_MAX,
  LOG_STD_MIN,
  networkShapes,
  NOISE_SEED,
  resolveSacConfig,
  squashActions,
  type SacBatch,
  type SacConfig,
  type SacUpdate,
  type SoftActorCritic,
} from './sac.js';

// Soft actor-critic (./sac.ts) on the native kernels: the networks' forward, backward and Adam in
// C++ (native/src/mlp_ops.cc), the per-row algebra of the squashed Gaussian and the losses here, in
// closed form. With u = μ + σε and z = (u − μ)/σ = ε, log π = Σᵢ [−½εᵢ² − log σᵢ − ½log 2π + log(1 − tanh²uᵢ)]
// gives ∂log π/∂uᵢ = 2 tanh uᵢ (the squash's correction; the Gaussian's part is constant along the
// reparameterisation) and ∂log π/∂log σᵢ = −1 directly; u carries the rest: ∂u/∂μ = 1,
// ∂u/∂log σ = σε, zero where log σ was clipped. The critics' gradient at the actor's action comes
// from their backward pass to the input. Every step and its order is the TF.js engine's: from the
// same seed both start from the same weights, draw the same noise and take the same steps.

const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

export class NativeSac implements SoftActorCritic {
  readonly engine = 'native' as const;
  readonly config: Required<SacConfig>;
  readonly #actor: NativeMlp;
  readonly #q1: NativeMlp;
  readonly #q2: NativeMlp;
  readonly #q1Target: NativeMlp;
  readonly #q2Target: NativeMlp;
  readonly #logAlpha = new Float32Array(1);
  readonly #alphaGrad = new Float32Array(1);
  readonly #alphaAdam: Adam;
  /** log of the floor under α, in float32 as log α is held (−∞: none) */
  readonly #logAlphaFloor: number;
  readonly #rng: Rng;
  readonly #center: Float32Array;
  readonly #half: Float32Array;
  #updates = 0;

  constructor(config: SacConfig, kernels: NativeKernels) {
    this.config = resolveSacConfig(config);
    const c = this.config;
    const shapes = networkShapes(c);
    this.#actor = new NativeMlp(kernels, shapes.actor.widths, shapes.actor.seed);
    this.#q1 = new NativeMlp(kernels, shapes.q1.widths, shapes.q1.seed);
    this.#q2 = new NativeMlp(kernels, shapes.q2.widths, shapes.q2.seed);
    this.#q1Target = new NativeMlp(kernels, shapes.q1.widths, shapes.q1.seed);
    this.#q2Target = new NativeMlp(kernels, shapes.q2.widths, shapes.q2.seed);
    this.#logAlpha[0] = Math.log(c.initialAlpha);
    this.#logAlphaFloor = c.minAlpha > 0 ? Math.fround(Math.log(c.minAlpha)) : -Infinity;
    this.#alphaAdam = new Adam(kernels, 1, c.alphaLearningRate);
    this.#rng = new Rng(c.seed ^ NOISE_SEED);
    ({ center: this.#center, half: this.#half } = actionScale(c));
  }

  get actionSize(): number {
    return this.#center.length;
  }

  get alpha(): number {
    return Math.exp(this.#logAlpha[0]!);
  }

  get updates(): number {
    return this.#updates;
  }

  #noise(rows: number): Float32Array {
    return Float32Array.from({ length: rows * this.actionSize }, () => this.#rng.normal());
  }

  /**
   * The actor's samples for rows of obs with the given noise: u, tanh u, log σ (clipped), whether
   * log σ was inside its clip range, and log π per row.
   */
  #sample(obs: Float32Array, rows: number, noise: Float32Array | undefined) {
    const nu = this.actionSize;
    const heads = this.#actor.forward(obs, rows);
    const u = new Float32Array(rows * nu);
    const action = new Float32Array(rows * nu);
    const std = new Float32Array(rows * nu);
    const inRange = new Uint8Array(rows * nu);
    const logProb = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let lp = 0;
      for (let i = 0; i < nu; i++) {
        const k = r * nu + i;
        const raw = heads[r * 2 * nu + nu + i]!;
        const logStd = Math.min(LOG_STD_MAX, Math.max(LOG_STD_MIN, raw));
        inRange[k] = raw >= LOG_STD_MIN && raw <= LOG_STD_MAX ? 1 : 0;
        const e = noise ? noise[k]! : 0;
        const s = Math.exp(logStd);
        const ui = heads[r * 2 * nu + i]! + s * e;
        u[k] = ui;
        std[k] = s;
        action[k] = Math.tanh(ui);
        lp += -0.5 * e * e - logStd - HALF_LOG_2PI - 2 * (Math.LN2 - ui - softplus(-2 * ui));
      }
      logProb[r] = lp;
    }
    return { u, action, std, inRange, logProb };
  }

  #criticInput(obs: Float32Array, actions: Float32Array, rows: number): Float32Array {
    const no = this.config.obsSize;
    const nu = this.actionSize;
    const x = new Float32Array(rows * (no + nu));
    for (let r = 0; r < rows; r++) {
      x.set(obs.subarray(r * no, (r + 1) * no), r * (no + nu));
      x.set(actions.subarray(r * nu, (r + 1) * nu), r * (no + nu) + no);
    }
    return x;
  }

  act(obs: ArrayLike<number>, deterministic: boolean, out: Float32Array | Float64Array): void {
    if (obs.length !== this.config.obsSize)
      throw new Error(`SAC: an observation has ${this.config.obsSize} values, got ${obs.length}`);
    const a = new Float32Array(this.actionSize);
    this.actBatch(Float32Array.from(obs), 1, deterministic, a);
    out.set(a);
  }

  actBatch(obs: Float32Array, rows: number, deterministic: boolean, out: Float32Array): void {
    if (obs.length < rows * this.config.obsSize) throw new Error(`SAC: ${obs.length} values for ${rows} observations`);
    const { action } = this.#sample(obs, rows, deterministic ? undefined : this.#noise(rows));
    const nu = this.actionSize;
    for (let k = 0; k < rows * nu; k++) out[k] = this.#center[k % nu]! + this.#half[k % nu]! * action[k]!;
  }

  update(batch: SacBatch): SacUpdate {
    const c = this.config;
    checkBatch(c, batch);
    const { gamma, tau, targetEntropy, learningRate } = c;
    const nu = this.actionSize;
    const no = c.obsSize;
    const B = batch.size;
    const obs = batch.obs.subarray(0, B * no);
    const next = batch.nextObs.subarray(0, B * no);
    const actions = squashActions(c, batch.actions, B);
    const nextNoise = this.#noise(B);
    const noise = this.#noise(B);
    const alpha = Math.fround(Math.exp(this.#logAlpha[0]!));

    // the critics' target, from the target critics at the actor's next action
    const nextSample = this.#sample(next, B, nextNoise);
    const nextInput = this.#criticInput(next, nextSample.action, B);
    const q1Next = Float32Array.from(this.#q1Target.forward(nextInput, B));
    const q2Next = this.#q2Target.forward(nextInput, B);
    const y = new Float64Array(B);
    for (let r = 0; r < B; r++)
      y[r] =
        batch.rewards[r]! +
        gamma * (1 - batch.dones[r]!) * (Math.min(q1Next[r]!, q2Next[r]!) - alpha * nextSample.logProb[r]!);

    // critics: ∂/∂Q of mean (Q − y)² is 2 (Q − y) / B
    const input = this.#criticInput(obs, actions, B);
    let criticLoss = 0;
    const dq = new Float32Array(B);
    for (const net of [this.#q1, this.#q2]) {
      const q = net.forward(input, B);
      for (let r = 0; r < B; r++) {
        const e = q[r]! - y[r]!;
        criticLoss += (e * e) / B;
        dq[r] = (2 * e) / B;
      }
      net.backward(dq, true, false);
      net.step(learningRate);
    }

    // actor: mean (α log π − min Q) through the reparameterised sample, against the updated critics
    const s = this.#sample(obs, B, noise);
    const actorInput = this.#criticInput(obs, s.action, B);
    const q1 = Float32Array.from(this.#q1.forward(actorInput, B));
    const q2 = Float32Array.from(this.#q2.forward(actorInput, B));
    let logProbMean = 0;
    let qMean = 0;
    let actorLoss = 0;
    const dAction = new Float64Array(B * nu);
    for (const [net, first] of [
      [this.#q1, true],
      [this.#q2, false],
    ] as const) {
      // tf.minimum's gradient: to the first where a ≤ b, else to the second
      for (let r = 0; r < B; r++) dq[r] = (first ? q1[r]! <= q2[r]! : q1[r]! > q2[r]!) ? -1 / B : 0;
      // each network keeps its own activations: q1's are still those of actorInput
      const dInput = net.backward(dq, false, true)!;
      for (let r = 0; r < B; r++) for (let i = 0; i < nu; i++) dAction[r * nu + i]! += dInput[r * (no + nu) + no + i]!;
    }
    const dHeads = new Float32Array(B * 2 * nu);
    for (let r = 0; r < B; r++) {
      const minQ = Math.min(q1[r]!, q2[r]!);
      logProbMean += s.logProb[r]! / B;
      qMean += minQ / B;
      actorLoss += (alpha * s.logProb[r]! - minQ) / B;
      for (let i = 0; i < nu; i++) {
        const k = r * nu + i;
        const a = s.action[k]!;
        const du = (alpha * 2 * a) / B + dAction[k]! * (1 - a * a);
        dHeads[r * 2 * nu + i] = du;
        dHeads[r * 2 * nu + nu + i] = s.inRange[k] ? du * s.std[k]! * noise[k]! - alpha / B : 0;
      }
    }
    this.#actor.backward(dHeads, true, false);
    this.#actor.step(learningRate);

    // temperature: ∂/∂log α of −log α (mean log π + H̄)
    const alphaLoss = -this.#logAlpha[0]! * (logProbMean + targetEntropy);
    this.#alphaGrad[0] = -(logProbMean + targetEntropy);
    this.#alphaAdam.step(this.#logAlpha, this.#alphaGrad);
    if (this.#logAlphaFloor > -Infinity) this.#logAlpha[0] = Math.max(this.#logAlpha[0]!, this.#logAlphaFloor);

    this.#q1Target.polyak(this.#q1, tau);
    this.#q2Target.polyak(this.#q2, tau);
    this.#updates++;
    return { criticLoss, actorLoss, alphaLoss, alpha: this.alpha, entropy: -logProbMean, q: qMean };
  }

  #nets(): [string, NativeMlp][] {
    return [
      ['actor', this.#actor],
      ['q1', this.#q1],
      ['q2', this.#q2],
      ['q1_target', this.#q1Target],
      ['q2_target', this.#q2Target],
    ];
  }

  actorWeights(): NamedArray[] {
    return namedParams('actor', this.#actor.layout, this.#actor.params);
  }

  snapshot(): NamedArray[] {
    const out: NamedArray[] = [];
    for (const [name, net] of this.#nets()) {
      out.push(...namedParams(name, net.layout, net.params));
      if (!name.endsWith('_target'))
        out.push(
          { name: `adam/${name}/m`, shape: [net.layout.size], values: net.adam.m.slice() },
          { name: `adam/${name}/v`, shape: [net.layout.size], values: net.adam.v.slice() },
          { name: `adam/${name}/steps`, shape: [1], values: Float32Array.of(net.adam.steps) },
        );
    }
    out.push(
      { name: 'log_alpha', shape: [1], values: this.#logAlpha.slice() },
      { name: 'adam/log_alpha/m', shape: [1], values: this.#alphaAdam.m.slice() },
      { name: 'adam/log_alpha/v', shape: [1], values: this.#alphaAdam.v.slice() },
      { name: 'adam/log_alpha/steps', shape: [1], values: Float32Array.of(this.#alphaAdam.steps) },
      { name: 'updates', shape: [1], values: Float32Array.of(this.#updates) },
    );
    return out;
  }

  restore(weights: ReadonlyMap<string, NamedArray>): void {
    const get = (name: string, size: number): Float32Array | undefined => {
      const w = weights.get(name);
      if (w && w.values.length !== size)
        throw new Error(`SAC checkpoint: '${name}' has ${w.values.length} values, not ${size}`);
      return w?.values;
    };
    // everything is read and checked before anything is written: a bad checkpoint changes nothing
    const nets = this.#nets().map(([name, net]) => {
      const params = paramsFromNamed(name, net.layout, weights);
      const m = get(`adam/${name}/m`, net.layout.size);
      const v = get(`adam/${name}/v`, net.layout.size);
      const steps = get(`adam/${name}/steps`, 1);
      return {
        net,
        params,
        adam: !name.endsWith('_target') && m && v && steps ? { m, v, steps: steps[0]! } : undefined,
      };
    });
    const logAlpha = get('log_alpha', 1);
    if (!logAlpha) throw new Error("SAC checkpoint: 'log_alpha' is missing");
    const m = get('adam/log_alpha/m', 1);
    const v = get('adam/log_alpha/v', 1);
    const steps = get('adam/log_alpha/steps', 1);
    const updates = get('updates', 1)?.[0] ?? 0;
    for (const { net, params, adam } of nets) {
      net.params.set(params);
      // a checkpoint without Adam's state (e.g. from the TF.js engine) restarts it
      if (adam) net.adam.restore(adam.m, adam.v, adam.steps);
      else net.adam.restore(new Float32Array(net.layout.size), new Float32Array(net.layout.size), 0);
    }
    this.#logAlpha.set(logAlpha);
    if (m && v && steps) this.#alphaAdam.restore(m, v, steps[0]!);
    else this.#alphaAdam.restore(new Float32Array(1), new Float32Array(1), 0);
    this.#updates = updates;
  }

  dispose(): void {}
}
