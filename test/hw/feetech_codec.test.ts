import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatBytes, fromHex as hex } from '../../hw/protocol/bytes.js';
import {
  BROADCAST_ID,
  type DecodeEvent,
  type InstructionPacket,
  type Operation,
  type StatusPacket,
  type StreamDecoder,
} from '../../hw/protocol/types.js';
import {
  decodeSignMagnitude,
  encodeSignMagnitude,
  feetechChecksum,
  feetechScs,
  feetechSts,
  INSTRUCTION,
  isEchoOf,
  MalformedInstructionError,
  SignMagnitudeRangeError,
} from '../../hw/protocol/feetech/index.js';
import { sts3215 } from '../../hw/servos/index.js';
import { decodeBlock, decodeRegister, encodeRegister, toSI } from '../../hw/servos/registers.js';
import type { ServoModel } from '../../hw/servos/control_table.js';

// The Feetech SCS/STS codec against the 15 example packets of Feetech's SCS communication protocol
// manual, byte for byte in both directions, and the streaming
// decoders against garbage, split and glued chunks, bad checksums, bad lengths and echoes.

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

interface InstructionVector {
  readonly n: number;
  readonly what: string;
  readonly wire: string;
  readonly packet: InstructionPacket;
  /** the operation it carries, when it is one of `Operation` */
  readonly op?: Operation;
}
interface StatusVector {
  readonly n: number;
  readonly what: string;
  readonly wire: string;
  readonly packet: StatusPacket;
}

/** goal position 2048, goal time 0, goal speed 1000, from address 0x2A, built from the STS3215 table */
const positionTimeSpeed = (): Uint8Array =>
  concat(
    encodeRegister(sts3215, 'goal_position', 2048),
    encodeRegister(sts3215, 'goal_time', 0),
    encodeRegister(sts3215, 'goal_velocity', 1000),
  );

const INSTRUCTIONS: readonly InstructionVector[] = [
  {
    n: 1,
    what: 'PING ID 1',
    wire: 'FF FF 01 02 01 FB',
    packet: { id: 1, instruction: INSTRUCTION.ping, params: bytes() },
    op: { kind: 'ping', id: 1 },
  },
  {
    n: 3,
    what: 'READ ID 1, Present_Position, 2 B',
    wire: 'FF FF 01 04 02 38 02 BE',
    packet: { id: 1, instruction: INSTRUCTION.read, params: bytes(0x38, 0x02) },
    op: { kind: 'read', id: 1, address: sts3215.registers.present_position!.address, length: 2 },
  },
  {
    n: 5,
    what: 'WRITE ID 1 at 0x2A: position 2048, time 0, speed 1000',
    wire: 'FF FF 01 09 03 2A 00 08 00 00 E8 03 D5',
    packet: { id: 1, instruction: INSTRUCTION.write, params: hex('2A 00 08 00 00 E8 03') },
    op: { kind: 'write', id: 1, address: sts3215.registers.goal_position!.address, data: positionTimeSpeed() },
  },
  {
    n: 6,
    what: 'WRITE broadcast, ID ← 1',
    wire: 'FF FF FE 04 03 05 01 F4',
    packet: { id: BROADCAST_ID, instruction: INSTRUCTION.write, params: bytes(0x05, 0x01) },
    op: {
      kind: 'write',
      id: BROADCAST_ID,
      address: sts3215.registers.id!.address,
      data: encodeRegister(sts3215, 'id', 1),
    },
  },
  {
    n: 7,
    what: 'ACTION broadcast',
    wire: 'FF FF FE 02 05 FA',
    packet: { id: BROADCAST_ID, instruction: INSTRUCTION.action, params: bytes() },
    op: { kind: 'action', id: BROADCAST_ID },
  },
  {
    n: 8,
    what: 'SYNC_WRITE 0x2A, 6 B, IDs 1–4',
    wire: 'FF FF FE 20 83 2A 06 01 00 08 00 00 E8 03 02 00 08 00 00 E8 03 03 00 08 00 00 E8 03 04 00 08 00 00 E8 03 58',
    packet: {
      id: BROADCAST_ID,
      instruction: INSTRUCTION.sync_write,
      params: hex('2A 06 01 00 08 00 00 E8 03 02 00 08 00 00 E8 03 03 00 08 00 00 E8 03 04 00 08 00 00 E8 03'),
    },
    op: {
      kind: 'sync_write',
      address: 0x2a,
      length: 6,
      entries: [1, 2, 3, 4].map((id) => ({ id, data: positionTimeSpeed() })),
    },
  },
  {
    n: 9,
    what: 'SYNC_READ 0x38, 8 B, IDs 1, 2',
    wire: 'FF FF FE 06 82 38 08 01 02 36',
    packet: { id: BROADCAST_ID, instruction: INSTRUCTION.sync_read, params: bytes(0x38, 0x08, 0x01, 0x02) },
    op: { kind: 'sync_read', address: 0x38, length: 8, ids: [1, 2] },
  },
  {
    n: 12,
    what: 'RESET ID 1',
    wire: 'FF FF 01 02 0A F2',
    packet: { id: 1, instruction: INSTRUCTION.reset, params: bytes() },
  },
  {
    n: 13,
    what: 'OFSCAL ID 1 → 1024',
    wire: 'FF FF 01 04 0B 00 04 EB',
    packet: { id: 1, instruction: INSTRUCTION.ofscal, params: bytes(0x00, 0x04) },
  },
  {
    n: 14,
    what: 'RESTORE ID 1',
    wire: 'FF FF 01 02 06 F6',
    packet: { id: 1, instruction: INSTRUCTION.restore, params: bytes() },
  },
  {
    n: 15,
    what: 'REBOOT ID 1',
    wire: 'FF FF 01 02 08 F4',
    packet: { id: 1, instruction: INSTRUCTION.reboot, params: bytes() },
    op: { kind: 'reboot', id: 1 },
  },
];

