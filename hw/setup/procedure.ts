import type { ProtocolName } from '../protocol/types.js';
import { configureServo, SetupError, type ConfiguredServo, type SetupTarget } from './configure.js';
import { FACTORY_BAUD_RATE, FACTORY_ID, findSingleServo, ScanError, scanRates } from './scan.js';
import type { SetupSession } from './session.js';

// Servo setup, servo after servo, as LeRobot's `setup_motors` runs it for the SO-100/SO-101 and
// Koch followers (src/lerobot/robots/so_follower/so_follower.py, koch_follower/koch_follower.py:
// the joints in reverse order, gripper first; "connect the controller board to the '<joint>' motor
// only and press enter"): the user connects one servo, presses Enter, the servo is found
// (scan.ts), checked and configured (configure.ts), and the next is asked for. When a servo cannot
// be set up for a reason the user can fix — nothing answers, more than one servo does, the wrong
// model — the procedure says why and asks again for the same servo; nothing was written to it.
// The port is closed while the user swaps servos.

/** What the procedure needs of the terminal (cli/calibrate_terminal.ts's TerminalUi has it). */
export interface SetupUi {
  say(text: string): void;
  /** resolves when the user presses Enter; rejects when input ends */
  waitForEnter(prompt: string): Promise<void>;
}

export interface SetupPlan {
  readonly robot: string;
  readonly protocol: ProtocolName;
  /** the device, for messages */
  readonly port: string;
  /** robot.yaml's path, for messages */
  readonly configSource: string;
  /** the servos to set up, in robot.yaml order (the procedure goes through them last first) */
  readonly servos: readonly SetupTarget[];
  /** the line rates to scan (default: scanRates for the bus rate) */
  readonly rates?: readonly number[];
}

/** Set up every servo of the plan; resolves with what each became. */
export async function runServoSetup(session: SetupSession, ui: SetupUi, plan: SetupPlan): Promise<ConfiguredServo[]> {
  if (plan.servos.length === 0) throw new Error('servo setup: no servos to set up');
  const done: ConfiguredServo[] = [];
  const busRate = plan.servos[0]!.baudRate;
  const rates = plan.rates ?? scanRates(plan.protocol, busRate);
  ui.say(
    `${plan.robot}: ${plan.servos.length} servo${plan.servos.length === 1 ? '' : 's'} to set up on ${plan.port} (${plan.protocol}, ${busRate} baud). ` +
      `Each gets its id, the bus rate and Return Delay Time 0; a new servo comes as id ${FACTORY_ID} at ${FACTORY_BAUD_RATE[plan.protocol]} baud.`,
  );
  for (const target of [...plan.servos].reverse()) {
    let prompt = `Connect the controller board to the '${target.name}' servo only (${target.model.name}, to become id ${target.id}), then press Enter.`;
    for (;;) {
      await ui.waitForEnter(prompt);
      try {
        const found = await findSingleServo(session, {
          rates,
          expected: target.model,
          port: plan.port,
          onSkippedRate: (rate, reason) => ui.say(`  (skipped ${rate} baud: ${reason})`),
        });
        ui.say(`  found id ${found.id} at ${found.baudRate} baud`);
        const result = await configureServo(session, found, target, plan.configSource);
        done.push(result);
        ui.say(
          `'${result.name}' set up: id ${result.from.id} → ${result.id}, ${result.from.baudRate} → ${result.baudRate} baud` +
            `${result.returnDelayUs !== undefined ? `, return delay ${result.returnDelayUs} µs` : ''}; read back at the new settings.`,
        );
        break;
      } catch (err) {
        if (!(err instanceof ScanError) && !(err instanceof SetupError)) throw err;
        ui.say(`'${target.name}' not set up: ${err.message}`);
        prompt = `Fix that, then press Enter to look for the '${target.name}' servo again (Ctrl-C stops).`;
      } finally {
        await session.close();
      }
    }
  }
  return done;
}
