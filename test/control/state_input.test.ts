import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateInput } from '../../src/control/state_input.js';

// A joint-state estimate as the controller's state: x = [q, q̇] in the model's dof order whatever
// the message's joint order, the command joints' positions and velocities, missing velocities as
// 0, and no state (the missing joints named) while a model joint is absent.

// model dofs: cart 0, pole 1, arm 2; the actuators drive arm then cart
const JOINTS = [
  { name: 'cart', dofAdr: 0 },
  { name: 'pole', dofAdr: 1 },
  { name: 'arm', dofAdr: 2 },
];

test('joints in any order land on their dofs; the command joints read from x', () => {
  const input = new StateInput(JOINTS, [2, 0], 3);
  const r = input.read(['arm', 'cart', 'pole'], [30, 10, 20], [3, 1, 2], 123n);
  assert.ok('state' in r);
  assert.equal(r.state.stampNs, 123n);
  assert.deepEqual(Array.from(r.state.x), [10, 20, 30, 1, 2, 3]);
  assert.deepEqual(Array.from(r.state.position), [30, 10]);
  assert.deepEqual(Array.from(r.state.velocity), [3, 1]);
  // the next message overwrites the same arrays
  const next = input.read(['arm', 'cart', 'pole'], [31, 11, 21], [], 124n);
  assert.ok('state' in next);
  assert.equal(next.state.x, r.state.x);
  assert.deepEqual(Array.from(next.state.x), [11, 21, 31, 0, 0, 0], 'no velocities: 0');
});

test('extra joints are skipped; a message lacking model joints gives no state and names them, until it has them', () => {
  const input = new StateInput(JOINTS, [0], 3);
  const missing = input.read(['cart', 'gripper'], [1, 2], [0, 0], 1n);
  assert.deepEqual(missing, { missing: ['pole', 'arm'] });
  const extra = input.read(['gripper', 'pole', 'cart', 'arm'], [9, 2, 1, 3], [0, 0, 0, 0], 2n);
  assert.ok('state' in extra);
  assert.deepEqual(Array.from(extra.state.x.subarray(0, 3)), [1, 2, 3]);
  assert.deepEqual(Array.from(extra.state.position), [1]);
});
