import type { SequenceCosts, StatefulEvaluator } from '../sampling/evaluator.js';
import type { ProposalPolicy } from '../sampling/policy_proposals.js';
import { Rng } from '../../../util/random.js';
import type { ProbabilisticEnsemble } from '../../../dynamics/ensemble.js';

// PETS's trajectory sampling (Chua et al. 2018, §5): the expected cost of action sequences under
// the learned ensemble, from P particles per sequence propagated through the elite members.
//  - 'ts1':  every particle draws a new member at every step (mbrl-lib's random_model);
//  - 'tsinf': every particle keeps one member for the whole horizon (PETS's default), so the
//    spread over particles measures how much the members disagree about the whole trajectory;
//  - 'expectation': no sampling: each step moves to the elites' mean prediction (one particle).
// All particles of a step go through the ensemble in one call, grouped by member inside it.
//
// Given a policy over the model's state (setPolicy), it also proposes the policy's action
// sequences from the current state (policySequences, for the optimisers' policy_share): n rollouts
// of H steps, the first acting with the policy's mean action, the others with samples of its
// distribution, each moved on by a random elite per step, sampled from that member's Gaussian (TS-1,
// as MBPO's model rollouts step (Janner et al. 2019): one batch of n rows per step where the elites' mean would take E,
// and the rollouts spread over what the model thinks may happen rather than all following its
// mean). The proposals draw from a noise source of their own, so the costs' sampling is the same
// with a policy or without.

export type Propagation = 'ts1' | 'tsinf' | 'expectation';

/** cost of reaching states x_{t+1} (B×nx) by actions u_t (B×nu), written to out (B) */
export type BatchCost = (states: Float32Array, actions: Float32Array, out: Float32Array) => void;
/** cost of final states x_H (B×nx), written to out (B) */
export type BatchTerminalCost = (states: Float32Array, out: Float32Array) => void;
/** marks states (B×nx) that end an episode (out[i] = 1): later steps of that particle cost nothing */
export type BatchTermination = (states: Float32Array, out: Uint8Array) => void;

export interface TrajectorySamplingOptions {
  readonly ensemble: ProbabilisticEnsemble;
  readonly cost: BatchCost;
  readonly terminalCost?: BatchTerminalCost;
  readonly terminated?: BatchTermination;
  readonly horizon: number;
  /** per sequence; default 20 (PETS, mbrl-lib); ignored by 'expectation' */
  readonly particles?: number;
  /** default 'ts1' (mbrl-lib) */
  readonly propagation?: Propagation;
  readonly actionLow: Float32Array;
  readonly actionHigh: Float32Array;
  readonly seed?: number;
}

/** a particle's total cost when the model diverges (NaN or ∞), so the planner avoids that sequence */
const DIVERGED_COST = 1e10;

export class TrajectorySamplingEvaluator implements StatefulEvaluator {
  readonly actionSize: number;
  readonly horizon: number;
  readonly actionLow: Float32Array;
  readonly actionHigh: Float32Array;
  readonly particles: number;
  readonly propagation: Propagation;

  readonly #ensemble: ProbabilisticEnsemble;
  readonly #cost: BatchCost;
  readonly #terminalCost: BatchTerminalCost | undefined;
  readonly #terminated: BatchTermination | undefined;
  readonly #rng: Rng;
  readonly #uniform: () => number;
  readonly #proposalRng: Rng;
  readonly #proposalUniform: () => number;
  #state: Float32Array | undefined;
  #policy: ProposalPolicy | undefined;

  constructor(options: TrajectorySamplingOptions) {
    const { ensemble } = options;
    this.#ensemble = ensemble;
    this.actionSize = ensemble.config.actionSize;
    this.horizon = options.horizon;
    this.propagation = options.propagation ?? 'ts1';
    this.particles = this.propagation === 'expectation' ? 1 : (options.particles ?? 20);
    if (!(Number.isInteger(this.horizon) && this.horizon > 0))
      throw new Error(`trajectory sampling: horizon must be a positive integer, not ${this.horizon}`);
    if (!(Number.isInteger(this.particles) && this.particles > 0))
      throw new Error(`trajectory sampling: particles must be a positive integer, not ${this.particles}`);
    if (options.actionLow.length !== this.actionSize || options.actionHigh.length !== this.actionSize)
      throw new Error(`trajectory sampling: action bounds must have ${this.actionSize} entries`);
    this.actionLow = Float32Array.from(options.actionLow);
    this.actionHigh = Float32Array.from(options.actionHigh);
    this.#cost = options.cost;
    this.#terminalCost = options.terminalCost;
    this.#terminated = options.terminated;
    this.#rng = new Rng(options.seed ?? 0);
    this.#uniform = () => this.#rng.uniform();
    this.#proposalRng = new Rng((options.seed ?? 0) + 7919);
    this.#proposalUniform = () => this.#proposalRng.uniform();
  }

  /** the policy whose sequences are proposed (acting on the model's state), or none */
  setPolicy(policy: ProposalPolicy | undefined): void {
    this.#policy = policy;
  }

  get policy(): ProposalPolicy | undefined {
    return this.#policy;
  }

