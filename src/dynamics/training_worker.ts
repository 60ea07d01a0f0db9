import { parentPort, workerData } from 'node:worker_threads';
import { initTensorBackend, type TensorBackendChoice } from '../tensor/backend.js';
import { setThreadNice } from '../util/thread_priority.js';
import { ProbabilisticEnsemble, resolveConfig } from './ensemble.js';
import type { FromTrainer, TrainCall, TrainerWorkerData } from './training_client.js';

// The worker thread behind TrainingClient: it starts its own tensor backend (tfjs state is per
// thread), lowers its priority below the command loop's, and trains one request at a time,
// keeping the ensemble between requests so that each continues from the previous weights (the
// first from the request's initial ensemble, when it has one of the same config).

const port = parentPort!;
const settings = workerData as TrainerWorkerData;
setThreadNice(settings.nice);

let backend: Promise<TensorBackendChoice> | undefined;
let ensemble: ProbabilisticEnsemble | undefined;
let ensembleConfig = '';
// requests run strictly one after another, even if the client sent two
let queue: Promise<void> = Promise.resolve();

const post = (message: FromTrainer, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

async function train(call: TrainCall): Promise<void> {
  const choice = await (backend ??= initTensorBackend(settings.backend ? { force: settings.backend } : {}));
  const config = JSON.stringify(call.config);
  if (!ensemble || !call.warmStart || config !== ensembleConfig) {
    ensemble?.dispose();
    ensemble = undefined;
    ensemble = (call.warmStart ? initialEnsemble(call) : undefined) ?? ProbabilisticEnsemble.create(call.config);
    ensembleConfig = config;
  }
  const t0 = performance.now();
  const report = ensemble.train(call.data, {
    ...call.options,
    onEpoch: (e) => post({ op: 'epoch', id: call.id, ...e }),
  });
  const serialized = ensemble.serialize();
  const seconds = (performance.now() - t0) / 1000;
  // a view into a larger (or shared) buffer is copied, so that only its own bytes cross
  const whole =
    serialized.data.buffer instanceof ArrayBuffer &&
    serialized.data.byteOffset === 0 &&
    serialized.data.byteLength === serialized.data.buffer.byteLength;
  const data = whole ? serialized.data : serialized.data.slice();
  post(
    {
      op: 'done',
      id: call.id,
      report,
      metadata: serialized.metadata,
      data,
      backend: ensemble.engine === 'native' ? ensemble.engineDescription : choice.backend,
      backendWhy: ensemble.engine === 'native' ? 'the native kernels are built' : choice.why,
      seconds,
    },
    [data.buffer as ArrayBuffer],
  );
}

/** the call's initial ensemble when it has a readable one of the call's config, else undefined (start anew) */
function initialEnsemble(call: TrainCall): ProbabilisticEnsemble | undefined {
  if (!call.initial) return undefined;
  let initial: ProbabilisticEnsemble;
  try {
    initial = ProbabilisticEnsemble.deserialize(call.initial.metadata, call.initial.data);
  } catch {
    return undefined;
  }
  if (JSON.stringify(initial.config) === JSON.stringify(resolveConfig(call.config))) return initial;
  initial.dispose();
  return undefined;
}

port.on('message', (call: TrainCall) => {
  queue = queue
    .then(() => train(call))
    .catch((err: unknown) => {
      // an ensemble that failed mid-training may hold broken weights: the next request starts anew
      try {
        ensemble?.dispose();
      } catch {
        // it is dropped either way
      }
      ensemble = undefined;
      post({
        op: 'error',
        id: call.id,
        message: `dynamics training failed: ${err instanceof Error ? err.message : String(err)}`,
      });
    });
});
