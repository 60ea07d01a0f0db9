import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linesOf, startController } from './controller_node.js';

// Before its first state the controller sends nothing: there is nothing to hold and nothing to
// stop, and the robot's bridge holds it until the first command comes (the sim paused, hw_bridge
// where it was enabled). A stop action sent then would release a real-time sim while the state
// estimator's process may still be starting — under ros2 launch the cart-pole fell that way. It
// says so once, and commands from the first state on.

const CARTPOLE = { model: 'sim/models/cartpole.xml', goal_keyframe: 'upright' };
const TILTED = [0, 0.1, 0, 0];

test('real time: no command before the first state (said once); from the first state on, one per tick', async () => {
  const c = await startController(CARTPOLE, ['cart_slide', 'pole_hinge']);
  try {
    for (let k = 1; k <= 20; k++) await c.advance(k);
    assert.equal(c.commands.length, 0, `commands before any state: ${JSON.stringify(c.commands)}`);
    assert.deepEqual(
      linesOf(c.logs, 'info').filter((l) => l.startsWith('no state on')),
      ['no state on estimated_joint_states yet: no command until the first one'],
    );
    for (let k = 21; k <= 30; k++) await c.tick(k, TILTED);
    assert.equal(c.commands.length, 10, `a command every tick once states come: ${JSON.stringify(c.commands)}`);
    assert.ok(
      c.commands.every((u) => u.length === 1 && Math.abs(u[0]!) > 0.1),
      JSON.stringify(c.commands),
    );
  } finally {
    await c.close();
  }
});
