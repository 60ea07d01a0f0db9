import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  learnerHealth,
  learnerMetrics,
  learnerSummary,
  modelLine,
  type LearnerFigures,
} from '../../src/dynamics/learner_report.js';
import { TransitionBuilder } from '../../src/data/transitions.js';
import { RESULT } from './helpers.js';

// What the learner says about itself, from a snapshot: collecting, then a model, then a failure;
// the model's log line, the end-of-run sentence and the report's figures.

const COUNTS = { ...new TransitionBuilder({ periodNs: 1n }).counts, transitions: 596, episodes: 4, unpaired: 1 };
const COLLECTING: LearnerFigures = {
  counts: COUNTS,
  bufferSize: 596,
  version: 0,
  made: 0,
  published: 0,
  loadedVersion: 0,
  failures: 0,
  lastError: '',
  last: undefined,
  training: false,
  merged: 0,
  dimensions: [],
};
const SETTINGS = { probabilistic: true, firstModelAfter: 1000 };
const TRAINED: LearnerFigures = {
  ...COLLECTING,
  version: 2,
  made: 2,
  published: 2,
  last: RESULT,
  training: true,
  dimensions: ['q.cart_slide', 'sin.pole_hinge', 'cos.pole_hinge', 'qd.cart_slide', 'qd.pole_hinge'],
};

test('learner health: collecting, a model (with its figures), a failed training', () => {
  const collecting = learnerHealth('dynamics_learner: dynamics learning', COLLECTING, SETTINGS);
  assert.equal(collecting.level, 'ok');
  assert.equal(collecting.message, 'collecting: 596 of 1000 transitions for the first model');
  assert.deepEqual(Object.keys(collecting.values), [
    'transitions',
    'buffer_size',
    'episodes',
    'missed_ticks',
    'resets',
    'late_episode_events',
    'unpaired',
    'non_finite',
    'bad_commands',
    'model_version',
    'training_failures',
  ]);
  const trained = learnerHealth('dynamics_learner: dynamics learning', TRAINED, SETTINGS);
  assert.equal(trained.message, 'model v2, training');
  assert.equal(trained.values['train_nll'], '-1.5000e+0');
  assert.equal(trained.values['val_mse.sin.pole_hinge'], '2.000e-3');
  assert.equal(trained.values['elites'], '0,2');
  assert.equal(learnerHealth('x', TRAINED, { ...SETTINGS, probabilistic: false }).values['train_mse'], '-1.5000e+0');
  const failed = learnerHealth('x', { ...TRAINED, failures: 1, lastError: 'worker died' }, SETTINGS);
  assert.deepEqual([failed.level, failed.message], ['error', 'training failed: worker died']);
});

test('learner: the model line, the summary and the report figures', () => {
  assert.equal(
    modelLine(2, RESULT, SETTINGS),
    'dynamics model v2: 397 transitions, 7 epochs, train nll -1.5000, validation mse 0.2500 (normalised), validation MSE [1.00e-3, 2.00e-3, 3.00e-3, 4.00e-3, 5.00e-3], 1.3 s on native kernels',
  );
  assert.equal(learnerSummary(COLLECTING), '596 transitions in 4 episodes, 0 dynamics models published');
  assert.equal(
    learnerSummary({ ...TRAINED, counts: { ...COUNTS, missedTicks: 2 }, failures: 1 }),
    '596 transitions in 4 episodes (2 missed ticks), 2 dynamics models published, the last validated at mse 0.2500 (normalised) on 397 transitions, 1 trainings failed',
  );
  assert.equal(
    learnerSummary({ ...TRAINED, version: 7, made: 2, loadedVersion: 5 }),
    '596 transitions in 4 episodes, 2 dynamics models published after v5 loaded, the last validated at mse 0.2500 (normalised) on 397 transitions',
  );
  assert.equal(learnerMetrics({ ...TRAINED, loadedVersion: 5 }).model_loaded_version, 5);
  assert.deepEqual(learnerMetrics({ ...TRAINED, published: 1, merged: 3 }), {
    transitions: 596,
    buffer_size: 596,
    episodes: 4,
    missed_ticks: 0,
    resets: 0,
    late_episode_events: 0,
    duplicates: 0,
    non_finite: 0,
    unpaired: 1,
    bad_commands: 0,
    models_published: 1,
    trainings_coalesced: 3,
    training_failures: 0,
    last_train_loss: -1.5,
    last_val_loss: 0.25,
    last_training_s: 1.25,
    backend: 'native kernels',
  });
});
