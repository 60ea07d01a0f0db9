import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { setThreadNice } from '../../../util/thread_priority.js';
import type { IlqrPlanner } from './planner.js';
import { buildMujocoIlqr } from './spec.js';
import type { FromIlqrWorker, IlqrWorkerData, ToIlqrWorker } from './worker_planner.js';

// The thread behind IlqrWorkerPlanner, MuJoCo MPC's planning thread: it lowers its priority below
// the command loop's, builds iLQR on its own copy of the MJCF model, and replans as long as there is
// something to gain: from each newer state as it arrives (messages queued during a plan are taken
// first, the newest state wins), warm-started from the previous plan moved on to that state's time,
// and again from the same state while the last plan stopped short of convergence (at most
// MAX_REFINEMENTS times, so a converged or waiting planner idles instead of spinning a core). Each
// policy is posted back stamped with the state it started from.

const MAX_REFINEMENTS = 8;
const WARM_UP_PLANS = 10;

const port = parentPort!;
const settings = workerData as IlqrWorkerData;
setThreadNice(settings.nice);

const post = (message: FromIlqrWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
const failure = (err: unknown): string => (err instanceof Error ? err.message : String(err));

let planner: IlqrPlanner | undefined;
let latest: { stampNs: bigint; state: Float64Array } | undefined;
let plannedNs: bigint | undefined;
let refinements = 0;
let scheduled = false;
const inbox: ToIlqrWorker[] = [];

function apply(m: ToIlqrWorker, p: IlqrPlanner): void {
  switch (m.op) {
    case 'state':
      latest = { stampNs: m.stampNs, state: m.state };
      return;
    case 'goal':
      try {
        p.setGoal(m.goal);
        refinements = 0;
        plannedNs = undefined;
      } catch (err) {
        post({ op: 'error', message: failure(err) });
      }
      return;
    case 'reset':
      p.reset();
      plannedNs = undefined;
      return;
  }
}

function round(): void {
  scheduled = false;
  const p = planner;
  if (!p) return;
  for (let r = receiveMessageOnPort(port); r; r = receiveMessageOnPort(port)) inbox.push(r.message as ToIlqrWorker);
  for (const m of inbox.splice(0)) apply(m, p);
  const state = latest;
  if (!state) return;
  if (state.stampNs === plannedNs) {
    const stop = p.report?.stop;
    if (
      refinements >= MAX_REFINEMENTS ||
      stop === undefined ||
      stop.startsWith('converged') ||
      stop === 'regularization'
    )
      return;
    refinements++;
  } else refinements = 0;
  plannedNs = state.stampNs;
  try {
    const policy = p.optimize({ timeNs: state.stampNs, state: state.state });
    const s = p.status();
    post(
      {
        op: 'plan',
        policy,
        stateStampNs: state.stampNs,
        planMs: Number(s['plan_ms'] ?? 0),
        iterations: Number(s['iterations'] ?? 0),
        cost: Number(s['cost'] ?? Number.NaN),
        stop: String(s['stop'] ?? ''),
      },
      [policy.states.buffer, policy.actions.buffer, policy.feedforward.buffer, policy.gains.buffer] as ArrayBuffer[],
    );
  } catch (err) {
    post({ op: 'error', message: `planning failed: ${failure(err)}` });
  }
  schedule();
}

function schedule(): void {
  if (scheduled || !planner) return;
  scheduled = true;
  setImmediate(round);
}

port.on('message', (m: ToIlqrWorker) => {
  inbox.push(m);
  schedule();
});

buildMujocoIlqr(settings.spec)
  .then((p) => {
    // warm up before the first state, so the first real plan does not pay for compiling the
    // planner (measured here: a fresh thread's first plans take 60–110 ms, later ones 4–6 ms)
    p.warmUp(WARM_UP_PLANS);
    planner = p;
    post({ op: 'ready', description: p.name });
    schedule();
  })
  .catch((err: unknown) => {
    post({ op: 'error', message: `planning worker could not start: ${failure(err)}` });
    process.exit(1);
  });
