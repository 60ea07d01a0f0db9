import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BagWriter } from '../framework/bag/bag_writer.js';
import { codecFor } from '../framework/msgs/codec.js';
import { EpisodeEventKind } from '../framework/msgs/types.js';
import { nsToTime } from '../framework/time/time.js';
import { loadLearnerDataset, datasetLine } from '../nodes/learner_dataset.js';
import { MujocoSim } from '../sim/mujoco/sim.js';
import { MujocoEnv } from '../src/rl/env.js';
import type { EpisodeResult } from '../src/rl/pets.js';
import type { TransitionData } from '../src/data/transition_data.js';
import { swingupReward, MAX_FORCE } from '../src/tasks/cartpole_swingup.js';
import { initTensorBackend } from '../src/tensor/backend.js';
import { packagePath } from '../src/util/paths.js';
import { Rng } from '../src/util/random.js';
import { median } from '../src/util/percentile.js';
import { PETS_CARTPOLE, TARGET_RETURN, petsCartpole } from './pets.bench.js';
import type { Figures } from './report.js';

// What a recording is worth to PETS: the cart-pole swing-up learned from scratch (one random
// episode, then PETS: bench/pets.bench.ts) against the same harness started from "teleop" data, a
// few episodes of the sim driven by a scripted operator who pumps the pole's energy the way a
// person learns to (push the cart against the pole's swing: u ∝ −θ̇ cos θ while the energy is below
// the upright's, with a hand on the cart's position and a jittery, smooth force — the operator
// never balances it), recorded into a rosbag2 bag as the recorder writes a session (JointState,
// Float64MultiArray commands, EpisodeEvents, the task) and loaded by the dynamics learner's own
// `dataset` path (nodes/learner_dataset.ts: cut into episodes, resampled onto the 20 Hz control
// grid, encoded [x, sin θ, cos θ, ẋ, θ̇]). Same seeds both ways; the figure is the episodes PETS
// needs to a return of TARGET_RETURN, and their ratio.
//   npm run bench -- --only pretrain      (PRETRAIN_SEEDS=1,2,3  PRETRAIN_TELEOP_EPISODES=3)

const JOINTS = ['cart_slide', 'pole_hinge'];
const PERIOD_NS = 50_000_000n; // PETS_CARTPOLE: 25 physics steps of 2 ms
const RATE_HZ = 20;
/** the pole as sim/models/cartpole.xml has it: 0.15 kg over 0.6 m, a uniform rod about its hinge */
const POLE_MGL = 0.15 * 9.81 * 0.3;
const POLE_INERTIA = (0.15 * 0.6 * 0.6) / 3;

/** The scripted operator of one episode: a force for the state [x, θ, ẋ, θ̇] (θ = 0 upright). */
export function teleopOperator(rng: Rng): (x: Float32Array) => number {
  // people differ from take to take: the pumping gain and the hand on the cart
  const gain = 6 + 4 * rng.uniform();
  const centring = 5 + 3 * rng.uniform();
  let jitter = 0;
  return (s) => {
    const [x, theta, xd, thetad] = [s[0]!, s[1]!, s[2]!, s[3]!];
    // energy of the pole about its hinge, 0 at rest upright
    const energy = 0.5 * POLE_INERTIA * thetad * thetad + POLE_MGL * (Math.cos(theta) - 1);
    const pump = energy < 0 ? -gain * Math.tanh(-energy / 0.2) * thetad * Math.cos(theta) : 0;
    // a smooth random force (an Ornstein–Uhlenbeck process at the 20 Hz tick)
    jitter = 0.8 * jitter + 2 * rng.normal();
    const u = pump - centring * x - 2 * xd + jitter;
    return Math.max(-MAX_FORCE, Math.min(MAX_FORCE, u));
  };
}

/** Record `episodes` operator-driven episodes of the PETS cart-pole into a bag at `path`; their returns. */
export async function recordTeleop(path: string, episodes: number, seed: number): Promise<number[]> {
  const sim = await MujocoSim.fromFile(packagePath('sim/models/cartpole.xml'));
  const writer = await BagWriter.open(path, { diskSpace: { minFreeBytes: 0, minFreeFraction: 0 } });
  const js = codecFor('sensor_msgs/msg/JointState');
  const arr = codecFor('std_msgs/msg/Float64MultiArray');
  const ev = codecFor('dynastack_msgs/msg/EpisodeEvent');
  const str = codecFor('std_msgs/msg/String');
  const returns: number[] = [];
  try {
    const env = new MujocoEnv(sim, {
      joints: JOINTS,
      keyframe: 'hanging',
      substeps: PETS_CARTPOLE.substeps,
      episodeLength: PETS_CARTPOLE.episodeLength,
      reward: (x, u) => swingupReward(x[0]!, x[1]!, u[0]!),
      startNoise: PETS_CARTPOLE.startNoise,
      seed,
    });
    const rng = new Rng(seed);
    const event = (stampNs: bigint, episode: number, kind: number, reason: string): void => {
      writer.write(
        '/episode',
        'dynastack_msgs/msg/EpisodeEvent',
        stampNs,
        ev.encode({ header: { stamp: nsToTime(stampNs), frame_id: '' }, episode, event: kind, reason }),
      );
    };
    const state = (stampNs: bigint, x: Float32Array): void => {
      writer.write(
        '/joint_states',
        'sensor_msgs/msg/JointState',
        stampNs,
        js.encode({
          header: { stamp: nsToTime(stampNs), frame_id: '' },
          name: [...JOINTS],
          position: [x[0]!, x[1]!],
          velocity: [x[2]!, x[3]!],
          effort: [],
        }),
      );
    };
    // episodes 10 s apart on the recording's clock, as a session with resets between takes
    let t = 1_000_000_000n;
    for (let e = 0; e < episodes; e++) {
      const operator = teleopOperator(rng);
      let x = env.reset();
      writer.write('/recorder/task', 'std_msgs/msg/String', t, str.encode({ data: 'swing the pole up' }));
      event(t, e, EpisodeEventKind.START, '');
      let ret = 0;
      for (;;) {
        state(t, x);
        // the command of this tick, sent (and received, in lockstep) at its time
        const u = operator(x);
        writer.write(
          '/forward_command_controller/commands',
          'std_msgs/msg/Float64MultiArray',
          t,
          arr.encode({ layout: { dim: [], data_offset: 0 }, data: [u] }),
        );
        const step = env.step(Float32Array.of(u));
        ret += step.reward;
        x = step.state;
        t += PERIOD_NS;
        if (step.done) break;
      }
      state(t, x);
      event(t, e, EpisodeEventKind.END, 'length');
      returns.push(ret);
      t += 10_000_000_000n;
    }
  } finally {
    writer.close();
    sim.dispose();
  }
  return returns;
}

