import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SafetyLayer, type CommandInterface, type SafetyConfig, type SafetyState } from '../../src/control/safety.js';

// The safety layer between planner and robot: limits per command interface, rate limits, the
// stop action for bad commands, stale state and the e-stop.

const MS = 1_000_000n;
const PERIOD = 10n * MS;

function layer(over: Partial<SafetyConfig> = {}): SafetyLayer {
  return new SafetyLayer({
    commandInterface: 'effort',
    positionLower: [-1, -1],
    positionUpper: [1, 1],
    velocityLimit: [2, 2],
    effortLimit: [5, 5],
    rateLimit: [Infinity, Infinity],
    periodNs: PERIOD,
    watchdogTimeoutNs: 50n * MS,
    ...over,
  });
}

const fresh = (stampNs: bigint, position: number[], velocity: number[] = position.map(() => 0)): SafetyState => ({
  stampNs,
  position,
  velocity,
});

test('effort: clamps to the effort limit, removes effort past a position or velocity limit', () => {
  const s = layer();
  const out = new Float64Array(2);
  let v = s.filter([9, -9], fresh(0n, [0, 0]), 0n, out);
  assert.deepEqual([...out], [5, -5]);
  assert.ok(v.ok && v.limited);
  assert.deepEqual(v.reasons, ['effort_limit']);
  // joint 0 at its upper limit: no positive effort, negative (back inside) kept
  v = s.filter([3, -3], fresh(PERIOD, [1, 1]), PERIOD, out);
  assert.deepEqual([...out], [0, -3]);
  assert.deepEqual(v.reasons, ['position_limit']);
  // joint 1 moving down faster than its limit: no negative effort, positive (braking) kept
  s.filter([-3, 3], fresh(2n * PERIOD, [0, 0], [0, -2.5]), 2n * PERIOD, out);
  assert.deepEqual([...out], [-3, 3]);
  s.filter([-3, -3], fresh(3n * PERIOD, [0, 0], [0, -2.5]), 3n * PERIOD, out);
  assert.deepEqual([...out], [-3, 0]);
  const c = s.counters();
  assert.equal(c.calls, 4);
  assert.equal(c.effort_limit, 1);
  assert.equal(c.position_limit, 1);
  assert.equal(c.velocity_limit, 1);
});

test('effort: the position margin removes effort towards a limit before it is reached', () => {
  const s = layer({ positionMargin: [0.1, 0.1] });
  const out = new Float64Array(2);
  s.filter([1, -1], fresh(0n, [0.95, -0.95]), 0n, out);
  assert.deepEqual([...out], [0, 0]);
  s.filter([1, -1], fresh(0n, [0.85, -0.85]), 0n, out);
  assert.deepEqual([...out], [1, -1]);
});

test('position: clamps into the limits and limits the step from the measured position', () => {
  const s = layer({ commandInterface: 'position' });
  const out = new Float64Array(2);
  // step limit 2 rad/s · 10 ms = 0.02 rad
  const v = s.filter([5, 0.01], fresh(0n, [0.99, 0]), 0n, out);
  assert.deepEqual([...out], [1, 0.01]);
  assert.deepEqual(v.reasons, ['position_limit']);
  s.filter([-5, 0.5], fresh(PERIOD, [0.5, 0]), PERIOD, out);
  assert.deepEqual([...out], [0.48, 0.02]);
});

test('velocity: clamps to the limit, slows to reach a position limit in one period, zero past it', () => {
  const s = layer({ commandInterface: 'velocity' });
  const out = new Float64Array(2);
  s.filter([9, -9], fresh(0n, [0, 0]), 0n, out);
  assert.deepEqual([...out], [2, -2]);
  // 0.005 rad from the upper limit: at most 0.5 rad/s towards it; past the lower: none towards it
  s.filter([1, -1], fresh(0n, [0.995, -1.2]), 0n, out);
  assert.ok(Math.abs(out[0]! - 0.5) < 1e-9 && out[1] === 0);
  s.filter([-1, 1], fresh(0n, [0.995, -1.2]), 0n, out);
  assert.deepEqual([...out], [-1, 1]);
});

