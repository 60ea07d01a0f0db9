// The Feetech SCS/STS packet checksum (Feetech's "Servo SCS Communication Protocol", Instruction
// frame, as transcribed in ftservo/ftservo-wiki docs/en/reference/protocol/ft-scs.md; txPacket in
// Feetech's scservo_sdk protocol_packet_handler.py): the bitwise NOT of the low byte of the sum of
// every byte from ID through the last parameter
// (ID + LEN + INST/ERR + ΣP). It is one byte, so a random corruption passes it about 1 time in 256;
// the decoders' framing checks (ID, LEN, ERR ranges) are the rest of the protection.

/** Checksum of `bytes[start, end)`: ~(Σ bytes) & 0xFF. */
export function feetechChecksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += bytes[i]!;
  return ~sum & 0xff;
}
