import { hexByte } from './bytes.js';

// Reverse lookup of a protocol's instruction-code table, for messages and sniffers. Each protocol
// keeps its own table (instructions.ts); this turns a code back into its name.

// Plain function properties (not methods): each protocol exports them destructured.
export interface InstructionNames<Name extends string> {
  /** The name of an instruction code, or undefined for a code the protocol does not define. */
  readonly name: (code: number) => Name | undefined;
  /** A code as text for messages: `write (0x03)` or `0x7E (undefined)`. */
  readonly describe: (code: number) => string;
}

/** Name lookups over `codes` (name → code, as each protocol's INSTRUCTION table). */
export function instructionNames<Name extends string>(codes: Readonly<Record<Name, number>>): InstructionNames<Name> {
  const names = new Map<number, Name>();
  for (const name of Object.keys(codes) as Name[]) names.set(codes[name], name);
  const name = (code: number): Name | undefined => names.get(code);
  return {
    name,
    describe: (code: number): string => {
      const label = name(code);
      return label ? `${label} (${hexByte(code)})` : `${hexByte(code)} (undefined)`;
    },
  };
}