test('rate limit uses the real time between calls', () => {
  const s = layer({ rateLimit: [10, 10] });
  const out = new Float64Array(2);
  // first call: from zero effort over one period, 10/s · 10 ms = 0.1
  s.filter([5, -5], fresh(0n, [0, 0]), 0n, out);
  assert.deepEqual([...out], [0.1, -0.1]);
  // 30 ms later: 0.3 more
  const v = s.filter([5, -5], fresh(30n * MS, [0, 0]), 30n * MS, out);
  assert.ok(Math.abs(out[0]! - 0.4) < 1e-12 && Math.abs(out[1]! + 0.4) < 1e-12);
  assert.deepEqual(v.reasons, ['rate_limit']);
  // no time passed: no change
  s.filter([5, -5], fresh(30n * MS, [0, 0]), 30n * MS, out);
  assert.ok(Math.abs(out[0]! - 0.4) < 1e-12);
});

test('non-finite and wrong-length commands are replaced by the stop action', () => {
  const s = layer({ commandInterface: 'position' });
  const out = new Float64Array(2);
  let v = s.filter([NaN, 0.01], fresh(0n, [0.3, 0]), 0n, out);
  assert.deepEqual([...out], [0.3, 0.01]);
  assert.equal(v.ok, false);
  assert.deepEqual(v.reasons, ['nan']);
  v = s.filter([0.3], fresh(0n, [0.3, 0.01]), 0n, out);
  assert.deepEqual([...out], [0.3, 0.01]);
  assert.deepEqual(v.reasons, ['wrong_length']);
  assert.equal(v.detail, 'command has 1 values, expected 2');
});

test('watchdog: the first call after the timeout outputs the stop action', () => {
  const s = layer({ rateLimit: [1, 1] });
  const out = new Float64Array(2);
  const state = fresh(0n, [0, 0]);
  for (let t = 0n; t <= 50n * MS; t += PERIOD) {
    const v = s.filter([5, 5], state, t, out);
    assert.ok(v.ok && out[0]! > 0, `fresh at ${t}`);
  }
  const v = s.filter([5, 5], state, 50n * MS + 1n, out);
  assert.deepEqual([...out], [0, 0]);
  assert.deepEqual(v.reasons, ['stale_state']);
  assert.equal(v.ok, false);
  s.filter([5, 5], undefined, 60n * MS, out);
  assert.deepEqual([...out], [0, 0]);

  // position: hold the last measured position; never measured: nothing to publish
  const p = layer({ commandInterface: 'position' });
  const none = p.filter([0.5, 0.5], undefined, 0n, out);
  assert.equal(none.publish, false);
  p.filter([0.5, 0.5], fresh(0n, [0.2, -2]), 0n, out);
  const held = p.filter([0.5, 0.5], fresh(0n, [0.2, -2]), 60n * MS, out);
  assert.equal(held.publish, true);
  assert.deepEqual([...out], [0.2, -1]); // held, clamped into the limits
});

test('e-stop latches through any commands until reset, holding the position of the moment', () => {
  const s = layer({ commandInterface: 'position', rateLimit: [100, 100] });
  const out = new Float64Array(2);
  s.filter([0.1, 0.1], fresh(0n, [0.1, 0.1]), 0n, out);
  s.estop('operator');
  assert.ok(s.estopped);
  for (let i = 1; i < 10; i++) {
    const t = BigInt(i) * PERIOD;
    const v = s.filter([0.5 * i, -0.3], fresh(t, [0.1 + 0.01 * i, 0.1]), t, out);
    assert.deepEqual([...out], [0.1, 0.1]);
    assert.deepEqual(v.reasons, ['estop']);
    assert.equal(v.detail, 'e-stop: operator');
  }
  s.estop('again'); // keeps the first reason and hold
  assert.equal(s.estopReason, 'operator');
  s.resetEstop();
  const v = s.filter([0.12, 0.1], fresh(10n * PERIOD, [0.1, 0.1]), 10n * PERIOD, out);
  assert.ok(v.ok);
  assert.deepEqual([...out], [0.12, 0.1]);
  assert.equal(s.counters().estop, 9);
});

