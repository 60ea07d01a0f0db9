import type { MujocoSim } from '../mujoco/sim.js';
import { CommandMap } from './command_map.js';
import { Pushes, type PushSchedule } from './pushes.js';
import { SimulatedSensors, type JointSample, type SensorModel } from './sensor.js';
import { Rng } from '../../src/util/random.js';

// The simulated robot behind the sim_bridge node: one control period at a time, it takes the newest
// command (held between commands, as hardware does), steps the physics, applies scheduled
// pushes, and reports joint state through the sensor model. Episodes end by length or when a
// reset is asked for, and restart from a keyframe, with optional noise on the initial state.
//
// The robot says where episodes begin and end (advance() returns the boundary it crossed, with the
// stamps of the last state of the old episode and the first of the new); the node publishes that
// as dynastack_msgs/EpisodeEvent, and consumers read episodes from it, never from time stamps.
// Between episodes sim time still jumps by two control periods of dead time. They are kept because
// they are harmless and keep runs repeatable: sim time must never go back under the nodes, and
// removing them would shift every later tick, push and time limit of an existing run; but they are
// not a signal, and nothing may infer an episode from them.

export interface SimulatedRobotConfig {
  /** joints in /joint_states, in order */
  readonly joints: readonly string[];
  /** joints the command vector drives, in order */
  readonly commandJoints: readonly string[];
  /** what a command value is: with 'effort', /joint_states reports the commanded effort */
  readonly commandInterface: 'effort' | 'position';
  readonly controlPeriodNs: bigint;
  readonly sensors: SensorModel;
  readonly pushes?: PushSchedule;
  /** 0n: one endless episode */
  readonly episodeLengthNs: bigint;
  readonly resetKeyframe: string;
  /** added to each published joint's keyframe position at reset (empty: none) */
  readonly initialOffsets: readonly number[];
  /** standard deviation of noise added to each joint position at reset (rad or m) */
  readonly initialPositionNoise: number;
  readonly seed: number;
}

/** One end of an episode, as the node publishes it (an EpisodeEvent's stamp, index and reason). */
export interface EpisodeMark {
  /** the episode's index, from 0 */
  readonly episode: number;
  /** START: the stamp of the episode's first state; END: that of its last published state */
  readonly stampNs: bigint;
  /** END: 'length', 'reset' or 'shutdown'; START: '' */
  readonly reason: string;
}

/** What advance() crossed: the end of one episode and the start of the next, in that order. */
export interface EpisodeBoundary {
  readonly end: EpisodeMark;
  readonly start: EpisodeMark;
}

export interface PoseSample {
  readonly position: Float64Array;
  /** 3×3 row-major */
  readonly rotation: Float64Array;
}

export class SimulatedRobot {
  readonly commands: CommandMap;
  readonly substeps: number;
  readonly #sensors: SimulatedSensors;
  readonly #pushes: Pushes | undefined;
  readonly #rng: Rng;
  readonly #ctrl: Float64Array;
  readonly #joints: { qposAdr: number; dofAdr: number }[];
  readonly #pos: Float64Array;
  readonly #vel: Float64Array;
  readonly #eff: Float64Array;
  readonly #qpos: Float64Array;
  readonly #qvel: Float64Array;
  #episode = 0;
  #episodeStartNs = 0n;
  /** the stamp of the newest state sample() reported in this episode (none yet: undefined) */
  #lastStateNs: bigint | undefined;
  #resetRequested = false;
  #steps = 0;
  #rejected = 0;

