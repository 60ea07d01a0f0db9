import { dynamixel2 } from './dynamixel/index.js';
import { feetechScs, feetechSts } from './feetech/index.js';
import type { ProtocolName, ServoProtocol } from './types.js';

// Every servo protocol under its configuration name (robot YAML `protocol:`), so the bus driver,
// the emulator and the CLI pick one by name and never import a codec directly.

const PROTOCOLS: Readonly<Record<ProtocolName, ServoProtocol>> = {
  dynamixel2,
  feetech_sts: feetechSts,
  feetech_scs: feetechScs,
};

export const PROTOCOL_NAMES = Object.keys(PROTOCOLS) as ProtocolName[];

/** The protocol of this name (any text); throws naming the known ones (the name often comes from a YAML file). */
export function protocolByName(name: string): ServoProtocol {
  const protocol = Object.hasOwn(PROTOCOLS, name) ? PROTOCOLS[name as ProtocolName] : undefined;
  if (!protocol) throw new Error(`unknown servo protocol '${name}' (known: ${PROTOCOL_NAMES.join(', ')})`);
  return protocol;
}
