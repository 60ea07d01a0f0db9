import { readFileSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Logger } from '../../src/util/log.js';
import type { ProtocolName } from '../protocol/types.js';

// Advice for users when the bus times out: the causes that look exactly like a dead servo but are
// settings. Each hint is printed once per bus. The facts behind them:
//  - an FTDI adapter holds a short incoming packet until its latency timer expires, 16 ms by default
//    (FTDI application note AN232B-04); Linux's ftdi_sio driver exposes the timer in sysfs as
//    /sys/bus/usb-serial/devices/ttyUSBn/latency_timer;
//  - Return Delay Time is 500 µs from the factory on X-series servos (ROBOTIS e-manual, each model's
//    control table) and LeRobot writes 0 on every servo (configure_motors in lerobot/motors/);
//  - factory baud rates: 57600 bps on X-series servos (e-manual control table, Baud Rate), 1 Mbps on
//    STS servos (Feetech's STS memory table);
//  - the two protocols ignore each other's packets: a DYNAMIXEL 2.0 packet starts FF FF FD 00
//    (e-manual "DYNAMIXEL Protocol 2.0", Packet), a Feetech one FF FF then the id (Feetech's
//    scservo_sdk protocol_packet_handler.py; the same framing as DYNAMIXEL Protocol 1.0) — so a
//    bus configured for the other protocol hears silence, or bytes that never form a packet.
// docs/servo-protocols.md ("When the bus misbehaves") collects them with their sources.

/** Factory baud rate per protocol, the usual cause of "no reply" on a fresh servo. */
const FACTORY_BAUD: Record<ProtocolName, number> = {
  dynamixel2: 57_600,
  feetech_sts: 1_000_000,
  feetech_scs: 1_000_000,
};

/**
 * The sysfs latency_timer of the FTDI adapter behind `devicePath` (symlinks such as
 * /dev/serial/by-id/… resolved), or undefined when there is none (CH34x, ACM, pty, other OS).
 */
export function latencyTimerPath(devicePath: string, sysRoot = '/sys'): string | undefined {
  let real: string;
  try {
    real = realpathSync(devicePath);
  } catch {
    return undefined;
  }
  const tty = basename(real);
  if (!/^ttyUSB\d+$/.test(tty)) return undefined;
  return join(sysRoot, 'bus/usb-serial/devices', tty, 'latency_timer');
}

/** The adapter's latency timer in ms, when it has one. */
export function readLatencyTimer(devicePath: string, sysRoot = '/sys'): { path: string; ms: number } | undefined {
  const path = latencyTimerPath(devicePath, sysRoot);
  if (!path) return undefined;
  try {
    const ms = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(ms) ? { path, ms } : undefined;
  } catch {
    return undefined;
  }
}

export interface HintContext {
  readonly devicePath: string;
  readonly baudRate: number;
  readonly protocol: ProtocolName;
  /** Return Delay Time per servo id, µs, where it was read */
  readonly returnDelayUs?: ReadonlyMap<number, number>;
  readonly sysRoot?: string;
  /** bytes received on the bus and status packets of `protocol` decoded from them, so far */
  readonly traffic?: { readonly receivedBytes: number; readonly packets: number };
  /** a servo answered a PING in this other protocol (asked when none answered in `protocol`) */
  readonly otherProtocol?: { readonly protocol: ProtocolName; readonly id: number };
}

export interface Hint {
  readonly key: 'latency_timer' | 'return_delay' | 'baud_rate' | 'protocol' | 'other_protocol';
  readonly text: string;
}

const PROTOCOL_LABEL: Record<ProtocolName, string> = {
  dynamixel2: 'DYNAMIXEL Protocol 2.0',
  feetech_sts: 'Feetech SCS/STS',
  feetech_scs: 'Feetech SCS/STS',
};

/** Every hint that applies to this bus now. */
export function busHints(ctx: HintContext): Hint[] {
  const hints: Hint[] = [];
  const latency = readLatencyTimer(ctx.devicePath, ctx.sysRoot);
  if (latency && latency.ms > 1) {
    hints.push({
      key: 'latency_timer',
      text:
        `the USB adapter holds short replies for up to ${latency.ms} ms (${latency.path}); set it to 1: ` +
        `'echo 1 | sudo tee ${latency.path}', or for good with the udev rule ` +
        `ACTION=="add", SUBSYSTEM=="usb-serial", DRIVER=="ftdi_sio", ATTR{latency_timer}="1"`,
    });
  }
  const slow = [...(ctx.returnDelayUs ?? new Map<number, number>())].filter(([, us]) => us > 0);
  if (slow.length) {
    hints.push({
      key: 'return_delay',
      text: `servos ${slow.map(([id, us]) => `${id} (${us} µs)`).join(', ')} wait before each reply; write Return Delay Time = 0 (as LeRobot does) to cut every read`,
    });
  }
  const other = ctx.otherProtocol;
  if (other) {
    const set = other.protocol === 'dynamixel2' ? 'dynamixel2' : 'feetech_sts (or feetech_scs)';
    hints.push({
      key: 'other_protocol',
      text:
        `servo ${other.id} answers a ${PROTOCOL_LABEL[other.protocol]} PING` +
        `${other.protocol === 'dynamixel2' ? '' : ' (the framing DYNAMIXEL Protocol 1.0 shares)'}: ` +
        `the bus is configured for ${ctx.protocol} — set protocol: ${set} in robot.yaml`,
    });
  } else if (ctx.traffic && ctx.traffic.receivedBytes > 0 && ctx.traffic.packets === 0) {
    hints.push({
      key: 'protocol',
      text:
        `${ctx.traffic.receivedBytes} bytes arrived but none formed a ${ctx.protocol} packet: the servos may speak ` +
        `another protocol (a DYNAMIXEL config on a Feetech chain, or the reverse) or run at another baud rate`,
    });
  }
  const factory = FACTORY_BAUD[ctx.protocol];
  hints.push({
    key: 'baud_rate',
    text:
      `the bus runs at ${ctx.baudRate} baud: servos set to another rate never answer (factory rate for ${ctx.protocol}: ${factory}); ` +
      `an unpowered servo supply or two servos with the same id look the same`,
  });
  return hints;
}

/** Prints each hint once per bus, the first time timeouts happen. */
export class HintPrinter {
  readonly #shown = new Set<Hint['key']>();
  constructor(
    private readonly log: Logger,
    private readonly context: () => HintContext,
  ) {}

  /** Call at open: a latency timer above 1 ms slows every read even when nothing times out. */
  onOpen(): Hint[] {
    return this.#print(busHints(this.context()).filter((h) => h.key === 'latency_timer'));
  }

  /** Call on a timeout; prints the hints not shown yet. Returns what was printed. */
  onTimeout(): Hint[] {
    return this.#print(busHints(this.context()));
  }

  #print(hints: readonly Hint[]): Hint[] {
    const fresh = hints.filter((h) => !this.#shown.has(h.key));
    for (const hint of fresh) {
      this.#shown.add(hint.key);
      this.log.warn(`hint: ${hint.text}`);
    }
    return fresh;
  }
}
