import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dynamixel2, INSTRUCTION } from '../../hw/protocol/dynamixel/index.js';
import {
  BROADCAST_ID,
  type DecodeEvent,
  type InstructionPacket,
  type StatusPacket,
  type StreamDecoder,
} from '../../hw/protocol/types.js';
import { Rng } from '../../src/util/random.js';

// 100,000 random and mutated byte streams into the DYNAMIXEL Protocol 2.0 decoders (status and
// instruction), with fixed seeds: stream k is built from `new Rng(SEED + k)`, so a failure names the
// stream that reproduces it. (The Feetech half is test/hw/feetech_property.test.ts.)
//
// A stream is a sequence of segments: valid packets of both kinds (status, instruction, fast-read
// combined replies, with parameter bytes biased towards FF, FD, 00 and 55 so stuffing and false
// headers are common), truncated packets, packets with a byte deleted or inserted, and garbage
// (random bytes, some starting with a fake header FF FF FD 00 and a random LEN). Then some streams
// get bit flips anywhere, and every stream is pushed whole or in random pieces of 1–20 bytes.
//
// The rule checked, for each decoder:
//  - no exception, and the events account for every byte: garbage + corrupt + the wire length of
//    each accepted packet + pending = bytes pushed. So each accepted packet P has an offset o;
//  - no false accept: encode(P), the only wire form of P, must equal the stream bytes at
//    [o, o + |encode(P)|): those bytes really carried P, CRC included. And encode(P) must be one of
//    the packets encoded while building the stream (it may sit shifted, e.g. behind an inserted FF
//    that left its header whole), or else it is a CRC-16 collision: bytes touched by a flip, a
//    truncation or garbage that happen to carry a valid CRC. The first condition proves such a
//    packet really was on the wire (a flipped packet can only be accepted this way); collisions
//    are counted and must stay rare (a decoder that skipped the CRC accepts thousands);
//  - no false reject: every packet of the decoder's kind that was placed intact is accepted at its
//    offset, unless another accepted packet overlaps it (a packet whose deleted last byte was
//    supplied by the next packet's first byte is really on the wire and takes that byte).

const STREAMS = 100_000;
const SEED = 0x0d1e_2000;
const MAX_COLLISIONS = 20;

interface Placed {
  readonly start: number;
  readonly end: number;
  readonly kind: 'status' | 'instruction';
  intact: boolean;
}

interface Stream {
  readonly bytes: Uint8Array;
  readonly placed: Placed[];
  /** hex of every packet encoded while building the stream, whether placed intact or mutated */
  readonly encoded: Set<string>;
  readonly chunks: number[];
}

function generate(seed: number): Stream {
  const rng = new Rng(seed);
  const int = (n: number): number => Math.floor(rng.uniform() * n);
  const chance = (p: number): boolean => rng.uniform() < p;
  const biasedByte = (): number => {
    const r = rng.uniform();
    return r < 0.15 ? 0xff : r < 0.25 ? 0xfd : r < 0.3 ? 0x00 : r < 0.33 ? 0x55 : int(256);
  };
  const bytes = (n: number, byte = biasedByte): Uint8Array => Uint8Array.from({ length: n }, byte);
  const servoId = (): number => (chance(0.5) ? 1 + int(8) : int(253));

  const statusPacket = (): Uint8Array => {
    if (chance(0.1)) {
      const servos = 1 + int(6);
      return dynamixel2.encodeCombined(
        Array.from({ length: servos }, (_, k) => ({
          id: (k * 37 + int(5)) % 253,
          error: chance(0.8) ? 0 : biasedByte(),
          data: bytes(1 + int(8)),
        })),
      );
    }
    return dynamixel2.encodeStatus({
      id: servoId(),
      error: chance(0.8) ? 0 : chance(0.5) ? 0x80 : biasedByte(),
      params: bytes(int(25)),
    });
  };
  const instructionPacket = (): Uint8Array => {
    const codes = Object.values(INSTRUCTION).filter((c) => c !== INSTRUCTION.status);
    let instruction = chance(0.8) ? codes[int(codes.length)]! : int(256);
    if (instruction === INSTRUCTION.status) instruction = INSTRUCTION.ping;
    return dynamixel2.encodeInstruction({
      id: chance(0.3) ? BROADCAST_ID : servoId(),
      instruction,
      params: bytes(int(25)),
    });
  };

  const segments: Uint8Array[] = [];
  const placed: Placed[] = [];
  const encoded = new Set<string>();
  let length = 0;
  const add = (segment: Uint8Array, kind?: Placed['kind']): void => {
    if (kind) placed.push({ start: length, end: length + segment.length, kind, intact: true });
    segments.push(segment);
    length += segment.length;
  };
  const count = 1 + int(7);
  for (let s = 0; s < count; s++) {
    const r = rng.uniform();
    const kind = chance(0.6) ? 'status' : 'instruction';
    const packet = kind === 'status' ? statusPacket() : instructionPacket();
    encoded.add(Buffer.from(packet).toString('hex'));
    if (r < 0.55) add(packet, kind);
    else if (r < 0.7)
      add(packet.subarray(0, 1 + int(packet.length - 1))); // cut short
    else if (r < 0.8) {
      const at = 1 + int(packet.length - 1); // inside the frame, never in front of it
      add(
        chance(0.5)
          ? Uint8Array.from([...packet.subarray(0, at), ...packet.subarray(at + 1)])
          : Uint8Array.from([...packet.subarray(0, at), biasedByte(), ...packet.subarray(at)]),
      );
    } else if (chance(0.3)) {
      add(Uint8Array.from([0xff, 0xff, 0xfd, 0x00, servoId(), int(256), chance(0.8) ? 0 : int(4), ...bytes(int(30))])); // fake header
    } else add(bytes(1 + int(30)));
  }
  const stream = new Uint8Array(length);
  let at = 0;
  for (const segment of segments) {
    stream.set(segment, at);
    at += segment.length;
  }
  if (length > 0 && chance(0.3)) {
    for (let flips = 1 + int(3); flips > 0; flips--) {
      const bit = int(length * 8);
      stream[bit >> 3]! ^= 1 << (bit & 7);
      for (const p of placed) if (p.start <= bit >> 3 && bit >> 3 < p.end) p.intact = false;
    }
  }
  const chunks: number[] = [];
  if (chance(0.3)) chunks.push(length);
  else {
    const largest = 1 + int(20);
    for (let left = length; left > 0;) {
      const size = Math.min(left, 1 + int(largest));
      chunks.push(size);
      left -= size;
    }
  }
  return { bytes: stream, placed, encoded, chunks };
}

