import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { initTensorBackend } from '../../../tensor/backend.js';
import { setThreadNice } from '../../../util/thread_priority.js';
import { MujocoSim } from '../../../../sim/mujoco/sim.js';
import type { LearnedModelPlanner } from './planner.js';
import { buildLearnedPlanner, planningTask } from './spec.js';
import { samplingOptimizer } from '../registry.js';
import type { FromPlanner, PlanningWorkerData, ToPlanner } from './worker_planner.js';
import type { SequencePolicy } from '../../policy.js';

// The worker thread behind WorkerPlanner: it starts its own tensor backend (tfjs state is per
// thread), lowers its priority below the command loop's, builds the same planner over the learned
// model as the controller would inline (the optimiser made by the registry from its planner's name
// and parameter values), and replans for as long as newer states arrive: each plan starts from the
// newest state received (messages that queued up during a plan are taken first), warm-started from
// the previous plan moved on to that state's time, and is posted back stamped with that time.

const port = parentPort!;
const settings = workerData as PlanningWorkerData;
setThreadNice(settings.nice);

const post = (message: FromPlanner, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
const failure = (err: unknown): string => (err instanceof Error ? err.message : String(err));

let planner: LearnedModelPlanner | undefined;
let latest: { stampNs: bigint; state: Float64Array } | undefined;
let plannedNs: bigint | undefined;
let scheduled = false;
const inbox: ToPlanner[] = [];

function apply(m: ToPlanner, p: LearnedModelPlanner): void {
  switch (m.op) {
    case 'model':
      try {
        const { layout, repeated } = p.setModel(m.metadataJson, m.data, m.version);
        post({
          op: 'model',
          version: m.version,
          ok: true,
          description: `${repeated ? 'repeats the model in use; ' : ''}state ${layout.encoding.describe()}`,
        });
      } catch (err) {
        post({ op: 'model', version: m.version, ok: false, message: failure(err) });
      }
      return;
    case 'state':
      latest = { stampNs: m.stampNs, state: m.state };
      return;
    case 'goal':
      try {
        p.setGoal(m.goal, { timeNs: latest?.stampNs ?? 0n, state: latest?.state ?? new Float64Array(0) });
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

/** One round: take every queued message, then plan once if there is a newer state and a model. */
function round(): void {
  scheduled = false;
  const p = planner;
  if (!p) return;
  for (let r = receiveMessageOnPort(port); r; r = receiveMessageOnPort(port)) inbox.push(r.message as ToPlanner);
  for (const m of inbox.splice(0)) apply(m, p);
  const state = latest;
  if (!state || !p.hasModel || state.stampNs === plannedNs) return;
  plannedNs = state.stampNs;
  try {
    const policy = p.optimize({ timeNs: state.stampNs, state: state.state }) as SequencePolicy;
    const s = p.status();
    post(
      {
        op: 'plan',
        policy,
        stateStampNs: state.stampNs,
        modelVersion: p.modelVersion,
        planMs: Number(s['plan_ms'] ?? 0),
        iterations: Number(s['iterations'] ?? 0),
        evaluations: Number(s['evaluations'] ?? 0),
        bestCost: Number(s['best_cost'] ?? Number.NaN),
      },
      [policy.actions.buffer as ArrayBuffer],
    );
  } catch (err) {
    post({ op: 'error', message: `planning failed: ${failure(err)}` });
  }
  schedule();
}

/** A round after the messages already delivered to this thread's event loop. */
function schedule(): void {
  if (scheduled || !planner) return;
  scheduled = true;
  setImmediate(round);
}

port.on('message', (m: ToPlanner) => {
  inbox.push(m);
  schedule();
});

async function start(): Promise<void> {
  const { spec } = settings;
  const choice = await initTensorBackend(settings.backend ? { force: settings.backend } : {});
  let sim: MujocoSim | undefined;
  try {
    if (spec.task === 'arm_reach') sim = await MujocoSim.fromFile(spec.modelPath);
    // exploration stays with the command loop: the worker only plans
    planner = buildLearnedPlanner(
      { ...spec, explore: false },
      planningTask(spec, sim),
      samplingOptimizer(spec.optimizer, spec.seed),
    );
  } finally {
    sim?.dispose();
  }
  post({ op: 'ready', backend: choice.backend });
  schedule();
}

start().catch((err: unknown) => {
  post({ op: 'error', message: `planning worker could not start: ${failure(err)}` });
  process.exit(1);
});
