import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeriesRecorder } from '../../src/data/series_recorder.js';

// The recorder behind the plot recorder: series thinned for a plot, every sample in the CSV, and
// the CSV file written whole (through the atomic-file helper), its folder made as needed.

test('series recorder: thinned for the plot, every sample in the CSV, written whole', async () => {
  const rec = new SeriesRecorder(2);
  for (let i = 0; i < 5; i++) rec.add('q:x', i, 10 * i);
  rec.add('u:u0', 0.5, -1);
  assert.deepEqual(rec.names(), ['q:x', 'u:u0']);
  assert.deepEqual(rec.get('q:x'), { t: [0, 3], y: [0, 30] }, 'every 3rd of 5 samples for at most 2 points');
  assert.equal(rec.csv(), 'series,t,y\nq:x,0,0\nq:x,1,10\nq:x,2,20\nq:x,3,30\nq:x,4,40\nu:u0,0.5,-1\n');
  const dir = mkdtempSync(join(tmpdir(), 'series-'));
  try {
    await rec.writeCsv(join(dir, 'plots', 'run.csv'));
    assert.equal(readFileSync(join(dir, 'plots', 'run.csv'), 'utf8'), rec.csv());
    assert.deepEqual(readdirSync(join(dir, 'plots')), ['run.csv'], 'no temporary left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
