import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatBytes, fromHex as hex, toHex } from '../../hw/protocol/bytes.js';
import {
  ALERT_BIT,
  crc16,
  crc16Bitwise,
  dynamixel2,
  INSTRUCTION,
  MalformedInstructionError,
  MAX_PACKET_BYTES,
  stuff,
  unstuff,
} from '../../hw/protocol/dynamixel/index.js';
import { PROTOCOL_NAMES, protocolByName } from '../../hw/protocol/index.js';
import {
  BROADCAST_ID,
  type DecodeEvent,
  type InstructionPacket,
  type Operation,
  type StatusPacket,
} from '../../hw/protocol/types.js';
import { Rng } from '../../src/util/random.js';

// DYNAMIXEL Protocol 2.0 codec against the packets the ROBOTIS e-manual publishes (Protocol 2.0
// page: instruction and status examples, byte stuffing, CRC), both directions, and the streaming
// decoder against split, glued, corrupted and echoed input.

/** little-endian bytes of an unsigned value */
const le = (value: number, size: number): Uint8Array =>
  Uint8Array.from({ length: size }, (_, i) => (value >>> (8 * i)) & 0xff);
const cat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);
const packets = <P>(events: DecodeEvent<P>[]): P[] => events.flatMap((e) => (e.kind === 'packet' ? [e.packet] : []));
const corrupt = <P>(events: DecodeEvent<P>[]): { reason: string; bytes: number }[] =>
  events.flatMap((e) => (e.kind === 'corrupt' ? [e] : []));
/** bytes the events account for: skipped, dropped and accepted */
const accounted = <P extends StatusPacket | InstructionPacket>(
  events: DecodeEvent<P>[],
  encode: (p: P) => Uint8Array,
): number => events.reduce((n, e) => n + (e.kind === 'packet' ? encode(e.packet).length : e.bytes), 0);

const encodeStatus = (p: StatusPacket): Uint8Array => dynamixel2.encodeStatus(p);
const encodeInstruction = (p: InstructionPacket): Uint8Array => dynamixel2.encodeInstruction(p);

function decodeStatuses(bytes: Uint8Array): DecodeEvent<StatusPacket>[] {
  return dynamixel2.statusDecoder().push(bytes);
}

// ── the 21 e-manual vectors ─────────────────────────────────────────────────────────────────────

/** an instruction vector: the operation it carries (or the raw packet for instructions outside Operation) */
interface InstructionVector {
  readonly n: number;
  readonly what: string;
  readonly bytes: string;
  readonly packet: InstructionPacket;
  readonly op?: Operation;
}
interface StatusVector {
  readonly n: number;
  readonly what: string;
  readonly bytes: string;
  readonly packet: StatusPacket;
}

const PRESENT_POSITION = 132;
const GOAL_POSITION = 116;
const GOAL_VELOCITY = 104;
const PRESENT_INPUT_VOLTAGE = 144;
const PRESENT_TEMPERATURE = 146;
const MODEL_1030_FW38 = cat(le(1030, 2), le(38, 1));

const fromOp = (op: Operation): InstructionPacket => dynamixel2.instructionFor(op);

