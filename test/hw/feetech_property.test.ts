import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { concatBytes } from '../../hw/protocol/bytes.js';
import type { DecodeEvent, InstructionPacket, StatusPacket, StreamDecoder } from '../../hw/protocol/types.js';
import { feetechSts } from '../../hw/protocol/feetech/index.js';

// 100,000 random and mutated byte streams (fixed seed) into each Feetech decoder: no exception,
// every byte accounted for, and no false accept.
//
// The rule for "false accept". The decoders' events account for every byte pushed, in order
// (garbage and corrupt events by count, packets by their wire length), so each accepted packet has
// a position in the stream. A packet is a false accept unless re-encoding it gives exactly the
// bytes of the stream at that position — i.e. unless the stream really held a complete packet
// there with a valid header, id, LEN, error byte and checksum. A mutation that happens to produce
// such a packet (the 8-bit checksum passes a random corruption about 1 time in 256) did put a
// valid packet on the wire, and accepting it is right; accepting bytes that are not one is not.
// Streams of valid packets separated by garbage without 0xFF must moreover decode completely,
// every packet in order.

const SEED = 20260915;
const RUNS = 100_000;

type Kind = 'random' | 'mutated' | 'clean';
interface Case<P> {
  readonly kind: Kind;
  readonly stream: Uint8Array;
  /** sizes of the chunks the stream is pushed in, cycled */
  readonly chunks: readonly number[];
  /** for 'clean' streams: the packets it holds, in order */
  readonly packets: readonly P[];
}

const byte = fc.integer({ min: 0, max: 255 });
/** random bytes with FF common enough that headers and false headers occur */
const lineByte = fc.oneof({ weight: 3, arbitrary: byte }, { weight: 1, arbitrary: fc.constant(0xff) });
const params = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 60 }) },
);
// fc.record builds null-prototype objects; the decoders build plain ones
const statusPacket: fc.Arbitrary<StatusPacket> = fc
  .record({ id: fc.integer({ min: 0, max: 0xfd }), error: fc.integer({ min: 0, max: 0x7f }), params })
  .map((p) => ({ ...p }));
const instructionPacket: fc.Arbitrary<InstructionPacket> = fc
  .record({ id: fc.integer({ min: 0, max: 0xfe }), instruction: byte, params })
  .map((p) => ({ ...p }));

type Mutation =
  | { readonly op: 'set'; readonly at: number; readonly value: number }
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'delete'; readonly at: number; readonly count: number }
  | { readonly op: 'truncate'; readonly at: number };

const position = fc.nat();
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), at: position, value: lineByte }),
  fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('delete' as const), at: position, count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: position }),
);

function mutate(stream: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let s = stream;
  for (const m of mutations) {
    if (s.length === 0) break;
    const at = m.at % s.length;
    switch (m.op) {
      case 'set':
        s = s.slice();
        s[at] = m.value;
        break;
      case 'flip':
        s = s.slice();
        s[at]! ^= 1 << m.bit;
        break;
      case 'insert':
        s = concatBytes([s.subarray(0, at), m.bytes, s.subarray(at)]);
        break;
      case 'delete':
        s = concatBytes([s.subarray(0, at), s.subarray(at + m.count)]);
        break;
      case 'truncate':
        s = s.slice(0, at);
        break;
    }
  }
  return s;
}