  constructor(
    readonly sim: MujocoSim,
    readonly config: SimulatedRobotConfig,
  ) {
    const info = sim.info;
    const timestepNs = BigInt(Math.round(info.timestep * 1e9));
    if (config.controlPeriodNs % timestepNs !== 0n) {
      throw new Error(
        `control period ${Number(config.controlPeriodNs) / 1e6} ms is not a whole number of ${info.timestep * 1e3} ms physics steps`,
      );
    }
    if (config.initialOffsets.length && config.initialOffsets.length !== config.joints.length) {
      throw new Error(
        `initial offsets: expected ${config.joints.length} values (${config.joints.join(', ')}), got ${config.initialOffsets.length}`,
      );
    }
    this.substeps = Number(config.controlPeriodNs / timestepNs);
    this.commands = new CommandMap(config.commandJoints, info.actuators, info.nu);
    this.#joints = config.joints.map((name) => {
      const j = info.joints.find((joint) => joint.name === name);
      if (!j)
        throw new Error(`joint '${name}' is not in the model (it has: ${info.joints.map((x) => x.name).join(', ')})`);
      if (j.type !== 'hinge' && j.type !== 'slide')
        throw new Error(`joint '${name}' is a ${j.type} joint; /joint_states carries hinge and slide joints only`);
      return j;
    });
    this.#sensors = new SimulatedSensors(config.sensors);
    this.#pushes = config.pushes ? new Pushes(config.pushes) : undefined;
    this.#rng = new Rng(config.seed);
    this.#ctrl = new Float64Array(info.nu);
    const n = config.joints.length;
    this.#pos = new Float64Array(n);
    this.#vel = new Float64Array(n);
    this.#eff = new Float64Array(n);
    this.#qpos = new Float64Array(info.nq);
    this.#qvel = new Float64Array(info.nv);
    this.#restart();
  }

  get timeNs(): bigint {
    return BigInt(Math.round(this.sim.time * 1e9));
  }

  get episode(): number {
    return this.#episode;
  }

  get steps(): number {
    return this.#steps;
  }

  /** commands refused so far */
  get commandsRejected(): number {
    return this.#rejected;
  }

  /** The start of the episode under way (episode 0's, before the first tick: the node publishes it at activation). */
  episodeStart(): EpisodeMark {
    return { episode: this.#episode, stampNs: this.#episodeStartNs, reason: '' };
  }

  /**
   * The end of the episode under way without a restart (the run is over): its last state's stamp,
   * or its start's when it has published no state.
   */
  episodeEnd(reason: string): EpisodeMark {
    return { episode: this.#episode, stampNs: this.#lastStateNs ?? this.#episodeStartNs, reason };
  }

  /** Ask for a new episode: it starts at the end of the control period under way, as a time limit does. */
  requestReset(): void {
    this.#resetRequested = true;
  }

  /** Start an episode: the keyframe, plus seeded noise on the joint positions. */
  #restart(): void {
    const keep = this.sim.time;
    if (this.config.resetKeyframe) this.sim.resetToKeyframe(this.config.resetKeyframe);
    else this.sim.reset();
    // sim time runs on across episodes: /clock must never go backwards under the nodes
    this.sim.time = keep;
    if (this.config.initialPositionNoise > 0 || this.config.initialOffsets.length) {
      const qpos = this.sim.getQpos(this.#qpos);
      this.#joints.forEach((j, i) => {
        qpos[j.qposAdr]! +=
          (this.config.initialOffsets[i] ?? 0) + this.config.initialPositionNoise * this.#rng.normal();
      });
      this.sim.setQpos(qpos);
    }
    this.#ctrl.fill(0);
    this.sim.setCtrl(this.#ctrl);
    this.sim.forward();
    this.#sensors.reset();
    this.#episodeStartNs = this.timeNs;
    this.#lastStateNs = undefined;
  }

  /** Take a command for the coming periods; returns why it was refused (counted), or undefined. */
  command(values: ArrayLike<number>): string | undefined {
    const problem = this.commands.problem(values);
    if (problem) {
      this.#rejected++;
      return problem;
    }
    this.commands.apply(values, this.#ctrl);
    return undefined;
  }

  /**
   * Step one control period. At an episode's end (its length reached, or a reset asked for) the
   * robot restarts, and this returns the boundary, for the node to publish before the new
   * episode's first state; otherwise undefined.
   */
  advance(): EpisodeBoundary | undefined {
    this.sim.setCtrl(this.#ctrl);
    for (let i = 0; i < this.substeps; i++) {
      if (this.#pushes) {
        const f = this.#pushes.forceAt(this.timeNs);
        if (f !== 0) this.sim.applyForce(this.config.pushes!.body, [f, 0, 0]);
        else this.sim.clearForces();
      }
      this.sim.step();
    }
    this.#steps++;
    const timeUp =
      this.config.episodeLengthNs > 0n && this.timeNs - this.#episodeStartNs >= this.config.episodeLengthNs;
    if (!timeUp && !this.#resetRequested) return undefined;
    const end = this.episodeEnd(this.#resetRequested ? 'reset' : 'length');
    this.#resetRequested = false;
    this.#episode++;
    this.#restart();
    // two periods of dead time between episodes (see the header: kept, but not a signal)
    this.sim.time += (2 * Number(this.config.controlPeriodNs)) / 1e9;
    this.#episodeStartNs = this.timeNs;
    return { end, start: this.episodeStart() };
  }

  /**
   * Hold the robot one control period: time passes, the physics does not move (a real-time bridge
   * whose controller has not commanded yet: its clock must run for the controller's timer, and the
   * robot must not fall meanwhile). Held time is not part of the episode's length.
   */
  hold(): void {
    this.sim.time += Number(this.config.controlPeriodNs) / 1e9;
    this.#episodeStartNs += this.config.controlPeriodNs;
  }

  /** The joint state the sensors report now (after noise and latency). */
  sample(): JointSample | undefined {
    const qpos = this.sim.getQpos(this.#qpos);
    const qvel = this.sim.getQvel(this.#qvel);
    this.#joints.forEach((j, i) => {
      this.#pos[i] = qpos[j.qposAdr]!;
      this.#vel[i] = qvel[j.dofAdr]!;
      // with effort commands the effort a joint gets is what its actuator is told to give
      const c =
        this.config.commandInterface === 'effort' ? this.config.commandJoints.indexOf(this.config.joints[i]!) : -1;
      this.#eff[i] = c >= 0 ? this.#ctrl[this.commands.actuatorOf[c]!]! : 0;
    });
    const sample = this.#sensors.measure(this.timeNs, this.#pos, this.#vel, this.#eff);
    if (sample) this.#lastStateNs = sample.stampNs;
    return sample;
  }

  /** The pose of a site now (true, no noise). */
  sitePose(site: string): PoseSample {
    return { position: this.sim.sitePosition(site), rotation: this.sim.siteRotation(site) };
  }

  pushesSoFar(): number {
    return this.#pushes?.countAt(this.timeNs) ?? 0;
  }
}
