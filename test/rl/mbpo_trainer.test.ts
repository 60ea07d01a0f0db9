import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MbpoTrainer, type MbpoTrainerConfig, type RoundReport } from '../../src/rl/mbpo/trainer.js';
import {
  checkpointActor,
  checkpointLayout,
  decodeCheckpoint,
  encodeCheckpoint,
  readCheckpoint,
  writeCheckpoint,
  type TrainerLayout,
} from '../../src/rl/mbpo/trainer_checkpoint.js';
import { EpisodeEnds } from '../../src/rl/mbpo/episode_ends.js';
import { mbpoTask } from '../../src/rl/mbpo/tasks.js';
import { PolicyActor, policyModel } from '../../src/rl/sac/policy_blob.js';
import { ProbabilisticEnsemble } from '../../src/dynamics/ensemble.js';
import { StateEncoding } from '../../src/dynamics/state_encoding.js';
import { initTensorBackend } from '../../src/tensor/backend.js';
import { Rng } from '../../src/util/random.js';

// The MBPO trainer state machine without the graph (src/rl/mbpo/trainer.ts), fed a toy cart-pole's
// transitions in the learner's encoding [x, sin θ, cos θ, ẋ, θ̇] and an untrained ensemble of that
// layout: the work per real step is updates_per_step SAC updates (none before random_steps) and
// rollouts_per_step model transitions; a policy version is released after each episode's work and
// decodes into the PolicyActor the controller runs, acting as the trainer's actor does; a backlog
// beyond max_backlog_steps is skipped and counted; a checkpoint goes through its file and comes
// back with the same networks, optimiser state, real transitions and counts; and a transition with
// a NaN or a model blob that is malformed or of another layout is refused in one line while the
// trainer goes on.

const ENCODING = new StateEncoding(['cart_slide', 'pole_hinge'], ['pole_hinge']);
const DT = 0.05;

before(async () => {
  await initTensorBackend();
});

function config(overrides: Partial<MbpoTrainerConfig> = {}): MbpoTrainerConfig {
  return {
    obsSize: ENCODING.size,
    actionLow: [-20],
    actionHigh: [20],
    task: mbpoTask('cartpole_swingup', ENCODING),
    encoding: ENCODING,
    periodNs: 50_000_000,
    sac: { hidden: [16, 16] },
    realRatio: 0.25,
    rolloutsPerStep: 8,
    rolloutSchedule: [1, 15, 1, 1],
    epochLength: 1000,
    retainEpochs: 1,
    updatesPerStep: 3,
    batchSize: 16,
    randomSteps: 20,
    replayCapacity: 10_000,
    maxStepsPerRound: 7,
    maxBacklogSteps: 0,
    publishEveryUpdates: 0,
    seed: 3,
    ...overrides,
  };
}

/** `n` transitions of a toy cart-pole from hanging under random pushes, encoded, stamped 50 ms apart from `t0` */
function episode(n: number, seed: number, t0 = 0n) {
  const rng = new Rng(seed);
  let [x, th, xd, thd] = [0, Math.PI + 0.05 * rng.normal(), 0, 0];
  const out: { obs: Float32Array; action: Float32Array; next: Float32Array; stampNs: bigint }[] = [];
  for (let k = 0; k < n; k++) {
    const obs = new Float32Array(ENCODING.size);
    ENCODING.encodeInto([x, th, xd, thd], obs);
    const u = 40 * rng.uniform() - 20;
    const xdd = u / 1.15;
    const thdd = (9.81 / 0.3) * Math.sin(th) - (xdd * Math.cos(th)) / 0.3;
    xd += DT * xdd;
    thd += DT * thdd;
    x += DT * xd;
    th += DT * thd;
    const next = new Float32Array(ENCODING.size);
    ENCODING.encodeInto([x, th, xd, thd], next);
    out.push({ obs, action: Float32Array.of(u), next, stampNs: t0 + BigInt(k + 1) * 50_000_000n });
  }
  return out;
}

