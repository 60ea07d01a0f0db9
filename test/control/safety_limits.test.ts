import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ActuatorInfo, JointInfo } from '../../sim/mujoco/info.js';
import {
  SAFETY_PARAMETERS,
  actionBox,
  actuatedJoints,
  safetyLimits,
  type SafetyParameterValues,
} from '../../src/control/safety_limits.js';

// The safety layer's limits from a model and the safety.* parameters: position limits from the
// actuated joints' ranges, effort limits from ctrlrange unless given, per-actuator lists checked
// for length (the error names the parameter), and the action box sampling planners draw from.

const joint = (name: string, dofAdr: number, range?: [number, number]): JointInfo => ({
  name,
  type: 'hinge',
  qposAdr: dofAdr,
  dofAdr,
  limited: range !== undefined,
  ...(range ? { range } : {}),
});
const actuator = (name: string, target: string | undefined, ctrlRange?: [number, number]): ActuatorInfo => ({
  name,
  gear: 1,
  kind: 'motor',
  ...(target ? { joint: target } : {}),
  ...(ctrlRange ? { ctrlRange } : {}),
});

// an unactuated joint first, so that actuator order and joint order differ
const INFO = {
  joints: [joint('free_wheel', 0), joint('shoulder', 1, [-1.5, 2]), joint('elbow', 2)],
  actuators: [actuator('elbow_motor', 'elbow', [-3, 4]), actuator('shoulder_motor', 'shoulder', [-10, 10])],
};
const DEFAULTS: SafetyParameterValues = {
  'safety.velocity_limits': SAFETY_PARAMETERS['safety.velocity_limits'].default,
  'safety.effort_limits': SAFETY_PARAMETERS['safety.effort_limits'].default,
  'safety.rate_limits': SAFETY_PARAMETERS['safety.rate_limits'].default,
  'safety.position_margin': SAFETY_PARAMETERS['safety.position_margin'].default,
  'safety.watchdog_timeout_s': SAFETY_PARAMETERS['safety.watchdog_timeout_s'].default,
};
const COMMAND = { commandInterface: 'effort' as const, periodNs: 10_000_000n, watchdogTimeoutNs: 50_000_000n };

test('defaults: position limits of the actuated joints in actuator order, effort limits from ctrlrange, no others', () => {
  const limits = safetyLimits(INFO, DEFAULTS, COMMAND);
  assert.deepEqual(limits.positionLower, [Number.NEGATIVE_INFINITY, -1.5]);
  assert.deepEqual(limits.positionUpper, [Number.POSITIVE_INFINITY, 2]);
  assert.deepEqual(limits.effortLimit, [4, 10], 'the larger |end| of each ctrlrange');
  assert.deepEqual(limits.velocityLimit, [Infinity, Infinity]);
  assert.deepEqual(limits.rateLimit, [Infinity, Infinity]);
  assert.deepEqual(limits.positionMargin, [0, 0]);
  assert.equal(limits.commandInterface, 'effort');
  assert.equal(limits.periodNs, 10_000_000n);
  assert.equal(limits.watchdogTimeoutNs, 50_000_000n);
  assert.deepEqual(
    actuatedJoints(INFO).map((j) => j.name),
    ['elbow', 'shoulder'],
  );
});

test('given lists replace the defaults; an actuator without ctrlrange has no effort limit', () => {
  const limits = safetyLimits(
    INFO,
    {
      ...DEFAULTS,
      'safety.effort_limits': [2, 3],
      'safety.velocity_limits': [5, 6],
      'safety.rate_limits': [100, 200],
      'safety.position_margin': 0.1,
    },
    COMMAND,
  );
  assert.deepEqual(limits.effortLimit, [2, 3]);
  assert.deepEqual(limits.velocityLimit, [5, 6]);
  assert.deepEqual(limits.rateLimit, [100, 200]);
  assert.deepEqual(limits.positionMargin, [0.1, 0.1]);
  const noRange = { ...INFO, actuators: [actuator('elbow_motor', 'elbow'), INFO.actuators[1]!] };
  assert.deepEqual(safetyLimits(noRange, DEFAULTS, COMMAND).effortLimit, [Infinity, 10]);
});

test('a list of the wrong length is refused, naming the parameter; an actuator on no joint is refused, naming it', () => {
  for (const name of ['safety.effort_limits', 'safety.velocity_limits', 'safety.rate_limits'] as const)
    assert.throws(
      () => safetyLimits(INFO, { ...DEFAULTS, [name]: [1, 2, 3] }, COMMAND),
      new RegExp(`^Error: parameter '${name.replace('.', '\\.')}': expected 2 values \\(one per actuator\\), got 3$`),
    );
  const site = { ...INFO, actuators: [...INFO.actuators, actuator('tendon_motor', undefined, [-1, 1])] };
  assert.throws(() => safetyLimits(site, DEFAULTS, COMMAND), /actuator 'tendon_motor' drives no joint/);
});

test('the action box: ctrlrange, within the effort limits only when commands are efforts; a missing ctrlrange is named', () => {
  const effortLimit = [2, 50];
  const effort = actionBox(INFO.actuators, { commandInterface: 'effort', effortLimit });
  assert.ok('low' in effort);
  assert.deepEqual(Array.from(effort.low), [-2, -10]);
  assert.deepEqual(Array.from(effort.high), [2, 10]);
  const position = actionBox(INFO.actuators, { commandInterface: 'position', effortLimit });
  assert.ok('low' in position);
  assert.deepEqual(Array.from(position.low), [-3, -10]);
  assert.deepEqual(Array.from(position.high), [4, 10]);
  const missing = actionBox([INFO.actuators[1]!, actuator('elbow_motor', 'elbow')], {
    commandInterface: 'effort',
    effortLimit,
  });
  assert.deepEqual(missing, { missingRange: 'elbow_motor' });
});
