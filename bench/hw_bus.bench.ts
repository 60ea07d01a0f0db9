import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { BusError, ServoBus } from '../hw/bus/servo_bus.js';
import type { JointConfig } from '../hw/bus/servo_bus_api.js';
import { protocolByName } from '../hw/protocol/index.js';
import type { Operation, ProtocolName } from '../hw/protocol/types.js';
import { servoModel } from '../hw/servos/index.js';
import { encodeRegister, registerOf } from '../hw/servos/registers.js';
import { writeFileAtomic } from '../src/util/atomic_file.js';
import { createLogger } from '../src/util/log.js';
import { Figures, percentile, sortNumbers } from './report.js';
import { startEmulator, stopEmulator } from './forked_emulator.js';

// The serial bus driver's figures: a full bus cycle for a 6-servo arm — one SYNC_WRITE of the goals
// and one SYNC_READ — against the emulator in a separate process (forked `hw/emulator/main`) over
// its pseudo-terminal (the emulator holds the master, this process opens the slave with serialport),
// for both protocols: cycles/s and cycle latency p50/p99. Two cycles are measured:
// goals + Present_Position (the figure) and goals + the state block (position, velocity,
// current/load: what the bridge reads). Baseline, interleaved in the same run: the same request
// bytes written to the same pty with a bare SerialPort, waiting only for the reply's byte count —
// no decoding, no queue, no timeouts — so the ratio is what the driver adds to the pty + emulator
// floor. A pty has no wire time: a real bus adds 10 µs a byte at 1 Mbaud, the servos' Return
// Delay Time and the USB adapter's latency (an FTDI latency_timer holds short replies up to 16 ms
// by default).

const CYCLES = 600;
const ROUNDS = 4;
const WARMUP = 200;

interface Arm {
  readonly label: string;
  readonly protocol: ProtocolName;
  readonly models: readonly string[];
}

const ARMS: readonly Arm[] = [
  { label: 'SO-101 (6 × STS3215, Feetech STS)', protocol: 'feetech_sts', models: Array(6).fill('STS3215') },
  {
    label: 'Koch (2 × XL430 + 4 × XL330, Dynamixel 2.0)',
    protocol: 'dynamixel2',
    models: ['XL430-W250', 'XL430-W250', 'XL330-M288', 'XL330-M288', 'XL330-M288', 'XL330-M288'],
  },
];

const NAMES = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];

function robotYaml(arm: Arm, port: string): string {
  const servos = arm.models
    .map((m, i) => `  - { id: ${i + 1}, name: ${NAMES[i]}, model: ${m}, registers: { return_delay_time: 0 } }`)
    .join('\n');
  return `robot: bench\nport: ${port}\nprotocol: ${arm.protocol}\nbaud_rate: 1000000\nservos:\n${servos}\n`;
}

/** The operations of one cycle, as the driver issues them: goals for every joint, then one sync read. */
function cycleOps(
  arm: Arm,
  readNames: readonly ('present_position' | 'present_velocity' | 'present_current' | 'present_load')[],
): Operation[] {
  const models = arm.models.map((m) => servoModel(m));
  const goal = registerOf(models[0]!, 'goal_position');
  const entries = models.map((m, i) => ({ id: i + 1, data: encodeRegister(m, 'goal_position', m.centerPosition) }));
  let start = Infinity;
  let end = -Infinity;
  for (const m of models) {
    for (const name of readNames) {
      const effort = name === 'present_current' && !m.registers.present_current ? 'present_load' : name;
      const r = registerOf(m, effort);
      start = Math.min(start, r.address);
      end = Math.max(end, r.address + r.size);
    }
  }
  return [
    { kind: 'sync_write', address: goal.address, length: goal.size, entries },
    { kind: 'sync_read', address: start, length: end - start, ids: models.map((_, i) => i + 1) },
  ];
}

