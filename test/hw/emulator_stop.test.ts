import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { Emulator, type StopOutcome } from '../../hw/emulator/emulator.js';
import { ServoBus } from '../../hw/bus/servo_bus.js';
import { jointsOf, parseRobotConfig } from '../../hw/robot_config.js';
import type { Logger } from '../../src/util/log.js';
import { armYaml, quietLogger, tempDir, until } from './bus_harness.js';

// The emulator stopped while its host still uses the bus (issue 11, "Ctrl-C can skip cleanup"):
// Ctrl-C reaches the emulator and hw_bridge at the same moment, and the bridge's stop actions —
// torque off on every servo, read back, at deactivate and again as it closes the bus — need the
// servos to answer. With stop({ waitForHostMs }) the emulator keeps answering until the host has
// closed the device (seen on the pty master as EIO once no descriptor of the slave is open, pty(7)),
// or has sent nothing for quietMs, at most waitForHostMs; it says so in one line when it begins to
// wait and one when it closes. Waits that must not end are set far beyond the test (60 s), so
// every outcome is decided by what the host does, never by how fast the machine is.

const NEVER_MS = 60_000;

/** A logger that keeps the emulator's info and warn lines. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    ...quietLogger,
    lines,
    info: (m: string) => void lines.push(`info: ${m}`),
    warn: (m: string) => void lines.push(`warn: ${m}`),
  };
}

/** An emulated SO-101 (six STS3215) whose lines are recorded, and a ServoBus on it as hw_bridge opens it. */
async function armWithHost(t: TestContext) {
  const port = join(tempDir(t), 'tty');
  const config = parseRobotConfig(armYaml('so101', port), 'so101 test arm');
  const log = recordingLogger();
  const emulator = await Emulator.start({ config, logger: log });
  t.after(() => emulator.stop());
  const bus = await ServoBus.open({
    port,
    baudRate: config.baudRate,
    protocol: config.protocol,
    joints: jointsOf(config),
    timing: { marginMs: 100, returnDelayUs: 0, adapterLatencyMs: 1, retries: 1 },
    reopen: { initialDelayMs: 20, maxDelayMs: 100 },
    logger: quietLogger,
  });
  t.after(() => bus.close());
  return { port, config, emulator, bus, log };
}

const torqueOn = (emulator: Emulator) => [1, 2, 3, 4, 5, 6].filter((id) => emulator.servo(id).torqueEnabled);

test('stopped while the host is mid-transaction and about to turn torque off: answers it and its read-back, closes when the host closes', async (t) => {
  const { port, emulator, bus, log } = await armWithHost(t);
  await bus.setTorque(true);
  assert.deepEqual(torqueOn(emulator), [1, 2, 3, 4, 5, 6]);
  // the stop arrives while a sync read is on the wire, as SIGINT reaches both processes mid-cycle
  const reading = bus.readState();
  const seen: { outcome?: StopOutcome } = {};
  const stopping = emulator.stop({ waitForHostMs: NEVER_MS, quietMs: NEVER_MS }).then((o) => (seen.outcome = o));
  const state = await reading;
  assert.ok(state.valid.every(Boolean), 'the read under way when the stop came was answered');
  // the bridge's deactivate: torque off on every servo, read back (setTorque rejects unless confirmed)
  await bus.setTorque(false);
  assert.deepEqual(torqueOn(emulator), [], 'torque off reached every servo');
  assert.equal(seen.outcome, undefined, 'the emulator still serves a host that has the bus open');
  assert.ok(lstatSync(port).isSymbolicLink(), 'the device is still there');
  assert.deepEqual(
    log.lines.filter((l) => /stopping/.test(l)),
    [`info: stopping: answering on ${port} until the host closes it (or sends nothing for 60.0 s), at most 60.0 s`],
  );
  // the bridge's cleanup: the bus closed with torque off once more (answered too), then the device
  await bus.close({ torqueOff: true });
  const outcome = await stopping;
  assert.equal(outcome.reason, 'host-closed');
  assert.deepEqual(outcome.torqueOn, []);
  assert.throws(() => lstatSync(port), /ENOENT/, 'the link is removed once the host has closed the device');
  const closing = log.lines.filter((l) => /closing/.test(l));
  assert.equal(closing.length, 1, log.lines.join('\n'));
  assert.match(closing[0]!, /^info: closing .*: the host closed it after \d+\.\d+ s; torque off on all 6 servos$/);
  // nothing else was said about the pty (the host's close is expected, not an error)
  assert.deepEqual(
    log.lines.filter((l) => l.startsWith('warn')),
    [],
  );
});

