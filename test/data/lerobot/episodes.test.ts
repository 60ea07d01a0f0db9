import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutEpisodes, type EpisodeEvent } from '../../../src/data/lerobot/episodes.js';
import type { StampedSample } from '../../../src/data/lerobot/resample.js';

// Streams cut into episodes by their events: each episode's samples (and the one before it),
// discarded takes set apart, an episode left open closed at the last state, events in any order,
// and one clear error for events that do not make sense.

const MS = 1_000_000n;

/** samples every `periodMs` from 0 to 3 s, value = time in ms */
function stream(periodMs: number): StampedSample[] {
  const out: StampedSample[] = [];
  for (let t = 0; t <= 3000; t += periodMs) out.push({ stampNs: BigInt(t) * MS, values: [t] });
  return out;
}

const state = stream(10);
const action = stream(20);
const at = (ms: number) => BigInt(ms) * MS;

const events: EpisodeEvent[] = [
  { kind: 'start', stampNs: at(0), episode: 0, task: 'pick' },
  { kind: 'end', stampNs: at(1000), episode: 0 },
  { kind: 'start', stampNs: at(1200), episode: 1, task: 'place' },
  { kind: 'end', stampNs: at(2000), episode: 1, discard: true },
  { kind: 'start', stampNs: at(2110), episode: 2 },
];

const times = (s: readonly StampedSample[]) => s.map((x) => Number(BigInt(x.stampNs) / MS));

test('episodes: samples from start to end plus the one before; discarded takes apart; an open one closed at the last state', () => {
  const { episodes, discarded } = cutEpisodes({ state, action, events, defaultTask: 'tidy' });
  assert.equal(episodes.length, 2);
  const [a, b] = episodes as [(typeof episodes)[0], (typeof episodes)[0]];
  assert.deepEqual([a.sourceEpisode, a.task, a.startNs, a.endNs, a.unterminated], [0, 'pick', at(0), at(1000), false]);
  assert.equal(a.state.length, 101);
  assert.deepEqual([times(a.state)[0], times(a.state).at(-1)], [0, 1000]);
  assert.deepEqual([times(a.action)[0], times(a.action).at(-1)], [0, 1000]);
  // the third episode starts on a state sample and between action samples: each stream's sample
  // before the start comes first (the command in force then, the state to hold)
  assert.deepEqual(
    [b.sourceEpisode, b.task, b.startNs, b.endNs, b.unterminated],
    [2, 'tidy', at(2110), at(3000), true],
  );
  assert.deepEqual(times(b.state).slice(0, 2), [2100, 2110]);
  assert.deepEqual(times(b.action).slice(0, 2), [2100, 2120]);
  assert.equal(times(b.state).at(-1), 3000);
  assert.deepEqual(discarded, [{ sourceEpisode: 1, task: 'place', startNs: at(1200), endNs: at(2000) }]);
});

test('events go by their stamps, not their order; an END and a START at one stamp close before they open', () => {
  const shuffled = [events[3]!, events[0]!, events[4]!, events[2]!, events[1]!];
  const a = cutEpisodes({ state, action, events, defaultTask: 'tidy' });
  const b = cutEpisodes({ state, action, events: shuffled, defaultTask: 'tidy' });
  assert.deepEqual(b, a);
  const touching = cutEpisodes({
    state,
    action,
    events: [
      { kind: 'start', stampNs: at(1000), episode: 1, task: 'b' },
      { kind: 'end', stampNs: at(1000), episode: 0 },
      { kind: 'start', stampNs: at(0), episode: 0, task: 'a' },
      { kind: 'end', stampNs: at(2000), episode: 1 },
    ],
  });
  assert.deepEqual(
    touching.episodes.map((e) => [e.sourceEpisode, e.startNs, e.endNs]),
    [
      [0, at(0), at(1000)],
      [1, at(1000), at(2000)],
    ],
  );
});

test('no events: the whole recording is one episode of the default task', () => {
  const { episodes } = cutEpisodes({ state, action, events: [], defaultTask: 'wave' });
  assert.equal(episodes.length, 1);
  assert.deepEqual([episodes[0]!.startNs, episodes[0]!.endNs, episodes[0]!.task], [0n, at(3000), 'wave']);
  assert.equal(episodes[0]!.state.length, state.length);
});

test('events that do not make sense fail with one line naming the episodes', () => {
  const cut = (ev: EpisodeEvent[], defaultTask?: string) => () =>
    cutEpisodes({ state, action, events: ev, defaultTask });
  const oneLine = (re: RegExp) => (e: unknown) => e instanceof Error && !e.message.includes('\n') && re.test(e.message);
  assert.throws(
    cut([
      { kind: 'start', stampNs: at(0), episode: 0, task: 'a' },
      { kind: 'start', stampNs: at(500), episode: 1, task: 'a' },
    ]),
    oneLine(/^episode 1 starts at 500000000 ns while episode 0 \(started at 0 ns\) has not ended$/),
  );
  assert.throws(
    cut([{ kind: 'end', stampNs: at(500), episode: 0 }]),
    oneLine(/episode 0 ends at 500000000 ns but no episode is open/),
  );
  assert.throws(
    cut([
      { kind: 'start', stampNs: at(0), episode: 0, task: 'a' },
      { kind: 'end', stampNs: at(500), episode: 3 },
    ]),
    oneLine(/episode 3 ends at .* but the open episode is 0/),
  );
  assert.throws(
    cut([
      { kind: 'start', stampNs: at(0), episode: 0 },
      { kind: 'end', stampNs: at(500), episode: 0 },
    ]),
    oneLine(/episode 0 \(from 0 ns\) has no task/),
  );
  assert.throws(
    cut([{ kind: 'start', stampNs: at(5000), episode: 0, task: 'a' }]),
    oneLine(/episode 0 starts at 5000000000 ns, after the last state/),
  );
});