const INSTRUCTION_VECTORS: InstructionVector[] = [
  { n: 1, what: 'PING ID 1', bytes: 'FF FF FD 00 01 03 00 01 19 4E', op: { kind: 'ping', id: 1 } },
  { n: 3, what: 'PING broadcast', bytes: 'FF FF FD 00 FE 03 00 01 31 42', op: { kind: 'ping', id: BROADCAST_ID } },
  {
    n: 5,
    what: 'READ ID 1 Present Position 4 B',
    bytes: 'FF FF FD 00 01 07 00 02 84 00 04 00 1D 15',
    op: { kind: 'read', id: 1, address: PRESENT_POSITION, length: 4 },
  },
  {
    n: 7,
    what: 'WRITE ID 1 Goal Position ← 512',
    bytes: 'FF FF FD 00 01 09 00 03 74 00 00 02 00 00 CA 89',
    op: { kind: 'write', id: 1, address: GOAL_POSITION, data: le(512, 4) },
  },
  {
    n: 9,
    what: 'REG_WRITE ID 1 Goal Velocity ← 200',
    bytes: 'FF FF FD 00 01 09 00 04 68 00 C8 00 00 00 AE 8E',
    op: { kind: 'reg_write', id: 1, address: GOAL_VELOCITY, data: le(200, 4) },
  },
  { n: 10, what: 'ACTION ID 1', bytes: 'FF FF FD 00 01 03 00 05 02 CE', op: { kind: 'action', id: 1 } },
  { n: 12, what: 'REBOOT ID 1', bytes: 'FF FF FD 00 01 03 00 08 2F 4E', op: { kind: 'reboot', id: 1 } },
  {
    n: 14,
    what: 'SYNC_READ Present Position, IDs 1, 2',
    bytes: 'FF FF FD 00 FE 09 00 82 84 00 04 00 01 02 CE FA',
    op: { kind: 'sync_read', address: PRESENT_POSITION, length: 4, ids: [1, 2] },
  },
  {
    n: 16,
    what: 'SYNC_WRITE Goal Position: ID 1 ← 150, ID 2 ← 170',
    bytes: 'FF FF FD 00 FE 11 00 83 74 00 04 00 01 96 00 00 00 02 AA 00 00 00 82 87',
    op: {
      kind: 'sync_write',
      address: GOAL_POSITION,
      length: 4,
      entries: [
        { id: 1, data: le(150, 4) },
        { id: 2, data: le(170, 4) },
      ],
    },
  },
  {
    n: 17,
    what: 'BULK_READ ID 1 voltage 2 B, ID 2 temperature 1 B',
    bytes: 'FF FF FD 00 FE 0D 00 92 01 90 00 02 00 02 92 00 01 00 1A 05',
    op: {
      kind: 'bulk_read',
      entries: [
        { id: 1, address: PRESENT_INPUT_VOLTAGE, length: 2 },
        { id: 2, address: PRESENT_TEMPERATURE, length: 1 },
      ],
    },
  },
  {
    n: 20,
    what: 'BULK_WRITE ID 1 addr 32 ← A0 00, ID 2 addr 31 ← 50',
    bytes: 'FF FF FD 00 FE 10 00 93 01 20 00 02 00 A0 00 02 1F 00 01 00 50 B7 68',
    op: {
      kind: 'bulk_write',
      entries: [
        { id: 1, address: 32, data: le(160, 2) },
        { id: 2, address: 31, data: le(80, 1) },
      ],
    },
  },
  {
    n: 21,
    what: 'FAST_SYNC_READ Present Position, IDs 3, 7, 4',
    bytes: 'FF FF FD 00 FE 0A 00 8A 84 00 04 00 03 07 04 20 F2',
    op: { kind: 'sync_read', address: PRESENT_POSITION, length: 4, ids: [3, 7, 4], fast: true },
  },
].map((v) => ({ ...v, packet: fromOp(v.op as Operation) }) as InstructionVector);

// FACTORY_RESET and CLEAR, given as packets as the e-manual prints them (instructionFor is checked
// against them below)
INSTRUCTION_VECTORS.push(
  {
    n: 11,
    what: 'FACTORY_RESET ID 1, option 0x01',
    bytes: 'FF FF FD 00 01 04 00 06 01 A1 E6',
    packet: { id: 1, instruction: INSTRUCTION.factory_reset, params: Uint8Array.of(0x01) },
    op: { kind: 'factory_reset', id: 1, option: 0x01 },
  },
  {
    n: 13,
    what: 'CLEAR ID 1 (multi-turn)',
    bytes: 'FF FF FD 00 01 08 00 10 01 44 58 4C 22 B1 DC',
    packet: { id: 1, instruction: INSTRUCTION.clear, params: Uint8Array.of(0x01, 0x44, 0x58, 0x4c, 0x22) },
    op: { kind: 'clear', id: 1, option: 0x01 },
  },
);

const STATUS_VECTORS: StatusVector[] = [
  {
    n: 2,
    what: 'PING status ID 1',
    bytes: 'FF FF FD 00 01 07 00 55 00 06 04 26 65 5D',
    packet: { id: 1, error: 0, params: MODEL_1030_FW38 },
  },
  {
    n: 4,
    what: 'PING status ID 2',
    bytes: 'FF FF FD 00 02 07 00 55 00 06 04 26 6F 6D',
    packet: { id: 2, error: 0, params: MODEL_1030_FW38 },
  },
  {
    n: 6,
    what: 'READ status 166',
    bytes: 'FF FF FD 00 01 08 00 55 00 A6 00 00 00 8C C0',
    packet: { id: 1, error: 0, params: le(166, 4) },
  },
  {
    n: 8,
    what: 'empty status ID 1',
    bytes: 'FF FF FD 00 01 04 00 55 00 A1 0C',
    packet: { id: 1, error: 0, params: new Uint8Array(0) },
  },
  {
    n: 15,
    what: 'SYNC_READ status ID 2, 2079',
    bytes: 'FF FF FD 00 02 08 00 55 00 1F 08 00 00 BA BE',
    packet: { id: 2, error: 0, params: le(2079, 4) },
  },
  {
    n: 18,
    what: 'BULK_READ status ID 1, 119',
    bytes: 'FF FF FD 00 01 06 00 55 00 77 00 C3 69',
    packet: { id: 1, error: 0, params: le(119, 2) },
  },
  {
    n: 19,
    what: 'BULK_READ status ID 2, 36',
    bytes: 'FF FF FD 00 02 05 00 55 00 24 8B A9',
    packet: { id: 2, error: 0, params: le(36, 1) },
  },
];

