// Errors both servo codecs throw, one class each so a caller (the emulator) can catch them whatever
// the protocol.

/** A known instruction whose parameters do not parse (an emulated servo answers or ignores it as its protocol says). */
export class MalformedInstructionError extends Error {
  override readonly name = 'MalformedInstructionError';
}
