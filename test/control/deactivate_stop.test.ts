import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linesOf, startController } from './controller_node.js';

// Deactivating the controller (the runtime's shutdown, Ctrl-C, `ros2 lifecycle set … deactivate`)
// must not leave the robot with its last command: a forward command controller's output is held
// by whatever receives it (ros2_control's forward_command_controller keeps the last command, and
// an effort held keeps pushing). So deactivate publishes the stop action once, through the safety
// layer's stop path, after the last regular command, and nothing after it while inactive: zero
// effort or velocity, or the latest measured position clamped into the joint limits; nothing when
// a position must be held and none was ever measured. Activated again, it commands again.

const CARTPOLE = { model: 'sim/models/cartpole.xml', goal_keyframe: 'upright' };
const CART_JOINTS = ['cart_slide', 'pole_hinge'];
/** the pole 0.1 rad off upright: LQR pushes the cart, so every regular command is far from zero */
const TILTED = [0, 0.1, 0, 0];

const ARM = { model: 'sim/models/so_arm_position.xml', command_interface: 'position', goal_keyframe: 'home' };
const ARM_JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];
/** the arm away from home, its gripper past its upper limit (1.75 rad) */
const ARM_AWAY = [0.3, -0.2, 1.5, 1.0, 0.2, 1.8, 0, 0, 0, 0, 0, 0];

const finite = (u: readonly number[]): boolean => u.every((v) => Number.isFinite(v));

test('effort: deactivated mid-run, the controller publishes one zero-effort command after its last regular one, then nothing', async () => {
  const c = await startController(CARTPOLE, CART_JOINTS);
  try {
    for (let k = 0; k <= 10; k++) await c.tick(k, TILTED);
    assert.equal(c.commands.length, 10, 'a command every tick');
    assert.ok(
      c.commands.every((u) => u.length === 1 && Math.abs(u[0]!) > 0.1),
      `regular commands: ${JSON.stringify(c.commands)}`,
    );
    await c.deactivate();
    assert.equal(c.commands.length, 11, `commands: ${JSON.stringify(c.commands)}`);
    assert.deepEqual(c.commands.at(-1), [0]);
    // inactive: states and clock go on, nothing more is published
    for (let k = 11; k <= 20; k++) await c.tick(k, TILTED);
    assert.equal(c.commands.length, 11, `after deactivate: ${JSON.stringify(c.commands.slice(11))}`);
    assert.ok(
      linesOf(c.logs, 'info').some((l) => /stop action/.test(l)),
      `info lines: ${JSON.stringify(linesOf(c.logs, 'info'))}`,
    );
    // activated again it commands again (the rate limit, if any, starts from the stop)
    await c.activate();
    for (let k = 21; k <= 25; k++) await c.tick(k, TILTED);
    assert.equal(c.commands.length, 16);
    assert.ok(c.commands.slice(11).every((u) => Math.abs(u[0]!) > 0.1));
  } finally {
    await c.close();
  }
});

test('position: the stop action on deactivate holds the latest measured position, clamped into the joint limits', async () => {
  const c = await startController(ARM, ARM_JOINTS);
  try {
    for (let k = 0; k <= 5; k++) await c.tick(k, ARM_AWAY);
    assert.equal(c.commands.length, 5);
    await c.deactivate();
    assert.equal(c.commands.length, 6, `commands: ${JSON.stringify(c.commands)}`);
    const stop = c.commands.at(-1)!;
    assert.equal(stop.length, 6, 'one value per actuator');
    assert.ok(finite(stop));
    assert.deepEqual(stop, [0.3, -0.2, 1.5, 1.0, 0.2, 1.75]);
    for (let k = 6; k <= 10; k++) await c.tick(k, ARM_AWAY);
    assert.equal(c.commands.length, 6);
  } finally {
    await c.close();
  }
});

test('position: deactivated before any state, there is no position to hold: nothing is published, and it says so', async () => {
  const c = await startController(ARM, ARM_JOINTS);
  try {
    await c.deactivate();
    assert.deepEqual(c.commands, []);
    assert.ok(
      linesOf(c.logs, 'warn').some((l) => /no position has been measured/.test(l)),
      `warn lines: ${JSON.stringify(linesOf(c.logs, 'warn'))}`,
    );
  } finally {
    await c.close();
  }
});

test('e-stopped: the stop action on deactivate is the e-stop hold', async () => {
  const c = await startController(ARM, ARM_JOINTS);
  try {
    for (let k = 0; k <= 3; k++) await c.tick(k, ARM_AWAY);
    // a later measurement elsewhere: the e-stop holds where the arm was when it was latched
    await c.estop();
    const moved = [0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    for (let k = 4; k <= 6; k++) await c.tick(k, moved);
    await c.deactivate();
    assert.deepEqual(c.commands.at(-1), [0.3, -0.2, 1.5, 1.0, 0.2, 1.75]);
    assert.equal(c.commands.length, 7);
  } finally {
    await c.close();
  }
});

test('lockstep: an inactive controller does not answer a re-sent tick; the stop is its last command', async () => {
  const c = await startController({ ...CARTPOLE, wait_for_state: true }, CART_JOINTS);
  try {
    for (let k = 0; k <= 5; k++) await c.tick(k, TILTED);
    assert.equal(c.commands.length, 5);
    // active, a re-sent tick gets its command again (a bridge re-sends until its first command)
    await c.state(5, TILTED);
    assert.equal(c.commands.length, 6);
    assert.deepEqual(c.commands[5], c.commands[4]);
    await c.deactivate();
    assert.equal(c.commands.length, 7);
    assert.deepEqual(c.commands.at(-1), [0]);
    await c.state(5, TILTED);
    await c.state(6, TILTED);
    assert.equal(c.commands.length, 7, `after deactivate: ${JSON.stringify(c.commands.slice(7))}`);
  } finally {
    await c.close();
  }
});
