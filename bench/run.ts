import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../src/util/atomic_file.js';
import { setLogLevelSpec } from '../src/util/log.js';
import { Figures } from './report.js';
import { runtimeBenchmarks } from './runtime.bench.js';
import { simBenchmarks } from './sim.bench.js';
import { simLoopBenchmarks } from './sim_loop.bench.js';
import { realtimeBenchmarks } from './realtime.bench.js';
import { dynamicsBenchmarks } from './dynamics.bench.js';
import { hwCodecBenchmarks } from './hw_codec.bench.js';
import { hwBusBenchmarks } from './hw_bus.bench.js';
import { teleopLatencyBenchmarks } from './teleop_latency.bench.js';
import { petsBenchmarks } from './pets.bench.js';
import { petsArmBenchmarks } from './pets_arm.bench.js';
import { pretrainBenchmarks } from './pretrain.bench.js';
import { ros2Benchmarks } from './ros2.bench.js';
import { bagBenchmarks } from './bag.bench.js';
import { ilqrBenchmarks } from './ilqr.bench.js';
import { ilqrLearnedComparison } from './ilqr_learned.bench.js';
import { sacBenchmarks } from './sac.bench.js';
import { mbpoBenchmarks, type MbpoTaskName } from './mbpo.bench.js';
import { policyProposalBenchmarks } from './policy_proposals.bench.js';
import { foxgloveBenchmarks } from './foxglove.bench.js';

// `npm run bench [-- --json FILE] [-- --only NAME]`: every benchmark, one table.

const suites: Record<string, (f: Figures) => void | Promise<void>> = {
  runtime: runtimeBenchmarks,
  sim: simBenchmarks,
  sim_loop: simLoopBenchmarks,
  realtime: realtimeBenchmarks,
  dynamics: dynamicsBenchmarks,
  ilqr: ilqrBenchmarks,
  hw_codec: hwCodecBenchmarks,
  hw_bus: hwBusBenchmarks,
  // leader read → follower goal at 100 Hz over emulated chains (TELEOP_BENCH_S, default 60 s)
  teleop: teleopLatencyBenchmarks,
  sac: sacBenchmarks,
  bag: bagBenchmarks,
  // skipped, saying why, where ROS 2 is not sourced
  ros2: ros2Benchmarks,
};

// long experiments, run only when named with --only
const experiments: Record<string, (f: Figures) => Promise<void>> = {
  pets: petsBenchmarks,
  pets_arm: (f) => petsArmBenchmarks(f),
  // PETS cart-pole from scratch against from a recorded teleop bag (the learner's dataset path), 3 seeds
  pretrain: pretrainBenchmarks,
  // iLQR against iCEM on the learned cart-pole, 3 seeds (the default bench's ilqr suite runs one)
  ilqr_learned: (f) => ilqrLearnedComparison(f, [1, 2, 3]),
  // MBPO against SAC alone on cart-pole balance and swing-up, 3 seeds each (MBPO_TASKS=balance|swingup picks one)
  // PETS's iCEM with and without a side-learned policy's proposals, 3 seeds
  policy_proposals: (f) => policyProposalBenchmarks(f),
  // the foxglove_bridge node serving a demo-like load to 2 clients, and a 100 Hz loop beside it (FOXGLOVE_BENCH_S, default 10 s a phase)
  foxglove: foxgloveBenchmarks,
  mbpo: (f) =>
    mbpoBenchmarks(f, (process.env['MBPO_TASKS']?.split(',') as MbpoTaskName[] | undefined) ?? ['balance', 'swingup']),
};

const { values } = parseArgs({ options: { json: { type: 'string' }, only: { type: 'string' } } });
if (values.only && !suites[values.only] && !experiments[values.only]) {
  throw new Error(
    `--only ${values.only}: no such suite (${[...Object.keys(suites), ...Object.keys(experiments)].join(', ')})`,
  );
}
setLogLevelSpec('warn');
const figures = new Figures();
for (const [name, suite] of Object.entries({ ...suites, ...(values.only ? experiments : {}) })) {
  if (values.only && values.only !== name) continue;
  process.stdout.write(`\n${name}\n`);
  await suite(figures);
}
if (values.json) {
  writeFileAtomic(values.json, JSON.stringify(figures.all, null, 2) + '\n');
  process.stdout.write(`\nwrote ${figures.all.length} figures to ${values.json}\n`);
}