test('all 21 e-manual vectors are covered, each once', () => {
  const numbers = [...INSTRUCTION_VECTORS, ...STATUS_VECTORS].map((v) => v.n).sort((a, b) => a - b);
  assert.deepEqual(
    numbers,
    Array.from({ length: 21 }, (_, i) => i + 1),
  );
});

for (const v of INSTRUCTION_VECTORS) {
  test(`e-manual #${v.n} ${v.what}: encoded from its fields gives the published bytes`, () => {
    assert.equal(toHex(dynamixel2.encodeInstruction(v.packet)), toHex(hex(v.bytes)));
  });
  test(`e-manual #${v.n} ${v.what}: the published bytes decode to its fields`, () => {
    const events = dynamixel2.instructionDecoder().push(hex(v.bytes));
    assert.deepEqual(events, [{ kind: 'packet', packet: v.packet }]);
    if (v.op)
      assert.deepEqual(dynamixel2.operationOf(events[0]!.kind === 'packet' ? events[0]!.packet : v.packet), v.op);
    else assert.equal(dynamixel2.operationOf(v.packet), undefined, 'instructions outside Operation are not operations');
  });
}

for (const v of STATUS_VECTORS) {
  test(`e-manual #${v.n} ${v.what}: encoded from its fields gives the published bytes`, () => {
    assert.equal(toHex(dynamixel2.encodeStatus(v.packet)), toHex(hex(v.bytes)));
  });
  test(`e-manual #${v.n} ${v.what}: the published bytes decode to its fields`, () => {
    assert.deepEqual(decodeStatuses(hex(v.bytes)), [{ kind: 'packet', packet: v.packet }]);
  });
}

// ── FAST_SYNC_READ combined reply ───────────────────────────────────────────────────────────────

const FAST_REPLY = hex(
  'FF FF FD 00 FE 19 00 55  00 03 A6 00 00 00 84 08  00 07 1F 08 00 00 16 CA  00 04 FF 03 00 00 D1 9E',
);

test('FAST_SYNC_READ combined reply (e-manual, to #21): decoded and split into ids 3, 7, 4 = 166, 2079, 1023', () => {
  const op: Operation = { kind: 'sync_read', address: PRESENT_POSITION, length: 4, ids: [3, 7, 4], fast: true };
  const expected = dynamixel2.expectedReplies(op);
  assert.deepEqual(expected, { kind: 'combined', ids: [3, 7, 4], lengths: [4, 4, 4] });
  const [packet, ...rest] = packets(decodeStatuses(FAST_REPLY));
  assert.equal(rest.length, 0);
  assert.equal(packet!.id, BROADCAST_ID);
  if (expected.kind !== 'combined') throw new Error('unreachable');
  const results = dynamixel2.splitCombined(packet!, expected.ids, expected.lengths);
  assert.deepEqual(results, [
    { id: 3, error: 0, data: le(166, 4) },
    { id: 7, error: 0, data: le(2079, 4) },
    { id: 4, error: 0, data: le(1023, 4) },
  ]);
});

test('FAST_SYNC_READ combined reply: encoded from the three results gives the e-manual bytes, running CRCs included', () => {
  const results = [
    { id: 3, error: 0, data: le(166, 4) },
    { id: 7, error: 0, data: le(2079, 4) },
    { id: 4, error: 0, data: le(1023, 4) },
  ];
  assert.equal(toHex(dynamixel2.encodeCombined(results)), toHex(FAST_REPLY));
  // the intermediate CRCs are the running CRC of the packet up to them (e-manual, Fast Sync Read)
  assert.equal(crc16(FAST_REPLY, 0, 14), 0x0884);
  assert.equal(crc16(FAST_REPLY, 0, 22), 0xca16);
});

test('FAST reply: a wrong running CRC, a reordered chain or wrong lengths are refused by the split, naming the segment', () => {
  const [packet] = packets(decodeStatuses(FAST_REPLY));
  assert.throws(() => dynamixel2.splitCombined(packet!, [3, 4, 7], [4, 4, 4]), /segment 1 carries id 7, expected 4/);
  assert.throws(() => dynamixel2.splitCombined(packet!, [3, 7, 4], [4, 4, 2]), /21 parameter bytes/);
  // a corrupted running CRC that the servo chain itself got wrong: re-frame with a valid final CRC
  const params = packet!.params.slice();
  params[5]! ^= 0x01; // low byte of segment 0's running CRC
  const tampered = packets(decodeStatuses(dynamixel2.encodeStatus({ id: BROADCAST_ID, error: 0, params })))[0]!;
  assert.throws(() => dynamixel2.splitCombined(tampered, [3, 7, 4], [4, 4, 4]), /running CRC after segment 0 \(id 3\)/);
});