  /**
   * n rollouts of the policy from the current state through the ensemble (TS-1): their actions,
   * n × H × nu within the bounds; the first with the policy's mean action, the others sampled.
   * Undefined without a policy.
   */
  policySequences(n: number): Float32Array | undefined {
    const policy = this.#policy;
    if (!policy) return undefined;
    const x0 = this.#state;
    if (!x0) throw new Error('trajectory sampling: policySequences() before setState()');
    if (!(Number.isInteger(n) && n >= 0)) throw new Error(`trajectory sampling: cannot propose ${n} sequences`);
    const nx = this.#ensemble.config.stateSize;
    const { horizon: H, actionSize: nu } = this;
    const elites = this.#ensemble.elites;
    const out = new Float32Array(n * H * nu);
    if (n === 0) return out;
    let states: Float32Array = new Float32Array(n * nx);
    for (let r = 0; r < n; r++) states.set(x0, r * nx);
    const actions = new Float32Array(n * nu);
    const members = new Int32Array(n);
    for (let t = 0; t < H; t++) {
      policy.act(states.subarray(0, nx), 1, actions.subarray(0, nu));
      if (n > 1) policy.act(states.subarray(nx, n * nx), n - 1, actions.subarray(nu, n * nu), this.#proposalRng);
      for (let r = 0; r < n; r++)
        for (let j = 0; j < nu; j++) {
          const a = actions[r * nu + j]!;
          // a diverged rollout's NaN becomes the lower bound, as clipToBounds does
          const clipped = a >= this.actionLow[j]! ? Math.min(a, this.actionHigh[j]!) : this.actionLow[j]!;
          actions[r * nu + j] = clipped;
          out[(r * H + t) * nu + j] = clipped;
        }
      if (t + 1 === H) break;
      for (let r = 0; r < n; r++) members[r] = elites[Math.floor(this.#proposalUniform() * elites.length)]!;
      states = this.#ensemble.predictNext(states, actions, n, members, true, this.#proposalUniform);
    }
    return out;
  }

  /** the state plans start from */
  setState(x: Float32Array): void {
    const nx = this.#ensemble.config.stateSize;
    if (x.length !== nx) throw new Error(`trajectory sampling: state has ${x.length} entries, expected ${nx}`);
    this.#state = Float32Array.from(x);
  }

  evaluate(sequences: Float32Array, n: number): SequenceCosts {
    const x0 = this.#state;
    if (!x0) throw new Error('trajectory sampling: evaluate() before setState()');
    const { stateSize: nx } = this.#ensemble.config;
    const { horizon: H, actionSize: nu, particles: P } = this;
    if (sequences.length < n * H * nu)
      throw new Error(`trajectory sampling: ${sequences.length} values for ${n} sequences of ${H}×${nu}`);
    const elites = this.#ensemble.elites;
    const E = elites.length;
    const rows = n * P; // particle r = i·P + p belongs to sequence i
    let states: Float32Array = new Float32Array(rows * nx);
    for (let r = 0; r < rows; r++) states.set(x0, r * nx);
    const actions = new Float32Array(rows * nu);
    const totals = new Float64Array(rows);
    const stepCost = new Float32Array(rows);
    const done = new Uint8Array(rows);
    const members = new Int32Array(rows);
    if (this.propagation === 'tsinf') {
      // each member carries P/E particles of every sequence (as evenly as P allows), from a random start
      for (let i = 0; i < n; i++) {
        const offset = Math.floor(this.#uniform() * E);
        for (let p = 0; p < P; p++) members[i * P + p] = elites[(offset + p) % E]!;
      }
    }
    for (let t = 0; t < H; t++) {
      for (let r = 0; r < rows; r++) {
        const src = (Math.floor(r / P) * H + t) * nu;
        for (let j = 0; j < nu; j++)
          actions[r * nu + j] = Math.min(this.actionHigh[j]!, Math.max(this.actionLow[j]!, sequences[src + j]!));
      }
      if (this.propagation === 'ts1')
        for (let r = 0; r < rows; r++) members[r] = elites[Math.floor(this.#uniform() * E)]!;
      states =
        this.propagation === 'expectation'
          ? this.#meanOfElites(states, actions, rows)
          : this.#ensemble.predictNext(states, actions, rows, members, true, this.#uniform);
      this.#cost(states, actions, stepCost);
      for (let r = 0; r < rows; r++) if (!done[r]) totals[r]! += stepCost[r]!;
      this.#terminated?.(states, done);
    }
    if (this.#terminalCost) {
      this.#terminalCost(states, stepCost);
      for (let r = 0; r < rows; r++) if (!done[r]) totals[r]! += stepCost[r]!;
    }
    const cost = new Float32Array(n);
    const spread = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let p = 0; p < P; p++) {
        const c = totals[i * P + p]!;
        if (!Number.isFinite(c)) totals[i * P + p] = DIVERGED_COST;
        sum += totals[i * P + p]!;
      }
      const mean = sum / P;
      let sq = 0;
      for (let p = 0; p < P; p++) sq += (totals[i * P + p]! - mean) ** 2;
      cost[i] = mean;
      spread[i] = Math.sqrt(sq / P);
    }
    return { cost, spread };
  }

  /** the elites' mean next state: every row through every elite, averaged */
  #meanOfElites(states: Float32Array, actions: Float32Array, rows: number): Float32Array {
    const { stateSize: nx, actionSize: nu } = this.#ensemble.config;
    const elites = this.#ensemble.elites;
    const E = elites.length;
    const xs = new Float32Array(rows * E * nx);
    const us = new Float32Array(rows * E * nu);
    const members = new Int32Array(rows * E);
    for (let e = 0; e < E; e++) {
      xs.set(states.subarray(0, rows * nx), e * rows * nx);
      us.set(actions.subarray(0, rows * nu), e * rows * nu);
      members.fill(elites[e]!, e * rows, (e + 1) * rows);
    }
    const next = this.#ensemble.predictNext(xs, us, rows * E, members, false);
    const mean = new Float32Array(rows * nx);
    for (let e = 0; e < E; e++) for (let k = 0; k < rows * nx; k++) mean[k]! += next[e * rows * nx + k]! / E;
    return mean;
  }
}
