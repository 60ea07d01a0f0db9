import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BagWriter } from '../../../framework/bag/bag_writer.js';
import { lowDiskSpace, type FsSpace } from '../../../framework/bag/disk_space.js';
import { parseMetadataYaml } from '../../../framework/bag/metadata.js';
import type { Logger } from '../../../src/util/log.js';
import { codecFor } from '../../../framework/msgs/codec.js';
import { jointState, mcapIndexed, T0, tempDir } from './fixtures.js';

// The free-space guard, with statfs injected: a bag is refused on a disk below the floor (in
// bytes or as a fraction), and a recording stops cleanly, with one error line, when the disk
// falls below it while writing: the bag is closed whole and write() returns false from then on.

const MB = 1024 * 1024;
const disk = (freeMb: number, totalMb = 10_000): FsSpace => ({
  bsize: 4096,
  blocks: (totalMb * MB) / 4096,
  bavail: (freeMb * MB) / 4096,
});

function recordingLogger(): { logger: Logger; errors: string[] } {
  const errors: string[] = [];
  const logger: Logger = {
    level: 'info',
    error: (m) => void errors.push(m),
    warn: () => undefined,
    info: () => undefined,
    debug: () => undefined,
  };
  return { logger, errors };
}

test('disk space: the floor in bytes and as a fraction', () => {
  assert.equal(lowDiskSpace('/x', { statfs: () => disk(600, 1000) }), undefined);
  assert.match(
    lowDiskSpace('/x', { statfs: () => disk(400, 1000) }) ?? '',
    /only 400 MB free on the disk of \/x \(the floor is 500 MB\)/,
  );
  assert.match(
    lowDiskSpace('/x', { statfs: () => disk(900, 200_000), minFreeFraction: 0.01 }) ?? '',
    /only 0\.5% of the disk of \/x is free \(the floor is 1\.0%\)/,
  );
  assert.equal(lowDiskSpace('/x', { statfs: () => disk(10), minFreeBytes: 5 * MB, minFreeFraction: 0 }), undefined);
});

test('disk space: a bag is refused on a disk below the floor, with one line saying why', async (t) => {
  const dir = join(tempDir(t), 'refused');
  await assert.rejects(BagWriter.open(dir, { diskSpace: { statfs: () => disk(100) } }), (err: Error) => {
    assert.match(
      err.message,
      /^cannot record to .*refused: only 100 MB free on the disk of .* \(the floor is 500 MB\)$/,
    );
    return true;
  });
  assert.equal(existsSync(join(dir, 'refused_0.mcap')), false);
});

test('disk space: falling below the floor while recording stops the bag cleanly', async (t) => {
  const dir = join(tempDir(t), 'filling');
  let free = 5_000;
  const stops: string[] = [];
  const { logger, errors } = recordingLogger();
  const writer = await BagWriter.open(dir, {
    diskSpace: { statfs: () => disk(free) },
    // check at every chunk, chunks of about 2 KiB
    diskCheckIntervalMs: 0,
    chunkSize: 2048,
    logger,
    onStop: (why) => stops.push(why),
  });
  const codec = codecFor('sensor_msgs/msg/JointState');
  let accepted = 0;
  let refusedAt = -1;
  for (let i = 0; i < 400; i++) {
    if (i === 200) free = 300;
    if (writer.write('/js', 'sensor_msgs/msg/JointState', T0 + BigInt(i), codec.encode(jointState(i)))) accepted++;
    else if (refusedAt < 0) refusedAt = i;
  }
  assert.ok(refusedAt > 200, `refused from ${refusedAt}`);
  assert.equal(accepted, refusedAt);
  assert.equal(stops.length, 1);
  assert.equal(errors.length, 1);
  assert.match(
    errors[0]!,
    /^recording to .*filling stopped: only 300 MB free on the disk of .*filling \(the floor is 500 MB\)$/,
  );
  assert.equal(writer.stopped, errors[0]);
  // closed whole: indexed, with what was accepted, and metadata.yaml agrees
  const { reader, close } = await mcapIndexed(join(dir, 'filling_0.mcap'));
  assert.equal(reader.statistics!.messageCount, BigInt(accepted));
  close();
  assert.equal(parseMetadataYaml(readFileSync(join(dir, 'metadata.yaml'), 'utf8')).messageCount, accepted);
  assert.equal(writer.close().messageCount, accepted);
});