const STATUSES: readonly StatusVector[] = [
  { n: 2, what: 'PING reply', wire: 'FF FF 01 02 00 FC', packet: { id: 1, error: 0, params: bytes() } },
  {
    n: 4,
    what: 'READ reply, position 1304',
    wire: 'FF FF 01 04 00 18 05 DD',
    packet: { id: 1, error: 0, params: bytes(0x18, 0x05) },
  },
  {
    n: 10,
    what: 'SYNC_READ reply ID 1',
    wire: 'FF FF 01 0A 00 00 08 00 00 00 00 79 1E 55',
    packet: { id: 1, error: 0, params: hex('00 08 00 00 00 00 79 1E') },
  },
  {
    n: 11,
    what: 'SYNC_READ reply ID 2',
    wire: 'FF FF 02 0A 00 FF 07 00 00 00 00 77 23 53',
    packet: { id: 2, error: 0, params: hex('FF 07 00 00 00 00 77 23') },
  },
];

const packets = <P>(events: DecodeEvent<P>[]): P[] => events.flatMap((e) => (e.kind === 'packet' ? [e.packet] : []));
const eventBytes = <P>(e: DecodeEvent<P>, encode: (p: P) => Uint8Array): number =>
  e.kind === 'packet' ? encode(e.packet).length : e.bytes;

/** Every byte pushed is in a packet, a garbage or corrupt event, or still pending. */
function assertAccounted<P>(
  decoder: StreamDecoder<P>,
  events: DecodeEvent<P>[],
  pushed: number,
  encode: (p: P) => Uint8Array,
): void {
  assert.equal(events.reduce((n, e) => n + eventBytes(e, encode), 0) + decoder.pending, pushed);
}

test('the manual has 15 vectors and every one is here', () => {
  assert.deepEqual(
    [...INSTRUCTIONS.map((v) => v.n), ...STATUSES.map((v) => v.n)].sort((a, b) => a - b),
    Array.from({ length: 15 }, (_, i) => i + 1),
  );
});

for (const v of INSTRUCTIONS) {
  test(`vector ${v.n} (${v.what}): encodes and decodes byte for byte`, () => {
    const wire = hex(v.wire);
    assert.deepEqual(feetechSts.encodeInstruction(v.packet), wire);
    const decoder = feetechSts.instructionDecoder();
    assert.deepEqual(decoder.push(wire), [{ kind: 'packet', packet: v.packet }]);
    assert.equal(decoder.pending, 0);
    assert.equal(feetechSts.instructionBytes(v.packet.params.length), wire.length);
    assert.equal(wire[wire.length - 1], feetechChecksum(wire, 2, wire.length - 1));
    if (v.op) {
      assert.deepEqual(feetechSts.instructionFor(v.op), v.packet);
      assert.deepEqual(feetechSts.operationOf(v.packet), v.op);
    } else {
      // RESET, OFSCAL, RESTORE are instructions outside the protocol-neutral operations
      assert.equal(feetechSts.operationOf(v.packet), undefined);
    }
  });
}

