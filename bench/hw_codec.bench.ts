import { crc16, crc16Bitwise, dynamixel2 } from '../hw/protocol/dynamixel/index.js';
import { feetechSts } from '../hw/protocol/feetech/index.js';
import { sts3215 } from '../hw/servos/index.js';
import type { Operation, ReadResult, ServoProtocol, StatusPacket } from '../hw/protocol/types.js';
import { Figures, percentile, sortNumbers } from './report.js';

// Serial servo codec throughput for the reply a 6-servo arm sends every bus cycle
// (issue 5: "codec encode/decode throughput (packets/s) for a 6-servo sync read reply").
// Each case is one request; the reply is what protocol.expectedReplies says it is: one status per
// servo ('each') or one combined packet ('combined'). Encoding is what a servo (the emulator)
// does to answer; decoding is what the host does: push the reply into a status decoder in one
// chunk and, for a combined reply, split it per servo. A protocol adds its figures with one entry
// in CASES.
//
// Baselines in the same run, over the same reply bytes: a plain copy of the bytes (the floor of any
// decoder that looks at each byte once) and the CRC-16 computed bit by bit instead of from the table.

interface CodecCase {
  readonly label: string;
  readonly protocol: ServoProtocol;
  readonly request: Operation;
  /** the register bytes servo `id` answers with */
  readonly data: (id: number, length: number) => Uint8Array;
}

const ARM_IDS = [1, 2, 3, 4, 5, 6];
/** X-series Present Position (132, 4 B); Present Current..Present Position (126, 10 B) */
const PRESENT_POSITION = { address: 132, length: 4 };
const CURRENT_VELOCITY_POSITION = { address: 126, length: 10 };
/** STS3215 Present_Position (56, 2 B); the 8 B block from 56: position, velocity, load, voltage, temperature */
const STS_PRESENT_POSITION = {
  address: sts3215.registers.present_position!.address,
  length: sts3215.registers.present_position!.size,
};
const STS_FEEDBACK_BLOCK = { address: sts3215.registers.present_position!.address, length: 8 };

/** register bytes that differ per servo and byte (none form a header, as on a real arm) */
const armData = (id: number, length: number): Uint8Array =>
  Uint8Array.from({ length }, (_, i) => (id * 31 + i * 7) & 0x7f);

const CASES: readonly CodecCase[] = [
  {
    label: 'dynamixel2 SYNC_READ Present Position 4 B ×6',
    protocol: dynamixel2,
    request: { kind: 'sync_read', ...PRESENT_POSITION, ids: ARM_IDS },
    data: armData,
  },
  {
    label: 'dynamixel2 SYNC_READ current+velocity+position 10 B ×6',
    protocol: dynamixel2,
    request: { kind: 'sync_read', ...CURRENT_VELOCITY_POSITION, ids: ARM_IDS },
    data: armData,
  },
  {
    label: 'dynamixel2 FAST_SYNC_READ Present Position 4 B ×6',
    protocol: dynamixel2,
    request: { kind: 'sync_read', ...PRESENT_POSITION, ids: ARM_IDS, fast: true },
    data: armData,
  },
  {
    label: 'dynamixel2 FAST_SYNC_READ current+velocity+position 10 B ×6',
    protocol: dynamixel2,
    request: { kind: 'sync_read', ...CURRENT_VELOCITY_POSITION, ids: ARM_IDS, fast: true },
    data: armData,
  },
  {
    label: 'feetech_sts SYNC_READ Present_Position 2 B ×6',
    protocol: feetechSts,
    request: { kind: 'sync_read', ...STS_PRESENT_POSITION, ids: ARM_IDS },
    data: armData,
  },
  {
    label: 'feetech_sts SYNC_READ position..temperature 8 B at 0x38 ×6',
    protocol: feetechSts,
    request: { kind: 'sync_read', ...STS_FEEDBACK_BLOCK, ids: ARM_IDS },
    data: armData,
  },
];

const WINDOWS = 5;
const WINDOW_SECONDS = 0.2;

/**
 * Units per second of `step` (which returns the units it processed): the median over a few short
 * windows after a warm-up, so a burst of load from another process moves one window, not the figure.
 */
function rate(step: () => number): number {
  const warmEnd = performance.now() + 150;
  while (performance.now() < warmEnd) step();
  const rates: number[] = [];
  for (let w = 0; w < WINDOWS; w++) {
    let units = 0;
    const t0 = performance.now();
    let elapsed: number;
    do {
      for (let i = 0; i < 100; i++) units += step();
      elapsed = (performance.now() - t0) / 1000;
    } while (elapsed < WINDOW_SECONDS);
    rates.push(units / elapsed);
  }
  return percentile(sortNumbers(rates), 50);
}

