// The protocol-neutral shape of serial servo packets: what the bus driver, the emulator and the
// tests share across DYNAMIXEL Protocol 2.0 and Feetech SCS/STS (the two specifications and their
// sources are listed in docs/servo-protocols.md).
//
// Two layers:
//  - packets: an instruction (id, instruction code, parameter bytes) and a status (id, error byte,
//    parameter bytes), exactly as framed on the wire minus header, length and CRC/checksum;
//  - operations: the typed requests a driver issues (ping, read, write, sync read/write, …), which
//    each protocol turns into packets and whose replies it knows how to expect.
// Each protocol implements `ServoProtocol`; nothing above it looks at a header byte.

export type ProtocolName = 'dynamixel2' | 'feetech_sts' | 'feetech_scs';

/** Broadcast id of both protocols. */
export const BROADCAST_ID = 0xfe;

/** A host → servo packet: header, length and check bytes are the codec's business. */
export interface InstructionPacket {
  readonly id: number;
  readonly instruction: number;
  readonly params: Uint8Array;
}

/** A servo → host packet. `error` is the raw error byte (Dynamixel: alert bit 7 + error number). */
export interface StatusPacket {
  readonly id: number;
  readonly error: number;
  readonly params: Uint8Array;
}

/** One servo's share of a sync/bulk read. */
export interface ReadResult {
  readonly id: number;
  readonly error: number;
  readonly data: Uint8Array;
}

/** The operations a driver issues, protocol-neutral. Register data is raw bytes in the servo's byte order. */
export type Operation =
  | { readonly kind: 'ping'; readonly id: number }
  | { readonly kind: 'read'; readonly id: number; readonly address: number; readonly length: number }
  | { readonly kind: 'write'; readonly id: number; readonly address: number; readonly data: Uint8Array }
  | { readonly kind: 'reg_write'; readonly id: number; readonly address: number; readonly data: Uint8Array }
  | { readonly kind: 'action'; readonly id: number }
  | { readonly kind: 'reboot'; readonly id: number }
  /** DYNAMIXEL only: control table back to factory values; `option` 0xFF all, 0x01 all but the ID, 0x02 all but the ID and baud rate */
  | { readonly kind: 'factory_reset'; readonly id: number; readonly option: number }
  /** DYNAMIXEL only: reset some information; `option` 0x01 = Present Position back within one turn (the others are reserved) */
  | { readonly kind: 'clear'; readonly id: number; readonly option: number }
  /** sync read of the same registers from several servos; `fast` = Dynamixel FAST_SYNC_READ (one combined reply) */
  | {
      readonly kind: 'sync_read';
      readonly address: number;
      readonly length: number;
      readonly ids: readonly number[];
      readonly fast?: boolean;
    }
  /** sync write of the same registers to several servos: one data block of `length` bytes each */
  | {
      readonly kind: 'sync_write';
      readonly address: number;
      readonly length: number;
      readonly entries: readonly { readonly id: number; readonly data: Uint8Array }[];
    }
  /** Dynamixel only: different registers per servo */
  | {
      readonly kind: 'bulk_read';
      readonly entries: readonly { readonly id: number; readonly address: number; readonly length: number }[];
      readonly fast?: boolean;
    }
  | {
      readonly kind: 'bulk_write';
      readonly entries: readonly { readonly id: number; readonly address: number; readonly data: Uint8Array }[];
    };

export type OperationKind = Operation['kind'];

/** What a request gets back: which ids answer, in order, and how (no reply for broadcasts/writes to 0xFE). */
export type ExpectedReplies =
  | { readonly kind: 'none' }
  /** one status packet from each id, in this order */
  | { readonly kind: 'each'; readonly ids: readonly number[] }
  /** Dynamixel fast sync/bulk read: one combined status packet from id 0xFE with these segments */
  | { readonly kind: 'combined'; readonly ids: readonly number[]; readonly lengths: readonly number[] };

/** What a streaming decoder found in the bytes it was given. */
export type DecodeEvent<P> =
  | { readonly kind: 'packet'; readonly packet: P }
  /** bytes skipped while looking for a header */
  | { readonly kind: 'garbage'; readonly bytes: number }
  /** a framed packet that failed its check (CRC/checksum, length, reserved byte…): dropped, never accepted */
  | { readonly kind: 'corrupt'; readonly reason: string; readonly bytes: number };

/** Feeds arbitrary chunks (split, glued, corrupted) and yields whole, verified packets. */
export interface StreamDecoder<P> {
  push(chunk: Uint8Array): DecodeEvent<P>[];
  /** drop any partial packet (e.g. after a timeout or a reopened port) */
  reset(): void;
  /** bytes held waiting for the rest of a packet */
  readonly pending: number;
}

/** What an error byte says, in words a log or a diagnostics message can carry. */
export interface ServoErrorInfo {
  /** a hardware fault that needs attention (Dynamixel alert bit; Feetech overload/overheat/voltage bits) */
  readonly hardware: boolean;
  /** an instruction-level error (Dynamixel error number 1–7) */
  readonly instruction: string | undefined;
  /** named bits or causes, e.g. ['overload', 'overheat'] */
  readonly flags: readonly string[];
}

export interface ServoProtocol {
  readonly name: ProtocolName;
  /** byte order of multi-byte registers */
  readonly byteOrder: 'little' | 'big';
  /** whether the protocol has bulk read/write and fast sync read */
  readonly supports: ReadonlySet<OperationKind | 'fast_sync_read'>;

  encodeInstruction(packet: InstructionPacket): Uint8Array;
  encodeStatus(packet: StatusPacket): Uint8Array;
  /** host side: decodes status packets */
  statusDecoder(): StreamDecoder<StatusPacket>;
  /** servo side (emulator, sniffers): decodes instruction packets */
  instructionDecoder(): StreamDecoder<InstructionPacket>;

  /** an operation as the instruction packet that carries it; throws on an operation the protocol lacks */
  instructionFor(op: Operation): InstructionPacket;
  /** the same, back (emulator): undefined for instruction codes outside `Operation` */
  operationOf(packet: InstructionPacket): Operation | undefined;
  expectedReplies(op: Operation): ExpectedReplies;
  /** split a combined (fast) reply's parameters into per-servo results */
  splitCombined(packet: StatusPacket, ids: readonly number[], lengths: readonly number[]): ReadResult[];
  /** a combined reply built by a chain of servos (emulator) */
  encodeCombined(results: readonly ReadResult[]): Uint8Array;
  describeError(error: number): ServoErrorInfo;
  /** wire bytes of a packet with this many parameters (timeouts, bus budgets) */
  instructionBytes(paramCount: number): number;
  statusBytes(paramCount: number): number;
}
