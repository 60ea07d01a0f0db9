import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayBuffer, allocateBatch } from '../../src/rl/mbpo/replay_buffer.js';
import { rolloutLength, checkSchedule } from '../../src/rl/mbpo/rollout_schedule.js';
import { branchedRollouts, type RolloutModel } from '../../src/rl/mbpo/model_rollouts.js';
import { runMbpo } from '../../src/rl/mbpo/mbpo.js';
import type { Env, EnvStep } from '../../src/rl/env.js';
import { Rng } from '../../src/util/random.js';

// MBPO's pieces: the ring buffer keeps the newest rows and hands the ensemble its data oldest
// first; the rollout schedule is the paper's; branched rollouts go through elites only, stop at
// terminal states and drop predictions that are not finite; and the whole loop, against a point
// mass whose best return is known, learns a policy near it from a few hundred real steps.

test('the replay buffer overwrites its oldest rows and returns its transitions oldest first', () => {
  const b = new ReplayBuffer(2, 1, 3);
  for (let i = 0; i < 5; i++) b.add([i, -i], [i / 10], i, [i + 1, -i - 1], i === 4);
  assert.equal(b.size, 3);
  assert.equal(b.added, 5);
  const t = b.transitions();
  assert.deepEqual([...t.states], [2, -2, 3, -3, 4, -4]);
  assert.deepEqual([...t.nextStates], [3, -3, 4, -4, 5, -5]);
  assert.deepEqual(
    [...t.actions].map((a) => Math.round(a * 10)),
    [2, 3, 4],
  );
  const batch = allocateBatch(50, 2, 1);
  b.sampleInto(batch, 0, 50, new Rng(1));
  for (let r = 0; r < 50; r++) {
    const s = batch.obs[2 * r]!;
    assert.ok([2, 3, 4].includes(s), `row ${r} came from a row overwritten (${s})`);
    assert.equal(batch.nextObs[2 * r], s + 1);
    assert.equal(batch.rewards[r], s);
    assert.equal(batch.dones[r], s === 4 ? 1 : 0);
  }
  assert.throws(() => new ReplayBuffer(2, 1, 3).sampleObs(1, new Rng(1), new Float32Array(2)), /empty/);
});

test('the rollout length follows [start_epoch, end_epoch, start_len, end_len]', () => {
  const s = [20, 100, 1, 25] as const;
  assert.equal(rolloutLength(s, 0), 1);
  assert.equal(rolloutLength(s, 20), 1);
  assert.equal(rolloutLength(s, 60), 13);
  assert.equal(rolloutLength(s, 100), 25);
  assert.equal(rolloutLength(s, 500), 25);
  assert.equal(rolloutLength([1, 1, 1, 5], 3), 5);
  assert.throws(() => checkSchedule([5, 1, 1, 1]), /start_epoch ≤ end_epoch/);
  assert.throws(() => checkSchedule([1, 5, 0, 1]), /lengths ≥ 1/);
});

test('branched rollouts go through the elites, stop at terminal states and drop non-finite predictions', () => {
  const used = new Set<number>();
  // x' = x + a through any member; member 3 (an elite) predicts NaN for x > 5
  const model: RolloutModel = {
    elites: [1, 3],
    predictNext(states, actions, n, members) {
      const out = new Float32Array(n);
      for (let r = 0; r < n; r++) {
        used.add(members[r]!);
        out[r] = members[r] === 3 && states[r]! > 5 ? Number.NaN : states[r]! + actions[r]!;
      }
      return out;
    },
  };
  const policy = { actBatch: (_o: Float32Array, rows: number, _d: boolean, out: Float32Array) => out.fill(1, 0, rows) };
  const task = {
    reward: (next: Float32Array, _a: Float32Array, out: Float32Array) => {
      for (let i = 0; i < out.length; i++) out[i] = next[i]!;
    },
    terminated: (s: Float32Array, out: Uint8Array) => {
      for (let i = 0; i < out.length; i++) out[i] = s[i]! >= 3 ? 1 : 0;
    },
  };
  const buffer = new ReplayBuffer(1, 1, 1000);
  const starts = Float32Array.from({ length: 100 }, (_, i) => (i % 2 ? 0 : 4));
  const r = branchedRollouts(model, policy, task, starts, 100, 5, 1, new Rng(2), buffer);
  assert.deepEqual([...used].sort(), [1, 3]);
  // starts at 0 reach 3 in three steps and end there; starts at 4 end at once (5 ≥ 3)
  assert.equal(r.transitions, 50 * 3 + 50);
  assert.equal(r.terminated, 100);
  const t = buffer.transitions();
  for (let i = 0; i < t.n; i++) assert.ok(Number.isFinite(t.nextStates[i]!));
  // from 4, member 3 predicts NaN for x = 4? no: only above 5 — every start at 4 ends at 5 recorded
  assert.equal([...t.states].filter((s) => s === 4).length, 50);
});