test('FAST_BULK_READ: different lengths per servo, errors per segment, round trip through encode, decode and split', () => {
  const results = [
    { id: 1, error: 0, data: le(119, 2) },
    { id: 2, error: ALERT_BIT, data: le(36, 1) },
    { id: 9, error: 0x07, data: Uint8Array.of(0xff, 0xff, 0xfd, 0x00) }, // unstuffed in a combined reply
  ];
  const op: Operation = {
    kind: 'bulk_read',
    entries: [
      { id: 1, address: 144, length: 2 },
      { id: 2, address: 146, length: 1 },
      { id: 9, address: 132, length: 4 },
    ],
    fast: true,
  };
  assert.equal(dynamixel2.instructionFor(op).instruction, INSTRUCTION.fast_bulk_read);
  const expected = dynamixel2.expectedReplies(op);
  assert.deepEqual(expected, { kind: 'combined', ids: [1, 2, 9], lengths: [2, 1, 4] });
  const bytes = dynamixel2.encodeCombined(results);
  assert.equal(bytes.length, 8 + 3 * 4 + 7, 'unstuffed: 7 prefix + INST + 3 × (ERR ID CRC) + data');
  const [packet] = packets(decodeStatuses(bytes));
  if (expected.kind !== 'combined') throw new Error('unreachable');
  assert.deepEqual(dynamixel2.splitCombined(packet!, expected.ids, expected.lengths), results);
});

// ── stuffing and CRC ────────────────────────────────────────────────────────────────────────────

test('stuffing (e-manual rule): WRITE to ID 1 with params 10 00 FF FF FD, both directions', () => {
  const bytes = hex('FF FF FD 00 01 09 00 03 10 00 FF FF FD FD A4 65');
  const packet: InstructionPacket = { id: 1, instruction: INSTRUCTION.write, params: hex('10 00 FF FF FD') };
  assert.equal(toHex(dynamixel2.encodeInstruction(packet)), toHex(bytes));
  assert.deepEqual(dynamixel2.instructionDecoder().push(bytes), [{ kind: 'packet', packet }]);
});

test('stuffing (e-manual rule): status ID 3 with params FF FF FD 00, both directions', () => {
  const bytes = hex('FF FF FD 00 03 09 00 55 00 FF FF FD FD 00 F3 DC');
  const packet: StatusPacket = { id: 3, error: 0, params: hex('FF FF FD 00') };
  assert.equal(toHex(dynamixel2.encodeStatus(packet)), toHex(bytes));
  assert.deepEqual(decodeStatuses(bytes), [{ kind: 'packet', packet }]);
});

test('stuff/unstuff: each FF FF FD gains an FD, runs and adjacent markers included; unstuff refuses a bare marker', () => {
  const cases: [string, string][] = [
    ['FF FF FD', 'FF FF FD FD'],
    ['FF FF FF FD', 'FF FF FF FD FD'],
    ['FF FF FD FD', 'FF FF FD FD FD'],
    ['FF FF FD FF FF FD', 'FF FF FD FD FF FF FD FD'],
    ['FF FD FF FF', 'FF FD FF FF'],
    ['01 02 03', '01 02 03'],
  ];
  for (const [plain, stuffed] of cases) {
    assert.equal(toHex(stuff(hex(plain))), toHex(hex(stuffed)), plain);
    assert.equal(toHex(unstuff(hex(stuffed))), toHex(hex(plain)), stuffed);
  }
  assert.throws(() => unstuff(hex('00 FF FF FD 00')), /without the FD that stuffing adds/);
  assert.throws(() => unstuff(hex('FF FF FD')), /without the FD/);
});

test('CRC-16: check value of "123456789" is 0xFEE8; the table agrees with the bitwise definition and continues across calls', () => {
  const ascii = new TextEncoder().encode('123456789');
  assert.equal(crc16(ascii), 0xfee8);
  assert.equal(crc16Bitwise(ascii), 0xfee8);
  const rng = new Rng(7);
  for (let trial = 0; trial < 200; trial++) {
    const bytes = Uint8Array.from({ length: 1 + Math.floor(rng.uniform() * 300) }, () =>
      Math.floor(rng.uniform() * 256),
    );
    const cut = Math.floor(rng.uniform() * bytes.length);
    assert.equal(crc16(bytes), crc16Bitwise(bytes));
    assert.equal(crc16(bytes, cut, bytes.length, crc16(bytes, 0, cut)), crc16(bytes));
  }
});

// ── streaming decoder ───────────────────────────────────────────────────────────────────────────

const STATUS_166 = hex(STATUS_VECTORS.find((v) => v.n === 6)!.bytes);
const EMPTY_STATUS = hex(STATUS_VECTORS.find((v) => v.n === 8)!.bytes);
const ALERT_STATUS: StatusPacket = { id: 2, error: ALERT_BIT, params: le(2079, 4) };
const STUFFED_STATUS: StatusPacket = { id: 3, error: 0, params: hex('FF FF FD 00') };

