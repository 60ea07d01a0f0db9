// Feetech sign-magnitude integers (scs_tohost / scs_toscs in Feetech's scservo_sdk
// protocol_packet_handler.py; LeRobot's lerobot/motors/encoding_utils.py): the magnitude sits in
// the bits below `signBit` and that bit alone carries the sign. The STS3215 puts it at bit 15 for
// goal/present position and velocity, bit 11 for Homing_Offset and bit 10 for Present_Load
// (STS_SMS_SERIES_ENCODINGS_TABLE in LeRobot's lerobot/motors/feetech/tables.py). Bits above the
// sign bit are ignored on decoding, as LeRobot's `encoding_utils.decode_sign_magnitude` does, and
// never set on encoding.

/** A value whose magnitude does not fit below the sign bit. */
export class SignMagnitudeRangeError extends RangeError {
  override readonly name = 'SignMagnitudeRangeError';
}

function checkSignBit(signBit: number): void {
  if (!Number.isInteger(signBit) || signBit < 1 || signBit > 31) {
    throw new RangeError(`sign-magnitude: sign bit ${signBit} must be an integer in 1–31`);
  }
}

/** Largest magnitude a field with this sign bit holds: 2^signBit − 1 (32767 for bit 15, 2047 for bit 11). */
export function maxMagnitude(signBit: number): number {
  checkSignBit(signBit);
  return 2 ** signBit - 1;
}

/** The raw field for `value`: |value| in the low bits, the sign bit set for a negative value. */
export function encodeSignMagnitude(value: number, signBit: number): number {
  const max = maxMagnitude(signBit);
  if (!Number.isInteger(value))
    throw new SignMagnitudeRangeError(`sign-magnitude (sign bit ${signBit}): ${value} is not an integer`);
  if (value > max || value < -max) {
    throw new SignMagnitudeRangeError(
      `sign-magnitude (sign bit ${signBit}): ${value} is outside ±${max}; the magnitude must fit in the ${signBit} bits below the sign`,
    );
  }
  return value < 0 ? 2 ** signBit + -value : value;
}

/** The signed value of a raw field; a set sign bit with a zero magnitude reads as 0. */
export function decodeSignMagnitude(raw: number, signBit: number): number {
  checkSignBit(signBit);
  if (!Number.isInteger(raw) || raw < 0 || raw > 0xffffffff) {
    throw new SignMagnitudeRangeError(
      `sign-magnitude (sign bit ${signBit}): raw ${raw} is not an unsigned 32-bit integer`,
    );
  }
  const magnitude = raw % 2 ** signBit;
  const negative = Math.floor(raw / 2 ** signBit) % 2 === 1;
  return negative && magnitude !== 0 ? -magnitude : magnitude;
}
