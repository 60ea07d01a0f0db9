import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetrainingSchedule, type RetrainingPolicy } from '../../src/dynamics/retraining.js';

// The learner's retraining schedule on a fake trainer whose trainings end when the test says:
// when a training is due (every K transitions, or at each episode end once its last state is in),
// one at a time with requests merged, the data end of each, and models held until activation.

interface Training {
  /** the buffer size when it started */
  readonly size: number;
  resolve(result: string): void;
  reject(error: Error): void;
}

function setup(policy: Partial<RetrainingPolicy> = {}, loaded = 0, loadedVersion = 0) {
  let size = loaded;
  const trainings: Training[] = [];
  const published: { model: string; version: number; dataEndNs: bigint }[] = [];
  const failures: string[] = [];
  /** the episode ends announced (once the states through them were in), with the size and the trainings started then */
  const ended: [bigint, number, number][] = [];
  const schedule = new RetrainingSchedule<string, { model: string; version: number; dataEndNs: bigint }>(
    { on: 'transitions', every: 3, minTransitions: 2, ...policy },
    {
      size: () => size,
      train: () => new Promise<string>((resolve, reject) => trainings.push({ size, resolve, reject })),
      model: (result, version, dataEndNs) => ({ model: result, version, dataEndNs }),
      publish: (model) => published.push(model),
      failed: (message) => failures.push(message),
      episodeEnded: (endNs) => ended.push([endNs, size, trainings.length]),
    },
    loaded,
    loadedVersion,
  );
  /** a transition whose newest state is tick k, then that state seen */
  const transition = (k: number): void => {
    size++;
    schedule.transitionAdded(BigInt(k));
    schedule.stateSeen(BigInt(k));
  };
  /** let the promise callbacks of a settled training run */
  const settle = () => new Promise((r) => setImmediate(r));
  return { schedule, trainings, published, failures, ended, transition, settle };
}

test('retraining: every K new transitions, one training at a time, a request meanwhile merged into one after', async () => {
  const { schedule, trainings, published, transition, settle } = setup();
  schedule.activate();
  transition(1);
  transition(2);
  assert.equal(trainings.length, 0, 'not before K');
  transition(3);
  assert.deepEqual(
    trainings.map((t) => t.size),
    [3],
  );
  for (const k of [4, 5, 6, 7, 8, 9]) transition(k); // due twice while the first runs: one merged request
  assert.equal(trainings.length, 1, 'one at a time');
  assert.equal(schedule.merged, 1);
  trainings[0]!.resolve('a');
  await settle();
  assert.deepEqual(published, [{ model: 'a', version: 1, dataEndNs: 3n }], "the data end is the start's newest state");
  assert.deepEqual(
    trainings.map((t) => t.size),
    [3, 9],
    'the merged request starts at once, on the newest data',
  );
  trainings[1]!.resolve('b');
  await settle();
  assert.deepEqual(
    published.map((m) => [m.model, m.version, m.dataEndNs]),
    [
      ['a', 1, 3n],
      ['b', 2, 9n],
    ],
  );
  assert.deepEqual([schedule.version, schedule.published, schedule.last], [2, 2, 'b']);
});

test('retraining: no training before min transitions; transitions loaded from a file count as new', () => {
  const few = setup({ every: 1, minTransitions: 5 });
  few.schedule.activate();
  for (const k of [1, 2, 3, 4]) few.transition(k);
  assert.equal(few.trainings.length, 0);
  few.transition(5);
  assert.equal(few.trainings.length, 1);

  const loaded = setup({ every: 3, minTransitions: 2 }, 10);
  loaded.schedule.activate();
  assert.equal(loaded.trainings.length, 1, 'ten loaded transitions are due at activation');
  assert.equal(loaded.trainings[0]!.size, 10);
});

test('retraining per episode: at END once the states through its stamp are in, whichever comes first', async () => {
  const { schedule, trainings, published, transition, settle } = setup({ on: 'episode', minTransitions: 2 });
  schedule.activate();
  for (const k of [1, 2, 3, 4]) transition(k);
  assert.equal(trainings.length, 0, 'not while the episode goes on');
  schedule.episodeEnded(4n); // its last state is in
  assert.equal(trainings.length, 1);
  trainings[0]!.resolve('first');
  await settle();
  assert.equal(published[0]!.dataEndNs, 4n);

  // the states lag the events: END comes before the last states of the episode
  for (const k of [7, 8]) transition(k);
  schedule.episodeEnded(10n);
  transition(9);
  assert.equal(trainings.length, 1, 'the states through END have not all come');
  transition(10);
  assert.equal(trainings.length, 2);
  trainings[1]!.resolve('second');
  await settle();
  assert.equal(published[1]!.dataEndNs, 10n, 'the model covers the episode through its last state');

  // a state after END that completes no transition (the next episode's first) also says the data is in
  transition(13);
  schedule.episodeEnded(14n);
  schedule.stateSeen(17n);
  assert.equal(trainings.length, 3);
  assert.equal(trainings[2]!.size, 9);
});

