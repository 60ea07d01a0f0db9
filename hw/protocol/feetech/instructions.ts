import { instructionNames } from '../instruction_names.js';

// The codes of the Feetech SCS/STS protocol in one place: instruction codes (Feetech's "Servo SCS
// Communication Protocol", Instruction types, and INST_* in Feetech's scservo_sdk scservo_def.py)
// and the status error bits (ERRBIT_* in scservo_sdk protocol_packet_handler.py).
// Names are looked up from these tables; nothing else in the codec spells a code.

/** Instruction codes by name. */
export const INSTRUCTION = {
  ping: 0x01,
  read: 0x02,
  write: 0x03,
  reg_write: 0x04,
  action: 0x05,
  /** factory reset of everything but the id */
  restore: 0x06,
  /** no reply; the servo is back after about 800 ms */
  reboot: 0x08,
  param_backup: 0x09,
  /** reset of the multi-turn count */
  reset: 0x0a,
  /** make the present position the middle (2048), or a given value */
  ofscal: 0x0b,
  sync_read: 0x82,
  sync_write: 0x83,
} as const;

export type InstructionName = keyof typeof INSTRUCTION;

/** `instructionName(0x03)` is 'write'; `describeInstruction(0x03)` is `write (0x03)`, of an unknown code `0x7E (undefined)`. */
export const { name: instructionName, describe: describeInstruction } = instructionNames(INSTRUCTION);

/**
 * Status error byte bits by mask (FTServo `protocol_packet_handler.py` getRxPacketError; the same
 * bits as the STS3215's Status register 65 and its unload/LED-alarm condition registers 19/20).
 * All of them are hardware conditions; the protocol has no instruction-error bits.
 */
export const STATUS_ERROR_BITS: ReadonlyMap<number, string> = new Map([
  [0x01, 'voltage'],
  [0x02, 'angle_sensor'],
  [0x04, 'overheat'],
  [0x08, 'overcurrent'],
  [0x20, 'overload'],
]);

/** Highest error byte a servo sends; the FTServo SDK drops a status whose error byte exceeds it. */
export const MAX_STATUS_ERROR = 0x7f;