/** an untrained ensemble of the cart-pole layout as the learner's blob carries it */
function modelBlob(options: { stateSize?: number; joints?: string[]; periodNs?: number } = {}): {
  json: string;
  data: Uint8Array;
} {
  const ensemble = ProbabilisticEnsemble.create({
    stateSize: options.stateSize ?? ENCODING.size,
    actionSize: 1,
    members: 3,
    elites: 2,
    hidden: [8],
    seed: 1,
  });
  try {
    const { metadata, data } = ensemble.serialize();
    const training = options.joints
      ? new StateEncoding(options.joints, []).toMetadata()
      : { ...ENCODING.toMetadata(), period_ns: options.periodNs ?? 50_000_000 };
    return { json: JSON.stringify({ ...metadata, training }), data };
  } finally {
    ensemble.dispose();
  }
}

/** rounds until the trainer has no work; every report */
function drain(t: MbpoTrainer): RoundReport[] {
  const reports: RoundReport[] = [];
  while (t.hasWork) reports.push(t.round());
  return reports;
}

const LAYOUT: TrainerLayout = {
  ...ENCODING.toMetadata(),
  actuators: ['cart_force'],
  action_low: [-20],
  action_high: [20],
  period_ns: 50_000_000,
  task: 'cartpole_swingup',
};

test('updates_per_step updates per real step after random_steps, model rollouts per step, a versioned policy per episode', () => {
  const t = new MbpoTrainer(config());
  try {
    const trs = episode(50, 1);
    for (const tr of trs) assert.equal(t.addTransition(tr).ok, true);
    assert.equal(t.setModel(modelBlob().json, modelBlob().data, 1), 'in_use');
    t.endEpisode(50n * 50_000_000n);
    const first = drain(t);
    // steps 20 … 50 update (random_steps 20), 3 updates each; at most 7 steps a round
    assert.equal(t.updates, 31 * 3);
    assert.ok(first.every((r) => r.steps <= 7));
    assert.deepEqual(
      first.map((r) => r.updates),
      first.map((r, i) => 3 * stepsAtOrAfter(20, 7 * i + 1, r.steps)),
    );
    const f = t.figures();
    assert.equal(f.modelTransitions, 50 * 8, 'rollouts_per_step model transitions of length 1 per real step');
    assert.equal(f.rolloutLength, 1);
    assert.ok(Number.isFinite(f.modelReward));
    const releases = first.filter((r) => r.release).map((r) => r.release!);
    assert.equal(releases.length, 1, 'one policy, after the episode');
    const r1 = releases[0]!;
    assert.deepEqual([r1.version, r1.reason, r1.dataEndNs], [1, 'episode', 50n * 50_000_000n]);
    const done = first.flatMap((r) => r.episodes);
    assert.equal(done.length, 1);
    assert.equal(done[0]!.length, 50);
    // the return is the task's reward summed over the episode's transitions
    const rewards = new Float32Array(50);
    config().task.reward(
      Float32Array.from(trs.flatMap((tr) => [...tr.next])),
      Float32Array.from(trs.map((tr) => tr.action[0]!)),
      rewards,
    );
    const expected = rewards.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(done[0]!.return - expected) < 1e-4, `return ${done[0]!.return}, the task's ${expected}`);

    // the release is the actor: as a policy blob it acts as the trainer's actor does
    const actor = new PolicyActor(
      policyModel(
        r1.weights,
        {
          encoding: ENCODING,
          actuators: ['cart_force'],
          low: [-20],
          high: [20],
          periodNs: 50_000_000n,
          hidden: [16, 16],
        },
        r1.version,
      ),
    );
    const obs = episode(5, 9).flatMap((e) => [...e.obs]);
    const mine = new Float32Array(5);
    const theirs = new Float32Array(5);
    actor.act(Float32Array.from(obs), 5, mine);
    t.policy.actBatch(Float32Array.from(obs), 5, true, theirs);
    for (let i = 0; i < 5; i++) assert.ok(Math.abs(mine[i]! - theirs[i]!) < 1e-3, `${mine[i]} vs ${theirs[i]}`);

    // a second episode: 30 more steps, 3 updates each, policy v2
    for (const tr of episode(30, 2, 60n * 50_000_000n)) t.addTransition(tr);
    t.endEpisode(90n * 50_000_000n);
    const second = drain(t).filter((r) => r.release);
    assert.equal(t.updates, (31 + 30) * 3);
    assert.deepEqual(
      second.map((r) => r.release!.version),
      [2],
    );
  } finally {
    t.dispose();
  }
});