test('the verdict and its reasons are reused: no allocation per call', () => {
  const s = layer();
  const out = new Float64Array(2);
  const a = s.filter([9, 0], fresh(0n, [0, 0]), 0n, out);
  const reasons = a.reasons;
  const b = s.filter([9, 0], fresh(0n, [0, 0]), 0n, out);
  assert.equal(a, b);
  assert.equal(b.reasons, reasons);
});

test('configuration is validated with messages naming the field', () => {
  assert.throws(() => layer({ velocityLimit: [1] }), /safety: velocityLimit has 1 values, expected 2/);
  assert.throws(() => layer({ positionLower: [2, 0] }), /positionLower\[0\] = 2 is above positionUpper\[0\] = 1/);
  assert.throws(() => layer({ effortLimit: [1, -1] }), /effortLimit\[1\] = -1 is invalid: must be ≥ 0/);
  assert.throws(() => layer({ rateLimit: [NaN, 1] }), /rateLimit\[0\] = NaN is invalid/);
  assert.throws(() => layer({ positionLower: [Infinity, 0] }), /positionLower\[0\] = Infinity is invalid/);
  assert.throws(() => layer({ positionMargin: [Infinity, 0] }), /positionMargin\[0\] = Infinity is invalid/);
  assert.throws(() => layer({ periodNs: 0n }), /periodNs must be a positive bigint/);
  assert.throws(() => layer({ watchdogTimeoutNs: -1n }), /watchdogTimeoutNs must be a positive bigint/);
  assert.throws(
    () => layer({ commandInterface: 'torque' as CommandInterface }),
    /commandInterface 'torque' is not one of/,
  );
  assert.throws(
    () => layer().filter([0, 0], undefined, 0n, new Float64Array(3)),
    /output buffer has 3 values, expected 2/,
  );
  // no limits at all is a valid configuration
  const free = layer({
    positionLower: [-Infinity, -Infinity],
    positionUpper: [Infinity, Infinity],
    velocityLimit: [Infinity, Infinity],
    effortLimit: [Infinity, Infinity],
  });
  const out = new Float64Array(2);
  assert.ok(free.filter([1e300, -1e300], fresh(0n, [0, 0]), 0n, out).ok);
  assert.deepEqual([...out], [1e300, -1e300]);
});

// ---- properties over random configurations and command/state sequences ----------------------

type StateKind = 'fresh' | 'stale' | 'future' | 'none' | 'malformed';

interface Step {
  readonly command: number[];
  readonly state: StateKind;
  readonly position: number[];
  readonly velocity: number[];
  /** fraction of the timeout a fresh state is old */
  readonly age: number;
  readonly advanceNs: number;
  readonly action: 'none' | 'estop' | 'reset';
}

const anyValue = fc.oneof(
  { arbitrary: fc.double({ min: -10, max: 10, noNaN: true }), weight: 6 },
  { arbitrary: fc.double(), weight: 2 },
  { arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 1e308, -1e308, 0, -0), weight: 1 },
);

function configArb(n: number): fc.Arbitrary<SafetyConfig> {
  const perJoint = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T[]> => fc.array(a, { minLength: n, maxLength: n });
  const limit = (max: number): fc.Arbitrary<number> =>
    fc.oneof(fc.constant(Infinity), fc.constant(0), fc.double({ min: 0, max, noNaN: true }));
  return fc.record({
    commandInterface: fc.constantFrom<CommandInterface>('effort', 'position', 'velocity'),
    positionLower: perJoint(fc.oneof(fc.constant(-Infinity), fc.double({ min: -3, max: 0, noNaN: true }))),
    positionUpper: perJoint(fc.oneof(fc.constant(Infinity), fc.double({ min: 0, max: 3, noNaN: true }))),
    velocityLimit: perJoint(limit(5)),
    effortLimit: perJoint(limit(10)),
    rateLimit: perJoint(limit(100)),
    positionMargin: perJoint(fc.double({ min: 0, max: 0.5, noNaN: true })),
    periodNs: fc.integer({ min: 1, max: 20 }).map((ms) => BigInt(ms) * MS),
    watchdogTimeoutNs: fc.integer({ min: 1, max: 100 }).map((ms) => BigInt(ms) * MS),
  });
}

