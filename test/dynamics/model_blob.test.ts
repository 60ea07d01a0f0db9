import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DYNAMICS_MODEL_FORMAT,
  DYNAMICS_MODEL_KIND,
  dynamicsModel,
  loadDynamicsModel,
  modelMetadata,
  saveDynamicsModel,
} from '../../src/dynamics/model_blob.js';
import { StateEncoding } from '../../src/dynamics/state_encoding.js';
import { ProbabilisticEnsemble } from '../../src/dynamics/ensemble.js';
import { initTensorBackend } from '../../src/tensor/backend.js';
import { modelLayout } from '../../src/control/planners/ensemble_mpc/planner.js';
import { RESULT } from './helpers.js';

// The model the learner publishes: every key of its metadata (the ensemble's own and
// training.*), and the layout a controller reads back from it (modelLayout). Saved, it is a TF.js
// model folder (model.json + weights.bin) with all of that metadata, that loads back as the same
// model and as an ensemble.

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

test('dynamics model folder: TF.js format with the metadata; loads back as the same model, and as an ensemble', async () => {
  await initTensorBackend();
  const ensemble = ProbabilisticEnsemble.create({
    stateSize: 5,
    actionSize: 1,
    members: 2,
    elites: 2,
    hidden: [8],
    seed: 3,
  });
  const blob = ensemble.serialize();
  const model = dynamicsModel(
    { ...RESULT, metadata: blob.metadata, data: blob.data },
    4,
    { encoding: ENCODING, periodNs: 50_000_000n },
    9_950_000_000n,
  );
  const dir = join(mkdtempSync(join(tmpdir(), 'model-blob-')), 'model');
  try {
    await saveDynamicsModel(dir, model);
    assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'weights.bin']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
      weightsManifest: { paths: string[] }[];
      userDefinedMetadata: { training: { joints: string[]; data_end_ns: string }; blob: unknown };
    };
    assert.deepEqual(json.weightsManifest[0]!.paths, ['weights.bin']);
    assert.deepEqual(json.userDefinedMetadata.training.joints, ['cart_slide', 'pole_hinge']);
    assert.equal(json.userDefinedMetadata.training.data_end_ns, '9950000000');
    assert.deepEqual(json.userDefinedMetadata.blob, {
      kind: DYNAMICS_MODEL_KIND,
      version: 4,
      format: DYNAMICS_MODEL_FORMAT,
    });

    const back = await loadDynamicsModel(dir);
    assert.deepEqual([back.kind, back.version, back.format], [model.kind, model.version, model.format]);
    assert.deepEqual(JSON.parse(back.metadataJson), JSON.parse(model.metadataJson));
    assert.deepEqual(back.data, model.data);
    const fromFolder = await ProbabilisticEnsemble.load(dir);
    const rows = new Float32Array(10).fill(0.2);
    const us = new Float32Array(2).fill(-0.5);
    const members = Int32Array.from([0, 1]);
    assert.deepEqual(
      fromFolder.predictNext(rows, us, 2, members, false),
      ensemble.predictNext(rows, us, 2, members, false),
    );
    fromFolder.dispose();
    await assert.rejects(loadDynamicsModel(join(dir, 'nowhere')), /nowhere.*does not exist/);
  } finally {
    ensemble.dispose();
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});