test('decoder: garbage, a good packet, a bit-flipped one, an alert and a stuffed packet, fed in 1–5-byte pieces', () => {
  const flipped = STATUS_166.slice();
  flipped[10]! ^= 0x10; // a data byte: only the CRC can tell
  const stream = cat(
    hex('00 FF 13'),
    hex(STATUS_VECTORS[0]!.bytes),
    flipped,
    encodeStatus(ALERT_STATUS),
    encodeStatus(STUFFED_STATUS),
  );
  for (let seed = 1; seed <= 50; seed++) {
    const rng = new Rng(seed);
    const decoder = dynamixel2.statusDecoder();
    const events: DecodeEvent<StatusPacket>[] = [];
    for (let at = 0; at < stream.length;) {
      const size = 1 + Math.floor(rng.uniform() * 5);
      events.push(...decoder.push(stream.subarray(at, at + size)));
      at += size;
    }
    assert.deepEqual(packets(events), [STATUS_VECTORS[0]!.packet, ALERT_STATUS, STUFFED_STATUS], `seed ${seed}`);
    const crcFailures = corrupt(events).filter((c) => /CRC mismatch/.test(c.reason));
    assert.equal(crcFailures.length, 1, `seed ${seed}: the flipped packet is reported once`);
    assert.equal(
      events.filter((e) => e.kind === 'garbage').reduce((n, e) => n + e.bytes, 0) +
        corrupt(events).reduce((n, c) => n + c.bytes, 0),
      3 + flipped.length,
    );
    assert.equal(decoder.pending, 0);
  }
});

test('decoder: every single-bit flip of a status packet is refused, and the packet after it still comes through', () => {
  for (let bit = 0; bit < STATUS_166.length * 8; bit++) {
    const flipped = STATUS_166.slice();
    flipped[bit >> 3]! ^= 1 << (bit & 7);
    const decoder = dynamixel2.statusDecoder();
    const events = decoder.push(cat(flipped, EMPTY_STATUS));
    assert.deepEqual(packets(events), [STATUS_VECTORS.find((v) => v.n === 8)!.packet], `bit ${bit}`);
    assert.equal(
      accounted(events, encodeStatus) + decoder.pending,
      flipped.length + EMPTY_STATUS.length,
      `bit ${bit}: every byte accounted for`,
    );
    assert.equal(decoder.pending, 0, `bit ${bit}`);
  }
});

test('decoder: the alert bit comes through in the error byte and describeError reports a hardware fault', () => {
  const [packet] = packets(decodeStatuses(encodeStatus(ALERT_STATUS)));
  assert.equal(packet!.error, 0x80);
  assert.deepEqual(dynamixel2.describeError(packet!.error), {
    hardware: true,
    instruction: undefined,
    flags: ['alert'],
  });
  assert.deepEqual(dynamixel2.describeError(0x00), { hardware: false, instruction: undefined, flags: [] });
  assert.deepEqual(dynamixel2.describeError(0x87), { hardware: true, instruction: 'access_error', flags: ['alert'] });
  const names = [1, 2, 3, 4, 5, 6, 7].map((n) => dynamixel2.describeError(n));
  assert.deepEqual(
    names.map((i) => i.instruction),
    [
      'result_fail',
      'instruction_error',
      'crc_error',
      'data_range_error',
      'data_length_error',
      'data_limit_error',
      'access_error',
    ],
  );
  assert.ok(names.every((i) => !i.hardware));
  assert.equal(dynamixel2.describeError(0x09).instruction, 'unknown_error_9');
});

test('decoder: an echo of the request on the status stream is not a status (INST must be 0x55), and the reply behind it is', () => {
  const request = hex(INSTRUCTION_VECTORS.find((v) => v.n === 5)!.bytes);
  const ping = hex(INSTRUCTION_VECTORS.find((v) => v.n === 1)!.bytes);
  for (const echo of [request, ping]) {
    const decoder = dynamixel2.statusDecoder();
    const events = decoder.push(cat(echo, STATUS_166));
    assert.deepEqual(packets(events), [STATUS_VECTORS.find((v) => v.n === 6)!.packet]);
    const [refused, ...more] = corrupt(events);
    assert.equal(more.length, 0);
    assert.match(refused!.reason, /where a status \(0x55\) was expected: an echo/);
    assert.equal(refused!.bytes, echo.length);
  }
});

test('decoder: the instruction decoder refuses status packets (other servos answering on the same bus)', () => {
  const events = dynamixel2.instructionDecoder().push(cat(STATUS_166, hex(INSTRUCTION_VECTORS[0]!.bytes)));
  assert.deepEqual(packets(events), [INSTRUCTION_VECTORS[0]!.packet]);
  assert.match(corrupt(events)[0]!.reason, /another servo's reply/);
});

test('decoder: FF FF FD FD inside the params is stuffing, never a header, at every split point', () => {
  const packet: StatusPacket = { id: 5, error: 0, params: hex('FF FF FD FD 00 FF FF FD 00 01 FF FF') };
  const bytes = encodeStatus(packet);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const decoder = dynamixel2.statusDecoder();
    const events = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
    assert.deepEqual(events, [{ kind: 'packet', packet }], `cut at ${cut}`);
  }
});