function stepArb(n: number): fc.Arbitrary<Step> {
  const perJoint = (a: fc.Arbitrary<number>): fc.Arbitrary<number[]> => fc.array(a, { minLength: n, maxLength: n });
  return fc.record({
    command: fc.oneof(
      { arbitrary: perJoint(anyValue), weight: 8 },
      { arbitrary: fc.array(anyValue, { maxLength: 5 }), weight: 1 },
    ),
    state: fc.oneof(
      { arbitrary: fc.constant<StateKind>('fresh'), weight: 8 },
      { arbitrary: fc.constantFrom<StateKind>('stale', 'future', 'none', 'malformed'), weight: 2 },
    ),
    position: perJoint(fc.double({ min: -4, max: 4, noNaN: true })),
    velocity: perJoint(fc.double({ min: -8, max: 8, noNaN: true })),
    age: fc.double({ min: 0, max: 1, noNaN: true }),
    advanceNs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60_000_000 })),
    action: fc.oneof(
      { arbitrary: fc.constant<'none'>('none'), weight: 12 },
      { arbitrary: fc.constantFrom<'estop' | 'reset'>('estop', 'reset'), weight: 1 },
    ),
  });
}

const scenario = fc
  .integer({ min: 1, max: 3 })
  .chain((n) => fc.tuple(configArb(n), fc.array(stepArb(n), { minLength: 1, maxLength: 30 })));

const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);
const near = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

