// A harsher load for finding timing races in tests (scripts/stress-test.sh with STRESS_STALL=1, or
// by hand: NODE_OPTIONS="--import ./scripts/stall.mjs" node --test dist/test/…). Preloaded into
// every Node process and every worker thread started from a file (Node runs --import modules in
// each), it blocks that thread's event loop for a random 50–400 ms, again and again, 100–500 ms
// apart: what a loaded machine, a long GC pause or a descheduled thread does now and then, here on
// every thread all the time. A test that waits for a condition passes under it; one that counts on a
// thread getting its time within a fixed window fails. The block is an Atomics.wait, which sleeps
// without burning CPU, so the stalls add no load of their own; the timer is unref'd, so it never
// keeps a process or a worker alive. STALL_MS="min-max" and STALL_GAP_MS="min-max" change the ranges.

const range = (text, fallback) => {
  const m = /^(\d+)-(\d+)$/.exec(text ?? '');
  return m ? [Number(m[1]), Math.max(Number(m[1]), Number(m[2]))] : fallback;
};
const STALL_MS = range(process.env.STALL_MS, [50, 400]);
const GAP_MS = range(process.env.STALL_GAP_MS, [100, 500]);
const cell = new Int32Array(new SharedArrayBuffer(4));
const pick = ([lo, hi]) => lo + Math.random() * (hi - lo);

function stall() {
  Atomics.wait(cell, 0, 0, pick(STALL_MS));
  schedule();
}

function schedule() {
  setTimeout(stall, pick(GAP_MS)).unref();
}

schedule();
