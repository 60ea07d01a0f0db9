import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { BagReader } from '../../../framework/bag/bag_reader.js';
import { playBag, type PlayClock } from '../../../framework/bag/bag_player.js';
import type { Clock } from '../../../framework/msgs/types.js';
import { timeToNs } from '../../../framework/time/time.js';
import { MS, T0, tempDir, writeSampleBag } from './fixtures.js';

// Playback on a simulated clock (sleeping moves it forward at once), so the pace is checked
// exactly and without waiting: each message is handed out when its log time since the start of
// the bag, divided by the rate, has passed; /clock stamps carry the bag's time; a loop plays the
// bag again until stopped; a topic filter plays only its topics.

function simClock(): PlayClock & { sleeps: number } {
  let now = 5_000_000_000n;
  const clock = {
    sleeps: 0,
    now: () => now,
    sleepUntil(ns: bigint): Promise<void> {
      clock.sleeps++;
      if (ns > now) now = ns;
      return Promise.resolve();
    },
  };
  return clock;
}

test('play: recorded pace × rate, in log-time order, with /clock stamps of bag time', async (t) => {
  const bag = await writeSampleBag(join(tempDir(t), 'play'), 100);
  const reader = await BagReader.open(bag.path);
  t.after(() => reader.close());
  const clock = simClock();
  const start = clock.now();
  const seen: { topic: string; logNs: bigint; atNs: bigint }[] = [];
  const stamps: Clock[] = [];
  const result = await playBag(reader, {
    rate: 2,
    clock,
    clockHz: 100,
    onMessage: (m) => void seen.push({ topic: m.topic, logNs: m.logTimeNs, atNs: clock.now() - start }),
    onClock: (s) => void stamps.push(s),
  });
  assert.deepEqual(result, { messages: bag.jointStates + bag.strings, passes: 1, stopped: false });
  for (const s of seen) assert.equal(s.atNs, (s.logNs - T0) / 2n);
  // 10 ms of log time between JointStates at rate 2: 5 ms of wall time; stamps every 10 ms of wall time
  assert.equal(seen[seen.length - 1]!.atNs, 495n * MS);
  assert.equal(stamps.length, 50);
  stamps.forEach((s, i) => assert.equal(timeToNs(s.clock), T0 + BigInt(i) * 20n * MS));
});

test('play: a loop plays the bag again until stopped; a topic filter plays only its topics', async (t) => {
  const bag = await writeSampleBag(join(tempDir(t), 'loop'), 50);
  const reader = await BagReader.open(bag.path);
  t.after(() => reader.close());
  const stop = new AbortController();
  const topics = new Set<string>();
  let count = 0;
  const result = await playBag(reader, {
    clock: simClock(),
    loop: true,
    topics: ['/chatter'],
    signal: stop.signal,
    onMessage: (m) => {
      topics.add(m.topic);
      if (++count === bag.strings * 2 + 5) stop.abort();
    },
  });
  assert.deepEqual([...topics], ['/chatter']);
  assert.equal(result.stopped, true);
  assert.equal(result.messages, bag.strings * 2 + 5);
  assert.equal(result.passes, 2);
  await assert.rejects(playBag(reader, { rate: 0, onMessage: () => undefined }), /play rate 0 must be a positive/);
});