test('decoder: a packet cut short is dropped as soon as a complete packet is seen inside it, not when more bytes arrive', () => {
  // a servo that stopped after the error byte of a 20-byte reply: its LEN reaches past the next packet
  const truncated = encodeStatus({ id: 1, error: 0, params: new Uint8Array(20).fill(7) }).subarray(0, 9);
  const decoder = dynamixel2.statusDecoder();
  const events = decoder.push(cat(truncated, EMPTY_STATUS));
  assert.deepEqual(packets(events), [STATUS_VECTORS.find((v) => v.n === 8)!.packet]);
  assert.deepEqual(corrupt(events), [
    { kind: 'corrupt', reason: 'packet cut short: a complete packet starts inside it', bytes: 9 },
  ]);
  assert.equal(decoder.pending, 0);
  // the same in single bytes: nothing is accepted early, the packet when its last byte arrives
  const slow = dynamixel2.statusDecoder();
  const stream = cat(truncated, EMPTY_STATUS);
  const accepted: number[] = [];
  for (let i = 0; i < stream.length; i++)
    if (packets(slow.push(stream.subarray(i, i + 1))).length > 0) accepted.push(i);
  assert.deepEqual(accepted, [stream.length - 1]);
});

test('decoder: bad reserved byte, impossible ids and lengths are corrupt; a header split across pushes waits', () => {
  const cases: [string, RegExp][] = [
    ['FF FF FD 01 01 04 00 55 00 A1 0C', /reserved byte 0x01/],
    ['FF FF FD 00 FF 04 00 55 00 A1 0C', /id 255 is not a packet id/],
    ['FF FF FD 00 FD 04 00 55 00 A1 0C', /id 253 is not a packet id/],
    ['FF FF FD 00 01 02 00 55 00 A1 0C', /length 2 outside 3–1017/],
    ['FF FF FD 00 01 FA 03 55 00 A1 0C', /length 1018 outside/],
  ];
  for (const [bytes, reason] of cases) {
    const decoder = dynamixel2.statusDecoder();
    const events = decoder.push(hex(bytes));
    assert.equal(packets(events).length, 0, bytes);
    assert.match(corrupt(events)[0]!.reason, reason, bytes);
    assert.equal(decoder.pending, 0, `${bytes}: nothing left waiting`);
  }
  const decoder = dynamixel2.statusDecoder();
  assert.deepEqual(decoder.push(hex('11 22 FF FF')), [{ kind: 'garbage', bytes: 2 }]);
  assert.equal(decoder.pending, 2);
  assert.deepEqual(decoder.push(hex('FD 00 01')), []);
  decoder.reset();
  assert.equal(decoder.pending, 0);
  assert.deepEqual(decoder.push(EMPTY_STATUS), [
    { kind: 'packet', packet: STATUS_VECTORS.find((v) => v.n === 8)!.packet },
  ]);
});

test('decoder: glued packets in one chunk, and a buffer that grows past its first size', () => {
  const many = Array.from({ length: 300 }, (_, i): StatusPacket => ({
    id: i % 253,
    error: 0,
    params: le(i * 7919, 4),
  }));
  const decoder = dynamixel2.statusDecoder();
  assert.deepEqual(packets(decoder.push(cat(...many.map(encodeStatus)))), many);
  const big: StatusPacket = {
    id: 1,
    error: 0,
    params: Uint8Array.from({ length: MAX_PACKET_BYTES - 11 }, (_, i) => i & 0xff),
  };
  const bytes = encodeStatus(big);
  assert.equal(bytes.length, MAX_PACKET_BYTES);
  const events: DecodeEvent<StatusPacket>[] = [];
  for (let at = 0; at < bytes.length; at += 100) events.push(...decoder.push(bytes.subarray(at, at + 100)));
  assert.deepEqual(packets(events), [big]);
});

test('decoder: a frame with a valid CRC but an unstuffed FF FF FD inside is refused (it is not what any encoder sends)', () => {
  // WRITE to ID 1, params 10 00 FF FF FD 00 written without stuffing, CRC computed over it
  const frame = hex('FF FF FD 00 01 09 00 03 10 00 FF FF FD 00 00 00');
  const crc = crc16(frame, 0, frame.length - 2);
  frame[frame.length - 2] = crc & 0xff;
  frame[frame.length - 1] = crc >>> 8;
  const events = dynamixel2.instructionDecoder().push(frame);
  assert.equal(packets(events).length, 0);
  assert.match(corrupt(events)[0]!.reason, /without its stuffing byte/);
});

// ── encoder input checks ────────────────────────────────────────────────────────────────────────

test('encoder: a status from the broadcast id (combined reply) is framed unstuffed and decodes back', () => {
  const packet: StatusPacket = { id: BROADCAST_ID, error: 0, params: hex('03 FF FF FD 00 00') };
  const bytes = encodeStatus(packet);
  assert.equal(bytes.length, 11 + 6, 'no stuffing byte');
  assert.deepEqual(decodeStatuses(bytes), [{ kind: 'packet', packet }]);
});