/** how many of the steps from…from+count−1 are ≥ first */
function stepsAtOrAfter(first: number, from: number, count: number): number {
  let n = 0;
  for (let s = from; s < from + count; s++) if (s >= first) n++;
  return n;
}

test('publish_every_updates releases within an episode; no release before the first update', () => {
  const t = new MbpoTrainer(config({ publishEveryUpdates: 30, randomSteps: 30 }));
  try {
    const trs = episode(40, 3);
    for (const tr of trs.slice(0, 29)) t.addTransition(tr);
    t.endEpisode(trs[28]!.stampNs);
    const early = drain(t);
    assert.equal(t.updates, 0);
    assert.ok(
      early.every((r) => !r.release),
      'no policy before any update',
    );
    assert.equal(early.flatMap((r) => r.episodes).length, 1, 'the episode is reported done all the same');
    for (const tr of trs.slice(29)) t.addTransition(tr);
    const releases = drain(t).flatMap((r) => (r.release ? [r.release] : []));
    // steps 30 … 40: 33 updates; 21 after the first round (7 steps), 30 reached in the second
    assert.equal(t.updates, 33);
    assert.deepEqual(
      releases.map((r) => [r.version, r.reason]),
      [[1, 'updates']],
    );
    assert.equal(releases[0]!.dataEndNs, trs.at(-1)!.stampNs);
  } finally {
    t.dispose();
  }
});

test('a backlog over max_backlog_steps is skipped and counted: the trainer lags by a bounded amount', () => {
  const t = new MbpoTrainer(config({ maxBacklogSteps: 10, randomSteps: 0 }));
  try {
    for (const tr of episode(50, 4)) t.addTransition(tr);
    const first = t.round();
    assert.equal(first.skipped, 40);
    drain(t);
    const f = t.figures();
    assert.deepEqual([f.skippedSteps, f.processedSteps, f.pendingSteps], [40, 50, 0]);
    assert.equal(t.updates, 10 * 3, 'the updates of the 10 newest steps');
  } finally {
    t.dispose();
  }
});