for (const v of STATUSES) {
  test(`vector ${v.n} (${v.what}): encodes and decodes byte for byte`, () => {
    const wire = hex(v.wire);
    assert.deepEqual(feetechSts.encodeStatus(v.packet), wire);
    const decoder = feetechSts.statusDecoder();
    assert.deepEqual(decoder.push(wire), [{ kind: 'packet', packet: v.packet }]);
    assert.equal(feetechSts.statusBytes(v.packet.params.length), wire.length);
  });
}

test('vectors 10 and 11 (the SYNC_READ replies to vector 9) decode through the STS3215 table', () => {
  const request = INSTRUCTIONS.find((v) => v.n === 9)!.op!;
  assert.deepEqual(feetechSts.expectedReplies(request), { kind: 'each', ids: [1, 2] });
  const decoder = feetechSts.statusDecoder();
  const replies = packets(decoder.push(concat(hex(STATUSES[2]!.wire), hex(STATUSES[3]!.wire))));
  assert.deepEqual(
    replies.map((r) => r.id),
    [1, 2],
  );
  assert.ok(request.kind === 'sync_read');
  const expected = [
    { position: 2048, voltage: 12.1, temperature: 30 },
    { position: 2047, voltage: 11.9, temperature: 35 },
  ];
  replies.forEach((reply, i) => {
    const values = decodeBlock(sts3215, request.address, reply.params);
    assert.deepEqual(Object.keys(values).sort(), [
      'present_load',
      'present_position',
      'present_temperature',
      'present_velocity',
      'present_voltage',
    ]);
    assert.equal(values.present_position, expected[i]!.position);
    assert.equal(values.present_velocity, 0);
    assert.equal(values.present_load, 0);
    assert.ok(Math.abs(toSI(sts3215, 'present_voltage', values.present_voltage!) - expected[i]!.voltage) < 1e-9);
    assert.equal(toSI(sts3215, 'present_temperature', values.present_temperature!), expected[i]!.temperature);
  });
  // vector 4: READ reply of Present_Position, 2 bytes
  assert.equal(decodeRegister(sts3215, 'present_position', STATUSES[1]!.packet.params), 1304);
});

test('sign-magnitude (sign bit 15, 11 or 10 by register): through the codec and the STS3215 registers', () => {
  assert.equal(decodeSignMagnitude(0x8005, 15), -5);
  assert.equal(encodeSignMagnitude(-5, 15), 0x8005);
  assert.equal(decodeSignMagnitude(0x0464, 10), -100);
  assert.equal(encodeSignMagnitude(-100, 11), 0x0864);
  // the same through the table: Present_Load sign bit 10, Homing_Offset 11, positions 15
  assert.equal(decodeRegister(sts3215, 'present_load', bytes(0x64, 0x04)), -100);
  assert.deepEqual(encodeRegister(sts3215, 'homing_offset', -100), bytes(0x64, 0x08));
  assert.deepEqual(encodeRegister(sts3215, 'goal_position', -5), bytes(0x05, 0x80));
  assert.equal(decodeRegister(sts3215, 'present_velocity', bytes(0x05, 0x80)), -5);
  // a set sign with a zero magnitude is 0, not −0
  assert.ok(Object.is(decodeSignMagnitude(0x8000, 15), 0));
  // range errors are named
  assert.throws(
    () => encodeSignMagnitude(2048, 11),
    (e: unknown) => e instanceof SignMagnitudeRangeError && /outside ±2047/.test(e.message),
  );
  assert.throws(() => encodeSignMagnitude(-32768, 15), SignMagnitudeRangeError);
  assert.throws(() => encodeSignMagnitude(1.5, 15), /not an integer/);
  assert.throws(() => encodeRegister(sts3215, 'homing_offset', -2048), /homing_offset: -2048/);
  // the largest magnitudes round-trip
  assert.equal(decodeSignMagnitude(encodeSignMagnitude(-2047, 11), 11), -2047);
  assert.equal(decodeSignMagnitude(encodeSignMagnitude(32767, 15), 15), 32767);
});