test('encoder: bad ids, bytes and oversize packets are refused with the cause', () => {
  assert.throws(
    () => encodeInstruction({ id: 253, instruction: 1, params: new Uint8Array(0) }),
    /id 253 is not a DYNAMIXEL packet id/,
  );
  assert.throws(() => encodeStatus({ id: 1, error: 256, params: new Uint8Array(0) }), /error must be a byte/);
  assert.throws(
    () => encodeInstruction({ id: 1, instruction: 0x55, params: new Uint8Array(0) }),
    /0x55 is the status code/,
  );
  assert.throws(
    () => encodeStatus({ id: 1, error: 0, params: new Uint8Array(MAX_PACKET_BYTES) }),
    /more than the 1024/,
  );
  assert.throws(
    () => encodeStatus({ id: 1, error: 0, params: [1, 2] as unknown as Uint8Array }),
    /params must be a Uint8Array/,
  );
});

// ── operations ──────────────────────────────────────────────────────────────────────────────────

test('expectedReplies: nothing for broadcast writes and sync/bulk writes, each id in order for sync/bulk reads, one combined reply for fast reads', () => {
  const data = le(0, 4);
  const none: Operation[] = [
    { kind: 'write', id: BROADCAST_ID, address: 64, data: le(1, 1) },
    { kind: 'reg_write', id: BROADCAST_ID, address: 116, data },
    { kind: 'action', id: BROADCAST_ID },
    { kind: 'reboot', id: BROADCAST_ID },
    {
      kind: 'sync_write',
      address: 116,
      length: 4,
      entries: [
        { id: 1, data },
        { id: 2, data },
      ],
    },
    { kind: 'bulk_write', entries: [{ id: 1, address: 116, data }] },
  ];
  for (const op of none) assert.deepEqual(dynamixel2.expectedReplies(op), { kind: 'none' }, op.kind);
  assert.deepEqual(dynamixel2.expectedReplies({ kind: 'write', id: 4, address: 116, data }), {
    kind: 'each',
    ids: [4],
  });
  assert.deepEqual(dynamixel2.expectedReplies({ kind: 'action', id: 4 }), { kind: 'each', ids: [4] });
  assert.deepEqual(dynamixel2.expectedReplies({ kind: 'sync_read', address: 132, length: 4, ids: [6, 2, 9] }), {
    kind: 'each',
    ids: [6, 2, 9],
  });
  assert.deepEqual(
    dynamixel2.expectedReplies({
      kind: 'bulk_read',
      entries: [
        { id: 5, address: 132, length: 4 },
        { id: 3, address: 146, length: 1 },
      ],
    }),
    { kind: 'each', ids: [5, 3] },
  );
  assert.throws(() => dynamixel2.expectedReplies({ kind: 'ping', id: BROADCAST_ID }), /broadcast ping/);
});

test('FACTORY_RESET and CLEAR: the e-manual packets from instructionFor, answered like a write, bad parameters refused', () => {
  for (const n of [11, 13]) {
    const v = INSTRUCTION_VECTORS.find((x) => x.n === n)!;
    assert.equal(toHex(dynamixel2.encodeInstruction(dynamixel2.instructionFor(v.op!))), toHex(hex(v.bytes)), v.what);
  }
  // the three reset options of the e-manual
  for (const option of [0xff, 0x01, 0x02])
    assert.deepEqual(dynamixel2.operationOf(dynamixel2.instructionFor({ kind: 'factory_reset', id: 3, option })), {
      kind: 'factory_reset',
      id: 3,
      option,
    });
  assert.throws(
    () => dynamixel2.instructionFor({ kind: 'factory_reset', id: 1, option: 0x03 }),
    /factory_reset: option must be 0xFF \(all\), 0x01 \(all but the ID\) or 0x02 \(all but the ID and baud rate\), got 3/,
  );
  assert.throws(
    () => dynamixel2.instructionFor({ kind: 'clear', id: 1, option: 0x02 }),
    /clear: option 0x02 is reserved/,
  );
  // a status from the one servo addressed, none for a broadcast
  for (const op of [
    { kind: 'factory_reset', id: 4, option: 0x02 },
    { kind: 'clear', id: 4, option: 0x01 },
  ] as const) {
    assert.deepEqual(dynamixel2.expectedReplies(op), { kind: 'each', ids: [4] }, op.kind);
    assert.deepEqual(dynamixel2.expectedReplies({ ...op, id: BROADCAST_ID }), { kind: 'none' }, op.kind);
  }
  // CLEAR 0x01 carries its fixed key; a servo reading other bytes finds the packet malformed
  for (const params of ['01', '01 44 58 4C 21', '01 44 58 4C 22 00', ''])
    assert.throws(
      () => dynamixel2.operationOf({ id: 1, instruction: INSTRUCTION.clear, params: hex(params) }),
      MalformedInstructionError,
      params,
    );
  // reserved CLEAR options still parse: the servo answers them
  assert.deepEqual(dynamixel2.operationOf({ id: 1, instruction: INSTRUCTION.clear, params: hex('07') }), {
    kind: 'clear',
    id: 1,
    option: 7,
  });
  for (const params of ['', '01 02'])
    assert.throws(
      () => dynamixel2.operationOf({ id: 1, instruction: INSTRUCTION.factory_reset, params: hex(params) }),
      MalformedInstructionError,
      params,
    );
});

