import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateEncoding } from '../../src/dynamics/state_encoding.js';
import { costsOverEncoding, swingupCostOver, taskCost } from '../../src/control/task_costs.js';
import { swingupCostBatch } from '../../src/tasks/cartpole_swingup.js';
import { Rng } from '../../src/util/random.js';

// Planning in an encoded model state: the encoding's layout, and task costs over encoded rollouts
// that agree with the same costs over the joint state they encode.

const CARTPOLE = ['cart_slide', 'pole_hinge'];

/** B random cart-pole joint states [x, θ, ẋ, θ̇] with θ over several turns, their encodings, and actions */
function batch(encoding: StateEncoding, b: number) {
  const rng = new Rng(9);
  const raw = Float32Array.from({ length: 4 * b }, (_, i) =>
    i % 4 === 1 ? 20 * rng.uniform() - 10 : 2 * rng.normal(),
  );
  const encoded = new Float32Array(b * encoding.size);
  for (let i = 0; i < b; i++) encoding.encodeInto(raw.subarray(4 * i, 4 * i + 4), encoded, i * encoding.size);
  const actions = Float32Array.from({ length: b }, () => 40 * rng.uniform() - 20);
  return { raw, encoded, actions };
}

test('state encoding: positions (angles as sin, cos) then velocities; the layout from metadata; bad layouts named', () => {
  const e = new StateEncoding(CARTPOLE, ['pole_hinge']);
  assert.deepEqual(e.names, ['q.cart_slide', 'sin.pole_hinge', 'cos.pole_hinge', 'qd.cart_slide', 'qd.pole_hinge']);
  assert.equal(e.size, 5);
  assert.equal(e.identity, false);
  const x = e.encode(Float32Array.of(0.5, Math.PI / 6, -1, 2));
  assert.deepEqual(Array.from(x), Array.from(Float32Array.of(0.5, 0.5, Math.cos(Math.PI / 6), -1, 2)));
  assert.deepEqual(e.position('pole_hinge'), { kind: 'angle', sin: 1, cos: 2 });
  assert.equal(e.velocity('cart_slide'), 3);
  // the metadata round trip, and an older model's metadata without angle_joints: the joint state
  assert.equal(StateEncoding.fromMetadata(e.toMetadata(), 'model').describe(), e.describe());
  assert.ok(StateEncoding.fromMetadata({ joints: CARTPOLE }, 'model').identity);
  assert.throws(
    () => new StateEncoding(CARTPOLE, ['elbow']),
    /angle joints \[elbow\] are not among the joints \[cart_slide, pole_hinge\]/,
  );
  assert.throws(() => new StateEncoding(['a', 'a']), /joint 'a' is listed twice/);
  assert.throws(() => StateEncoding.fromMetadata({}, 'model v3'), /model v3: its metadata names no joints/);
  assert.throws(() => e.encode(Float32Array.of(1, 2, 3)), /has 4 values, got 3/);
});

test('swing-up cost over [x, sin θ, cos θ, ẋ, θ̇] equals the cost over [x, θ, ẋ, θ̇], whatever the turns', () => {
  const encoding = new StateEncoding(CARTPOLE, ['pole_hinge']);
  const { raw, encoded, actions } = batch(encoding, 500);
  const direct = new Float32Array(500);
  const fromEncoded = new Float32Array(500);
  swingupCostBatch(raw, actions, direct);
  costsOverEncoding(taskCost('cartpole_swingup'), encoding).cost(encoded, actions, fromEncoded);
  for (let i = 0; i < 500; i++)
    assert.ok(Math.abs(direct[i]! - fromEncoded[i]!) < 1e-5, `row ${i}: ${direct[i]} vs ${fromEncoded[i]}`);
  // the joints in the other order, and θ not encoded: the cost reads them where they are
  const swapped = new StateEncoding(['pole_hinge', 'cart_slide']);
  const rows = new Float32Array(500 * 4);
  for (let i = 0; i < 500; i++) rows.set([raw[4 * i + 1]!, raw[4 * i]!, raw[4 * i + 3]!, raw[4 * i + 2]!], 4 * i);
  const fromSwapped = new Float32Array(500);
  swingupCostOver(swapped)(rows, actions, fromSwapped);
  assert.deepEqual(fromSwapped, direct);
  assert.throws(
    () => swingupCostOver(new StateEncoding(CARTPOLE, ['cart_slide'])),
    /cart position 'cart_slide' cannot be angle-encoded/,
  );
});

test('a task without an encoded form scores the decoded state (angles by atan2); a task joint the model lacks is refused', () => {
  const encoding = new StateEncoding(CARTPOLE, ['pole_hinge']);
  const { raw, encoded, actions } = batch(encoding, 300);
  const balance = taskCost('cartpole_balance');
  // the decoded angle is θ wrapped into (−π, π]: the balance cost of the wrapped state
  const wrapped = Float32Array.from(raw, (v, i) => (i % 4 === 1 ? Math.atan2(Math.sin(v), Math.cos(v)) : v));
  const direct = new Float32Array(300);
  const fromEncoded = new Float32Array(300);
  balance.cost(wrapped, actions, direct);
  costsOverEncoding(balance, encoding).cost(encoded, actions, fromEncoded);
  for (let i = 0; i < 300; i++)
    assert.ok(
      Math.abs(direct[i]! - fromEncoded[i]!) <= 1e-4 * Math.max(1, Math.abs(direct[i]!)),
      `row ${i}: ${direct[i]} vs ${fromEncoded[i]}`,
    );
  const terminal = new Float32Array(300);
  const terminalEncoded = new Float32Array(300);
  balance.terminalCost!(wrapped, terminal);
  costsOverEncoding(balance, encoding).terminalCost!(encoded, terminalEncoded);
  for (let i = 0; i < 300; i++)
    assert.ok(Math.abs(terminal[i]! - terminalEncoded[i]!) <= 1e-4 * Math.max(1, Math.abs(terminal[i]!)));
  assert.throws(
    () => costsOverEncoding(balance, new StateEncoding(['cart_slide'])),
    /task cartpole_balance over the learned model's state: joints \[pole_hinge\] are not among \[cart_slide\]/,
  );
});