/**
 * A point mass on a line: x' = x + 0.1 a, a ∈ [−1, 1], reward −|x'| per step, 30 steps from x₀
 * drawn in ±1. The best policy drives at full speed to 0 and stays: its return is known exactly.
 */
class PointMass implements Env {
  readonly stateSize = 1;
  readonly actionSize = 1;
  readonly actionLow = Float32Array.of(-1);
  readonly actionHigh = Float32Array.of(1);
  readonly episodeLength = 30;
  #x = 0;
  #t = 0;
  #episode = 0;
  readonly #rng: Rng;
  /** fixed: start from these in turn (evaluation); else drawn uniformly in ±1 */
  constructor(
    seed: number,
    readonly fixed?: readonly number[],
  ) {
    this.#rng = new Rng(seed);
  }
  reset(): Float32Array {
    this.#x = this.fixed ? this.fixed[this.#episode++ % this.fixed.length]! : 2 * this.#rng.uniform() - 1;
    this.#t = 0;
    return Float32Array.of(this.#x);
  }
  step(action: Float32Array): EnvStep {
    this.#x += 0.1 * Math.max(-1, Math.min(1, action[0]!));
    this.#t++;
    return {
      state: Float32Array.of(this.#x),
      reward: -Math.abs(this.#x),
      done: this.#t >= this.episodeLength,
      terminated: false,
    };
  }
}

/** the best return from x₀ over 30 steps: |x| falls by 0.1 a step to within 0.1 of 0, then stays at 0 after one partial step */
function bestReturn(x0: number): number {
  let x = Math.abs(x0);
  let total = 0;
  for (let t = 0; t < 30; t++) {
    x = Math.max(0, x - 0.1);
    total -= x;
  }
  return total;
}

test('MBPO learns a point mass near its best return from a few hundred real steps', () => {
  const starts = Array.from({ length: 20 }, (_, i) => -0.95 + (1.9 * i) / 19);
  const optimum = starts.reduce((s, x) => s + bestReturn(x), 0) / starts.length;
  // doing nothing: −|x₀| every step
  const idle = starts.reduce((s, x) => s - 30 * Math.abs(x), 0) / starts.length;
  const result = runMbpo(new PointMass(1), {
    sac: { hidden: [32, 32], learningRate: 1e-3, gamma: 0.9 },
    model: {
      ensemble: { members: 4, elites: 3, hidden: [32, 32], probabilistic: true, learningRate: 3e-3 },
      training: { epochs: 40, batchSize: 64, holdoutRatio: 0.2, patience: 5, maxUpdates: 400 },
      trainEvery: 60,
      rolloutsPerStep: 64,
      rolloutSchedule: [0, 1, 1, 1],
      epochLength: 300,
      retainEpochs: 1,
      realRatio: 0.05,
    },
    updatesPerStep: 10,
    batchSize: 64,
    randomSteps: 90,
    replayCapacity: 10_000,
    maxRealSteps: 900,
    task: {
      reward: (next, _a, out) => {
        for (let i = 0; i < out.length; i++) out[i] = -Math.abs(next[i]!);
      },
    },
    evalEnv: new PointMass(0, starts),
    evalEpisodes: starts.length,
    seed: 4,
  });
  const last = result.episodes.at(-1)!;
  assert.equal(last.realSteps, 900);
  assert.ok(last.modelTransitions >= 64 * (900 - 90), `model transitions ${last.modelTransitions}`);
  const gap = (optimum - last.evalReturn) / (optimum - idle);
  assert.ok(
    gap < 0.05,
    `the policy's mean return ${last.evalReturn.toFixed(3)} is ${(100 * gap).toFixed(1)} % of the way from the optimum ${optimum.toFixed(3)} to idling (${idle.toFixed(3)})`,
  );
});