test('a checkpoint goes through its file and resumes with the same networks, optimiser state, buffer and counts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mbpo-trainer-'));
  const a = new MbpoTrainer(config());
  let b: MbpoTrainer | undefined;
  try {
    for (const tr of episode(40, 5)) a.addTransition(tr);
    a.setModel(modelBlob().json, modelBlob().data, 4);
    a.endEpisode(40n * 50_000_000n);
    drain(a);
    for (const tr of episode(6, 6, 50n * 50_000_000n)) a.addTransition(tr); // work still owed
    const path = join(dir, 'checkpoint.bin');
    writeCheckpoint(path, a.checkpoint(LAYOUT));
    const loaded = readCheckpoint(path);
    assert.deepEqual(checkpointLayout(loaded, { ...LAYOUT, hidden: [16, 16] }, 'the file'), LAYOUT);
    b = new MbpoTrainer(config(), loaded);

    const wa = a.checkpoint(LAYOUT);
    const wb = b.checkpoint(LAYOUT);
    assert.deepEqual(
      wb.header.counts,
      { ...wa.header.counts, modelTransitions: 0 },
      'counts (the model buffer is rebuilt)',
    );
    assert.deepEqual(wb.header.ended, wa.header.ended);
    assert.deepEqual([...wb.arrays.keys()], [...wa.arrays.keys()]);
    for (const [name, arr] of wa.arrays) assert.deepEqual(wb.arrays.get(name)!.values, arr.values, name);
    assert.equal(b.updates, a.updates);
    assert.equal(b.pendingSteps, 6, 'the owed steps wait in the resumed trainer');
    const actor = checkpointActor(loaded)!;
    assert.equal(actor.version, 1);
    assert.deepEqual(actor.weights, a.policy.actorWeights(), "the checkpoint's policy is the actor's");
    assert.deepEqual(b.policy.actorWeights(), a.policy.actorWeights());
    // both go on alike: the same counts after the same work
    for (const t of [a, b]) {
      for (const tr of episode(6, 7, 100n * 50_000_000n)) t.addTransition(tr);
      t.endEpisode(106n * 50_000_000n);
      drain(t);
    }
    assert.equal(b.updates, a.updates);
    assert.equal(b.policyVersion, 2);
    assert.equal(a.policyVersion, 2);

    // a checkpoint of other networks, or a truncated file, is refused in one line
    assert.throws(() => new MbpoTrainer(config({ sac: { hidden: [8, 8] } }), loaded), /hidden widths are \[16, 16\]/);
    assert.throws(
      () => checkpointLayout(loaded, { ...LAYOUT, task: 'cartpole_balance', hidden: [16, 16] }, 'the file'),
      /^Error: parameter 'task': cartpole_balance differs from cartpole_swingup of the file$/,
    );
    const bytes = Buffer.concat(encodeCheckpoint(wa));
    writeFileSync(join(dir, 'cut.bin'), bytes.subarray(0, bytes.length - 100));
    assert.throws(() => readCheckpoint(join(dir, 'cut.bin')), /cut\.bin: truncated or corrupt arrays/);
    assert.throws(
      () => decodeCheckpoint(Uint8Array.of(1, 2, 3), 'three bytes'),
      /three bytes: not a policy trainer checkpoint/,
    );
  } finally {
    a.dispose();
    b?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a NaN transition and malformed or misfit models are refused in one line; the trainer goes on', () => {
  const t = new MbpoTrainer(config({ randomSteps: 0 }));
  try {
    const [good, bad] = episode(2, 7);
    const nan = { ...bad!, next: Float32Array.from(bad!.next, (v, i) => (i === 3 ? Number.NaN : v)) };
    const refused = t.addTransition(nan);
    assert.ok(!refused.ok);
    assert.match(refused.reason, /^s′\[3\] is NaN in \[/);
    assert.equal(t.addTransition({ ...good!, action: [1, 2] }).ok, false);
    assert.equal(t.addTransition(good!).ok, true);
    assert.deepEqual([t.figures().realSteps, t.figures().refusedTransitions], [1, 2]);

    const ok = modelBlob();
    assert.equal(t.setModel(ok.json, ok.data, 2), 'in_use');
    assert.equal(t.setModel(ok.json, ok.data, 2), 'repeated');
    const oneLine = (fn: () => unknown, pattern: RegExp): void =>
      assert.throws(fn, (err: Error) => {
        assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
        assert.match(err.message, pattern);
        return true;
      });
    oneLine(() => t.setModel('{not json', ok.data, 3), /^dynamics model v3: /);
    oneLine(() => t.setModel(ok.json, ok.data.subarray(0, 100), 4), /^dynamics model v4: /);
    const small = modelBlob({ stateSize: 4, joints: ['cart_slide', 'pole_hinge'] });
    oneLine(
      () => t.setModel(small.json, small.data, 5),
      /^dynamics model v5: it predicts the state \[q\.cart_slide, q\.pole_hinge, qd/,
    );
    const { metadata } = { metadata: JSON.parse(small.json) as Record<string, unknown> };
    delete metadata['training'];
    oneLine(
      () => t.setModel(JSON.stringify(metadata), small.data, 6),
      /^dynamics model v6: it predicts states of 4 from actions of 1, the policy's are 5 and 1$/,
    );
    const fast = modelBlob({ periodNs: 10_000_000 });
    oneLine(
      () => t.setModel(fast.json, fast.data, 7),
      /^dynamics model v7: it predicts over 10000000 ns, the policy acts every 50000000 ns$/,
    );
    assert.equal(t.modelVersion, 2, 'the model in use stays');
    assert.equal(t.figures().refusedModels, 5);

    for (const tr of episode(20, 8, 10n ** 9n)) t.addTransition(tr);
    drain(t);
    assert.ok(t.updates > 0 && t.figures().modelTransitions > 0, 'it went on training with model v2');
  } finally {
    t.dispose();
  }
});

test('an episode end is passed on once the states through its stamp are in', () => {
  const ends = new EpisodeEnds();
  assert.deepEqual(ends.stateSeen(10n), []);
  assert.deepEqual(ends.ended(30n), [], 'the END before its last state');
  assert.deepEqual(ends.ended(20n), []);
  assert.deepEqual(ends.stateSeen(20n), [20n]);
  assert.deepEqual(ends.stateSeen(40n), [30n]);
  assert.deepEqual(ends.ended(35n), [35n], 'an END after its states: due at once');
});