/** the first episode (1-based) whose return reaches TARGET_RETURN, or Infinity */
const toThreshold = (run: readonly EpisodeResult[]): number =>
  (run.find((e) => e.return >= TARGET_RETURN)?.episode ?? Infinity) + 1;

const fmt = (n: number): string => (Number.isFinite(n) ? String(n) : `>${PETS_CARTPOLE.episodes}`);

export async function pretrainBenchmarks(figures: Figures): Promise<void> {
  await initTensorBackend();
  const seeds = (process.env['PRETRAIN_SEEDS'] ?? '1,2,3').split(',').map(Number);
  const teleopEpisodes = Number(process.env['PRETRAIN_TELEOP_EPISODES'] ?? 3);
  const dir = await mkdtemp(join(tmpdir(), 'dynastack-pretrain-'));
  try {
    const bag = join(dir, 'teleop_cartpole');
    const teleopReturns = await recordTeleop(bag, teleopEpisodes, 1000);
    const dataset = await loadLearnerDataset(bag, {
      rateHz: RATE_HZ,
      periodNs: PERIOD_NS,
      joints: JOINTS,
      angleJoints: ['pole_hinge'],
      capacity: 1_000_000,
      stateTopics: ['joint_states'],
      commandTopics: ['forward_command_controller/commands'],
      episodeTopic: 'episode',
      warn: (line) => process.stdout.write(`    warning: ${line}\n`),
    });
    process.stdout.write(
      `    teleop: ${teleopEpisodes} episodes, returns ${teleopReturns.map((r) => r.toFixed(1)).join(' ')}\n    ${datasetLine(bag, dataset)}\n`,
    );
    const initialTransitions: TransitionData = dataset.buffer.toTransitionData();
    const log = (line: string): void => void process.stdout.write(`    ${line}\n`);
    const scratch: number[] = [];
    const pretrained: number[] = [];
    for (const seed of seeds) {
      const s = await petsCartpole(seed, (l) => log(`scratch ${l}`));
      const p = await petsCartpole(seed, (l) => log(`teleop  ${l}`), {
        ...PETS_CARTPOLE,
        randomEpisodes: 0,
        initialTransitions,
      });
      scratch.push(toThreshold(s));
      pretrained.push(toThreshold(p));
      const best = (r: EpisodeResult[]) => Math.max(...r.map((e) => e.return)).toFixed(1);
      log(
        `seed ${seed}: episodes to return ≥ ${TARGET_RETURN}: from scratch ${fmt(scratch.at(-1)!)} (best ${best(s)}) vs from teleop data ${fmt(pretrained.at(-1)!)} (best ${best(p)})`,
      );
      figures.add(
        `PETS cart-pole, seed ${seed}: episodes to return ≥ ${TARGET_RETURN} from scratch`,
        scratch.at(-1)!,
        'episode',
      );
      figures.add(
        `PETS cart-pole, seed ${seed}: episodes to return ≥ ${TARGET_RETURN} from ${teleopEpisodes} teleop episodes`,
        pretrained.at(-1)!,
        'episode',
      );
    }
    const ms = median(scratch);
    const mp = median(pretrained);
    log(
      `episodes to threshold (median of ${seeds.length} seeds): from scratch ${fmt(ms)} vs from teleop data ${fmt(mp)}; ratio ${(ms / mp).toFixed(2)}` +
        ` (per seed: ${scratch.map(fmt).join(', ')} vs ${pretrained.map(fmt).join(', ')}; the teleop data's ${teleopEpisodes} episodes not counted)`,
    );
    figures.add(`PETS cart-pole: median episodes to return ≥ ${TARGET_RETURN} from scratch`, ms, 'episode');
    figures.add(`PETS cart-pole: median episodes to return ≥ ${TARGET_RETURN} from teleop data`, mp, 'episode');
    figures.add('PETS cart-pole: episodes to threshold, from scratch ÷ from teleop data', ms / mp, 'ratio');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