test('SCS is big-endian: a 2-byte register goes high byte first, STS low byte first', () => {
  assert.equal(feetechScs.byteOrder, 'big');
  assert.equal(feetechSts.byteOrder, 'little');
  const scsTable: ServoModel = { ...sts3215, name: 'STS3215 table on an SCS bus', protocol: 'feetech_scs' };
  assert.deepEqual(encodeRegister(scsTable, 'goal_position', 1000), bytes(0x03, 0xe8));
  assert.deepEqual(encodeRegister(sts3215, 'goal_position', 1000), bytes(0xe8, 0x03));
  assert.equal(decodeRegister(scsTable, 'goal_position', bytes(0x03, 0xe8)), 1000);
  assert.deepEqual(encodeRegister(scsTable, 'goal_position', -5), bytes(0x80, 0x05));
  assert.equal(decodeRegister(scsTable, 'present_load', bytes(0x04, 0x64)), -100);
  // the framing is the same: an SCS sync write of big-endian data is the STS packet of those bytes
  const op: Operation = {
    kind: 'sync_write',
    address: 0x2a,
    length: 2,
    entries: [{ id: 1, data: encodeRegister(scsTable, 'goal_position', 1000) }],
  };
  assert.deepEqual(
    feetechScs.encodeInstruction(feetechScs.instructionFor(op)),
    hex('FF FF FE 07 83 2A 02 01 03 E8 5F'),
  );
});

test('each dialect refuses, by name, the operations it lacks', () => {
  const syncRead: Operation = { kind: 'sync_read', address: 0x38, length: 2, ids: [1, 2] };
  assert.throws(
    () => feetechScs.instructionFor(syncRead),
    /Feetech SCS has no sync read instruction .*read each servo with READ/,
  );
  assert.throws(() => feetechScs.expectedReplies(syncRead), /Feetech SCS has no sync read/);
  assert.equal(
    feetechScs.operationOf({ id: BROADCAST_ID, instruction: INSTRUCTION.sync_read, params: bytes(0x38, 2, 1) }),
    undefined,
  );
  assert.throws(() => feetechSts.instructionFor({ ...syncRead, fast: true }), /Feetech STS has no fast sync read/);
  assert.throws(
    () => feetechSts.instructionFor({ kind: 'bulk_read', entries: [{ id: 1, address: 0x38, length: 2 }] }),
    /Feetech STS has no bulk read/,
  );
  assert.throws(
    () => feetechSts.instructionFor({ kind: 'bulk_write', entries: [{ id: 1, address: 0x2a, data: bytes(0, 8) }] }),
    /no bulk write/,
  );
  assert.throws(() => feetechSts.splitCombined({ id: 1, error: 0, params: bytes() }, [1], [2]), /no combined/);
  // DYNAMIXEL's FACTORY_RESET and CLEAR are not Feetech instructions (its 0x06 RESTORE and 0x0A RESET
  // have other parameters), and a Feetech servo does not read them as such
  for (const op of [
    { kind: 'factory_reset', id: 1, option: 0x02 },
    { kind: 'clear', id: 1, option: 0x01 },
  ] as const) {
    assert.throws(() => feetechSts.instructionFor(op), new RegExp(`Feetech STS has no ${op.kind.replace('_', ' ')}`));
    assert.throws(() => feetechSts.expectedReplies(op), new RegExp(`Feetech STS has no ${op.kind.replace('_', ' ')}`));
  }
  assert.equal(feetechSts.operationOf({ id: 1, instruction: INSTRUCTION.restore, params: bytes() }), undefined);
  assert.deepEqual([...feetechSts.supports].sort(), [
    'action',
    'ping',
    'read',
    'reboot',
    'reg_write',
    'sync_read',
    'sync_write',
    'write',
  ]);
  assert.ok(!feetechScs.supports.has('sync_read') && feetechScs.supports.has('sync_write'));
});

