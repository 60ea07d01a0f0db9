// Byte stuffing of DYNAMIXEL Protocol 2.0 (ROBOTIS e-manual "DYNAMIXEL Protocol 2.0", Byte
// Stuffing; addStuffing / removeStuffing in DynamixelSDK's protocol2_packet_handler.cpp): between
// the instruction byte and the CRC, every `FF FF FD` gets an extra `FD`, so that the only
// `FF FF FD` not followed by `FD` on the wire is a packet header. The receiver checks the CRC over
// the stuffed bytes and then removes each inserted `FD`.
//
// All functions work on a range of a larger buffer so the encoder and the streaming decoder can
// stuff and unstuff in place of a packet without copying it first.

const isMarker = (bytes: Uint8Array, i: number): boolean =>
  bytes[i] === 0xff && bytes[i + 1] === 0xff && bytes[i + 2] === 0xfd;

/** How many `FD` bytes stuffing `bytes[start, end)` adds: one per `FF FF FD`. */
export function stuffingCount(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let count = 0;
  // a marker cannot overlap the next one (FD is not FF), so after a match the scan skips it whole
  for (let i = start; i + 3 <= end;) {
    if (isMarker(bytes, i)) {
      count++;
      i += 3;
    } else i++;
  }
  return count;
}

/** Copies `src[start, end)` stuffed into `dst` at `offset`; returns the offset after the last byte written. */
export function stuffInto(src: Uint8Array, start: number, end: number, dst: Uint8Array, offset: number): number {
  let i = start;
  while (i < end) {
    if (i + 3 <= end && isMarker(src, i)) {
      dst[offset++] = 0xff;
      dst[offset++] = 0xff;
      dst[offset++] = 0xfd;
      dst[offset++] = 0xfd;
      i += 3;
    } else dst[offset++] = src[i++]!;
  }
  return offset;
}

/**
 * How many stuffed `FD` bytes `bytes[start, end)` carries, or -1 when the range is not a valid
 * stuffed body: an `FF FF FD` that is not followed by `FD` inside the range (a sender that skipped
 * stuffing, or a corrupted byte that happened to keep the CRC).
 */
export function stuffedCount(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let count = 0;
  for (let i = start; i + 3 <= end;) {
    if (isMarker(bytes, i)) {
      if (i + 3 >= end || bytes[i + 3] !== 0xfd) return -1;
      count++;
      i += 4;
    } else i++;
  }
  return count;
}

/** Copies `src[start, end)` into `dst` at `offset` with the stuffed `FD`s removed; returns the offset after the last byte. */
export function unstuffInto(src: Uint8Array, start: number, end: number, dst: Uint8Array, offset: number): number {
  let i = start;
  while (i < end) {
    if (i + 4 <= end && isMarker(src, i) && src[i + 3] === 0xfd) {
      dst[offset++] = 0xff;
      dst[offset++] = 0xff;
      dst[offset++] = 0xfd;
      i += 4;
    } else dst[offset++] = src[i++]!;
  }
  return offset;
}

/** `bytes` stuffed, as a new array. */
export function stuff(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + stuffingCount(bytes));
  stuffInto(bytes, 0, bytes.length, out, 0);
  return out;
}

/** `bytes` with the stuffing removed, as a new array; throws when `bytes` is not a valid stuffed body. */
export function unstuff(bytes: Uint8Array): Uint8Array {
  const count = stuffedCount(bytes);
  if (count < 0) throw new Error('not a stuffed DYNAMIXEL body: it holds FF FF FD without the FD that stuffing adds');
  const out = new Uint8Array(bytes.length - count);
  unstuffInto(bytes, 0, bytes.length, out, 0);
  return out;
}
