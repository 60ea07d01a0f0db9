import { mkdirSync } from 'node:fs';
import { PETS_ARM, petsArm, successAfter, type ArmEpisode, type PetsArmConfig } from '../src/rl/pets_arm.js';
import { initTensorBackend } from '../src/tensor/backend.js';
import { writeLinePlot } from '../src/data/svg_plot.js';
import { writeFileAtomic } from '../src/util/atomic_file.js';
import { median } from '../src/util/percentile.js';
import type { Figures } from './report.js';

// The direct PETS harness on the SO-100 arm (position servos), several seeds: a random target per
// episode, learned from scratch (src/rl/pets_arm.ts). Issue 4's figure, "≥ 90 % of episodes
// within 2 cm after ≤ 20 episodes", read as: the share of episodes 21…40 (after 20 episodes of
// learning, the random one included) whose end effector ends within 2 cm of the target, per
// seed, its median and minimum over seeds, and pooled. Prints every episode, writes
// out/pets_arm.csv and .svg.

/** episodes of learning before the success rate is counted (issue 4: 20) */
const LEARNING_EPISODES = 20;

export async function petsArmBenchmarks(
  figures: Figures,
  config: PetsArmConfig = PETS_ARM,
  seeds: readonly number[] = [1, 2, 3, 4, 5],
): Promise<void> {
  await initTensorBackend();
  const runs: ArmEpisode[][] = [];
  const walls: number[] = [];
  const judged = `episodes ${LEARNING_EPISODES + 1}–${config.episodes}`;
  for (const seed of seeds) {
    const s0 = performance.now();
    runs.push(await petsArm(seed, config, (line) => process.stdout.write(`    ${line}\n`)));
    walls.push((performance.now() - s0) / 1000);
    const run = runs.at(-1)!;
    const rate = successAfter(run, LEARNING_EPISODES);
    process.stdout.write(
      `    seed ${seed}: ${run.map((e) => (e.success ? '✓' : '✗')).join('')}; ${judged} within 2 cm: ${(rate * 100).toFixed(0)} %; ${walls.at(-1)!.toFixed(0)} s\n`,
    );
    figures.add(
      `PETS arm reach, seed ${seed}: share of ${judged} ending within 2 cm of a random target`,
      rate * 100,
      '%',
    );
    figures.add(`PETS arm reach, seed ${seed}: wall time for ${config.episodes} episodes`, walls.at(-1)!, 's');
  }
  figures.add(
    `PETS arm reach: median over ${seeds.length} seeds of the share of ${judged} ending within 2 cm of a random target`,
    median(runs.map((r) => successAfter(r, LEARNING_EPISODES))) * 100,
    '%',
  );
  figures.add(
    `PETS arm reach: lowest over ${seeds.length} seeds of the share of ${judged} ending within 2 cm`,
    Math.min(...runs.map((r) => successAfter(r, LEARNING_EPISODES))) * 100,
    '%',
  );
  figures.add(
    `PETS arm reach: share of ${judged} of all ${seeds.length} seeds ending within 2 cm`,
    successAfter(
      runs.flatMap((r) => r.slice(LEARNING_EPISODES)),
      0,
    ) * 100,
    '%',
  );
  figures.add(
    `PETS arm reach: median final distance over ${judged} of ${seeds.length} seeds`,
    median(runs.flatMap((r) => r.slice(LEARNING_EPISODES).map((e) => e.finalDistance * 100))),
    'cm',
  );
  figures.add('PETS arm reach: longest wall time of one seed', Math.max(...walls), 's');
  const planned = runs.flat().filter((e) => e.training);
  figures.add(
    'PETS arm reach: mean planning time per control step',
    planned.reduce((a, e) => a + e.planningMs, 0) / planned.length,
    'ms',
  );
  mkdirSync('out', { recursive: true });
  const lines = [
    'seed,episode,target_x,target_y,target_z,final_distance_m,success,return,training_s,planning_ms_per_step,episode_s',
  ];
  runs.forEach((r, i) =>
    r.forEach((e) =>
      lines.push(
        `${seeds[i]},${e.episode + 1},${e.target.join(',')},${e.finalDistance},${e.success ? 1 : 0},${e.return},${e.trainingSeconds},${e.planningMs},${e.seconds}`,
      ),
    ),
  );
  writeFileAtomic('out/pets_arm.csv', lines.join('\n') + '\n');
  await writeLinePlot(
    'out/pets_arm.svg',
    [
      {
        title: 'final distance to the target (cm)',
        series: runs.map((r, i) => ({
          name: `seed ${seeds[i]}`,
          t: r.map((e) => e.episode + 1),
          y: r.map((e) => e.finalDistance * 100),
        })),
      },
      {
        title: 'episode return',
        series: runs.map((r, i) => ({
          name: `seed ${seeds[i]}`,
          t: r.map((e) => e.episode + 1),
          y: r.map((e) => e.return),
        })),
      },
    ],
    { title: 'PETS arm reach (SO-100, position servos, a random target per episode)', xTitle: 'episode' },
  );
}
