import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TickGate, type GateHold, type ModelProgress, type TickGateOptions } from '../../src/control/tick_gate.js';

// The tick gate, driven by hand as the controller's timer, state, model and episode callbacks
// would drive it: which ticks it computes, and when. No node, no clock: ticks are plain numbers.

const P = 10n; // the period, in the gate's units

/** A planner over the learned model whose progress the test sets. */
class FakeModel implements ModelProgress {
  modelVersion = 0;
  explorationTicks = 0;
  modelDataEndNs: bigint | undefined = undefined;
}

function gate(options: Partial<Omit<TickGateOptions, 'compute' | 'onHold'>> = {}) {
  const computed: bigint[] = [];
  const holds: GateHold[] = [];
  const g = new TickGate({
    lockstep: true,
    exploreTicks: 0,
    awaitEpisodeModel: false,
    model: undefined,
    ...options,
    compute: (t) => computed.push(t),
    onHold: (h) => holds.push(h),
  });
  return { g, computed, holds };
}

test('lockstep: a tick waits for the state stamped at it, and goes on when it arrives', () => {
  const { g, computed } = gate();
  g.tickDue(1n * P);
  assert.deepEqual(computed, [], 'no state yet');
  g.stateArrived(0n);
  assert.deepEqual(computed, [], 'an older state does not answer the tick');
  assert.equal(g.pendingTick, 1n * P);
  g.stateArrived(1n * P);
  assert.deepEqual(computed, [1n * P]);
  assert.equal(g.pendingTick, undefined);
  // the state of the next tick came first: the tick goes at once
  g.stateArrived(2n * P);
  g.tickDue(2n * P);
  assert.deepEqual(computed, [1n * P, 2n * P]);
  // a state with no tick waiting computes nothing
  g.stateArrived(3n * P);
  assert.deepEqual(computed, [1n * P, 2n * P]);
});

test('lockstep: a newer tick replaces one still waiting', () => {
  const { g, computed } = gate();
  g.tickDue(1n * P);
  g.tickDue(2n * P);
  g.stateArrived(2n * P);
  assert.deepEqual(computed, [2n * P]);
});

test('real time: every tick is computed at once, with or without a state, and nothing holds', () => {
  const model = new FakeModel();
  model.explorationTicks = 100;
  const { g, computed } = gate({ lockstep: false, exploreTicks: 5, awaitEpisodeModel: true, model });
  assert.equal(g.awaitsEpisodeModel, false, 'await_episode_model needs lockstep');
  g.tickDue(1n * P);
  g.stateArrived(0n);
  g.tickDue(2n * P);
  assert.deepEqual(computed, [1n * P, 2n * P]);
});

test('explore_ticks: after that many exploration ticks the next tick waits for the first model, said once', () => {
  const model = new FakeModel();
  const { g, computed, holds } = gate({ exploreTicks: 3, model });
  for (let k = 1n; k <= 3n; k++) {
    g.stateArrived(k * P);
    g.tickDue(k * P);
    model.explorationTicks++; // the computed tick explored
  }
  assert.deepEqual(computed, [P, 2n * P, 3n * P]);
  g.tickDue(4n * P);
  g.stateArrived(4n * P);
  assert.deepEqual(computed, [P, 2n * P, 3n * P], 'held for the first model');
  assert.deepEqual(holds, [{ kind: 'first_model', explorationTicks: 3 }]);
  g.modelChanged(); // a blob that was refused: still no model
  assert.equal(g.pendingTick, 4n * P);
  model.modelVersion = 1;
  g.modelChanged();
  assert.deepEqual(computed, [P, 2n * P, 3n * P, 4n * P], 'the held tick goes on with the model');
  g.stateArrived(5n * P);
  g.tickDue(5n * P);
  assert.deepEqual(computed.at(-1), 5n * P);
  assert.equal(holds.length, 1);
});

