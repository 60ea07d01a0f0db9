import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteQueue } from '../../hw/protocol/byte_queue.js';
import { concatBytes, fromHex, toHex } from '../../hw/protocol/bytes.js';
import { Rng } from '../../src/util/random.js';

// The two small pieces both servo decoders stand on: the window of received bytes, and the hex
// helpers every vendor vector goes through.

test('ByteQueue: random appends and consumptions keep exactly the unconsumed bytes, in order, through compaction and growth', () => {
  const rng = new Rng(11);
  const queue = new ByteQueue(16);
  const model: number[] = [];
  let next = 0;
  let grown = false;
  for (let step = 0; step < 5000; step++) {
    const n = Math.floor(rng.uniform() * 40);
    const chunk = Uint8Array.from({ length: n }, () => next++ & 0xff);
    queue.append(chunk);
    model.push(...chunk);
    grown ||= queue.bytes.length > 16;
    const consume = Math.floor(rng.uniform() * (queue.length + 1));
    queue.start += consume;
    model.splice(0, consume);
    assert.deepEqual(Array.from(queue.bytes.subarray(queue.start, queue.end)), model, `step ${step}`);
    queue.rewindIfEmpty();
  }
  assert.ok(grown, 'the window outgrew its first array');
});

test('ByteQueue: an idle window that a huge chunk grew is given back, a small one is kept', () => {
  const queue = new ByteQueue(64);
  queue.append(new Uint8Array(200_000));
  assert.equal(queue.length, 200_000);
  assert.equal(queue.rewindIfEmpty(), false, 'not empty yet');
  queue.start = queue.end;
  assert.equal(queue.rewindIfEmpty(), true);
  assert.equal(queue.bytes.length, 64);
  queue.append(new Uint8Array(100));
  const array = queue.bytes;
  queue.start = queue.end;
  queue.rewindIfEmpty();
  assert.equal(queue.bytes, array);
  assert.equal(queue.start, 0);
  assert.throws(() => new ByteQueue(0), /positive integer/);
});

test('hex helpers: round trip, and a token that is not one byte is named', () => {
  const bytes = fromHex(' FF ff FD 00 01 7  ');
  assert.deepEqual(Array.from(bytes), [0xff, 0xff, 0xfd, 0x00, 0x01, 0x07]);
  assert.equal(toHex(bytes), 'FF FF FD 00 01 07');
  assert.throws(() => fromHex('FF 1G 00'), /'1G' is not a byte/);
  assert.throws(() => fromHex('FF 100'), /'100' is not a byte/);
  assert.deepEqual(Array.from(concatBytes([fromHex('01 02'), new Uint8Array(0), fromHex('03')])), [1, 2, 3]);
});
