import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SendQueue, type QueueSocket } from '../../../framework/foxglove/send_queue.js';

// The per-client send queue against a socket whose buffer the test fills and drains by hand:
// frames go straight through under the limit, wait past it, the oldest data frame goes when too
// many wait (counted), control frames are never dropped but too many close the connection, and
// each completed write lets what waits go on, in order.

class FakeSocket implements QueueSocket {
  bufferedAmount = 0;
  readyState = 1;
  readonly written: (string | Uint8Array)[] = [];
  readonly pending: ((err?: Error) => void)[] = [];
  closed: number | undefined;
  send(data: string | Uint8Array, callback: (err?: Error) => void): void {
    this.written.push(data);
    this.bufferedAmount += typeof data === 'string' ? data.length : data.byteLength;
    this.pending.push(callback);
  }
  close(code?: number): void {
    this.closed = code;
    this.readyState = 2;
  }
  /** the oldest write reaches the kernel */
  drainOne(): void {
    const data = this.written[this.written.length - this.pending.length]!;
    this.bufferedAmount -= typeof data === 'string' ? data.length : data.byteLength;
    this.pending.shift()!();
  }
}

const frame = (marker: number, bytes = 100): Uint8Array => new Uint8Array(bytes).fill(marker);

test('under the limit frames go straight to the socket; past it they wait and go on as writes complete, in order', () => {
  const socket = new FakeSocket();
  const q = new SendQueue(socket, { limitBytes: 250, backlog: 10 });
  q.data(frame(1));
  q.data(frame(2));
  q.data(frame(3)); // 200 buffered < 250: still sent
  q.data(frame(4)); // 300 buffered: waits
  q.control('{"op":"status"}');
  assert.equal(socket.written.length, 3);
  assert.equal(q.queued, 2);
  socket.drainOne(); // 200 buffered: frame 4 goes, then 300 ≥ 250 again
  assert.equal(socket.written.length, 4);
  assert.equal(q.queued, 1);
  socket.drainOne();
  socket.drainOne();
  assert.deepEqual(
    socket.written.map((w) => (typeof w === 'string' ? w : w[0])),
    [1, 2, 3, 4, '{"op":"status"}'],
  );
  assert.equal(q.dropped, 0);
  assert.equal(q.sent, 5);
});

test('a client that does not read: data waits up to the backlog and the byte limit, the oldest dropped and counted', () => {
  const socket = new FakeSocket();
  const q = new SendQueue(socket, { limitBytes: 1000, backlog: 4 });
  q.data(frame(0, 1000)); // fills the socket
  q.control('{"op":"advertise"}');
  for (let i = 1; i <= 10; i++) q.data(frame(i));
  assert.equal(q.queued, 5, 'the control frame and the last 4 data frames wait');
  assert.equal(q.dropped, 6);
  assert.ok(q.queuedBytes <= 1000);
  // a large frame pushes out as many waiting ones as the byte limit needs
  q.data(frame(11, 900));
  assert.equal(q.queued, 2, 'the control frame and the large frame');
  assert.equal(q.dropped, 10);
  socket.drainOne();
  assert.deepEqual(
    socket.written.map((w) => (typeof w === 'string' ? w : w[0])),
    [0, '{"op":"advertise"}', 11],
  );
});

test('control frames are never dropped; past the backlog the connection is closed', () => {
  const socket = new FakeSocket();
  let overflowed = 0;
  const q = new SendQueue(socket, { limitBytes: 100, backlog: 3, onOverflow: () => overflowed++ });
  q.data(frame(0, 200));
  for (let i = 0; i < 3; i++) q.control(`{"op":"status","i":${i}}`);
  assert.equal(socket.closed, undefined);
  q.control('{"op":"status","i":3}');
  assert.equal(socket.closed, 1008);
  assert.equal(overflowed, 1);
  assert.equal(q.queued, 0, 'nothing is held for a closed connection');
  q.data(frame(1));
  assert.equal(q.queued, 0);
  assert.equal(socket.written.length, 1);
});
