import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BagReader } from '../../../framework/bag/bag_reader.js';
import { parseMetadataYaml } from '../../../framework/bag/metadata.js';
import { repairBag } from '../../../framework/bag/repair.js';
import { until } from '../../wait.js';
import { mcapIndexed, tempDir, writeSampleBag } from './fixtures.js';

// A bag whose writer died: a recorder killed with SIGKILL mid-recording leaves an MCAP file
// without summary or footer. It must still open (read from start to end), hold every message but
// those of the last open chunk (at most 1 s of log time), and repairBag must make it indexed
// again. Files cut at any point, or with a corrupt chunk, give what precedes the damage.

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'writer_child.js');

test('a recorder killed with SIGKILL: the bag opens, loses at most the last second, and repair indexes it again', async (t) => {
  const dir = join(tempDir(t), 'killed');
  const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise((resolve) => child.on('close', resolve));
  const written = (): { index: number; logNs: bigint }[] =>
    out
      .split('\n')
      .filter((l) => l.startsWith('wrote '))
      .map((l) => {
        const [, i, ns] = l.split(' ');
        return { index: Number(i), logNs: BigInt(ns!) };
      });
  // recording for 2.5 s of its own (log) time, however long that takes here
  await until(
    'the child to have recorded for 2.5 s',
    () => {
      const w = written();
      return w.length > 1 && w[w.length - 1]!.logNs - w[0]!.logNs >= 2_500_000_000n;
    },
    { seen: () => out.slice(-300) },
  );
  child.kill('SIGKILL');
  await exited;
  const reported = written();
  const last = reported[reported.length - 1]!;

  const reader = await BagReader.open(dir);
  const recovered: number[] = [];
  for await (const m of reader.messages())
    recovered.push((reader.decode(m) as { position: Float64Array }).position[0]!);
  reader.close();
  assert.equal(reader.recovery.length, 1, 'read without its index');
  assert.ok(reader.recovery[0]!.truncatedBytes >= 0);
  // what it holds is a prefix of what was written (plus, at most, the one written but not yet reported)
  assert.deepEqual(
    recovered,
    recovered.map((_, i) => i),
  );
  assert.ok(recovered.length <= reported.length + 1, `${recovered.length} recovered of ${reported.length} reported`);
  // and it lost at most the last second: every message written more than 1 s before the last is there
  const mustHave = reported.filter((w) => last.logNs - w.logNs > 1_000_000_000n).length;
  assert.ok(mustHave > 0);
  assert.ok(
    recovered.length >= mustHave,
    `${recovered.length} recovered, ${mustHave} written over 1 s before the kill`,
  );
  // metadata.yaml is the one written at open
  assert.equal(parseMetadataYaml(readFileSync(join(dir, 'metadata.yaml'), 'utf8')).messageCount, 0);

  const result = await repairBag(dir);
  assert.equal(result.files.length, 1);
  assert.equal(result.files[0]!.rewritten, true);
  assert.equal(result.files[0]!.messages, recovered.length);
  const { reader: indexed, close } = await mcapIndexed(join(dir, 'killed_0.mcap'));
  assert.equal(indexed.statistics!.messageCount, BigInt(recovered.length));
  close();
  const meta = parseMetadataYaml(readFileSync(join(dir, 'metadata.yaml'), 'utf8'));
  assert.equal(meta.messageCount, recovered.length);
  assert.equal(meta.topics[0]!.messageCount, recovered.length);
  assert.equal(meta.topics[0]!.topic.type, 'sensor_msgs/msg/JointState');
  const again = await BagReader.open(dir);
  assert.equal(again.recovery.length, 0);
  assert.equal(again.messageCount, recovered.length);
  again.close();
  // a second repair has nothing to do
  assert.equal((await repairBag(dir)).files[0]!.rewritten, false);
});

test('a file cut anywhere opens with the messages before the cut; the cut is reported', async (t) => {
  const dir = tempDir(t);
  // chunks of about 1 KiB, so that cuts fall between and inside chunks
  const bag = await writeSampleBag(join(dir, 'whole'), 200, { chunkSize: 1024 });
  const whole = readFileSync(join(bag.path, 'whole_0.mcap'));
  const total = bag.jointStates + bag.strings;
  let previous = -1;
  for (const fraction of [0.05, 0.2, 0.5, 0.8, 0.95, 0.999]) {
    const cut = Math.floor(whole.byteLength * fraction);
    const path = join(dir, `cut_${fraction}.mcap`);
    writeFileSync(path, whole.subarray(0, cut));
    const reader = await BagReader.open(path);
    let n = 0;
    for await (const m of reader.messages()) n += m.data.byteLength > 0 ? 1 : 0;
    reader.close();
    assert.equal(reader.recovery.length, 1, `cut at ${cut}`);
    assert.equal(reader.recovery[0]!.fileBytes, cut);
    assert.ok(n <= total && n >= previous, `cut at ${cut}: ${n} messages`);
    assert.equal(n, reader.messageCount);
    previous = n;
  }
  assert.ok(previous > total * 0.9, `${previous} of ${total} before a cut in the summary`);
  // only the header: no message, but no crash either
  const header = join(dir, 'header.mcap');
  // magic (8 bytes), opcode (1), length (8), the header record's content
  writeFileSync(header, whole.subarray(0, 17 + Number(whole.readBigUInt64LE(9))));
  const reader = await BagReader.open(header);
  assert.equal(reader.messageCount, 0);
  reader.close();
  // cut inside the magic: one line
  const stub = join(dir, 'stub.mcap');
  writeFileSync(stub, whole.subarray(0, 5));
  await assert.rejects(BagReader.open(stub), /stub\.mcap is not a readable MCAP file/);
});

test('a corrupt chunk in a file without summary: the messages before it, and the corruption named', async (t) => {
  const dir = tempDir(t);
  const bag = await writeSampleBag(join(dir, 'src'), 200, { chunkSize: 1024 });
  const whole = readFileSync(join(bag.path, 'src_0.mcap'));
  const { reader: index, close } = await mcapIndexed(join(bag.path, 'src_0.mcap'));
  const chunks = index.chunkIndexes;
  close();
  const path = join(dir, 'corrupt.mcap');
  const bytes = Buffer.from(whole.subarray(0, Math.floor(whole.byteLength * 0.7)));
  // damage the compressed records of the chunk in the middle of the file
  const chunk = chunks[Math.floor(chunks.length / 2)]!;
  const at = Number(chunk.chunkStartOffset + chunk.chunkLength / 2n);
  for (let i = at; i < at + 16; i++) bytes[i] = bytes[i]! ^ 0x5a;
  writeFileSync(path, bytes);
  const reader = await BagReader.open(path);
  reader.close();
  assert.equal(reader.recovery.length, 1);
  assert.ok(reader.messageCount > 0 && reader.messageCount < bag.jointStates + bag.strings);
  assert.ok(
    reader.recovery[0]!.truncatedBytes >= bytes.byteLength - at,
    `${reader.recovery[0]!.truncatedBytes} bytes cut`,
  );
  assert.match(reader.recovery[0]!.reason, /corrupt/);
  assert.doesNotMatch(reader.recovery[0]!.reason, /\n/);
});