test('safety properties hold for any command and state sequence', () => {
  fc.assert(
    fc.property(scenario, ([config, steps]) => {
      const s = new SafetyLayer(config);
      const n = config.positionLower.length;
      const pos = config.commandInterface === 'position';
      const T = Number(config.periodNs) / 1e9;
      const out = new Float64Array(n);
      // the test's own model of what the layer must remember
      let now = 1_000_000_000n;
      let lastCall: bigint | undefined;
      let previous: number[] | undefined = pos ? undefined : new Array<number>(n).fill(0);
      let measured: number[] | undefined;
      let latched = false;
      let hold: number[] | undefined;

      const stopValue = (i: number, from: number[] | undefined): number =>
        pos ? clamp(from ? from[i]! : 0, config.positionLower[i]!, config.positionUpper[i]!) : 0;

      for (const step of steps) {
        now += BigInt(step.advanceNs);
        if (step.action === 'estop' && !latched) {
          s.estop('test');
          latched = true;
          hold = measured && [...measured];
        } else if (step.action === 'reset') {
          s.resetEstop();
          latched = false;
          hold = undefined;
        }
        const timeout = config.watchdogTimeoutNs;
        const stamp =
          step.state === 'stale'
            ? now - timeout - 1n
            : step.state === 'future'
              ? now + timeout + 1n
              : now - BigInt(Math.floor(step.age * Number(timeout)));
        const state: SafetyState | undefined =
          step.state === 'none'
            ? undefined
            : step.state === 'malformed'
              ? { stampNs: stamp, position: [...step.position, 0], velocity: step.velocity }
              : { stampNs: stamp, position: step.position, velocity: step.velocity };
        if (step.state !== 'none' && step.state !== 'malformed') measured = step.position;
        if (latched && !hold && measured) hold = [...measured];

        const v = s.filter(step.command, state, now, out);
        const dt = lastCall === undefined ? T : now > lastCall ? Number(now - lastCall) / 1e9 : 0;
        lastCall = now;

        // always: finite and inside the hard limits
        for (let i = 0; i < n; i++) {
          const y = out[i]!;
          assert.ok(Number.isFinite(y), `out[${i}] = ${y}`);
          if (config.commandInterface === 'effort') assert.ok(Math.abs(y) <= config.effortLimit[i]!, `effort ${y}`);
          if (config.commandInterface === 'velocity')
            assert.ok(Math.abs(y) <= config.velocityLimit[i]!, `velocity ${y}`);
          if (pos) assert.ok(y >= config.positionLower[i]! && y <= config.positionUpper[i]!, `position ${y}`);
        }

        const stopped = latched || step.state !== 'fresh' || step.command.length !== n;
        if (latched) {
          assert.ok(v.reasons.includes('estop') && !v.ok);
          for (let i = 0; i < n; i++) assert.equal(out[i], stopValue(i, hold));
          assert.equal(v.publish, !pos || hold !== undefined);
        } else if (step.state !== 'fresh') {
          assert.ok(v.reasons.includes(step.state === 'malformed' ? 'bad_state' : 'stale_state') && !v.ok);
          for (let i = 0; i < n; i++) assert.equal(out[i], stopValue(i, measured));
          assert.equal(v.publish, !pos || measured !== undefined);
        } else if (step.command.length !== n) {
          assert.deepEqual(v.reasons, ['wrong_length']);
          for (let i = 0; i < n; i++) assert.equal(out[i], stopValue(i, measured));
        }

        if (!stopped) {
          const x = step.position;
          for (let i = 0; i < n; i++) {
            const u = step.command[i]!;
            const y = out[i]!;
            if (!Number.isFinite(u)) {
              assert.ok(v.reasons.includes('nan'));
              assert.equal(y, stopValue(i, x));
              continue;
            }
            const lo = config.positionLower[i]!;
            const hi = config.positionUpper[i]!;
            const vmax = config.velocityLimit[i]!;
            // the hard interval [hLo, hHi] the rules allow, before the rate limit
            let hLo: number;
            let hHi: number;
            if (config.commandInterface === 'effort') {
              const e = config.effortLimit[i]!;
              const m = config.positionMargin![i]!;
              const vel = step.velocity[i]!;
              const noPositive = x[i]! >= hi - m || vel > vmax;
              const noNegative = x[i]! <= lo + m || vel < -vmax;
              // effort never pushes further past a position limit (or faster past a velocity limit)
              if (noPositive) assert.ok(y <= 0, `effort ${y} pushes up at x = ${x[i]}, v = ${vel}`);
              if (noNegative) assert.ok(y >= 0, `effort ${y} pushes down at x = ${x[i]}, v = ${vel}`);
              hLo = noNegative ? 0 : -e;
              hHi = noPositive ? 0 : e;
            } else if (config.commandInterface === 'velocity') {
              hLo = Math.max(-vmax, Math.min(0, (lo - x[i]!) / T));
              hHi = Math.min(vmax, Math.max(0, (hi - x[i]!) / T));
              assert.ok(y >= hLo - 1e-12 && y <= hHi + 1e-12, `velocity ${y} outside [${hLo}, ${hHi}] at x = ${x[i]}`);
            } else {
              hLo = Math.max(lo, x[i]! - vmax * T);
              hHi = Math.min(hi, x[i]! + vmax * T);
              if (hLo > hHi) {
                // the measured position is so far outside the limits that no step respects both:
                // the limit nearest to it wins
                const edge = x[i]! > hi ? hi : lo;
                assert.equal(y, edge);
                continue;
              }
              assert.ok(y >= hLo - 1e-9 && y <= hHi + 1e-9, `position step to ${y} from ${x[i]}`);
            }
            // the rate limit holds whenever the hard limits allow it; else the output is the
            // allowed value nearest to the previous output
            const p = previous ? previous[i]! : clamp(x[i]!, lo, hi);
            const rate = config.rateLimit[i]!;
            const change = rate === Infinity ? Infinity : rate * dt;
            if (p + change >= hLo - 1e-12 && p - change <= hHi + 1e-12) {
              assert.ok(
                Math.abs(y - p) <= change + 1e-9 * Math.max(1, Math.abs(p)),
                `rate: ${p} → ${y} in ${dt} s at ${rate}/s`,
              );
            } else {
              assert.ok(near(y, p > hHi ? hHi : hLo), `rate infeasible: ${y} is not the allowed value nearest ${p}`);
            }
            // a command every rule accepts passes unchanged
            if (u >= hLo && u <= hHi && Math.abs(u - p) <= change) assert.equal(y, u);
          }
        }
        if (v.publish) previous = [...out];
      }
      // counters agree with the calls made
      assert.equal(s.counters().calls, steps.length);
    }),
    { seed: 42, numRuns: 2000 },
  );
});