/** Bare ping-pong: the cycle's packets, pre-encoded, each answered by the byte count the protocol predicts. */
async function baselineCycles(
  arm: Arm,
  devicePath: string,
  ops: readonly Operation[],
  cycles: number,
): Promise<number[]> {
  const protocol = protocolByName(arm.protocol);
  const packets = ops.map((op) => protocol.encodeInstruction(protocol.instructionFor(op)));
  const replyBytes = ops.map((op) => {
    const expected = protocol.expectedReplies(op);
    if (expected.kind !== 'each') return 0;
    return expected.ids.length * protocol.statusBytes(op.kind === 'sync_read' ? op.length : 0);
  });
  const port = new SerialPort({ path: devicePath, baudRate: 1_000_000, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  let waiting: { left: number; done: () => void } | undefined;
  port.on('data', (chunk: Buffer) => {
    if (!waiting) return;
    waiting.left -= chunk.length;
    if (waiting.left <= 0) {
      const w = waiting;
      waiting = undefined;
      w.done();
    }
  });
  const latencies: number[] = [];
  for (let c = 0; c < cycles; c++) {
    const t0 = performance.now();
    for (let i = 0; i < packets.length; i++) {
      const left = replyBytes[i]!;
      const answered = left ? new Promise<void>((done) => (waiting = { left, done })) : undefined;
      await new Promise<void>((resolve, reject) => port.write(packets[i]!, (err) => (err ? reject(err) : resolve())));
      await answered;
    }
    latencies.push(performance.now() - t0);
  }
  await new Promise<void>((done) => port.close(() => done()));
  return latencies;
}

/** Driver cycles; a cycle that fails (every retry timed out: a loaded machine) counts with its full cost. */
async function driverCycles(
  bus: ServoBus,
  read: 'positions' | 'state',
  cycles: number,
  failed: { count: number },
): Promise<number[]> {
  const goals = new Float64Array(6);
  const latencies: number[] = [];
  for (let c = 0; c < cycles; c++) {
    goals[c % 6] = 0.001 * (c % 100);
    const t0 = performance.now();
    try {
      await bus.writeGoals(goals);
      if (read === 'positions') await bus.readPositions();
      else await bus.readState();
    } catch (err) {
      if (!(err instanceof BusError) || err.kind === 'lost' || err.kind === 'closed') throw err;
      failed.count++;
    }
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

function report(figures: Figures, label: string, latencies: readonly number[], baseline?: readonly number[]): void {
  const sorted = sortNumbers(latencies);
  const total = latencies.reduce((a, b) => a + b, 0);
  const rate = (1000 * latencies.length) / total;
  figures.add(`${label} cycles/s`, rate, 'cycle/s');
  figures.add(`${label} latency p50`, percentile(sorted, 50), 'ms');
  figures.add(`${label} latency p99`, percentile(sorted, 99), 'ms');
  if (baseline) {
    const baseRate = (1000 * baseline.length) / baseline.reduce((a, b) => a + b, 0);
    figures.add(`  ratio driver / bare ping-pong (cycles/s)`, rate / baseRate, 'x');
    figures.add(
      `  ratio driver / bare ping-pong (latency p50)`,
      percentile(sorted, 50) / percentile(sortNumbers(baseline), 50),
      'x',
    );
  }
}

export async function hwBusBenchmarks(figures: Figures): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-hw-bench-'));
  try {
    for (const arm of ARMS) {
      const configPath = join(dir, `${arm.protocol}.yaml`);
      writeFileAtomic(configPath, robotYaml(arm, join(dir, `${arm.protocol}-tty`)));
      const { child, devicePath } = await startEmulator(['--config', configPath]);
      try {
        const joints: JointConfig[] = arm.models.map((model, i) => ({ id: i + 1, name: NAMES[i]!, model }));
        const positionsOps = cycleOps(arm, ['present_position']);
        const stateOps = cycleOps(arm, ['present_position', 'present_velocity', 'present_current']);
        const samples = {
          basePos: [] as number[],
          pos: [] as number[],
          baseState: [] as number[],
          state: [] as number[],
        };
        const failed = { count: 0 };
        let timeouts = 0;
        let transactions = 0;
        for (let round = 0; round < ROUNDS; round++) {
          // the bus and the bare port take turns on the pty (each holds the port's lock while open)
          const warm = round === 0 ? WARMUP : 0;
          samples.basePos.push(...(await baselineCycles(arm, devicePath, positionsOps, warm + CYCLES)).slice(warm));
          samples.baseState.push(...(await baselineCycles(arm, devicePath, stateOps, CYCLES)));
          const bus = await ServoBus.open({
            port: devicePath,
            baudRate: 1_000_000,
            protocol: arm.protocol,
            joints,
            logger: createLogger('hw_bus_bench', 'error'),
            timing: { returnDelayUs: 0 },
          });
          try {
            samples.pos.push(...(await driverCycles(bus, 'positions', warm + CYCLES, failed)).slice(warm));
            samples.state.push(...(await driverCycles(bus, 'state', CYCLES, failed)));
            timeouts += bus.diagnostics().counters.timeouts;
            transactions += bus.diagnostics().counters.transactions;
          } finally {
            await bus.close();
          }
        }
        const bytes = (ops: Operation[]) => {
          const p = protocolByName(arm.protocol);
          const read = ops[1] as Extract<Operation, { kind: 'sync_read' }>;
          const tx = ops.reduce((n, op) => n + p.instructionBytes(p.instructionFor(op).params.length), 0);
          return `${tx} B out, ${read.ids.length * p.statusBytes(read.length)} B back`;
        };
        process.stdout.write(`  ${arm.label}; ${ROUNDS} × ${CYCLES} cycles each, interleaved\n`);
        report(figures, `${arm.protocol} goals + positions (${bytes(positionsOps)})`, samples.pos, samples.basePos);
        report(figures, `  baseline: bare ping-pong, same bytes`, samples.basePos);
        report(figures, `${arm.protocol} goals + state block (${bytes(stateOps)})`, samples.state, samples.baseState);
        report(figures, `  baseline: bare ping-pong, same bytes`, samples.baseState);
        figures.add(`${arm.protocol} attempts timed out (of ${transactions} transactions)`, timeouts, 'attempts');
        figures.add(`${arm.protocol} cycles failed after retries`, failed.count, 'cycles');
      } finally {
        await stopEmulator(child);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
