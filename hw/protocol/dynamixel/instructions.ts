import { instructionNames } from '../instruction_names.js';

// The codes of DYNAMIXEL Protocol 2.0 in one place (ROBOTIS e-manual "DYNAMIXEL Protocol 2.0":
// Instruction Packet for the codes, Status Packet for the error numbers and the alert bit).
// Names are looked up from these tables; nothing else in the codec spells a code.

/** Instruction codes by name. */
export const INSTRUCTION = {
  ping: 0x01,
  read: 0x02,
  write: 0x03,
  reg_write: 0x04,
  action: 0x05,
  factory_reset: 0x06,
  reboot: 0x08,
  clear: 0x10,
  control_table_backup: 0x20,
  status: 0x55,
  sync_read: 0x82,
  sync_write: 0x83,
  fast_sync_read: 0x8a,
  bulk_read: 0x92,
  bulk_write: 0x93,
  fast_bulk_read: 0x9a,
} as const;

export type InstructionName = keyof typeof INSTRUCTION;

/** FACTORY_RESET's parameter (e-manual, Factory Reset): what survives the reset. */
export const FACTORY_RESET_OPTION = {
  /** everything to factory values, the ID (1) and baud rate (57600) included */
  all: 0xff,
  all_but_id: 0x01,
  all_but_id_and_baud_rate: 0x02,
} as const;

/** CLEAR's first parameter for the one option the e-manual defines: Present Position back within one turn. */
export const CLEAR_MULTI_TURN = 0x01;
/** The fixed bytes that follow CLEAR_MULTI_TURN ('DXL"'). */
export const CLEAR_KEY: readonly number[] = [0x44, 0x58, 0x4c, 0x22];

/** `instructionName(0x03)` is 'write'; `describeInstruction(0x03)` is `write (0x03)`, of an unknown code `0x7E (undefined)`. */
export const { name: instructionName, describe: describeInstruction } = instructionNames(INSTRUCTION);

/** Bit 7 of the status error byte: the servo has a hardware fault; Hardware Error Status says which. */
export const ALERT_BIT = 0x80;
/** Bits 6–0 of the status error byte: how the instruction was processed. */
export const ERROR_NUMBER_MASK = 0x7f;

/** Status error numbers (bits 6–0) by number, with the e-manual's meaning. */
export const ERROR_NUMBERS: ReadonlyMap<number, { readonly name: string; readonly meaning: string }> = new Map([
  [0x01, { name: 'result_fail', meaning: 'failed to process the instruction packet' }],
  [0x02, { name: 'instruction_error', meaning: 'undefined instruction, or ACTION without REG_WRITE' }],
  [0x03, { name: 'crc_error', meaning: 'the CRC of the instruction packet did not match' }],
  [0x04, { name: 'data_range_error', meaning: 'the value is outside the range of the address' }],
  [0x05, { name: 'data_length_error', meaning: 'fewer bytes than the item at the address holds' }],
  [0x06, { name: 'data_limit_error', meaning: 'the value is outside the limit set in the control table' }],
  [0x07, { name: 'access_error', meaning: 'read-only or undefined address, or an EEPROM write with torque on' }],
]);

/** The error number of a given name (the emulator answers with these). */
export function errorNumber(name: string): number {
  for (const [number, entry] of ERROR_NUMBERS) if (entry.name === name) return number;
  throw new Error(
    `no DYNAMIXEL error number is named '${name}' (known: ${[...ERROR_NUMBERS.values()].map((e) => e.name).join(', ')})`,
  );
}
