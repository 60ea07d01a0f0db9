import { writeFileSync, mkdirSync } from 'node:fs';
import { MujocoSim } from '../sim/mujoco/sim.js';
import { MujocoEnv } from '../src/rl/env.js';
import { runPets, type EpisodeResult } from '../src/rl/pets.js';
import { swingupCostBatch, swingupReward } from '../src/tasks/cartpole_swingup.js';
import { CemOptimizer } from '../src/control/planners/cem/optimizer.js';
import { initTensorBackend } from '../src/tensor/backend.js';
import { packagePath } from '../src/util/paths.js';
import { writeLinePlot } from '../src/data/svg_plot.js';
import type { Figures } from './report.js';

// The direct PETS harness: the ensemble, trajectory sampling and CEM on the MuJoCo cart-pole
// swing-up, without the node graph, for several seeds. Prints the return of every episode,
// writes the learning curves (CSV and SVG) and reports the median final return and wall time.

export const PETS_CARTPOLE = {
  episodes: 10,
  randomEpisodes: 1,
  episodeLength: 200,
  substeps: 10, // 0.02 s control period, as gym's cart-pole
  horizon: 15,
  particles: 10,
  propagation: 'tsinf' as const,
  ensemble: { members: 5, elites: 5, hidden: [128, 128, 128], probabilistic: true, learningRate: 1e-3 },
  training: { epochs: 50, batchSize: 64, holdoutRatio: 0.1, patience: 5 },
  cem: { populationSize: 200, eliteRatio: 0.1, iterations: 5, alpha: 0.1 },
};

export async function petsCartpole(seed: number, log: (line: string) => void, config = PETS_CARTPOLE): Promise<EpisodeResult[]> {
  const sim = await MujocoSim.fromFile(packagePath('sim/models/cartpole.xml'));
  try {
    const env = new MujocoEnv(sim, {
      joints: ['cart_slide', 'pole_hinge'],
      keyframe: 'hanging',
      substeps: config.substeps,
      episodeLength: config.episodeLength,
      reward: (x, u) => swingupReward(x[0]!, x[1]!, u[0]!),
      startNoise: 0.05,
      seed,
    });
    return runPets(env, {
      ensemble: config.ensemble,
      training: config.training,
      optimizer: () => new CemOptimizer({ ...config.cem, seed }),
      cost: swingupCostBatch,
      horizon: config.horizon,
      particles: config.particles,
      propagation: config.propagation,
      episodes: config.episodes,
      randomEpisodes: config.randomEpisodes,
      seed,
      onEpisode: (r) => log(`seed ${seed} episode ${r.episode + 1}: return ${r.return.toFixed(1)}${r.training ? `, model val MSE ${r.training.valLoss.toFixed(4)} after ${r.training.epochs} epochs (${r.trainingSeconds.toFixed(1)} s)` : ' (random actions)'}, planning ${r.planningMs.toFixed(0)} ms/step`),
    });
  } finally {
    sim.dispose();
  }
}

export async function petsBenchmarks(figures: Figures): Promise<void> {
  const { backend } = await initTensorBackend();
  const seeds = [1, 2, 3];
  const runs: EpisodeResult[][] = [];
  const t0 = performance.now();
  for (const seed of seeds) {
    const s0 = performance.now();
    runs.push(await petsCartpole(seed, (line) => process.stdout.write(`    ${line}\n`)));
    figures.add(`PETS cart-pole swing-up, seed ${seed}: wall time for ${PETS_CARTPOLE.episodes} episodes (${backend})`, (performance.now() - s0) / 1000, 's');
  }
  const finals = runs.map((r) => Math.max(...r.map((e) => e.return))).sort((a, b) => a - b);
  figures.add(`PETS cart-pole swing-up: median over ${seeds.length} seeds of the best return within ${PETS_CARTPOLE.episodes} episodes (of 200)`, finals[1]!, 'return');
  figures.add('PETS cart-pole swing-up: mean wall time per seed', (performance.now() - t0) / 1000 / seeds.length, 's');
  mkdirSync('out', { recursive: true });
  const lines = ['seed,episode,return'];
  runs.forEach((r, i) => r.forEach((e) => lines.push(`${seeds[i]},${e.episode + 1},${e.return}`)));
  writeFileSync('out/pets_cartpole.csv', lines.join('\n') + '\n');
  await writeLinePlot('out/pets_cartpole.svg', [{ title: 'episode return', series: runs.map((r, i) => ({ name: `seed ${seeds[i]}`, t: r.map((e) => e.episode + 1), y: r.map((e) => e.return) })) }], { title: 'PETS cart-pole swing-up', xTitle: 'episode' });
}