test('supports: bulk read/write and fast sync read, plus every basic operation', () => {
  for (const kind of [
    'ping',
    'read',
    'write',
    'reg_write',
    'action',
    'reboot',
    'sync_read',
    'sync_write',
    'bulk_read',
    'bulk_write',
    'fast_sync_read',
    'factory_reset',
    'clear',
  ] as const) {
    assert.ok(dynamixel2.supports.has(kind), kind);
  }
  assert.equal(dynamixel2.byteOrder, 'little');
  assert.equal(dynamixel2.instructionBytes(4), 14);
  assert.equal(dynamixel2.statusBytes(4), 15);
  assert.equal(dynamixel2.statusBytes(4), STATUS_166.length);
});

test('instructionFor refuses operations the bus cannot carry, naming the cause', () => {
  const d = le(0, 4);
  assert.throws(
    () =>
      dynamixel2.instructionFor({ kind: 'sync_write', address: 116, length: 4, entries: [{ id: 1, data: le(0, 2) }] }),
    /data for id 1 must be 4 bytes, got 2/,
  );
  assert.throws(
    () => dynamixel2.instructionFor({ kind: 'sync_read', address: 132, length: 4, ids: [1, 2, 1] }),
    /id 1 is listed twice/,
  );
  assert.throws(() => dynamixel2.instructionFor({ kind: 'sync_read', address: 132, length: 4, ids: [] }), /no ids/);
  assert.throws(
    () => dynamixel2.instructionFor({ kind: 'sync_read', address: 132, length: 4, ids: [254] }),
    /id 254 is not a servo id/,
  );
  assert.throws(
    () => dynamixel2.instructionFor({ kind: 'read', id: 1, address: 70000, length: 1 }),
    /address must be an integer in 0–65535/,
  );
  assert.throws(
    () => dynamixel2.instructionFor({ kind: 'read', id: 1, address: 132, length: 0 }),
    /length must be an integer in 1–65535/,
  );
  assert.throws(
    () => dynamixel2.instructionFor({ kind: 'write', id: 1, address: 116, data: new Uint8Array(0) }),
    /non-empty/,
  );
  assert.throws(
    () =>
      dynamixel2.instructionFor({
        kind: 'bulk_write',
        entries: [
          { id: 1, address: 116, data: d },
          { id: 1, address: 64, data: d },
        ],
      }),
    /listed twice/,
  );
});

test('operationOf: malformed parameters of a known instruction throw MalformedInstructionError; unknown codes are undefined', () => {
  const bad: InstructionPacket[] = [
    { id: 1, instruction: INSTRUCTION.read, params: hex('84 00 04') },
    { id: 1, instruction: INSTRUCTION.ping, params: hex('00') },
    { id: 254, instruction: INSTRUCTION.sync_write, params: hex('74 00 04 00 01 96 00 00') },
    { id: 254, instruction: INSTRUCTION.bulk_read, params: hex('01 90 00 02') },
    { id: 254, instruction: INSTRUCTION.bulk_write, params: hex('01 20 00 03 00 A0 00') },
    { id: 254, instruction: INSTRUCTION.sync_read, params: hex('84 00 04 00') },
  ];
  for (const packet of bad)
    assert.throws(() => dynamixel2.operationOf(packet), MalformedInstructionError, toHex(packet.params));
  assert.equal(
    dynamixel2.operationOf({ id: 1, instruction: INSTRUCTION.control_table_backup, params: new Uint8Array(0) }),
    undefined,
  );
  assert.equal(dynamixel2.operationOf({ id: 1, instruction: 0x7e, params: new Uint8Array(0) }), undefined);
});

test('protocolByName: each protocol under its own name; an unknown name lists the known ones', () => {
  assert.equal(protocolByName('dynamixel2'), dynamixel2);
  assert.deepEqual([...PROTOCOL_NAMES].sort(), ['dynamixel2', 'feetech_scs', 'feetech_sts']);
  for (const name of PROTOCOL_NAMES) assert.equal(protocolByName(name).name, name);
  assert.throws(
    () => protocolByName('dynamixel1'),
    /unknown servo protocol 'dynamixel1' \(known: dynamixel2, feetech_sts, feetech_scs\)/,
  );
  assert.throws(() => protocolByName('toString'), /unknown servo protocol/);
});
