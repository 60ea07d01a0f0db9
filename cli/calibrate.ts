import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { angleLimits, type RobotCalibration } from '../hw/calibration/calibration.js';
import {
  calibrationTarget,
  defaultCalibrationPath,
  importLerobotCalibration,
  writeCalibrationFile,
  type CalibrationTarget,
} from '../hw/calibration/file.js';
import { runCalibration, type CalibrationBus } from '../hw/calibration/procedure.js';
import { ServoBus } from '../hw/bus/servo_bus.js';
import { jointsOf, loadRobotConfig, type RobotConfig } from '../hw/robot_config.js';
import { servoModel } from '../hw/servos/index.js';
import { createLogger } from '../src/util/log.js';
import { TerminalUi } from './calibrate_terminal.js';

// `dynastack calibrate`: walks the user through calibrating the arm described by robot.yaml
// (hw/calibration/procedure.ts) in the terminal — prompts on stdout, Enter on stdin, so it works
// in tmux and with piped input — and writes the calibration file the hw_bridge reads. With
// --import-lerobot it converts a LeRobot calibration JSON instead, touching no servo.

export const CALIBRATE_USAGE =
  'dynastack calibrate --config <robot.yaml> [--port PATH] [--out FILE] [--import-lerobot FILE] [--full-turn NAME,…] [--reverse NAME,…] [--sample-ms MS] [--timeout-margin-ms MS]';

const HELP = `usage: ${CALIBRATE_USAGE}
  --config FILE          the robot: port, protocol, baud rate, servos (config/robots/*.yaml)
  --port PATH            the serial device, instead of the config's port
  --out FILE             where to write the calibration (default: $XDG_CONFIG_HOME or ~/.config,
                         then dynastack/calibration/<robot>.yaml)
  --import-lerobot FILE  convert a LeRobot calibration JSON (e.g. ~/.cache/huggingface/lerobot/
                         calibration/robots/so101_follower/<id>.json) instead of calibrating
  --full-turn NAMES      joints that turn all the way round; their range is the whole turn
                         (default: wrist_roll when the robot has one, as LeRobot does)
  --reverse NAMES        joints whose direction is reversed (drive_mode 1)
  --sample-ms MS         sampling period while recording ranges (default 20)
  --timeout-margin-ms MS slack added to every transaction timeout (default 20; raise it for a
                         slow adapter or a busy machine)`;

function names(text: string | undefined, config: RobotConfig, option: string): string[] {
  if (text === undefined || text.trim() === '') return [];
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const known = config.servos.map((s) => s.name);
  const unknown = list.filter((n) => !known.includes(n));
  if (unknown.length)
    throw new Error(
      `--${option}: ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not a joint of ${config.robot} (${known.join(', ')})`,
    );
  return list;
}

/** The calibration as a table a user can check: raw range and the joint limits it gives. */
function summary(cal: RobotCalibration, target: CalibrationTarget): string {
  return cal.joints
    .map((j) => {
      const model = target.joints.find((t) => t.name === j.name)!.model;
      const [lo, hi] = angleLimits(j, model);
      const deg = (x: number): string => ((x * 180) / Math.PI).toFixed(1);
      return `  ${j.name.padEnd(15)} id ${String(j.id).padStart(3)}  offset ${String(j.homing_offset).padStart(6)}  range ${String(j.range_min).padStart(5)} … ${String(j.range_max).padStart(5)}  (${deg(lo)}° … ${deg(hi)}°)${j.drive_mode ? '  reversed' : ''}`;
    })
    .join('\n');
}

