// CRC-16 of DYNAMIXEL Protocol 2.0 (ROBOTIS e-manual, https://emanual.robotis.com/docs/en/dxl/protocol2/,
// CRC section; the same table as updateCRC in DynamixelSDK's protocol2_packet_handler.cpp):
// polynomial 0x8005, init 0, MSB-first, no reflection, no final XOR (the catalogue's CRC-16/BUYPASS;
// check value of ASCII "123456789" is 0xFEE8). It covers the packet from the first header byte
// through the last (stuffed) parameter and travels low byte first.

export const CRC16_POLYNOMIAL = 0x8005;

/** One step of the bit-serial definition: the reference the table is built from and checked against. */
function crc16BitwiseByte(crc: number, byte: number): number {
  crc ^= byte << 8;
  for (let bit = 0; bit < 8; bit++) {
    crc = crc & 0x8000 ? ((crc << 1) ^ CRC16_POLYNOMIAL) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** CRC contribution of each possible top byte, so the packet loop does one lookup per byte. */
const TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) table[i] = crc16BitwiseByte(0, i);
  return table;
})();

/** CRC-16 of `bytes[start, end)`, continuing from `crc` (0 for a fresh packet). */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length, crc = 0): number {
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) ^ TABLE[((crc >>> 8) ^ bytes[i]!) & 0xff]!) & 0xffff;
  }
  return crc;
}

/** The same CRC computed bit by bit: eight shifts per byte, no table (tests and the bench baseline). */
export function crc16Bitwise(bytes: Uint8Array, start = 0, end = bytes.length, crc = 0): number {
  for (let i = start; i < end; i++) crc = crc16BitwiseByte(crc, bytes[i]!);
  return crc;
}
