import type { ProtocolName } from '../protocol/types.js';
import type { ServoModel } from '../servos/control_table.js';
import { SERVO_MODELS } from '../servos/index.js';
import type { PingScan, SetupSession } from './session.js';

// Finding the one servo on the bus, as LeRobot's `_find_single_motor` does
// (src/lerobot/motors/feetech/feetech.py and dynamixel/dynamixel.py): at each line rate in turn a
// broadcast PING (every id at once); the first rate where anything answers is where the servo is.
// Unlike LeRobot, more than one answer is refused rather than the first taken, and so are replies
// garbled the way two servos answering together garble them. The rates tried: the robot's bus
// rate first (a servo set up before), the protocol's factory rate next (a new one), then every
// other rate a servo of the protocol can be set to.

/** Factory line rate per protocol: X-series 57600 bps (e-manual control tables, Baud Rate), STS 1 Mbps (STS memory table). */
export const FACTORY_BAUD_RATE: Readonly<Record<ProtocolName, number>> = {
  dynamixel2: 57_600,
  feetech_sts: 1_000_000,
  feetech_scs: 1_000_000,
};

/** Factory id of both vendors' servos. */
export const FACTORY_ID = 1;

/** Why the scan could not hand over one servo; each says what the user should do. */
export type ScanProblem = 'none' | 'several' | 'garbled';

export class ScanError extends Error {
  constructor(
    readonly problem: ScanProblem,
    message: string,
    readonly scans: readonly PingScan[],
  ) {
    super(message);
    this.name = 'ScanError';
  }
}

export interface FoundServo {
  readonly baudRate: number;
  readonly id: number;
  /** from the PING reply (DYNAMIXEL) or the Model Number register (Feetech) */
  readonly modelNumber: number;
}

/** The rates to try, in order: the bus rate, the factory rate, then the rest of the protocol's models' rates. */
export function scanRates(protocol: ProtocolName, busRate: number): number[] {
  const rates = [busRate, FACTORY_BAUD_RATE[protocol]];
  for (const model of SERVO_MODELS) {
    if (model.protocol !== protocol) continue;
    for (const bps of model.baudRates.values()) rates.push(bps);
  }
  return [...new Set(rates)];
}

export interface ScanOptions {
  readonly rates: readonly number[];
  /** the model the servo should be: its table gives the Model Number register (Feetech PING carries none) */
  readonly expected: ServoModel;
  /** what to call the port in messages */
  readonly port: string;
  /** a rate the port cannot be opened at (an adapter that refuses it) is reported here and skipped */
  readonly onSkippedRate?: (baudRate: number, reason: string) => void;
  /** each rate as it is tried */
  readonly onRate?: (baudRate: number) => void;
}

/**
 * Find the single servo on the bus. Leaves the session open at the servo's rate. Throws ScanError
 * when nothing answers, when more than one servo does, or when replies are garbled.
 */
export async function findSingleServo(session: SetupSession, options: ScanOptions): Promise<FoundServo> {
  const scans: PingScan[] = [];
  for (const [i, rate] of options.rates.entries()) {
    options.onRate?.(rate);
    try {
      await session.at(rate);
    } catch (err) {
      // the first rate is the robot's own: a port that cannot open at it is a port problem
      if (i === 0) throw err;
      options.onSkippedRate?.(rate, (err as Error).message);
      continue;
    }
    const scan = await session.broadcastPing();
    scans.push(scan);
    if (scan.replies.length > 1) {
      const ids = scan.replies.map((r) => describeReply(r.id, r.modelNumber, session.protocol.name)).join(', ');
      throw new ScanError(
        'several',
        `more than one servo answers at ${rate} baud: ${ids}. Connect only one servo to the bus and try again.`,
        scans,
      );
    }
    if (scan.replies.length === 1 && scan.unreadableBytes > 0) {
      const r = scan.replies[0]!;
      throw new ScanError(
        'garbled',
        `at ${rate} baud ${describeReply(r.id, r.modelNumber, session.protocol.name)} answered, and ${scan.unreadableBytes} more bytes were unreadable: replies colliding, so more than one servo seems to be connected (two with one id answer at once). Connect only one servo and try again.`,
        scans,
      );
    }
    if (scan.replies.length === 1) {
      const r = scan.replies[0]!;
      const modelNumber = r.modelNumber ?? (await session.read(r.id, options.expected, 'model_number'));
      return { baudRate: rate, id: r.id, modelNumber };
    }
  }
  const noisy = scans.filter((s) => s.unreadableBytes > 0);
  if (noisy.length)
    throw new ScanError(
      'garbled',
      `no servo gave a readable reply on ${options.port}, but unreadable bytes came back at ${noisy.map((s) => `${s.baudRate} baud (${s.unreadableBytes} bytes)`).join(', ')}: two servos with the same id answering at once look like this. Connect only one servo and try again.`,
      scans,
    );
  throw new ScanError(
    'none',
    `no servo answered on ${options.port} at ${options.rates.join(', ')} baud (broadcast PING, every id). ` +
      `Check that the servo is plugged in and its supply is on (the servos need their own power, USB alone does not run them), ` +
      `and that robot.yaml's protocol is the servo's (${session.protocol.name} here): a servo speaking the other protocol never answers.`,
    scans,
  );
}

function describeReply(id: number, modelNumber: number | undefined, protocol: ProtocolName): string {
  if (modelNumber === undefined) return `id ${id}`;
  const model = SERVO_MODELS.find((m) => m.protocol === protocol && m.modelNumber === modelNumber);
  return `id ${id} (${model ? model.name : `model number ${modelNumber}`})`;
}