test('operations: replies expected, bad fields and malformed packets refused with the cause', () => {
  assert.deepEqual(feetechSts.expectedReplies({ kind: 'write', id: 3, address: 40, data: bytes(1) }), {
    kind: 'each',
    ids: [3],
  });
  assert.deepEqual(feetechSts.expectedReplies({ kind: 'write', id: BROADCAST_ID, address: 40, data: bytes(1) }), {
    kind: 'none',
  });
  assert.deepEqual(feetechSts.expectedReplies({ kind: 'reboot', id: 3 }), { kind: 'none' });
  assert.deepEqual(
    feetechSts.expectedReplies({ kind: 'sync_write', address: 42, length: 2, entries: [{ id: 1, data: bytes(0, 8) }] }),
    { kind: 'none' },
  );
  assert.throws(() => feetechSts.expectedReplies({ kind: 'ping', id: BROADCAST_ID }), /ping the ids one by one/);
  assert.throws(
    () => feetechSts.instructionFor({ kind: 'read', id: 1, address: 256, length: 2 }),
    /address must be an integer in 0–255/,
  );
  assert.throws(
    () => feetechSts.instructionFor({ kind: 'sync_read', address: 56, length: 2, ids: [1, 1] }),
    /id 1 is listed twice/,
  );
  assert.throws(
    () => feetechSts.instructionFor({ kind: 'sync_read', address: 56, length: 2, ids: [254] }),
    /not a servo id/,
  );
  assert.throws(
    () =>
      feetechSts.instructionFor({ kind: 'sync_write', address: 42, length: 2, entries: [{ id: 1, data: bytes(1) }] }),
    /must be 2 bytes, got 1/,
  );
  assert.throws(
    () => feetechSts.instructionFor({ kind: 'write', id: 1, address: 42, data: new Uint8Array(249) }),
    /exceed the 248/,
  );
  assert.throws(
    () => feetechSts.operationOf({ id: 1, instruction: INSTRUCTION.read, params: bytes(0x38) }),
    MalformedInstructionError,
  );
  assert.throws(
    () =>
      feetechSts.operationOf({ id: BROADCAST_ID, instruction: INSTRUCTION.sync_write, params: bytes(0x2a, 2, 1, 0) }),
    /whole \(id \+ 2 bytes\) entries/,
  );
});

test('the encoders refuse packets no receiver would accept', () => {
  assert.throws(
    () => feetechSts.encodeInstruction({ id: 0xff, instruction: 1, params: bytes() }),
    /id 255 is not a Feetech packet id/,
  );
  assert.throws(() => feetechSts.encodeStatus({ id: BROADCAST_ID, error: 0, params: bytes() }), /only servos answer/);
  assert.throws(() => feetechSts.encodeStatus({ id: 1, error: 0x80, params: bytes() }), /bit 7 set/);
  assert.throws(
    () => feetechSts.encodeInstruction({ id: 1, instruction: 3, params: new Uint8Array(249) }),
    /LEN 251, more than the 250/,
  );
  assert.equal(feetechSts.encodeInstruction({ id: 1, instruction: 3, params: new Uint8Array(248) }).length, 254);
});

test('status errors: every bit named, all of them hardware conditions', () => {
  assert.deepEqual(feetechSts.describeError(0), { hardware: false, instruction: undefined, flags: [] });
  assert.deepEqual(feetechSts.describeError(0x24), {
    hardware: true,
    instruction: undefined,
    flags: ['overheat', 'overload'],
  });
  assert.deepEqual(feetechSts.describeError(0x0b).flags, ['voltage', 'angle_sensor', 'overcurrent']);
  assert.deepEqual(feetechSts.describeError(0x10), {
    hardware: false,
    instruction: undefined,
    flags: ['undefined_bit_4'],
  });
  assert.throws(() => feetechSts.describeError(256), /0–255/);
});

const STATUS_WIRE = concat(...STATUSES.map((v) => hex(v.wire)));
const STATUS_PACKETS = STATUSES.map((v) => v.packet);
const INSTRUCTION_WIRE = concat(...INSTRUCTIONS.map((v) => hex(v.wire)));

