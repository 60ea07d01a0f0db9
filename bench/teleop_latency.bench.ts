import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LeaderArm } from '../hw/arm/leader_arm.js';
import { LeaderFollowerMap } from '../hw/arm/leader_follower_map.js';
import { ServoArm } from '../hw/arm/servo_arm.js';
import { ServoBus } from '../hw/bus/servo_bus.js';
import type { JointConfig, ServoBusApi } from '../hw/bus/servo_bus_api.js';
import type { RobotCalibration } from '../hw/calibration/calibration.js';
import { writeFileAtomic } from '../src/util/atomic_file.js';
import { createLogger } from '../src/util/log.js';
import { Figures, percentile, sortNumbers } from './report.js';
import { startEmulator, stopEmulator } from './forked_emulator.js';

// Leader/follower teleoperation at 100 Hz over ptys: an SO-101 leader chain and an SO-101 follower
// chain, each emulated in its own process (forked `hw/emulator/main`, the leader with
// --leader-motion replaying a sweep), and this process doing what a teleop loop does each tick:
// one sync read of the leader (LeaderArm.read), the map onto the follower's joints
// (LeaderFollowerMap), the follower's bus cycle (ServoArm.cycle: one sync write of the goals, one
// sync read of its state). Figures: the latency from the start of the leader read to the follower's
// goal written (the sync write handed to the port), p50/p99/max, and the share of ticks whose
// whole work — leader read, goal written, follower state read — was done within the 10 ms period
// with a leader reading (a tick that overran makes the ticks it ran into missed ones). The run is
// TELEOP_BENCH_S seconds (default 60). A pty has no wire time: a real bus adds 10 µs a byte at
// 1 Mbaud, and a USB adapter its latency (FTDI latency_timer: 16 ms by default, 1 ms when set).

const RATE_HZ = 100;
const PERIOD_MS = 1000 / RATE_HZ;
const NAMES = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];

function robotYaml(robot: string, port: string): string {
  const servos = NAMES.map(
    (name, i) => `  - { id: ${i + 1}, name: ${name}, model: STS3215, registers: { return_delay_time: 0 } }`,
  ).join('\n');
  return `robot: ${robot}\nport: ${port}\nprotocol: feetech_sts\nbaud_rate: 1000000\nservos:\n${servos}\n`;
}

function calibration(robot: string): RobotCalibration {
  return {
    robot,
    protocol: 'feetech_sts',
    joints: NAMES.map((name, i) => ({
      name,
      id: i + 1,
      model: 'STS3215',
      drive_mode: 0,
      homing_offset: 0,
      range_min: name === 'wrist_roll' ? 0 : 600,
      range_max: name === 'wrist_roll' ? 4095 : 3500,
    })),
  };
}