test('a host that never closes the device: the emulator closes it after the cap, naming the servos left with torque on', async (t) => {
  const { port, emulator, bus, log } = await armWithHost(t);
  await bus.setTorque(true);
  // the host keeps the bus open and keeps reading; only the cap can end the wait
  let reads = 0;
  const hostDone = { now: false };
  const host = (async () => {
    try {
      while (!hostDone.now) {
        await bus.readState();
        reads++;
      }
    } catch {
      // the device went away under it
    }
  })();
  const outcome = await emulator.stop({ waitForHostMs: 300, quietMs: NEVER_MS });
  hostDone.now = true;
  await host;
  assert.equal(outcome.reason, 'cap');
  assert.ok(outcome.waitedMs >= 300, `closed after ${outcome.waitedMs} ms, before the cap`);
  assert.deepEqual(outcome.torqueOn, [
    'shoulder_pan',
    'shoulder_lift',
    'elbow_flex',
    'wrist_flex',
    'wrist_roll',
    'gripper',
  ]);
  assert.ok(reads > 0, 'the host was answered while the emulator waited');
  assert.throws(() => lstatSync(port), /ENOENT/);
  assert.match(
    log.lines.at(-1)!,
    /^warn: closing .*: the host still had it open after 0\.30 s; torque still on: shoulder_pan, shoulder_lift, elbow_flex, wrist_flex, wrist_roll, gripper$/,
  );
});

test('a host that keeps the device open but sends nothing: the emulator closes it once quiet for quietMs', async (t) => {
  const { port, emulator, bus, log } = await armWithHost(t);
  await bus.readPositions();
  const outcome = await emulator.stop({ waitForHostMs: NEVER_MS, quietMs: 200 });
  assert.equal(outcome.reason, 'quiet');
  assert.ok(outcome.waitedMs >= 200, `closed after ${outcome.waitedMs} ms, before the host was quiet for 200 ms`);
  assert.deepEqual(outcome.torqueOn, []);
  assert.throws(() => lstatSync(port), /ENOENT/);
  assert.match(log.lines.at(-1)!, /^warn: closing .*: the host sent nothing for 0\.20 s; torque off on all 6 servos$/);
});

test('no host has the device open: the stop closes it at once, whatever the wait', async (t) => {
  const { port, emulator, bus } = await armWithHost(t);
  await bus.close();
  const outcome = await emulator.stop({ waitForHostMs: NEVER_MS, quietMs: NEVER_MS });
  assert.equal(outcome.reason, 'host-closed');
  assert.throws(() => lstatSync(port), /ENOENT/);
  // and a stop with no wait (the default) never waits: the bus goes under the host
  const other = await armWithHost(t);
  await other.bus.setTorque(true);
  const atOnce = await other.emulator.stop();
  assert.equal(atOnce.reason, 'at-once');
  assert.equal(atOnce.torqueOn.length, 6);
  assert.deepEqual(
    other.log.lines.filter((l) => /stopping|closing/.test(l)),
    [],
  );
  await assert.rejects(other.bus.setTorque(false));
});

test('a second stop returns the first one’s outcome; a stop during a disconnect fault closes at once and never reconnects', async (t) => {
  const { emulator, bus } = await armWithHost(t);
  emulator.inject({ kind: 'disconnect', signal: 'SIGTERM' });
  await until('the device gone', () => !emulator.connected);
  const first = emulator.stop({ waitForHostMs: NEVER_MS, quietMs: NEVER_MS });
  assert.equal(emulator.stop(), first);
  assert.equal((await first).reason, 'at-once');
  assert.equal(emulator.connected, false);
  await bus.close();
});

test('dynastack emulate --stop-wait: a number of seconds from 0, refused otherwise', async () => {
  const { emulateMain } = await import('../../hw/emulator/main.js');
  for (const bad of ['abc', '-1'])
    await assert.rejects(
      emulateMain(['--config', 'config/robots/so101_emulated.yaml', `--stop-wait=${bad}`]),
      new RegExp(`--stop-wait '${bad}' is not a number of seconds`),
    );
});