test('e-stop latches through any later sequence of commands and states until reset', () => {
  fc.assert(
    fc.property(scenario, ([config, steps]) => {
      const s = new SafetyLayer(config);
      const n = config.positionLower.length;
      const out = new Float64Array(n);
      const stampNs = 1_000_000_000n;
      s.filter(
        new Array<number>(n).fill(0),
        { stampNs, position: new Array<number>(n).fill(0), velocity: new Array<number>(n).fill(0) },
        stampNs,
        out,
      );
      s.estop('property');
      let now = stampNs;
      for (const step of steps) {
        now += BigInt(step.advanceNs);
        const v = s.filter(step.command, { stampNs: now, position: step.position, velocity: step.velocity }, now, out);
        assert.ok(v.reasons.includes('estop') && !v.ok && v.publish);
        for (let i = 0; i < n; i++) {
          const expected =
            config.commandInterface === 'position' ? clamp(0, config.positionLower[i]!, config.positionUpper[i]!) : 0;
          assert.equal(out[i], expected);
        }
      }
      assert.equal(s.counters().estop, steps.length);
      s.resetEstop();
      assert.equal(s.estopped, false);
    }),
    { seed: 42, numRuns: 500 },
  );
});

test('stop(): the stop action on request — zero effort or velocity, the measured position held and clamped, e-stop hold while latched', () => {
  for (const ci of ['effort', 'velocity'] as const) {
    const s = layer({ commandInterface: ci });
    const out = new Float64Array(2).fill(Number.NaN);
    // with nothing measured too: zero needs no measurement
    assert.equal(s.stop(0n, out), true);
    assert.deepEqual([...out], [0, 0]);
    s.filter([1, -1], fresh(0n, [0.2, 0.3]), 0n, out);
    assert.equal(s.stop(PERIOD, out), true);
    assert.deepEqual([...out], [0, 0]);
    assert.equal(s.counters().calls, 1, 'a stop is not a filter call');
  }
  const s = layer({ commandInterface: 'position' });
  const out = new Float64Array(2);
  assert.equal(s.stop(0n, out), false, 'no position measured: nothing is safe to send');
  // measured past the upper limit: held at the limit
  s.filter([0.5, 0.5], fresh(0n, [1.2, -0.4]), 0n, out);
  assert.equal(s.stop(PERIOD, out), true);
  assert.deepEqual([...out], [1, -0.4]);
  // e-stopped: the position of the moment of the e-stop, not a later measurement
  s.filter([0, 0], fresh(2n * PERIOD, [0.1, 0.1]), 2n * PERIOD, out);
  s.estop('test');
  s.filter([0, 0], fresh(3n * PERIOD, [0.5, 0.5]), 3n * PERIOD, out);
  assert.equal(s.stop(4n * PERIOD, out), true);
  assert.deepEqual([...out], [0.1, 0.1]);
  assert.throws(() => s.stop(0n, new Float64Array(3)), /output buffer has 3 values/);
});

test('stop(): the rate limit after a stop starts from the stop', () => {
  const s = layer({ rateLimit: [10, 10] });
  const out = new Float64Array(2);
  s.filter([0.1, 0], fresh(0n, [0, 0]), 0n, out);
  s.filter([0.2, 0], fresh(PERIOD, [0, 0]), PERIOD, out);
  assert.deepEqual([...out], [0.2, 0]);
  s.stop(2n * PERIOD, out);
  // 10 per s over one period: 0.1 from the stop's 0, not from the 0.2 before it
  s.filter([5, 0], fresh(3n * PERIOD, [0, 0]), 3n * PERIOD, out);
  assert.ok(Math.abs(out[0]! - 0.1) < 1e-12, `after the stop: ${out[0]}`);
});
