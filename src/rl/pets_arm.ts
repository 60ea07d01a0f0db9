import { MujocoSim } from '../../sim/mujoco/sim.js';
import { MujocoEnv } from './env.js';
import { runPets, type EpisodeResult, type PetsConfig } from './pets.js';
import type { TrainOptions } from '../dynamics/ensemble.js';
import type { Propagation } from '../control/planners/ensemble_mpc/trajectory_sampling.js';
import { float32Costs } from '../control/task_costs.js';
import { samplingOptimizer, type SamplingOptimizerConfig } from '../control/planners/registry.js';
import {
  ARM_MODEL_FILES,
  SO_ARM_JOINTS,
  armReachTask,
  readArmDescription,
  type ArmReachWeights,
} from '../tasks/arm_reach.js';
import { ArmTargetSampler, reachOutcome, type ArmTargetOptions } from '../tasks/arm_targets.js';
import { packagePath } from '../util/paths.js';

// PETS on the SO-100 arm with position servos, without the node graph: reach a new random target
// every episode, learned from the arm's own transitions. The first episodes act at random; then
// MPC through the ensemble, replanning every step; refit after every episode. An episode succeeds
// when the end effector ends it within 2 cm of its target. The benchmark (bench/pets_arm.bench.ts)
// and a test run it; the optimiser is made by the planner registry from the controller's
// parameters, as the controller makes it.

export interface PetsArmConfig {
  readonly episodes: number;
  readonly randomEpisodes: number;
  /** control steps per episode */
  readonly episodeLength: number;
  /** physics steps (2 ms) per control step */
  readonly substeps: number;
  /** std of the noise on the start positions (rad) */
  readonly startNoise: number;
  readonly horizon: number;
  readonly particles: number;
  readonly propagation: Propagation;
  readonly ensemble: PetsConfig['ensemble'];
  readonly training: TrainOptions;
  /** the sampling planner, its iterations per plan and its parameters as the controller's (sampling.*, icem.*, mppi.*) */
  readonly optimizer: SamplingOptimizerConfig;
  /** the arm reach cost's weights (position actuators), over the task's defaults */
  readonly weights?: Partial<ArmReachWeights>;
  /** where targets come from (seeded per run) */
  readonly targets?: Partial<Omit<ArmTargetOptions, 'seed'>>;
}

/**
 * The tuned configuration (see bench/pets_arm.bench.ts for the figures). Position servos, whose
 * targets are the actions; 0.05 s control period and 3 s episodes (60 transitions each); the
 * planner moves the four joints that place the end effector (std 0 keeps wrist_roll and the
 * gripper at their plan's start); the ensemble's mean ('expectation') is planned through — with
 * sampled particles (TS-∞) the noisy costs kept the final error at 2–10 cm.
 */
export const PETS_ARM: PetsArmConfig = {
  episodes: 40, // 20 to learn, 20 judged
  randomEpisodes: 1,
  episodeLength: 60,
  substeps: 25,
  startNoise: 0.02,
  horizon: 8, // 0.4 s
  particles: 1,
  propagation: 'expectation',
  ensemble: { members: 5, elites: 5, hidden: [64, 64, 64], probabilistic: true, learningRate: 1e-3 },
  // small data (60 rows an episode): epochs of a few steps, so patience is counted in many of them
  training: { epochs: 500, batchSize: 32, holdoutRatio: 0.2, patience: 50, maxUpdates: 4000 },
  optimizer: {
    planner: 'icem',
    iterations: 5,
    values: {
      'sampling.population': 100,
      'sampling.elite_ratio': 0.1,
      'sampling.alpha': 0.1,
      'sampling.min_std': 0,
      'sampling.std': [0.2, 0.2, 0.2, 0.2, 0, 0],
      'icem.population_decay': 1.25,
      'icem.keep_elite_fraction': 0.3,
      'icem.noise_exponent': 2,
    },
  },
};

export interface ArmEpisode extends EpisodeResult {
  readonly target: readonly [number, number, number];
  /** the end effector's distance to the target when the episode ended (m) */
  readonly finalDistance: number;
  readonly success: boolean;
}

/** Run PETS on the arm for one seed; `log` gets one line per episode. */
export async function petsArm(
  seed: number,
  config: PetsArmConfig = PETS_ARM,
  log: (line: string) => void = () => {},
): Promise<ArmEpisode[]> {
  const sim = await MujocoSim.fromFile(packagePath(ARM_MODEL_FILES.position));
  try {
    const arm = readArmDescription(sim);
    const task = armReachTask(arm, { actuation: 'position', weights: config.weights });
    // the planner's cost and the reward share the task's weights; the goal changes per episode
    const goal = Float64Array.from(task.defaultGoal);
    const costs = float32Costs(task, goal); // as the controller scores them
    const targets = new ArmTargetSampler(arm.chain, { ...config.targets, seed: 1000 + seed });
    const episodeTargets: [number, number, number][] = [];
    const env = new MujocoEnv(sim, {
      joints: SO_ARM_JOINTS,
      keyframe: 'home',
      substeps: config.substeps,
      episodeLength: config.episodeLength,
      reward: (x, u) => -task.cost(x, u, goal),
      startNoise: config.startNoise,
      seed,
    });
    const episodes: ArmEpisode[] = [];
    runPets(env, {
      ensemble: config.ensemble,
      training: config.training,
      optimizer: () => samplingOptimizer(config.optimizer, seed),
      cost: costs.cost,
      terminalCost: costs.terminalCost,
      horizon: config.horizon,
      particles: config.particles,
      propagation: config.propagation,
      episodes: config.episodes,
      randomEpisodes: config.randomEpisodes,
      seed,
      onEpisodeStart: () => {
        const target = targets.next().position;
        episodeTargets.push(target);
        goal.set(target);
      },
      onEpisode: (r) => {
        const target = episodeTargets[r.episode]!;
        const e: ArmEpisode = { ...r, target, ...reachOutcome(task.endEffector(r.finalState), target) };
        episodes.push(e);
        log(
          `seed ${seed} episode ${r.episode + 1}: target (${target.map((v) => v.toFixed(3)).join(', ')}) final distance ${(e.finalDistance * 100).toFixed(2)} cm ${e.success ? '✓' : '✗'}, return ${r.return.toFixed(3)}` +
            (r.training
              ? `, model val MSE ${r.training.valLoss.toFixed(4)} (RMSE q ${rms(r.training.valMsePerDim.slice(0, 6)).toFixed(3)} rad, q̇ ${rms(r.training.valMsePerDim.slice(6)).toFixed(2)} rad/s) after ${r.training.epochs} epochs (${r.trainingSeconds.toFixed(1)} s), planning ${r.planningMs.toFixed(0)} ms/step`
              : ' (random actions)') +
            `, ${r.seconds.toFixed(1)} s`,
        );
      },
    });
    return episodes;
  } finally {
    sim.dispose();
  }
}

/** The share of successful episodes after the first `learning` ones. */
export function successAfter(episodes: readonly Pick<ArmEpisode, 'success'>[], learning: number): number {
  const judged = episodes.slice(learning);
  if (!judged.length) throw new Error(`success rate after ${learning} episodes: only ${episodes.length} episodes ran`);
  return judged.filter((e) => e.success).length / judged.length;
}

/** root of the mean of per-dimension mean squared errors */
const rms = (mse: readonly number[]): number => Math.sqrt(mse.reduce((a, b) => a + b, 0) / mse.length);
