import { writeFileAtomic } from '../../src/util/atomic_file.js';

// Run by atomic_file.test.ts and killed at a random moment: writes the file it is given without
// end, file k being 2 MB of the byte k mod 256, so the test can tell a whole file from a torn one.

const path = process.argv[2]!;
for (let k = 1; ; k++) {
  writeFileAtomic(path, new Uint8Array(2 ** 21).fill(k % 256));
  process.stdout.write(`written ${k}\n`);
  await new Promise((resolve) => setImmediate(resolve)); // let the line go out
}
