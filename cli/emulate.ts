import { EMULATE_USAGE, emulateMain } from '../hw/emulator/main.js';

// `dynastack emulate`: try the stack with no arm attached — the servo bus of a robot.yaml emulated
// behind a pty (hw/emulator/main.ts does the work; this is the CLI's entry to it).

export { EMULATE_USAGE };

export function emulate(argv: string[]): Promise<number> {
  return emulateMain(argv);
}
