import { mkdirSync } from 'node:fs';
import { MujocoSim } from '../sim/mujoco/sim.js';
import { MujocoEnv } from '../src/rl/env.js';
import { runPets, type EpisodeResult, type PetsConfig } from '../src/rl/pets.js';
import { StateEncoding } from '../src/dynamics/state_encoding.js';
import { swingupCostOver } from '../src/control/task_costs.js';
import type { TrainOptions } from '../src/dynamics/ensemble.js';
import type { TransitionData } from '../src/data/transition_data.js';
import type { Propagation } from '../src/control/planners/ensemble_mpc/trajectory_sampling.js';
import { swingupCostBatch, swingupReward } from '../src/tasks/cartpole_swingup.js';
import { samplingOptimizer, type SamplingOptimizerConfig } from '../src/control/planners/registry.js';
import { initTensorBackend } from '../src/tensor/backend.js';
import { nativeKernels } from '../src/tensor/native_kernels.js';
import { packagePath } from '../src/util/paths.js';
import { writeLinePlot } from '../src/data/svg_plot.js';
import { writeFileAtomic } from '../src/util/atomic_file.js';
import { median } from '../src/util/percentile.js';
import type { Figures } from './report.js';

// The direct PETS harness: the ensemble, trajectory sampling and a sampling optimiser (made by the
// planner registry from the controller's parameters, as the controller makes it) on the MuJoCo
// cart-pole swing-up, without the node graph, for several seeds. Prints the return of every episode,
// writes the learning curves (CSV and SVG) and reports the median best return and the wall time
// per seed.

export interface PetsCartpoleConfig {
  readonly episodes: number;
  readonly randomEpisodes: number;
  readonly episodeLength: number;
  /** physics steps (2 ms) per control step */
  readonly substeps: number;
  /** std of the noise on the start positions (m, rad) */
  readonly startNoise: number;
  /** the model's state: [x, θ, ẋ, θ̇] as simulated, or [x, sin θ, cos θ, ẋ, θ̇] */
  readonly modelState: 'raw' | 'sincos';
  readonly horizon: number;
  readonly particles: number;
  readonly propagation: Propagation;
  readonly ensemble: PetsConfig['ensemble'];
  readonly training: TrainOptions;
  /** the sampling planner, its iterations per plan and its parameters as the controller's (sampling.*, icem.*, …) */
  readonly optimizer: SamplingOptimizerConfig;
  /** transitions in the model's state to start from (a recording's; bench/pretrain.bench.ts) */
  readonly initialTransitions?: TransitionData;
}

export const PETS_CARTPOLE: PetsCartpoleConfig = {
  episodes: 10,
  randomEpisodes: 1,
  episodeLength: 200,
  substeps: 25, // 0.05 s control period: 200 steps = 10 s
  startNoise: 0.05,
  modelState: 'sincos',
  horizon: 20, // 1 s
  particles: 5, // TS-∞: one particle per member
  propagation: 'tsinf',
  ensemble: { members: 5, elites: 5, hidden: [64, 64, 64], probabilistic: true, learningRate: 1e-3 },
  training: { epochs: 200, batchSize: 64, holdoutRatio: 0.1, patience: 10, maxUpdates: 1000 },
  optimizer: {
    planner: 'icem',
    iterations: 3,
    values: {
      'sampling.population': 100,
      'sampling.elite_ratio': 0.1,
      'sampling.alpha': 0.1,
      'icem.population_decay': 1.25,
      'icem.keep_elite_fraction': 0.3,
      'icem.noise_exponent': 2,
    },
  },
};

/** [x, θ, ẋ, θ̇] → [x, sin θ, cos θ, ẋ, θ̇], as the graph's learner encodes it with angle_joints: [pole_hinge] */
export const SINCOS = new StateEncoding(['cart_slide', 'pole_hinge'], ['pole_hinge']);

/** the swing-up cost −r on encoded states [x, sin θ, cos θ, ẋ, θ̇] (B × 5): the tip from sin and cos */
const sincosCostBatch = swingupCostOver(SINCOS);

