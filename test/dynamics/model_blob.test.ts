import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DYNAMICS_MODEL_FORMAT,
  DYNAMICS_MODEL_KIND,
  dynamicsModel,
  modelMetadata,
} from '../../src/dynamics/model_blob.js';
import { StateEncoding } from '../../src/dynamics/state_encoding.js';
import { modelLayout } from '../../src/control/planners/ensemble_mpc/planner.js';
import { RESULT } from './helpers.js';

// The model the learner publishes: every key of its metadata (the ensemble's own and
// training.*), and the layout a controller reads back from it (modelLayout).

const ENCODING = new StateEncoding(['cart_slide', 'pole_hinge'], ['pole_hinge']);

test('model metadata: the ensemble metadata, and training with its figures, layout, period and data end', () => {
  assert.deepEqual(modelMetadata(RESULT, ENCODING, 50_000_000n, 9_950_000_000n), {
    format: 'dynastack.ProbabilisticEnsemble',
    config: { stateSize: 5, actionSize: 1 },
    training: {
      report: RESULT.report,
      transitions: 397,
      seconds: 1.25,
      backend: 'native kernels',
      joints: ['cart_slide', 'pole_hinge'],
      angle_joints: ['pole_hinge'],
      state: ['q.cart_slide', 'sin.pole_hinge', 'cos.pole_hinge', 'qd.cart_slide', 'qd.pole_hinge'],
      period_ns: 50_000_000,
      data_end_ns: '9950000000',
    },
  });
});

test('dynamics model: kind, version, format and data; a controller reads the layout back', () => {
  const model = dynamicsModel(RESULT, 3, { encoding: ENCODING, periodNs: 50_000_000n }, 2n ** 62n);
  assert.deepEqual(
    [model.kind, model.version, model.format, model.data],
    [DYNAMICS_MODEL_KIND, 3, DYNAMICS_MODEL_FORMAT, RESULT.data],
  );
  assert.deepEqual([DYNAMICS_MODEL_KIND, DYNAMICS_MODEL_FORMAT], ['dynamics_ensemble', 'dynastack-ensemble/1']);
  const layout = modelLayout(JSON.parse(model.metadataJson) as Record<string, unknown>);
  assert.equal(layout.encoding.describe(), ENCODING.describe());
  assert.equal(layout.periodNs, 50_000_000);
  assert.equal(layout.dataEndNs, 2n ** 62n, 'a stamp past 2^53 survives as a string');
  assert.equal(layout.actionSize, 1);
});