/** keeps encoded bytes alive so the encoder's work cannot be skipped */
let encodedBytes = 0;

interface Reply {
  readonly combined: boolean;
  readonly bytes: Uint8Array;
  readonly packets: number;
  readonly encode: () => number;
  readonly decode: () => number;
}

function buildReply(c: CodecCase): Reply {
  const { protocol, request } = c;
  const expected = protocol.expectedReplies(request);
  if (expected.kind === 'none') throw new Error(`${c.label}: the request gets no reply to measure`);
  const lengths = expected.kind === 'combined' ? expected.lengths : undefined;
  const length = (k: number): number => {
    if (lengths) return lengths[k]!;
    if (request.kind === 'sync_read') return request.length;
    if (request.kind === 'bulk_read') return request.entries[k]!.length;
    throw new Error(`${c.label}: no data length for a ${request.kind} reply`);
  };
  const results: ReadResult[] = expected.ids.map((id, k) => ({ id, error: 0, data: c.data(id, length(k)) }));
  const statuses: StatusPacket[] = results.map((r) => ({ id: r.id, error: r.error, params: r.data }));
  const decoder = protocol.statusDecoder();
  if (expected.kind === 'combined') {
    const bytes = protocol.encodeCombined(results);
    return {
      combined: true,
      bytes,
      packets: 1,
      encode: () => {
        encodedBytes += protocol.encodeCombined(results).length;
        return 1;
      },
      decode: () => {
        let n = 0;
        for (const e of decoder.push(bytes))
          if (e.kind === 'packet') n += protocol.splitCombined(e.packet, expected.ids, expected.lengths).length;
        if (n !== results.length) throw new Error(`${c.label}: decoded ${n} of ${results.length} results`);
        return 1;
      },
    };
  }
  const parts = statuses.map((s) => protocol.encodeStatus(s));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (bytes.set(p, at), at + p.length), 0);
  return {
    combined: false,
    bytes,
    packets: statuses.length,
    encode: () => {
      for (const s of statuses) encodedBytes += protocol.encodeStatus(s).length;
      return statuses.length;
    },
    decode: () => {
      let n = 0;
      for (const e of decoder.push(bytes)) if (e.kind === 'packet') n++;
      if (n !== statuses.length) throw new Error(`${c.label}: decoded ${n} of ${statuses.length} packets`);
      return n;
    },
  };
}

export function hwCodecBenchmarks(figures: Figures): void {
  for (const c of CASES) {
    const reply = buildReply(c);
    const encodePackets = rate(reply.encode);
    const decodePackets = rate(reply.decode);
    const replies = (packetsPerSecond: number): number => packetsPerSecond / reply.packets;
    figures.add(`${c.label}: reply of ${reply.bytes.length} B in ${reply.packets} packet(s)`, reply.bytes.length, 'B');
    figures.add(`  encode`, encodePackets, 'packets/s');
    figures.add(`  encode, whole replies`, replies(encodePackets), 'replies/s');
    figures.add(`  decode${reply.combined ? ' + split' : ''}`, decodePackets, 'packets/s');
    figures.add(`  decode${reply.combined ? ' + split' : ''}, whole replies`, replies(decodePackets), 'replies/s');
    figures.add(`  decode throughput`, (replies(decodePackets) * reply.bytes.length) / 1e6, 'MB/s');
  }

  // baselines over the first case's reply bytes
  const bytes = buildReply(CASES[0]!).bytes;
  const sink = new Uint8Array(bytes.length);
  const copy = rate(() => (sink.set(bytes), 1));
  let crcSink = 0;
  const table = rate(() => ((crcSink ^= crc16(bytes)), 1));
  const bitwise = rate(() => ((crcSink ^= crc16Bitwise(bytes)), 1));
  const mb = (perSecond: number): number => (perSecond * bytes.length) / 1e6;
  const first = buildReply(CASES[0]!);
  const decoded = rate(first.decode) / first.packets;
  figures.add(`baseline: copy of the ${bytes.length} B ${CASES[0]!.label} reply`, mb(copy), 'MB/s');
  figures.add(`  ratio decode / copy`, mb(decoded) / mb(copy), 'x');
  figures.add(`baseline: CRC-16 table over the same bytes`, mb(table), 'MB/s');
  figures.add(`  CRC-16 bit by bit (no table)`, mb(bitwise), 'MB/s');
  figures.add(`  ratio table / bit by bit`, table / bitwise, 'x');
  if (crcSink === -1 || encodedBytes === 0) throw new Error('unreachable: keeps the results alive');
}