test('explore_ticks without a planner over the learned model, or 0: no hold', () => {
  for (const options of [
    { exploreTicks: 3, model: undefined },
    { exploreTicks: 0, model: new FakeModel() },
  ]) {
    const { g, computed } = gate(options);
    if (options.model) options.model.explorationTicks = 10;
    g.stateArrived(P);
    g.tickDue(P);
    assert.deepEqual(computed, [P]);
  }
});

test('await_episode_model: the first tick after END waits for a model trained through END, and not a tick longer', () => {
  const model = new FakeModel();
  model.modelVersion = 1;
  model.modelDataEndNs = 2n * P; // trained through an earlier episode
  const { g, computed, holds } = gate({ awaitEpisodeModel: true, model });
  assert.equal(g.awaitsEpisodeModel, true);
  g.stateArrived(5n * P);
  g.tickDue(5n * P);
  assert.deepEqual(computed, [5n * P]);
  // the episode's last state was at 5P; the bridge declares END(5P), START(8P), then the state of 8P
  g.episodeEnded(5n * P);
  assert.deepEqual(holds, [{ kind: 'episode_model', endNs: 5n * P }]);
  g.tickDue(8n * P);
  g.stateArrived(8n * P);
  assert.deepEqual(computed, [5n * P], 'held: the model in use was trained through 2P only');
  // a model trained through an older state does not release it
  model.modelVersion = 2;
  model.modelDataEndNs = 4n * P;
  g.modelChanged();
  assert.deepEqual(computed, [5n * P]);
  // one trained through the END stamp does
  model.modelVersion = 3;
  model.modelDataEndNs = 5n * P;
  g.modelChanged();
  assert.deepEqual(computed, [5n * P, 8n * P]);
  // and the next tick goes at once, even though no newer model comes
  g.stateArrived(9n * P);
  g.tickDue(9n * P);
  assert.deepEqual(computed, [5n * P, 8n * P, 9n * P]);
  assert.equal(holds.length, 1);
});

test('await_episode_model: an END that comes before its own last tick is computed does not hold that tick', () => {
  const model = new FakeModel();
  const { g, computed } = gate({ awaitEpisodeModel: true, model });
  g.stateArrived(5n * P);
  g.episodeEnded(5n * P);
  g.tickDue(5n * P);
  assert.deepEqual(computed, [5n * P], "the episode's last tick is the old episode's");
  g.stateArrived(8n * P);
  g.tickDue(8n * P);
  assert.deepEqual(computed, [5n * P], "the new episode's first waits");
});

test('await_episode_model without lockstep or without a planner over the learned model: ignored, END holds nothing', () => {
  for (const options of [
    { awaitEpisodeModel: true, model: undefined },
    { awaitEpisodeModel: true, lockstep: false, model: new FakeModel() },
    { awaitEpisodeModel: false, model: new FakeModel() },
  ]) {
    const { g, computed, holds } = gate(options);
    assert.equal(g.awaitsEpisodeModel, false);
    g.episodeEnded(5n * P);
    g.stateArrived(8n * P);
    g.tickDue(8n * P);
    assert.deepEqual(computed, [8n * P]);
    assert.deepEqual(holds, []);
  }
});

test('a tick due twice is computed once, waiting or not (a late activation and the timer both call it)', () => {
  const { g, computed } = gate();
  g.stateArrived(1n * P);
  g.tickDue(1n * P);
  g.tickDue(1n * P);
  assert.deepEqual(computed, [1n * P], 'its state was there: computed once');
  g.tickDue(2n * P);
  g.tickDue(2n * P);
  assert.equal(g.pendingTick, 2n * P);
  g.stateArrived(2n * P);
  g.tickDue(2n * P);
  assert.deepEqual(computed, [1n * P, 2n * P], 'waited for its state: computed once');
  const free = gate({ lockstep: false });
  free.g.tickDue(1n * P);
  free.g.tickDue(1n * P);
  assert.deepEqual(free.computed, [1n * P], 'in real time too');
});
