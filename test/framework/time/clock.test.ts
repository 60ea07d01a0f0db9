import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SteppedClock, WallClock, type TimerInfo } from '../../../framework/time/clock.js';
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

/** Resolve once `ok()` holds, polling every few milliseconds; reject after a generous deadline. */
async function until(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// The wall clock cannot be stepped, so this test asserts what the timer guarantees however loaded the
// machine is, not a rate: every call is for a deadline on the absolute grid that starts at the timer's
// creation (no drift), never runs before it, and the next deadline is always the first one after the
// call (a late call skips the periods it missed instead of making them up in a burst — rcl does the
// same); the timer keeps firing; nothing runs after cancel. A callback that blocks for 3.5 periods makes
// the skip happen on every run, not only on a loaded machine.
test('wall clock timer: deadlines on a fixed grid, missed periods skipped, none early, none after cancel', async () => {
  const clock = new WallClock('steady');
  const periodNs = periodNsFromHz(200);
  const calls: TimerInfo[] = [];
  const STALL_AT = 5;
  const beforeNs = clock.now();
  const timer = clock.createTimer(periodNs, (info) => {
    calls.push(info);
    if (calls.length === STALL_AT) {
      const end = clock.now() + (7n * periodNs) / 2n;
      while (clock.now() < end); // a callback that overruns its period 3.5 times
    }
  });
  const afterNs = clock.now();
  await until('30 timer calls', () => calls.length >= 30);
  timer.cancel();
  assert.equal(timer.isCanceled(), true);
  const count = calls.length;

  const first = calls[0]!.expectedNs;
  assert.ok(
    first - periodNs >= beforeNs && first - periodNs <= afterNs,
    'the first deadline is one period after the timer was made',
  );
  for (const [i, c] of calls.entries()) {
    assert.equal((c.expectedNs - first) % periodNs, 0n, `call ${i}: its deadline is on the grid (no drift)`);
    assert.ok(c.actualNs >= c.expectedNs, `call ${i} ran ${c.expectedNs - c.actualNs} ns before its deadline`);
    const next = calls[i + 1];
    if (next)
      assert.ok(
        next.expectedNs > c.actualNs && next.expectedNs - periodNs <= c.actualNs,
        `call ${i + 1} is for ${next.expectedNs}: not the first deadline after call ${i} ran at ${c.actualNs} ` +
          `(a burst of late calls, or a period lost)`,
      );
  }
  // the call after the overrun was due at most a period after the overrunning one ran, and ran 3.5
  // periods after it, so ≥ 2.5 periods late: the call after that skipped at least two periods
  const [late, resumed] = calls.slice(STALL_AT, STALL_AT + 2);
  assert.ok(resumed!.expectedNs - late!.expectedNs >= 3n * periodNs, 'the periods missed while blocked were skipped');

  // nothing after cancel: a handle left armed would be due within a period, before a timer made now
  // fires three times (Node runs expired timers in deadline order)
  let probe = 0;
  const probeTimer = clock.createTimer(periodNs, () => probe++);
  await until('three periods after cancel', () => probe >= 3);
  probeTimer.cancel();
  assert.equal(calls.length, count, 'no call after cancel');
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
