import { parentPort, workerData } from 'node:worker_threads';
import { setThreadNice } from '../../src/util/thread_priority.js';

// A worker that keeps one core busy until told to stop: the load under which timers are measured.
// workerData.nice: the nice value the stack gives its heavy workers (0: as the main thread)
const nice = (workerData as { nice?: number } | undefined)?.nice;
if (nice) setThreadNice(nice);
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