export async function petsCartpole(
  seed: number,
  log: (line: string) => void,
  config: PetsCartpoleConfig = PETS_CARTPOLE,
  actor?: PetsConfig['actor'],
  policy?: PetsConfig['policy'],
): Promise<EpisodeResult[]> {
  const sim = await MujocoSim.fromFile(packagePath('sim/models/cartpole.xml'));
  try {
    const env = new MujocoEnv(sim, {
      joints: ['cart_slide', 'pole_hinge'],
      keyframe: 'hanging',
      substeps: config.substeps,
      episodeLength: config.episodeLength,
      reward: (x, u) => swingupReward(x[0]!, x[1]!, u[0]!),
      startNoise: config.startNoise,
      seed,
    });
    return runPets(env, {
      ensemble: config.ensemble,
      training: config.training,
      optimizer: () => samplingOptimizer(config.optimizer, seed),
      ...(actor ? { actor } : {}),
      ...(policy ? { policy } : {}),
      ...(config.modelState === 'sincos'
        ? { stateEncoder: SINCOS, cost: sincosCostBatch }
        : { cost: swingupCostBatch }),
      horizon: config.horizon,
      particles: config.particles,
      propagation: config.propagation,
      episodes: config.episodes,
      randomEpisodes: config.randomEpisodes,
      ...(config.initialTransitions ? { initialTransitions: config.initialTransitions } : {}),
      seed,
      onEpisode: (r) =>
        log(
          `seed ${seed} episode ${r.episode + 1}: return ${r.return.toFixed(1)}` +
            (r.training
              ? `, model val MSE ${r.training.valLoss.toFixed(4)} after ${r.training.epochs} epochs (${r.trainingSeconds.toFixed(1)} s), planning ${r.planningMs.toFixed(0)} ms/step` +
                (r.policySeconds ? `, policy learning ${r.policySeconds.toFixed(1)} s` : '')
              : ' (random actions)') +
            `, ${r.seconds.toFixed(1)} s`,
        ),
    });
  } finally {
    sim.dispose();
  }
}

/** the target of the issue: a return of at least this within the episodes, median over seeds */
export const TARGET_RETURN = 180;

export async function petsBenchmarks(figures: Figures): Promise<void> {
  const { backend } = await initTensorBackend();
  // the engine the ensemble picks by default (src/dynamics/engine_choice.ts): native when built
  const forced = process.env['DYNASTACK_ENSEMBLE_ENGINE'];
  const engine = forced === 'tfjs' || !nativeKernels().kernels ? `TF.js ${backend}` : 'native kernels';
  const seeds = [1, 2, 3];
  const runs: EpisodeResult[][] = [];
  const walls: number[] = [];
  for (const seed of seeds) {
    const s0 = performance.now();
    runs.push(await petsCartpole(seed, (line) => process.stdout.write(`    ${line}\n`)));
    walls.push((performance.now() - s0) / 1000);
    const best = Math.max(...runs.at(-1)!.map((e) => e.return));
    process.stdout.write(
      `    seed ${seed}: returns ${runs
        .at(-1)!
        .map((e) => e.return.toFixed(0))
        .join(' ')}; best ${best.toFixed(1)}; ${walls.at(-1)!.toFixed(0)} s\n`,
    );
    figures.add(
      `PETS cart-pole swing-up, seed ${seed}: best return in ${PETS_CARTPOLE.episodes} episodes`,
      best,
      'return',
    );
    figures.add(
      `PETS cart-pole swing-up, seed ${seed}: wall time for ${PETS_CARTPOLE.episodes} episodes (${engine})`,
      walls.at(-1)!,
      's',
    );
  }
  const firstReached = runs.map((r) => r.find((e) => e.return >= TARGET_RETURN)?.episode ?? Infinity);
  figures.add(
    `PETS cart-pole swing-up: median over ${seeds.length} seeds of the best return within ${PETS_CARTPOLE.episodes} episodes (of 200)`,
    median(runs.map((r) => Math.max(...r.map((e) => e.return)))),
    'return',
  );
  figures.add(
    `PETS cart-pole swing-up: median over ${seeds.length} seeds of the first episode with return ≥ ${TARGET_RETURN}`,
    median(firstReached) + 1,
    'episode',
  );
  figures.add('PETS cart-pole swing-up: longest wall time of one seed', Math.max(...walls), 's');
  figures.add('PETS cart-pole swing-up: mean wall time per seed', walls.reduce((a, b) => a + b, 0) / walls.length, 's');
  mkdirSync('out', { recursive: true });
  const lines = ['seed,episode,return,training_s,planning_ms_per_step,episode_s'];
  runs.forEach((r, i) =>
    r.forEach((e) =>
      lines.push(`${seeds[i]},${e.episode + 1},${e.return},${e.trainingSeconds},${e.planningMs},${e.seconds}`),
    ),
  );
  writeFileAtomic('out/pets_cartpole.csv', lines.join('\n') + '\n');
  await writeLinePlot(
    'out/pets_cartpole.svg',
    [
      {
        title: 'episode return',
        series: runs.map((r, i) => ({
          name: `seed ${seeds[i]}`,
          t: r.map((e) => e.episode + 1),
          y: r.map((e) => e.return),
        })),
      },
    ],
    { title: 'PETS cart-pole swing-up', xTitle: 'episode' },
  );
}
