import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readLatencyTimer } from '../hw/bus/hints.js';
import { DEFAULT_TIMING } from '../hw/bus/transaction.js';
import { protocolByName } from '../hw/protocol/index.js';
import { loadRobotConfig, type RobotConfig } from '../hw/robot_config.js';
import { servoModel } from '../hw/servos/index.js';
import { baudRegisterValue } from '../hw/setup/configure.js';
import { runServoSetup } from '../hw/setup/procedure.js';
import { serialLinkOpener, SetupSession } from '../hw/setup/session.js';
import { createLogger } from '../src/util/log.js';
import { TerminalUi } from './calibrate_terminal.js';

// `dynastack servo setup`: gives factory-fresh servos the id, baud rate and Return Delay Time
// robot.yaml asks for, one servo at a time (hw/setup/procedure.ts), in the terminal as `dynastack
// calibrate` does — prompts on stdout, Enter on stdin, so it runs in tmux, over ssh and with piped
// input. `dynastack servo` is the family of servo commands; setup is its only one so far.

export const SERVO_USAGE =
  'dynastack servo setup --config <robot.yaml> [--port PATH] [--only NAME,…] [--timeout-margin-ms MS]';

const HELP = `usage: ${SERVO_USAGE}
  Set up the servos of robot.yaml one at a time, as LeRobot's setup_motors does: connect only the
  servo asked for and press Enter; it is found at whatever id and baud rate it has (broadcast PING
  at each rate), its model is checked against robot.yaml, and it gets its id, the bus baud rate and
  Return Delay Time 0 (written with torque off, then read back at the new settings).

  --config FILE          the robot: port, protocol, baud rate, servos (config/robots/*.yaml)
  --port PATH            the serial device, instead of the config's port
  --only NAMES           set up only these joints (comma-separated), e.g. a replaced servo
  --timeout-margin-ms MS slack added to every transaction timeout and to the PING window
                         (default 20; raise it for a slow adapter or a busy machine)`;

function selected(text: string | undefined, config: RobotConfig): RobotConfig['servos'] {
  if (text === undefined) return config.servos;
  const wanted = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const known = config.servos.map((s) => s.name);
  const unknown = wanted.filter((n) => !known.includes(n));
  if (unknown.length || wanted.length === 0)
    throw new Error(
      `--only: ${unknown.length ? `${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not a joint of ${config.robot}` : 'name at least one joint'} (${known.join(', ')})`,
    );
  return config.servos.filter((s) => wanted.includes(s.name));
}

export async function servoMain(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    process.stdout.write(`usage: ${SERVO_USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'setup') {
    process.stderr.write(`unknown servo command '${sub}'\nusage: ${SERVO_USAGE}\n`);
    return 2;
  }
  return servoSetup(rest);
}

async function servoSetup(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      only: { type: 'string' },
      'timeout-margin-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (!values.config) throw new Error(`servo setup needs --config <robot.yaml>\n${HELP}`);
  const config = loadRobotConfig(resolve(values.config));
  const servos = selected(values.only, config);
  let marginMs: number | undefined;
  if (values['timeout-margin-ms'] !== undefined) {
    marginMs = Number(values['timeout-margin-ms']);
    if (!(marginMs >= 0 && marginMs <= 5000))
      throw new Error(`--timeout-margin-ms '${values['timeout-margin-ms']}' is not 0 to 5000 ms`);
  }
  const targets = servos.map((s) => {
    const model = servoModel(s.model);
    // a bus rate the model cannot use is robot.yaml's mistake: say so before anything is touched
    baudRegisterValue(model, config.baudRate);
    return { name: s.name, id: s.id, model, baudRate: config.baudRate };
  });
  const port = values.port ?? config.port;
  const log = createLogger('servo_setup');
  const session = new SetupSession(protocolByName(config.protocol), serialLinkOpener(port, { logger: log }), {
    // an FTDI adapter's latency timer holds every reply that long
    adapterLatencyMs: Math.max(DEFAULT_TIMING.adapterLatencyMs, readLatencyTimer(port)?.ms ?? 0),
    ...(marginMs !== undefined ? { marginMs } : {}),
    logger: log,
  });
  const ui = new TerminalUi({
    input: process.stdin,
    output: process.stdout,
    endMessage: 'input ended before servo setup was done (stdin closed)',
  });
  const onSignal = (): void => {
    process.stdout.write(
      '\nservo setup interrupted: the servo being set up may have its new id but not yet its new baud rate; run setup for it again (--only NAME)\n',
    );
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  try {
    const done = await runServoSetup(session, ui, {
      robot: config.robot,
      protocol: config.protocol,
      port,
      configSource: config.source,
      servos: targets,
    });
    process.stdout.write(
      `${done.length} servo${done.length === 1 ? '' : 's'} set up: ${done
        .map((d) => `${d.name} id ${d.id}`)
        .join(', ')}. Connect them all in a chain; \`dynastack calibrate --config ${values.config}\` comes next.\n`,
    );
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    ui.close();
    await session.close().catch((err: unknown) => log.warn(`closing ${port}: ${(err as Error).message}`));
  }
}
