import type { StatusPacket } from '../types.js';
import { encodeStatusPacket, isServoId } from './packet.js';
import { MAX_STATUS_ERROR } from './instructions.js';

// Telling an adapter's echo from a reply. Feetech frames an instruction exactly like a status
// (Feetech's "Servo SCS Communication Protocol", Instruction frame and Status frame; the error bits
// are ERRBIT_* in scservo_sdk protocol_packet_handler.py, bit 0 = input voltage).
//
// Some half-duplex adapters hand the host back every byte it transmits. On a Feetech bus an echoed
// unicast request decodes as a perfectly valid status packet (decoder.ts), and the decoders cannot
// know better: the reply of a servo with a voltage error to PING id 1 is `FF FF 01 02 01 FB`,
// exactly the PING itself. What tells them apart is order and knowledge of the adapter:
//
//  - the echo arrives first, before any reply, and is byte for byte what the host wrote;
//  - whether the adapter echoes is a property of the adapter, so the bus driver decides it once
//    (configured, or detected by writing a request that no servo answers, such as a SYNC_WRITE,
//    and seeing whether its bytes come back) and then, on an echoing adapter, drops the first
//    packet after each write when `isEchoOf` holds. On a non-echoing adapter it never drops one,
//    so a servo whose reply happens to equal the request is not mistaken for an echo.
//
// Echoes of broadcast requests never decode as status packets (id 0xFE is refused, as `corrupt`),
// so an echoing adapter also shows as one corrupt event per broadcast request, of its length.

/** Whether a decoded status packet is, byte for byte, the request the host has just written. */
export function isEchoOf(sent: Uint8Array, status: StatusPacket): boolean {
  // a packet the encoder refuses cannot have come out of the decoder, so it is no echo
  if (!isServoId(status.id) || status.error > MAX_STATUS_ERROR) return false;
  const bytes = encodeStatusPacket(status);
  if (bytes.length !== sent.length) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== sent[i]) return false;
  return true;
}
