import type { ProtocolName } from '../protocol/types.js';
import type { Register, ServoModel } from './control_table.js';
import { xl330M288, xl430W250, xm430W350 } from './dynamixel_x.js';
import { sts3215 } from './feetech_sts.js';

// The servo models dynastack has control tables for, by name and by the model number a servo
// reports (Dynamixel: PING reply / address 0; Feetech: address 3).

export { xl330M288, xl430W250, xm430W350 } from './dynamixel_x.js';
export { sts3215 } from './feetech_sts.js';
export type { Encoding, Quantity, Register, RegisterName, ServoModel, Unit } from './control_table.js';
export {
  byteOrderOf,
  decodeBlock,
  decodeRegister,
  encodeRegister,
  fromSI,
  hardwareErrorNames,
  registerOf,
  representableRange,
  toSI,
  writableRange,
} from './registers.js';

export const SERVO_MODELS: readonly ServoModel[] = [xl330M288, xl430W250, xm430W350, sts3215];

/** A model by name, case-insensitively ('STS3215', 'sts3215', 'XL430-W250'); throws naming the known models. */
export function servoModel(name: string): ServoModel {
  const wanted = name.trim().toUpperCase();
  const model = SERVO_MODELS.find((m) => m.name.toUpperCase() === wanted);
  if (!model) throw new Error(`unknown servo model '${name}' (known: ${SERVO_MODELS.map((m) => m.name).join(', ')})`);
  return model;
}

/** The model a servo on a bus of this protocol reports by its model number; throws naming the known ones. */
export function servoModelByNumber(protocol: ProtocolName, modelNumber: number): ServoModel {
  const model = SERVO_MODELS.find((m) => m.protocol === protocol && m.modelNumber === modelNumber);
  if (!model) {
    const known = SERVO_MODELS.map((m) => `${m.name} = ${m.modelNumber} (${m.protocol})`).join(', ');
    throw new Error(`no control table for model number ${modelNumber} on a ${protocol} bus (known: ${known})`);
  }
  return model;
}

/** The register holding the hardware error bits: Hardware Error Status (Dynamixel 70) or Status (Feetech 65). */
export function hardwareErrorRegister(model: ServoModel): Register {
  const register = model.registers.hardware_error_status ?? model.registers.status;
  if (!register) throw new Error(`servo model ${model.name} has no hardware error register`);
  return register;
}