function cases<P>(packet: fc.Arbitrary<P>, encode: (p: P) => Uint8Array): fc.Arbitrary<Case<P>> {
  const chunks = fc.array(fc.integer({ min: 1, max: 24 }), { minLength: 1, maxLength: 8 });
  const segment = fc.oneof(
    { weight: 3, arbitrary: packet.map((p) => ({ packet: p, bytes: encode(p) })) },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 10 }).map((b) => ({ packet: undefined as P | undefined, bytes: b })),
    },
  );
  const random = fc
    .record({ stream: fc.array(lineByte, { maxLength: 400 }).map((b) => Uint8Array.from(b)), chunks })
    .map((c): Case<P> => ({ kind: 'random', packets: [], ...c }));
  const mutated = fc
    .record({
      segments: fc.array(segment, { minLength: 1, maxLength: 8 }),
      mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }),
      chunks,
    })
    .map((c): Case<P> => ({
      kind: 'mutated',
      stream: mutate(concatBytes(c.segments.map((s) => s.bytes)), c.mutations),
      chunks: c.chunks,
      packets: [],
    }));
  // garbage without 0xFF cannot form or hide a header, so every packet must come out
  const cleanGarbage = fc.array(fc.integer({ min: 0, max: 0xfe }), { maxLength: 10 }).map((b) => Uint8Array.from(b));
  const clean = fc
    .record({
      items: fc.array(fc.tuple(cleanGarbage, packet), { minLength: 1, maxLength: 6 }),
      tail: cleanGarbage,
      chunks,
    })
    .map((c): Case<P> => ({
      kind: 'clean',
      stream: concatBytes([...c.items.flatMap(([g, p]) => [g, encode(p)]), c.tail]),
      chunks: c.chunks,
      packets: c.items.map(([, p]) => p),
    }));
  return fc.oneof({ weight: 2, arbitrary: random }, { weight: 5, arbitrary: mutated }, { weight: 1, arbitrary: clean });
}

interface Tally {
  streams: number;
  bytes: number;
  accepted: number;
  corrupt: number;
}

function check<P>(c: Case<P>, decoder: StreamDecoder<P>, encode: (p: P) => Uint8Array, tally: Tally): void {
  decoder.reset();
  const accepted: P[] = [];
  let accounted = 0;
  let pushed = 0;
  let chunk = 0;
  while (pushed < c.stream.length) {
    const size = c.chunks[chunk++ % c.chunks.length]!;
    const piece = c.stream.subarray(pushed, pushed + size);
    pushed += piece.length;
    const events: DecodeEvent<P>[] = decoder.push(piece);
    for (const e of events) {
      if (e.kind === 'packet') {
        const wire = encode(e.packet);
        const there = c.stream.subarray(accounted, accounted + wire.length);
        if (there.length !== wire.length || there.some((b, i) => b !== wire[i])) {
          assert.fail(
            `false accept at byte ${accounted}: packet ${JSON.stringify(e.packet, (_, v: unknown) => (v instanceof Uint8Array ? [...v] : v))} is not what the stream holds there`,
          );
        }
        accepted.push(e.packet);
        accounted += wire.length;
      } else {
        assert.ok(Number.isInteger(e.bytes) && e.bytes > 0, `a ${e.kind} event of ${e.bytes} bytes`);
        if (e.kind === 'corrupt') tally.corrupt++;
        accounted += e.bytes;
      }
    }
    assert.equal(accounted + decoder.pending, pushed, 'events and pending account for every byte pushed');
  }
  if (c.kind === 'clean') {
    assert.equal(decoder.pending, 0, 'a clean stream leaves nothing pending');
    assert.deepEqual(accepted, c.packets);
  }
  tally.streams++;
  tally.bytes += c.stream.length;
  tally.accepted += accepted.length;
}

function run<P>(
  what: string,
  makeDecoder: () => StreamDecoder<P>,
  packet: fc.Arbitrary<P>,
  encode: (p: P) => Uint8Array,
): void {
  test(`${what} decoder: ${RUNS.toLocaleString('en')} random and mutated streams, no exception and no false accept (seed ${SEED})`, () => {
    const decoder = makeDecoder();
    const tally: Tally = { streams: 0, bytes: 0, accepted: 0, corrupt: 0 };
    fc.assert(
      fc.property(cases(packet, encode), (c) => check(c, decoder, encode, tally)),
      { seed: SEED, numRuns: RUNS },
    );
    // the generator really produced work for the decoder (not a test that cannot fail)
    assert.equal(tally.streams, RUNS);
    assert.ok(tally.accepted > RUNS / 2, `only ${tally.accepted} packets accepted`);
    assert.ok(tally.corrupt > RUNS / 10, `only ${tally.corrupt} corrupt frames met`);
  });
}

run(
  'status',
  () => feetechSts.statusDecoder(),
  statusPacket,
  (p) => feetechSts.encodeStatus(p),
);
run(
  'instruction',
  () => feetechSts.instructionDecoder(),
  instructionPacket,
  (p) => feetechSts.encodeInstruction(p),
);