export async function calibrateMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      out: { type: 'string' },
      'import-lerobot': { type: 'string' },
      'full-turn': { type: 'string' },
      reverse: { type: 'string' },
      'sample-ms': { type: 'string' },
      'timeout-margin-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (!values.config) throw new Error(`calibrate needs --config <robot.yaml>\n${HELP}`);
  const config = loadRobotConfig(resolve(values.config));
  const target = calibrationTarget(config);
  const out = resolve(values.out ?? defaultCalibrationPath(config.robot));

  if (values['import-lerobot']) {
    const from = resolve(values['import-lerobot']);
    let text: string;
    try {
      text = readFileSync(from, 'utf8');
    } catch (err) {
      throw new Error(`cannot read LeRobot calibration ${from}: ${(err as Error).message}`, { cause: err });
    }
    const cal = importLerobotCalibration(text, from, target);
    writeCalibrationFile(
      out,
      cal,
      `imported from LeRobot calibration ${from} on ${new Date().toISOString()} by dynastack calibrate`,
    );
    process.stdout.write(`${config.robot}: LeRobot calibration imported\n${summary(cal, target)}\nwritten to ${out}\n`);
    process.stdout.write(
      "The servos keep the offsets and limits they hold; hw_bridge writes the file's values to any that differ (write_calibration).\n",
    );
    return 0;
  }

  const fullTurn =
    values['full-turn'] !== undefined
      ? names(values['full-turn'], config, 'full-turn')
      : config.servos.some((s) => s.name === 'wrist_roll')
        ? ['wrist_roll']
        : [];
  const reversed = names(values.reverse, config, 'reverse');
  let samplePeriodMs = 20;
  if (values['sample-ms'] !== undefined) {
    samplePeriodMs = Number(values['sample-ms']);
    if (!(samplePeriodMs >= 1 && samplePeriodMs <= 1000))
      throw new Error(`--sample-ms '${values['sample-ms']}' is not a period of 1 to 1000 ms`);
  }
  let marginMs: number | undefined;
  if (values['timeout-margin-ms'] !== undefined) {
    marginMs = Number(values['timeout-margin-ms']);
    if (!(marginMs >= 0 && marginMs <= 5000))
      throw new Error(`--timeout-margin-ms '${values['timeout-margin-ms']}' is not 0 to 5000 ms`);
  }
  const port = values.port ?? config.port;
  const log = createLogger('calibrate');
  process.stdout.write(
    `${config.robot}: ${config.servos.length} servos on ${port} (${config.protocol}, ${config.baudRate} baud)\n`,
  );
  if (fullTurn.length) process.stdout.write(`full-turn joints: ${fullTurn.join(', ')} (change with --full-turn)\n`);
  // calibration must not carry on across an unplug: no background reopen
  const bus = await ServoBus.open({
    port,
    baudRate: config.baudRate,
    protocol: config.protocol,
    joints: jointsOf(config),
    reopen: false,
    ...(marginMs !== undefined ? { timing: { marginMs } } : {}),
    logger: log,
  });
  const ui = new TerminalUi({ input: process.stdin, output: process.stdout });
  const onSignal = (): void => {
    process.stdout.write(
      '\ncalibration interrupted: nothing was saved; the servos may be left with a reset calibration (offset 0, full-turn limits)\n',
    );
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  const adapter: CalibrationBus = {
    readPositions: () => bus.readPositions(),
    writeRegister: (joint, register, value) => bus.writeRegister(joint, register, value),
  };
  // torque is off from the first step on; closing with torque off again would unlock the Feetech EEPROM the procedure locked
  let done = false;
  try {
    const cal = await runCalibration(adapter, ui, {
      robot: config.robot,
      protocol: config.protocol,
      joints: config.servos.map((s) => ({
        name: s.name,
        id: s.id,
        model: servoModel(s.model),
        driveMode: reversed.includes(s.name) ? 1 : 0,
        fullTurn: fullTurn.includes(s.name),
      })),
      samplePeriodMs,
      save: (c) =>
        writeCalibrationFile(
          out,
          c,
          `written by dynastack calibrate on ${new Date().toISOString()} for ${config.source}`,
        ),
    });
    done = true;
    process.stdout.write(`${summary(cal, target)}\ncalibration written to ${out}\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    ui.close();
    await bus
      .close({ torqueOff: !done })
      .catch((err: unknown) => log.warn(`closing the bus: ${(err as Error).message}`));
  }
}
