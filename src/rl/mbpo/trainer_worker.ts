import { parentPort, workerData } from 'node:worker_threads';
import { StateEncoding } from '../../dynamics/state_encoding.js';
import { initTensorBackend } from '../../tensor/backend.js';
import { setThreadNice } from '../../util/thread_priority.js';
import { mbpoTask } from './tasks.js';
import { MbpoTrainer } from './trainer.js';
import { decodeCheckpoint, writeCheckpoint } from './trainer_checkpoint.js';
import type { CheckpointResult, FromTrainer, ToTrainer, TrainerSpec, TrainerWorkerData } from './trainer_client.js';

// The worker thread behind TrainerClient (./trainer_client.ts): it lowers its priority below the
// graph's threads, starts its own tensor backend (tfjs state is per thread; the native kernels need
// none, but a TF.js engine may be chosen), makes the MBPO trainer when told its layout (from a
// checkpoint when given one; messages that come before wait for it, in order), and then, while
// active, does one round of work at a time
// (./trainer.ts: rollouts and SAC updates for the real steps that arrived), taking the messages
// that came meanwhile between rounds — new transitions, the newest model, episode ends. After each
// round it sends what to publish, and its figures at most every STATUS_MS; after a round that
// finished an episode's work it writes a checkpoint, when it has a path for them.

const STATUS_MS = 250;

const port = parentPort!;
const settings = workerData as TrainerWorkerData;
setThreadNice(settings.nice);

let trainer: MbpoTrainer | undefined;
let spec: TrainerSpec | undefined;
let active = false;
let scheduled = false;
let lastStatus = 0;
/** messages that came before the trainer was made, handled in order once it is */
let waiting: ToTrainer[] | undefined = [];

const post = (message: FromTrainer): void => port.postMessage(message);

async function init(m: Extract<ToTrainer, { op: 'init' }>): Promise<void> {
  try {
    await initTensorBackend(settings.backend ? { force: settings.backend } : {});
    const encoding = new StateEncoding(m.spec.encoding.joints, m.spec.encoding.angle_joints);
    const checkpoint = m.checkpoint ? decodeCheckpoint(m.checkpoint, 'policy trainer checkpoint') : undefined;
    trainer = new MbpoTrainer(
      { ...m.spec.trainer, obsSize: encoding.size, encoding, task: mbpoTask(m.spec.task, encoding) },
      checkpoint,
    );
    spec = m.spec;
  } catch (err) {
    post({ op: 'failed', message: `policy trainer not made: ${err instanceof Error ? err.message : String(err)}` });
    waiting = undefined;
    return;
  }
  post({ op: 'ready', figures: trainer.figures() });
  const queued = waiting;
  waiting = undefined;
  for (const q of queued ?? []) handle(q);
  schedule();
}

function handle(m: ToTrainer): void {
  if (m.op === 'init') {
    void init(m);
    return;
  }
  if (waiting) {
    waiting.push(m);
    return;
  }
  switch (m.op) {
    case 'active':
      active = m.active;
      break;
    case 'model':
      if (!trainer) break;
      try {
        post({ op: 'model', version: m.version, outcome: trainer.setModel(m.metadataJson, m.data, m.version) });
      } catch (err) {
        post({ op: 'refused', what: 'model', message: (err as Error).message });
      }
      break;
    case 'transitions':
      if (trainer) addTransitions(trainer, m);
      break;
    case 'episode_end':
      trainer?.endEpisode(m.stampNs);
      break;
    case 'checkpoint': {
      // the figures of what is saved come first: the owner's summary reads them
      if (trainer) post({ op: 'status', figures: trainer.figures() });
      const written = trainer && spec?.checkpointPath ? checkpoint(trainer, spec) : undefined;
      post({ op: 'checkpointed', id: m.id, ...written });
      break;
    }
  }
  schedule();
}

function addTransitions(t: MbpoTrainer, m: Extract<ToTrainer, { op: 'transitions' }>): void {
  const no = m.obs.length / m.n;
  const nu = m.actions.length / m.n;
  for (let i = 0; i < m.n; i++) {
    const outcome = t.addTransition({
      obs: m.obs.subarray(i * no, (i + 1) * no),
      action: m.actions.subarray(i * nu, (i + 1) * nu),
      next: m.next.subarray(i * no, (i + 1) * no),
      stampNs: m.stamps[i]!,
    });
    if (!outcome.ok)
      post({
        op: 'refused',
        what: 'transition',
        message: `transition stamped ${m.stamps[i]} ns dropped: ${outcome.reason}`,
      });
  }
}

/** write a checkpoint; the result, or the error as one line */
function checkpoint(t: MbpoTrainer, s: TrainerSpec): { result: CheckpointResult } | { error: string } {
  const t0 = performance.now();
  try {
    writeCheckpoint(s.checkpointPath, t.checkpoint(s.layout));
  } catch (err) {
    return { error: `checkpoint not written: ${(err as Error).message}` };
  }
  const f = t.figures();
  return {
    result: {
      path: s.checkpointPath,
      seconds: (performance.now() - t0) / 1000,
      realSteps: f.realSteps,
      updates: f.updates,
    },
  };
}

function schedule(): void {
  if (scheduled || !active || !trainer?.hasWork) return;
  scheduled = true;
  // after the messages that are in: they may bring data, models or a deactivation
  setImmediate(round);
}

function round(): void {
  scheduled = false;
  const t = trainer;
  if (!t || !active) return;
  let report;
  try {
    report = t.round();
  } catch (err) {
    post({ op: 'failed', message: `policy training failed: ${err instanceof Error ? err.stack : String(err)}` });
    trainer = undefined;
    return;
  }
  if (report.release) post({ op: 'policy', release: report.release });
  if (report.episodes.length) {
    post({ op: 'episodes', episodes: report.episodes });
    if (spec?.checkpointPath) post({ op: 'checkpointed', id: 0, ...checkpoint(t, spec) });
  }
  const now = performance.now();
  if (now - lastStatus >= STATUS_MS || !t.hasWork) {
    lastStatus = now;
    post({ op: 'status', figures: t.figures() });
  }
  schedule();
}

port.on('message', (m: ToTrainer) => handle(m));
