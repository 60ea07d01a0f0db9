import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CadenceMeter, cadenceLine } from '../../../src/data/recording/cadence.js';
import { EpisodeSchedule } from '../../../src/data/recording/episode_schedule.js';

// The recorder's per-episode cadence report and its unattended episode schedule.

const ms = (t: number): bigint => BigInt(Math.round(t * 1e6));

test('cadence: a 100 Hz stream with one 35 ms stall and one dropped message is reported as such', () => {
  const meter = new CadenceMeter({ targetHz: 100 });
  meter.reset(4);
  let t = 0;
  for (let i = 0; i < 200; i++) {
    t += i === 100 ? 35 : 10;
    meter.add(ms(t));
  }
  meter.setDropped(5);
  const r = meter.report();
  assert.equal(r.messages, 200);
  assert.equal(r.intervals, 199);
  assert.equal(r.overBudget, 1);
  assert.equal(r.missedTicks, 3, 'a 35 ms interval is 3.5 periods, rounded to 4: the message that came and 3 missing');
  assert.ok(Math.abs(r.longestGapMs - 35) < 1e-9);
  assert.equal(r.dropped, 1);
  assert.ok(Math.abs(r.achievedHz - 199 / ((t - 10) / 1000)) < 1e-9);
  assert.match(
    cadenceLine(2, 'joint_states', r),
    /^episode 2 cadence on joint_states: 9\d\.\d Hz of 100 .*1 over, longest gap 35\.0 ms/,
  );
});

test('cadence: bad settings are refused in one line; an empty episode reports zeros', () => {
  assert.throws(() => new CadenceMeter({ targetHz: 0 }), /target rate 0 Hz must be positive/);
  assert.throws(() => new CadenceMeter({ targetHz: 30, tolerance: -1 }), /tolerance -1/);
  const r = new CadenceMeter({ targetHz: 30 }).report();
  assert.equal(r.messages, 0);
  assert.equal(r.achievedHz, 0);
  assert.equal(r.withinBudget, 1);
});

test('schedule: 3 episodes of 2 s with 1 s of reset between, ticked at 10 Hz', () => {
  const schedule = new EpisodeSchedule({ episodeSeconds: 2, resetSeconds: 1, count: 3, firstEpisode: 5 });
  const seen: string[] = [];
  for (let k = 0; k <= 120; k++)
    for (const e of schedule.tick(ms(k * 100)))
      seen.push(`${(k / 10).toFixed(1)} ${e.kind}${'episode' in e ? ` ${e.episode}` : ''}`);
  assert.deepEqual(seen, [
    '0.0 start 5',
    '2.0 end 5',
    '3.0 start 6',
    '5.0 end 6',
    '6.0 start 7',
    '8.0 end 7',
    '8.0 done',
  ]);
  assert.equal(schedule.phase, 'done');
});

test('schedule: a late tick ends the episode and starts the next with its full length; stop ends the one under way', () => {
  const schedule = new EpisodeSchedule({ episodeSeconds: 1, resetSeconds: 0.5, count: 0 });
  assert.deepEqual(schedule.tick(0n), [{ kind: 'start', episode: 0 }]);
  // 3 s late: the end, then the start after the reset, in one call
  assert.deepEqual(schedule.tick(ms(3000)), [
    { kind: 'end', episode: 0, reason: 'length' },
    { kind: 'start', episode: 1 },
  ]);
  assert.deepEqual(schedule.tick(ms(3999)), []);
  assert.deepEqual(schedule.stop(), [{ kind: 'end', episode: 1, reason: 'shutdown' }]);
  assert.deepEqual(schedule.tick(ms(9000)), []);
  assert.throws(() => new EpisodeSchedule({ episodeSeconds: 0, resetSeconds: 1, count: 1 }), /episode length 0 s/);
});
