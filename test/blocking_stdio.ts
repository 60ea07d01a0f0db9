// Preloaded into every test file's process (package.json: node --import … --test): the test runner
// reads a file's results from that process's stdout, and with --test-force-exit the process exits
// the moment its last test ends. Node writes to pipes asynchronously (Node.js docs, process, "A note
// on process I/O"), so results still queued then are lost: a file of fast tests came back with 52
// to 60 of its 69 results under load, and the run counted fewer tests and passed, silently.
// Blocking writes hand every result to the runner before the process can exit.

interface WithHandle {
  readonly _handle?: { setBlocking?: (blocking: boolean) => void };
}

for (const stream of [process.stdout, process.stderr]) (stream as unknown as WithHandle)._handle?.setBlocking?.(true);
