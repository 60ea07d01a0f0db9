// Byte helpers shared by both servo codecs, the emulator and the hw tests: hex text for messages and
// vendor test vectors, and joining packets into one stream.

/** `0x0A`: one byte as it is written in messages. */
export function hexByte(value: number): string {
  return `0x${value.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** `0x0A1B`: a 16-bit value (a CRC) as it is written in messages. */
export function hexWord(value: number): string {
  return `0x${value.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** `FF FF FD 00`: bytes as a vendor manual prints them. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}

/** The bytes of whitespace-separated hex pairs (`'FF FF 01 02'`); throws naming a token that is not one byte. */
export function fromHex(text: string): Uint8Array {
  const tokens = text
    .trim()
    .split(/\s+/)
    .filter((t) => t.length > 0);
  return Uint8Array.from(tokens, (token) => {
    if (!/^[0-9a-fA-F]{1,2}$/.test(token)) throw new Error(`fromHex: '${token}' is not a byte in hex (00–FF)`);
    return parseInt(token, 16);
  });
}

/** One new array holding `parts` back to back. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
