import type { RegisterName, ServoModel } from '../servos/control_table.js';
import { SERVO_MODELS } from '../servos/index.js';
import { toSI } from '../servos/registers.js';
import type { FoundServo } from './scan.js';
import type { SetupSession } from './session.js';

// Bringing the one servo found on the bus to its place in the robot, as LeRobot's `setup_motor`
// (src/lerobot/motors/motors_bus.py) does, with the Return Delay Time of its `configure_motors`
// (feetech.py, dynamixel.py) and a check LeRobot leaves out:
//  1. the model number read must be the model robot.yaml names for this joint;
//  2. torque off (Feetech: Lock 0 too, so EEPROM writes persist — STS memory table, Lock), read
//     back: EEPROM (id, baud rate, return delay) is written only once torque is seen off;
//  3. Return Delay Time 0, then the id, then the baud rate — in that order, because after the id
//     the servo answers to the new id, and after the baud rate only at the new rate;
//  4. the port moves to the new rate, and id, baud rate, return delay, model number and torque are
//     read back from the new id there; Feetech: Lock 1 again (its factory state);
//  5. a last broadcast PING at the new settings: the servo must be alone there too.

export class SetupError extends Error {
  constructor(
    readonly problem: 'wrong_model' | 'torque_on' | 'not_applied' | 'several',
    message: string,
  ) {
    super(message);
    this.name = 'SetupError';
  }
}

export interface SetupTarget {
  /** the joint, as robot.yaml names it */
  readonly name: string;
  readonly id: number;
  readonly model: ServoModel;
  /** the robot's bus rate */
  readonly baudRate: number;
}

export interface ConfiguredServo {
  readonly name: string;
  readonly model: ServoModel;
  /** where it was found */
  readonly from: { readonly id: number; readonly baudRate: number };
  readonly id: number;
  readonly baudRate: number;
  /** Return Delay Time as read back, µs (undefined for a model without the register) */
  readonly returnDelayUs: number | undefined;
}

/** The model a number names on this protocol, for messages. */
export function describeModelNumber(protocol: string, modelNumber: number): string {
  const model = SERVO_MODELS.find((m) => m.protocol === protocol && m.modelNumber === modelNumber);
  return model
    ? `a ${model.name} (model number ${modelNumber})`
    : `model number ${modelNumber}, a model dynastack has no table for`;
}

/** The Baud Rate register value of `bps` on `model`; throws listing the rates it can use. */
export function baudRegisterValue(model: ServoModel, bps: number): number {
  const entry = [...model.baudRates].find(([, rate]) => rate === bps);
  if (!entry)
    throw new Error(
      `${model.name} cannot run at ${bps} baud (its rates: ${[...model.baudRates.values()].join(', ')}): change robot.yaml's baud_rate`,
    );
  return entry[0];
}

function has(model: ServoModel, name: RegisterName): boolean {
  return model.registers[name] !== undefined;
}

/** Configure the servo `found` (the session open at its rate) as `target`; verified at the new settings. */
export async function configureServo(
  session: SetupSession,
  found: FoundServo,
  target: SetupTarget,
  configSource: string,
): Promise<ConfiguredServo> {
  const { model } = target;
  const protocol = session.protocol.name;
  if (found.modelNumber !== model.modelNumber)
    throw new SetupError(
      'wrong_model',
      `the servo found (id ${found.id} at ${found.baudRate} baud) is ${describeModelNumber(protocol, found.modelNumber)}, ` +
        `but ${configSource} has '${target.name}' as a ${model.name} (model number ${model.modelNumber}). ` +
        `Connect the ${model.name} meant for '${target.name}', or correct its model in ${configSource}.`,
    );
  const baudValue = baudRegisterValue(model, target.baudRate);
  await session.at(found.baudRate);

  // torque off before any EEPROM write, and seen off
  let id = found.id;
  await session.write(id, model, 'torque_enable', 0);
  if (has(model, 'lock')) await session.write(id, model, 'lock', 0);
  const torque = await session.read(id, model, 'torque_enable');
  if (torque !== 0)
    throw new SetupError(
      'torque_on',
      `'${target.name}' (id ${id}): Torque Enable still reads ${torque} after writing 0; its EEPROM is not written with torque on`,
    );

  if (has(model, 'return_delay_time')) await session.write(id, model, 'return_delay_time', 0);
  if (target.id !== id) {
    await session.write(id, model, 'id', target.id, 'maybe');
    id = target.id;
  }
  if (target.baudRate !== found.baudRate) await session.write(id, model, 'baud_rate', baudValue, 'maybe');

  // read back at the new settings
  await session.at(target.baudRate);
  const notApplied = (what: string): SetupError =>
    new SetupError(
      'not_applied',
      `'${target.name}': ${what} after the writes (it was id ${found.id} at ${found.baudRate} baud; asked for id ${target.id} at ${target.baudRate} baud). Power-cycle the servo and run setup for it again.`,
    );
  let modelNumber: number | undefined;
  try {
    modelNumber = (await session.ping(id)).modelNumber ?? (await session.read(id, model, 'model_number'));
  } catch (err) {
    throw notApplied(`id ${id} does not answer at ${target.baudRate} baud (${(err as Error).message})`);
  }
  if (modelNumber !== model.modelNumber)
    throw notApplied(
      `id ${id} at ${target.baudRate} baud reports model number ${modelNumber}, not ${model.modelNumber}`,
    );
  const readId = await session.read(id, model, 'id');
  if (readId !== target.id) throw notApplied(`its ID register reads ${readId}`);
  const readBaud = await session.read(id, model, 'baud_rate');
  if (readBaud !== baudValue) throw notApplied(`its Baud Rate register reads ${readBaud}, not ${baudValue}`);
  let returnDelayUs: number | undefined;
  if (has(model, 'return_delay_time')) {
    const raw = await session.read(id, model, 'return_delay_time');
    if (raw !== 0) throw notApplied(`its Return Delay Time reads ${raw}, not 0`);
    returnDelayUs = toSI(model, 'return_delay_time', raw) * 1e6;
  }
  if ((await session.read(id, model, 'torque_enable')) !== 0) throw notApplied('its torque is on');
  // Feetech: EEPROM locked again, as the servo came from the factory
  if (has(model, 'lock')) await session.write(id, model, 'lock', 1);

  const after = await session.broadcastPing();
  const others = after.replies.filter((r) => r.id !== id);
  if (others.length || after.unreadableBytes > 0)
    throw new SetupError(
      'several',
      `'${target.name}': a broadcast PING at ${target.baudRate} baud after setup got ids ${after.replies.map((r) => r.id).join(', ')}` +
        `${after.unreadableBytes ? ` and ${after.unreadableBytes} unreadable bytes` : ''}: more than one servo was connected, and each may have taken the writes. ` +
        'Connect the servos one at a time and set each up again.',
    );
  return {
    name: target.name,
    model,
    from: { id: found.id, baudRate: found.baudRate },
    id: target.id,
    baudRate: target.baudRate,
    returnDelayUs,
  };
}
