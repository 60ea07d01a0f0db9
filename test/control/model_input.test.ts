import { test } from 'node:test';
import assert from 'node:assert/strict';
import { offerModel } from '../../src/control/model_input.js';
import type { LearnedPlanning } from '../../src/control/planner.js';
import { StateEncoding } from '../../src/dynamics/state_encoding.js';

// A model blob offered to the planner over the learned model, and the line the controller logs:
// the wrong kind ignored (throttled) without the planner seeing it, a repeat kept, a new model in
// use (or handed to the worker), a misfit refused with the version still in use.

const ENCODING = new StateEncoding(['cart', 'pole'], ['pole']);

function fakePlanner(behaviour: 'take' | 'repeat' | 'refuse') {
  const offered: number[] = [];
  const planner = {
    modelVersion: 2,
    setModel(_json: string, _data: Uint8Array, version: number) {
      offered.push(version);
      if (behaviour === 'refuse') throw new Error('model v3 takes 2 action values, the controller commands 1');
      return { layout: { encoding: ENCODING }, repeated: behaviour === 'repeat' };
    },
  } as unknown as LearnedPlanning;
  return { planner, offered };
}

const blob = (kind = 'dynamics_ensemble') => ({ kind, metadataJson: '{}', data: new Uint8Array(4), version: 3 });
const TOPIC = { topic: '/dynamics/model', inWorker: false };

test('the wrong kind is not offered to the planner, and says so under a throttle key', () => {
  const { planner, offered } = fakePlanner('take');
  const outcome = offerModel(planner, blob('policy'), TOPIC);
  assert.deepEqual(outcome, {
    offered: false,
    log: {
      level: 'warn',
      message: "model on /dynamics/model ignored: kind 'policy', expected 'dynamics_ensemble'",
      throttleKey: 'model',
    },
  });
  assert.deepEqual(offered, []);
});

test('taken, in a worker, repeated, refused: each offered, each with its line', () => {
  assert.deepEqual(offerModel(fakePlanner('take').planner, blob(), TOPIC), {
    offered: true,
    log: { level: 'info', message: `dynamics model v3 in use (was v2): state ${ENCODING.describe()}` },
  });
  assert.deepEqual(offerModel(fakePlanner('take').planner, blob(), { ...TOPIC, inWorker: true }), {
    offered: true,
    log: { level: 'info', message: `dynamics model v3 handed to the planning worker: state ${ENCODING.describe()}` },
  });
  assert.deepEqual(offerModel(fakePlanner('repeat').planner, blob(), TOPIC), {
    offered: true,
    log: { level: 'debug', message: 'dynamics model v3 repeats v2: kept' },
  });
  assert.deepEqual(offerModel(fakePlanner('refuse').planner, blob(), TOPIC), {
    offered: true,
    log: {
      level: 'error',
      message:
        'dynamics model v3 on /dynamics/model refused, still planning with v2: model v3 takes 2 action values, the controller commands 1',
    },
  });
  const first = fakePlanner('take');
  (first.planner as { modelVersion: number }).modelVersion = 0;
  assert.match(
    offerModel(first.planner, blob(), TOPIC).log.message,
    /^dynamics model v3 in use, planning from now on: /,
  );
});
