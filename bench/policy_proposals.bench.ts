import { mkdirSync } from 'node:fs';
import type { EpisodeResult } from '../src/rl/pets.js';
import { mbpoTask } from '../src/rl/mbpo/tasks.js';
import type { PolicyLearnerConfig } from '../src/rl/mbpo/policy_learner.js';
import { initTensorBackend } from '../src/tensor/backend.js';
import { writeFileAtomic } from '../src/util/atomic_file.js';
import { median } from '../src/util/percentile.js';
import { PETS_CARTPOLE, petsCartpole, SINCOS, type PetsCartpoleConfig } from './pets.bench.js';
import type { Figures } from './report.js';

// The policy as a proposal inside the sampling planner (TD-MPC's mixture), on the PETS cart-pole
// swing-up: iCEM as PETS tunes it (3 iterations) against iCEM with two thirds of the work (2 iterations)
// whose population holds a share of rollouts of a SAC policy learned on the side, MBPO's way, from
// the same data — and, as the control, the same 2-iteration iCEM without the policy, so that what the
// policy adds is told apart from what the smaller budget costs. Same seeds, same run. The figures:
// the first episode reaching the threshold, and the planning time per step (the side learning's time
// reported apart: it runs between episodes, in the graph in the policy trainer's own worker).

const THRESHOLD = 180;

export const PROPOSAL_POLICY: Omit<PolicyLearnerConfig, 'task'> = {
  sac: { hidden: [128, 128], learningRate: 3e-4, minAlpha: 0.05 },
  rolloutsPerStep: 100,
  rolloutLength: 5,
  updatesPerStep: 10,
  batchSize: 256,
  realRatio: 0.05,
  modelCapacity: 400_000,
};

type Variant = 'plain' | 'policy' | 'control';
const VARIANTS: readonly (readonly [Variant, string])[] = [
  ['plain', 'iCEM 3 iterations'],
  ['policy', 'iCEM 2 iterations + policy proposals'],
  ['control', 'iCEM 2 iterations without the policy'],
];

function variant(iterations: number, share: number): PetsCartpoleConfig {
  return {
    ...PETS_CARTPOLE,
    optimizer: {
      ...PETS_CARTPOLE.optimizer,
      iterations,
      values: { ...PETS_CARTPOLE.optimizer.values, 'sampling.policy_share': share },
    },
  };
}

export async function policyProposalBenchmarks(figures: Figures, seeds: readonly number[] = [1, 2, 3]): Promise<void> {
  await initTensorBackend();
  const runs: Record<Variant, EpisodeResult[][]> = { plain: [], policy: [], control: [] };
  const log = (line: string) => process.stdout.write(`    ${line}\n`);
  for (const seed of seeds) {
    log(`iCEM, 3 iterations, seed ${seed}`);
    runs.plain.push(await petsCartpole(seed, log, variant(3, 0)));
    log(`iCEM, 2 iterations with policy proposals (share 0.2), seed ${seed}`);
    runs.policy.push(
      await petsCartpole(seed, log, variant(2, 0.2), undefined, {
        ...PROPOSAL_POLICY,
        task: mbpoTask('cartpole_swingup', SINCOS),
      }),
    );
    log(`iCEM, 2 iterations without the policy (the control), seed ${seed}`);
    runs.control.push(await petsCartpole(seed, log, variant(2, 0)));
  }
  const first = (r: EpisodeResult[]) => (r.find((e) => e.return >= THRESHOLD)?.episode ?? Infinity) + 1;
  const planning = (r: EpisodeResult[]) => {
    const planned = r.filter((e) => e.planningMs > 0);
    return planned.reduce((s, e) => s + e.planningMs, 0) / planned.length;
  };
  for (const [name, label] of VARIANTS) {
    figures.add(
      `PETS swing-up, ${label}: first episode with return ≥ ${THRESHOLD} (median of ${seeds.length})`,
      median(runs[name].map(first)),
      'episode',
    );
    figures.add(
      `PETS swing-up, ${label}: planning time per step (median of ${seeds.length})`,
      median(runs[name].map(planning)),
      'ms',
    );
  }
  figures.add(
    'PETS swing-up, policy proposals: side learning per episode (median)',
    median(runs.policy.flatMap((r) => r.filter((e) => e.policySeconds).map((e) => e.policySeconds!))),
    's',
  );
  mkdirSync('out', { recursive: true });
  const lines = ['variant,seed,episode,return,planning_ms_per_step,training_s,policy_s'];
  for (const [name] of VARIANTS)
    runs[name].forEach((r, i) =>
      r.forEach((e) =>
        lines.push(
          [name, seeds[i], e.episode + 1, e.return, e.planningMs, e.trainingSeconds, e.policySeconds ?? 0].join(','),
        ),
      ),
    );
  writeFileAtomic('out/policy_proposals.csv', lines.join('\n') + '\n');
}