const sameBytes = (a: Uint8Array, b: Uint8Array, bAt: number): boolean => {
  if (bAt + a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[bAt + i]) return false;
  return true;
};

interface Tally {
  accepted: number;
  /** frames that reached the CRC check and failed it */
  crcFailures: number;
  collisions: number;
  intactExpected: number;
}

function check<P>(
  stream: Stream,
  k: number,
  kind: Placed['kind'],
  decoder: StreamDecoder<P>,
  encode: (p: P) => Uint8Array,
  tally: Tally,
): void {
  const events: DecodeEvent<P>[] = [];
  let at = 0;
  for (const size of stream.chunks) {
    events.push(...decoder.push(stream.bytes.subarray(at, at + size)));
    at += size;
  }
  const where = `stream ${k} (seed ${SEED + k}), ${kind} decoder`;
  let offset = 0;
  const acceptedRanges: [number, number][] = [];
  const acceptedAt = new Set<number>();
  for (const e of events) {
    if (e.kind !== 'packet') {
      if (e.kind === 'corrupt' && e.reason.startsWith('CRC mismatch')) tally.crcFailures++;
      assert.ok(Number.isInteger(e.bytes) && e.bytes > 0, `${where}: ${e.kind} event of ${e.bytes} bytes`);
      offset += e.bytes;
      continue;
    }
    const wire = encode(e.packet);
    assert.ok(
      sameBytes(wire, stream.bytes, offset),
      `${where}: accepted a packet at offset ${offset} that the bytes there do not encode`,
    );
    tally.accepted++;
    const original = stream.placed.find((p) => p.start === offset && p.intact && p.kind === kind);
    if (original && original.end === offset + wire.length) acceptedAt.add(offset);
    acceptedRanges.push([offset, offset + wire.length]);
    if (!stream.encoded.has(Buffer.from(wire).toString('hex'))) tally.collisions++;
    offset += wire.length;
  }
  assert.equal(offset + decoder.pending, stream.bytes.length, `${where}: events and pending account for every byte`);
  for (const p of stream.placed) {
    if (!p.intact || p.kind !== kind) continue;
    tally.intactExpected++;
    if (acceptedAt.has(p.start)) continue;
    const excused = acceptedRanges.some(([s, e]) => s < p.end && p.start < e);
    assert.ok(excused, `${where}: the intact ${kind} packet at ${p.start}–${p.end} was not accepted`);
  }
}

test(`DYNAMIXEL decoders: ${STREAMS.toLocaleString('en')} random and mutated streams, no exception, no false accept, no lost intact packet`, (t) => {
  const status: Tally = { accepted: 0, crcFailures: 0, collisions: 0, intactExpected: 0 };
  const instruction: Tally = { accepted: 0, crcFailures: 0, collisions: 0, intactExpected: 0 };
  let bytes = 0;
  for (let k = 0; k < STREAMS; k++) {
    const stream = generate(SEED + k);
    bytes += stream.bytes.length;
    check(stream, k, 'status', dynamixel2.statusDecoder(), (p: StatusPacket) => dynamixel2.encodeStatus(p), status);
    check(
      stream,
      k,
      'instruction',
      dynamixel2.instructionDecoder(),
      (p: InstructionPacket) => dynamixel2.encodeInstruction(p),
      instruction,
    );
  }
  for (const [name, tally] of [
    ['status', status],
    ['instruction', instruction],
  ] as const) {
    t.diagnostic(
      `${name} decoder: ${tally.accepted} accepted, ${tally.crcFailures} refused by the CRC, ${tally.collisions} CRC collisions`,
    );
  }
  t.diagnostic(`${bytes} bytes in ${STREAMS} streams`);
  // the generator must exercise both decoders, or the property says nothing
  assert.ok(
    status.intactExpected > STREAMS / 2 && instruction.intactExpected > STREAMS / 3,
    'enough intact packets of each kind',
  );
  assert.ok(
    status.crcFailures > STREAMS / 10 && instruction.crcFailures > STREAMS / 10,
    'enough damaged frames reach the CRC check',
  );
  assert.ok(
    status.collisions + instruction.collisions <= MAX_COLLISIONS,
    `CRC collisions are rare: ${status.collisions + instruction.collisions}`,
  );
});
