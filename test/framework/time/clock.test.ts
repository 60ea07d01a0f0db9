import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SteppedClock, WallClock } from '../../../framework/time/clock.js';
import { nsToTime, timeToNs, periodNsFromHz } from '../../../framework/time/time.js';
import { EmbeddedTransport } from '../../../framework/transport/embedded/transport.js';
import { QOS_CLOCK_PUBLISHER } from '../../../framework/transport/qos.js';
import { defineParams } from '../../../src/util/param_schema.js';

// Clocks and timers: the stepped clock for tests, wall-clock timers without drift, sim time from
// /clock, and time conversions.

test('stepped clock: timers fire in deadline order, once per step, skipping missed periods', () => {
  const clock = new SteppedClock();
  const log: string[] = [];
  clock.createTimer(10n, (i) => log.push(`a@${i.expectedNs}/${i.actualNs}`));
  clock.createTimer(4n, (i) => log.push(`b@${i.expectedNs}`));
  clock.set(0n);
  assert.deepEqual(log, []);
  clock.advance(4n);
  clock.advance(4n);
  clock.advance(2n);
  assert.deepEqual(log, ['b@4', 'b@8', 'a@10/10']);
  log.length = 0;
  clock.advance(35n); // now 45: both are late; each fires once and re-aligns
  assert.deepEqual(log, ['b@12', 'a@20/45']);
  log.length = 0;
  clock.advance(3n); // 48: b's next deadline after 45 was 48
  assert.deepEqual(log, ['b@48']);
});

test('stepped clock: cancel, reset, and time going backwards (a sim reset)', () => {
  const clock = new SteppedClock();
  clock.set(100n);
  let n = 0;
  const t = clock.createTimer(10n, () => n++);
  clock.advance(10n);
  assert.equal(n, 1);
  t.cancel();
  assert.equal(t.isCanceled(), true);
  clock.advance(50n);
  assert.equal(n, 1);
  t.reset();
  clock.advance(10n);
  assert.equal(n, 2);
  clock.set(0n); // back to 0: the timer re-bases instead of waiting 170 ns of sim time
  clock.advance(10n);
  assert.equal(n, 3);
});

test('time conversions round-trip, including negative times', () => {
  for (const ns of [0n, 1n, 999_999_999n, 1_000_000_000n, 1_700_000_000_123_456_789n, -1n, -1_500_000_000n]) {
    assert.equal(timeToNs(nsToTime(ns)), ns);
  }
  assert.deepEqual(nsToTime(-1n), { sec: -1, nanosec: 999_999_999 });
  assert.equal(periodNsFromHz(100), 10_000_000n);
  assert.throws(() => periodNsFromHz(0), /positive finite/);
});

test('wall clock timer: fires at its period without drift, and stops on cancel', async () => {
  const clock = new WallClock('steady');
  const stamps: bigint[] = [];
  const periodNs = periodNsFromHz(200);
  const startNs = clock.now();
  const timer = clock.createTimer(periodNs, (i) => stamps.push(i.expectedNs));
  await new Promise((r) => setTimeout(r, 260));
  timer.cancel();
  const cancelNs = clock.now();
  const count = stamps.length;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(stamps.length, count, 'no call after cancel');
  // Under load the timer skips periods it missed (rcl), so it may fire fewer than the ~52 periods
  // in the window, but never more, never twice for one period, and it keeps going to the end.
  const periods = Number((cancelNs - startNs) / periodNs);
  assert.ok(
    count >= 10 && count <= periods + 1,
    `expected at most ${periods + 1} calls (and some) at 200 Hz, got ${count}`,
  );
  // deadlines are absolute: consecutive expected times are whole periods apart, strictly increasing
  for (let i = 1; i < stamps.length; i++) {
    assert.equal((stamps[i]! - stamps[0]!) % periodNs, 0n);
    assert.ok(stamps[i]! > stamps[i - 1]!, 'one call per period');
  }
  assert.ok(stamps.at(-1)! >= startNs + (cancelNs - startNs) / 2n, 'the timer kept firing through the window');
});

test('use_sim_time: a node timer follows /clock, not the wall', async () => {
  const transport = new EmbeddedTransport();
  const sim = await transport.createNode({ name: 'sim', parameters: defineParams({}) });
  const node = await transport.createNode({
    name: 'ctl',
    parameters: defineParams({}),
    parameterSources: [{ origin: 'test', values: { use_sim_time: true }, strict: true }],
  });
  assert.equal(node.clock.isSimTime, true);
  assert.equal(node.clock.now(), 0n);
  const fired: bigint[] = [];
  node.createTimer(periodNsFromHz(100), (i) => fired.push(i.actualNs));
  const clockPub = sim.createPublisher('rosgraph_msgs/msg/Clock', '/clock', QOS_CLOCK_PUBLISHER);
  for (let k = 0; k <= 5; k++) {
    clockPub.publish({ clock: nsToTime(BigInt(k) * 10_000_000n) });
    await transport.bus.idle();
  }
  assert.equal(node.clock.now(), 50_000_000n);
  assert.deepEqual(fired, [10_000_000n, 20_000_000n, 30_000_000n, 40_000_000n, 50_000_000n]);
});

test('a shared stepped clock drives every node for tests', async () => {
  const clock = new SteppedClock('ros', false);
  const transport = new EmbeddedTransport({ rosClock: clock });
  const node = await transport.createNode({ name: 'n', parameters: defineParams({}) });
  let n = 0;
  node.createTimer(1_000n, () => n++);
  clock.set(0n);
  for (let i = 0; i < 10; i++) clock.advance(1_000n);
  assert.equal(n, 10);
});

test('stepped clock: a timer made before time starts counts from 0, so a missed first /clock does not lose its first tick (rcl)', () => {
  const clock = new SteppedClock();
  const fired: string[] = [];
  clock.createTimer(10n, (i) => fired.push(`${i.expectedNs}@${i.actualNs}`));
  clock.set(10n); // /clock 0 was dropped: the first time seen is already the first deadline
  clock.set(20n);
  clock.set(45n);
  clock.set(50n);
  assert.deepEqual(fired, ['10@10', '20@20', '30@45', '50@50']);
});