test('decoders: glued packets split into 1-, 2- and 3-byte pieces come out whole, in order', () => {
  for (const size of [1, 2, 3]) {
    for (const [decoder, wire, expected, encode] of [
      [feetechSts.statusDecoder(), STATUS_WIRE, STATUS_PACKETS, (p: StatusPacket) => feetechSts.encodeStatus(p)],
      [
        feetechSts.instructionDecoder(),
        INSTRUCTION_WIRE,
        INSTRUCTIONS.map((v) => v.packet),
        (p: InstructionPacket) => feetechSts.encodeInstruction(p),
      ],
    ] as const) {
      const events: DecodeEvent<StatusPacket | InstructionPacket>[] = [];
      for (let at = 0; at < wire.length; at += size)
        events.push(...(decoder as StreamDecoder<StatusPacket | InstructionPacket>).push(wire.subarray(at, at + size)));
      assert.deepEqual(
        events,
        expected.map((packet) => ({ kind: 'packet', packet })),
        `pieces of ${size}`,
      );
      assert.equal(decoder.pending, 0);
      assertAccounted(
        decoder as StreamDecoder<StatusPacket | InstructionPacket>,
        events,
        wire.length,
        encode as (p: StatusPacket | InstructionPacket) => Uint8Array,
      );
    }
  }
  // mixed sizes 1, 2, 3, 1, 2, 3… across packet boundaries
  const decoder = feetechSts.statusDecoder();
  const events: DecodeEvent<StatusPacket>[] = [];
  for (let at = 0, i = 0; at < STATUS_WIRE.length; at += 1 + (i++ % 3))
    events.push(...decoder.push(STATUS_WIRE.subarray(at, at + 1 + (i % 3))));
  assert.deepEqual(packets(events), STATUS_PACKETS);
});

test('decoders: garbage before, between and after packets is skipped and counted', () => {
  const decoder = feetechSts.statusDecoder();
  const ping = hex(STATUSES[0]!.wire);
  const read = hex(STATUSES[1]!.wire);
  const wire = concat(bytes(0x00, 0x13, 0xfe), ping, bytes(0x55, 0xfe), read, bytes(0x01, 0x02));
  const events = decoder.push(wire);
  assert.deepEqual(events, [
    { kind: 'garbage', bytes: 3 },
    { kind: 'packet', packet: STATUSES[0]!.packet },
    { kind: 'garbage', bytes: 2 },
    { kind: 'packet', packet: STATUSES[1]!.packet },
    { kind: 'garbage', bytes: 2 },
  ]);
  assertAccounted(decoder, events, wire.length, (p) => feetechSts.encodeStatus(p));
  // a trailing FF might start a header: held, not thrown away
  assert.deepEqual(decoder.push(bytes(0xff)), []);
  assert.equal(decoder.pending, 1);
  assert.deepEqual(decoder.push(ping.subarray(1)), [{ kind: 'packet', packet: STATUSES[0]!.packet }]);
});

test('decoders: a bad checksum is reported corrupt and dropped, never accepted', () => {
  const decoder = feetechSts.statusDecoder();
  const damaged = hex(STATUSES[1]!.wire);
  damaged[5]! ^= 0x01; // one data bit
  const events = decoder.push(concat(damaged, hex(STATUSES[0]!.wire)));
  assert.equal(events.length, 2);
  assert.equal(events[0]!.kind, 'corrupt');
  assert.match((events[0] as { reason: string }).reason, /checksum mismatch: packet carries 0xDD, its bytes give 0xDC/);
  assert.equal((events[0] as { bytes: number }).bytes, damaged.length);
  assert.deepEqual(events[1], { kind: 'packet', packet: STATUSES[0]!.packet });
  // a corrupted checksum byte itself
  const badSum = hex(STATUSES[0]!.wire);
  badSum[5] = 0x00;
  assert.deepEqual(packets(feetechSts.statusDecoder().push(badSum)), []);
});