test('retraining per episode: an episode end with no new data trains nothing; one during a training is merged', async () => {
  const { schedule, trainings, transition, settle } = setup({ on: 'episode', minTransitions: 2 });
  schedule.activate();
  for (const k of [1, 2, 3]) transition(k);
  schedule.episodeEnded(3n);
  assert.equal(trainings.length, 1);
  schedule.episodeEnded(3n); // again, with nothing new
  assert.equal(schedule.merged, 0);
  for (const k of [6, 7]) transition(k);
  schedule.episodeEnded(7n);
  assert.equal(schedule.merged, 1);
  trainings[0]!.resolve('a');
  await settle();
  assert.deepEqual(
    trainings.map((t) => t.size),
    [3, 5],
  );
});

test('retraining: inactive, nothing starts and a finished model is held for activation; failures are reported', async () => {
  const { schedule, trainings, published, failures, transition, settle } = setup();
  for (const k of [1, 2, 3]) transition(k);
  assert.equal(trainings.length, 0, 'no training before activation');
  schedule.activate();
  assert.equal(trainings.length, 1, 'what is due starts at activation');
  schedule.deactivate();
  trainings[0]!.resolve('held');
  await settle();
  assert.equal(published.length, 0);
  assert.deepEqual([schedule.version, schedule.published], [1, 0]);
  schedule.activate();
  assert.deepEqual(
    published.map((m) => m.model),
    ['held'],
  );
  assert.equal(schedule.published, 1);

  for (const k of [4, 5, 6]) transition(k);
  trainings[1]!.reject(new Error('out of memory'));
  await settle();
  assert.deepEqual(failures, ['out of memory']);
  assert.deepEqual([schedule.failures, schedule.lastError], [1, 'out of memory']);
  for (const k of [7, 8, 9]) transition(k);
  trainings[2]!.resolve('recovered');
  await settle();
  assert.equal(schedule.lastError, '', 'a good training clears the error');

  for (const k of [10, 11, 12]) transition(k);
  schedule.dispose();
  trainings[3]!.reject(new Error('worker ended'));
  await settle();
  assert.equal(schedule.failures, 1, 'after dispose a failure is not one');
});

test('retraining: an episode end is announced once the states through it are in, before its training, whatever the data', async () => {
  const { schedule, trainings, ended, transition, settle } = setup({ on: 'episode', minTransitions: 2 });
  schedule.activate();
  for (const k of [1, 2, 3]) transition(k);
  schedule.episodeEnded(5n); // END before the episode's last states
  transition(4);
  assert.deepEqual(ended, [], 'not before the states through END are in');
  transition(5);
  assert.deepEqual(ended, [[5n, 5, 0]], 'announced before its training started');
  assert.equal(trainings.length, 1);
  trainings[0]!.resolve('a');
  await settle();
  schedule.episodeEnded(5n); // again, nothing new: announced all the same, no training
  assert.equal(ended.length, 2);
  schedule.deactivate();
  transition(8);
  schedule.episodeEnded(8n); // inactive: announced all the same (the learner saves its buffer then)
  assert.deepEqual(ended[2], [8n, 6, 1]);
  assert.equal(trainings.length, 1);
});

test('retraining: after a model loaded from an earlier run (v5), the numbering goes on from it', async () => {
  const { schedule, trainings, published, transition, settle } = setup({ every: 3 }, 0, 5);
  assert.deepEqual([schedule.version, schedule.published, schedule.made], [5, 0, 0]);
  schedule.activate();
  for (const k of [1, 2, 3]) transition(k);
  trainings[0]!.resolve('a');
  await settle();
  assert.deepEqual(
    published.map((m) => [m.model, m.version]),
    [['a', 6]],
  );
  assert.deepEqual([schedule.version, schedule.published, schedule.made], [6, 1, 1]);
});
