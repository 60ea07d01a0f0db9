import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, levelFor } from '../../src/util/log.js';

// Log levels per node: a default, then name=level rules, the last match winning.

test('log levels are set per node: a default, then name=level rules, last match wins', () => {
  const spec = 'warn,controller=debug,/arm/sim_bridge=error';
  assert.equal(levelFor('/talker', spec), 'warn');
  assert.equal(levelFor('/controller', spec), 'debug');
  assert.equal(levelFor('/arm/controller', spec), 'debug');
  assert.equal(levelFor('/arm/sim_bridge', spec), 'error');
  assert.equal(levelFor('/sim_bridge', spec), 'warn');
  assert.throws(() => levelFor('/x', 'loud'), /log level 'loud' is not one of error, warn, info, debug/);
  const logger = createLogger('/controller', levelFor('/controller', spec));
  assert.equal(logger.level, 'debug');
});