test('decoders: bad LEN, bad id and a status error byte ≥ 0x80 drop the frame and resynchronise', () => {
  const ping = hex(STATUSES[0]!.wire);
  const cases: [string, Uint8Array, RegExp, number][] = [
    ['LEN > 250', bytes(0xff, 0xff, 0x01, 0xfb), /length 251 outside 2–250/, 4],
    ['LEN < 2', bytes(0xff, 0xff, 0x01, 0x01), /length 1 outside 2–250/, 4],
    ['error byte 0x80', bytes(0xff, 0xff, 0x01, 0x02, 0x80, 0x7c), /error byte 0x80 has bit 7 set/, 5],
    [
      'broadcast id (an echoed SYNC_READ)',
      hex('FF FF FE 06 82 38 08 01 02 36'),
      /id 0xFE after FF FF is not a servo id 0–253: an echo of a broadcast request\?/,
      3,
    ],
  ];
  for (const [what, frame, reason, corruptBytes] of cases) {
    const decoder = feetechSts.statusDecoder();
    const wire = concat(frame, ping);
    const events = decoder.push(wire);
    assert.equal(events[0]!.kind, 'corrupt', what);
    assert.match((events[0] as { reason: string }).reason, reason, what);
    assert.equal((events[0] as { bytes: number }).bytes, corruptBytes, what);
    assert.deepEqual(packets(events), [STATUSES[0]!.packet], what);
    assertAccounted(decoder, events, wire.length, (p) => feetechSts.encodeStatus(p));
  }
  // FF FF FF: the first FF is dropped alone, the next two are the header
  const decoder = feetechSts.statusDecoder();
  assert.deepEqual(decoder.push(concat(bytes(0xff), ping)), [
    { kind: 'corrupt', reason: 'id 0xFF after FF FF is not a servo id 0–253', bytes: 1 },
    { kind: 'packet', packet: STATUSES[0]!.packet },
  ]);
  // the instruction decoder takes the broadcast id but not 0xFF
  assert.deepEqual(packets(feetechSts.instructionDecoder().push(hex('FF FF FE 02 05 FA'))), [
    { id: BROADCAST_ID, instruction: INSTRUCTION.action, params: bytes() },
  ]);
});

test('decoders: a false header whose LEN swallowed the next reply gives that reply back once its checksum fails', () => {
  const decoder = feetechSts.statusDecoder();
  const falseHeader = bytes(0xff, 0xff, 0x01, 0x0a, 0x00); // claims 14 bytes
  const ping = hex(STATUSES[0]!.wire);
  // held while the claimed frame is incomplete: the decoder does not cut a frame short
  assert.deepEqual(decoder.push(concat(falseHeader, ping)), []);
  assert.equal(decoder.pending, 11);
  const events = decoder.push(bytes(0, 0, 0));
  assert.equal(events[0]!.kind, 'corrupt');
  assert.match((events[0] as { reason: string }).reason, /checksum mismatch/);
  assert.equal((events[0] as { bytes: number }).bytes, falseHeader.length);
  assert.deepEqual(events.slice(1), [
    { kind: 'packet', packet: STATUSES[0]!.packet },
    { kind: 'garbage', bytes: 3 },
  ]);
  // or the driver gives up after its timeout and starts clean
  const stalled = feetechSts.statusDecoder();
  stalled.push(concat(falseHeader, ping.subarray(0, 3)));
  stalled.reset();
  assert.equal(stalled.pending, 0);
  assert.deepEqual(stalled.push(ping), [{ kind: 'packet', packet: STATUSES[0]!.packet }]);
});

test('echo: an echoed PING decodes as a status with error 1; the driver tells it apart with isEchoOf', () => {
  const pingRequest = hex(INSTRUCTIONS[0]!.wire);
  const decoder = feetechSts.statusDecoder();
  const [echo, reply] = packets(decoder.push(concat(pingRequest, hex(STATUSES[0]!.wire))));
  // indistinguishable by framing: a voltage error
  assert.deepEqual(echo, { id: 1, error: 1, params: bytes() });
  assert.deepEqual(feetechSts.describeError(echo.error).flags, ['voltage']);
  assert.equal(isEchoOf(pingRequest, echo), true);
  assert.equal(isEchoOf(pingRequest, reply!), false);
  // an echoed READ carries the address and length as data, with error 2
  const readRequest = hex(INSTRUCTIONS[1]!.wire);
  const [readEcho] = packets(feetechSts.statusDecoder().push(readRequest));
  assert.deepEqual(readEcho, { id: 1, error: 2, params: bytes(0x38, 0x02) });
  assert.equal(isEchoOf(readRequest, readEcho), true);
  assert.equal(isEchoOf(pingRequest, readEcho), false);
});

test('decoders reject what is not bytes', () => {
  assert.throws(
    () => feetechSts.statusDecoder().push([0xff, 0xff] as unknown as Uint8Array),
    /push\(\) takes a Uint8Array/,
  );
});
