import { parentPort } from 'node:worker_threads';

// A worker that keeps one core busy until told to stop: the load under which timers are measured.
let stop = false;
parentPort!.on('message', () => {
  stop = true;
});
function spin(): void {
  const end = performance.now() + 50;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  if (!stop) setImmediate(spin);
  else parentPort!.postMessage(x);
}
spin();