/** The follower's bus, noting when each goal write was handed on. */
function timedGoals(bus: ServoBus, written: { at: number }): ServoBusApi {
  return new Proxy(bus, {
    get(target, prop) {
      if (prop === 'writeGoals')
        return async (...args: Parameters<ServoBus['writeGoals']>) => {
          await target.writeGoals(...args);
          written.at = performance.now();
        };
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export async function teleopLatencyBenchmarks(figures: Figures): Promise<void> {
  const seconds = Number(process.env['TELEOP_BENCH_S'] ?? 60);
  if (!(seconds > 0))
    throw new Error(`TELEOP_BENCH_S '${process.env['TELEOP_BENCH_S']}' is not a positive number of seconds`);
  const log = createLogger('teleop_bench', 'error');
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-teleop-bench-'));
  const children: ChildProcess[] = [];
  try {
    const leaderConfig = join(dir, 'leader.yaml');
    const followerConfig = join(dir, 'follower.yaml');
    writeFileAtomic(leaderConfig, robotYaml('so101_leader', join(dir, 'leader-tty')));
    writeFileAtomic(followerConfig, robotYaml('so101_follower', join(dir, 'follower-tty')));
    const leaderEmu = await startEmulator(['--config', leaderConfig, '--leader-motion', 'sweep:0.5:0.5']);
    children.push(leaderEmu.child);
    const followerEmu = await startEmulator(['--config', followerConfig]);
    children.push(followerEmu.child);
    const joints: JointConfig[] = NAMES.map((name, i) => ({ id: i + 1, name, model: 'STS3215' }));
    const leaderCal = calibration('so101_leader');
    const followerCal = calibration('so101_follower');
    const leader = await LeaderArm.open({
      port: leaderEmu.devicePath,
      baudRate: 1_000_000,
      protocol: 'feetech_sts',
      joints,
      calibration: leaderCal,
      timing: { returnDelayUs: 0 },
      logger: log,
    });
    const followerBus = await ServoBus.open({
      port: followerEmu.devicePath,
      baudRate: 1_000_000,
      protocol: 'feetech_sts',
      joints,
      timing: { returnDelayUs: 0 },
      logger: log,
    });
    const written = { at: 0 };
    const follower = new ServoArm(timedGoals(followerBus, written), followerCal, {
      commandInterface: 'position',
      commandTimeoutMs: 500,
      writeCalibration: true,
      logger: log,
    });
    try {
      await follower.setup();
      await follower.enable();
      const map = new LeaderFollowerMap(leaderCal, followerCal, {
        leaderJointNames: leader.jointNames,
        followerJointNames: follower.names,
      });
      const targets = new Float64Array(follower.names.length);
      const latencies: number[] = [];
      const leaderReads: number[] = [];
      let ticks = 0;
      let withinBudget = 0;
      let noReading = 0;
      let missed = 0;
      let cycleFailures = 0;
      const start = performance.now();
      const end = start + seconds * 1000;
      let deadline = start;
      while (deadline < end) {
        const wait = deadline - performance.now();
        if (wait > 0) await sleep(wait);
        ticks++;
        const t0 = performance.now();
        const angles = await leader.read();
        leaderReads.push(performance.now() - t0);
        let ok = angles !== undefined;
        if (angles) {
          map.map(angles, targets);
          written.at = 0;
          follower.command(targets);
          try {
            await follower.cycle();
          } catch {
            cycleFailures++;
            ok = false;
          }
          if (written.at > 0) latencies.push(written.at - t0);
          else ok = false;
        } else noReading++;
        const done = performance.now();
        if (ok && done - t0 <= PERIOD_MS) withinBudget++;
        deadline += PERIOD_MS;
        // an overrun: the slots it ran into are missed ticks, the loop goes on at the next free one
        while (deadline + PERIOD_MS <= done) {
          deadline += PERIOD_MS;
          ticks++;
          missed++;
        }
      }
      const sorted = sortNumbers(latencies);
      const reads = sortNumbers(leaderReads);
      process.stdout.write(
        `  SO-101 leader → SO-101 follower, both emulated in their own processes over ptys, ${RATE_HZ} Hz for ${seconds} s\n`,
      );
      figures.add('teleop leader read → follower goal written p50', percentile(sorted, 50), 'ms');
      figures.add('teleop leader read → follower goal written p99', percentile(sorted, 99), 'ms');
      figures.add('teleop leader read → follower goal written max', sorted.at(-1) ?? Number.NaN, 'ms');
      figures.add('teleop leader read alone p50', percentile(reads, 50), 'ms');
      figures.add('teleop leader read alone p99', percentile(reads, 99), 'ms');
      figures.add(`teleop ticks done within the ${PERIOD_MS} ms budget`, (100 * withinBudget) / ticks, '%');
      figures.add('teleop ticks', ticks, 'ticks');
      figures.add('teleop ticks missed (an earlier tick overran)', missed, 'ticks');
      figures.add('teleop ticks without a leader reading', noReading, 'ticks');
      figures.add('teleop follower cycles failed', cycleFailures, 'cycles');
    } finally {
      await follower.disable().catch(() => undefined);
      follower.dispose();
      await followerBus.close();
      await leader.close();
    }
  } finally {
    for (const child of children) await stopEmulator(child);
    rmSync(dir, { recursive: true, force: true });
  }
}
