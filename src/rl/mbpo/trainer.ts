import { ProbabilisticEnsemble } from '../../dynamics/ensemble.js';
import { StateEncoding } from '../../dynamics/state_encoding.js';
import type { NamedArray } from '../../tensor/weights.js';
import { Rng } from '../../util/random.js';
import { createSac, type SacEngineChoice } from '../sac/create.js';
import type { SacConfig, SacUpdate, SoftActorCritic } from '../sac/sac.js';
import { branchedRollouts, type RolloutTask } from './model_rollouts.js';
import { allocateBatch, ReplayBuffer } from './replay_buffer.js';
import { checkSchedule, rolloutLength, type RolloutSchedule } from './rollout_schedule.js';
import { CHECKPOINT_FORMAT, type CheckpointCounts, type TrainerCheckpoint } from './trainer_checkpoint.js';

// MBPO's learner as a state machine fed from outside (Janner et al. 2019, Algorithm 2, with the
// environment's steps taken by someone else): the policy trainer node's worker runs it on the
// graph's transitions, tests run it directly. runMbpo (./mbpo.ts) is the same loop driving an Env;
// the order of the work per real step is its order:
//  - addTransition: a real (s, a, s′) in the learner's encoded states; its reward and termination
//    are the task's functions of (a, s′) (./tasks.ts), the same the model rollouts use; a
//    transition with a value that is not finite is refused with the reason, and nothing changes;
//  - setModel: a dynamics ensemble as the dynamics learner publishes it (serialised), checked
//    against the trainer's sizes and state layout; one that does not fit is refused in one line and
//    the model in use stays;
//  - round: the work owed for real steps that arrived — per step, `rolloutsPerStep` branched
//    rollouts of the scheduled length from real states into the model buffer (once there is a
//    model), then `updatesPerStep` SAC updates on batches mixing `realRatio` real rows with model
//    rows (real rows only until the model buffer has some; none before `randomSteps` real steps or
//    a batch of real data). A round does at most `maxStepsPerRound` steps, so its owner can take new
//    data and models between rounds; when more than `maxBacklogSteps` steps wait, the oldest are
//    skipped (counted), so that a trainer slower than the robot lags by a bounded amount;
//  - releases: a new policy version (the actor's weights) after the work for an episode's steps is
//    done (endEpisode), and every `publishEveryUpdates` updates within an episode; a release needs
//    updates since the last one, so before the first update there is no policy;
//  - checkpoint / restore: SAC's snapshot, the real buffer and the counts (./trainer_checkpoint.ts).

export interface MbpoTrainerConfig {
  readonly obsSize: number;
  readonly actionLow: readonly number[];
  readonly actionHigh: readonly number[];
  /** rewards and terminations of real and model transitions, on encoded states */
  readonly task: RolloutTask;
  /** what models must predict: this state layout (a model whose metadata says another is refused) */
  readonly encoding?: StateEncoding;
  /** and over this control period (ns; a model whose metadata says another is refused) */
  readonly periodNs?: number;
  readonly sac: Omit<SacConfig, 'obsSize' | 'actionLow' | 'actionHigh' | 'seed'>;
  readonly engine?: SacEngineChoice;
  /** share of each SAC batch drawn from the real buffer (MBPO: 0.05) */
  readonly realRatio: number;
  /** model rollouts branched per real step (MBPO: 400) */
  readonly rolloutsPerStep: number;
  /** rollout length over epochs of `epochLength` real steps: [start_epoch, end_epoch, start_len, end_len] */
  readonly rolloutSchedule: RolloutSchedule;
  readonly epochLength: number;
  /** epochs of rollouts the model buffer keeps */
  readonly retainEpochs: number;
  /** SAC updates per real step (MBPO: 10–40) */
  readonly updatesPerStep: number;
  readonly batchSize: number;
  /** real steps before the first update (the robot explores meanwhile) */
  readonly randomSteps: number;
  readonly replayCapacity: number;
  /** real steps whose work one round does at most */
  readonly maxStepsPerRound: number;
  /** real steps whose work may wait; the oldest beyond are skipped (0: none is) */
  readonly maxBacklogSteps: number;
  /** release a policy after this many updates since the last (0: at episode ends only) */
  readonly publishEveryUpdates: number;
  readonly seed: number;
}

/** A real transition in the encoded states, stamped with its next state's stamp. */
export interface RealTransition {
  readonly obs: ArrayLike<number>;
  readonly action: ArrayLike<number>;
  readonly next: ArrayLike<number>;
  readonly stampNs: bigint;
}

export type TransitionOutcome =
  | { readonly ok: true; readonly reward: number; readonly terminated: boolean }
  | { readonly ok: false; readonly reason: string };

/** A policy version to publish: the actor's weights and what they were trained on. */
export interface PolicyRelease {
  readonly version: number;
  readonly weights: NamedArray[];
  /** 'episode': the work for an episode's steps is done; 'updates': publishEveryUpdates more */
  readonly reason: 'episode' | 'updates';
  /** the stamp of the newest real transition whose updates it includes (0n: none of this run's) */
  readonly dataEndNs: bigint;
  readonly figures: TrainerFigures;
}

/** An episode whose steps' work is done. */
export interface EpisodeDone {
  /** from 1 */
  readonly episode: number;
  /** the sum of the task's rewards over its real transitions */
  readonly return: number;
  readonly length: number;
  readonly endNs: bigint;
}

export interface RoundReport {
  readonly steps: number;
  readonly updates: number;
  /** steps skipped before this round (the backlog was over maxBacklogSteps) */
  readonly skipped: number;
  readonly episodes: readonly EpisodeDone[];
  readonly release?: PolicyRelease;
}

export interface TrainerFigures {
  readonly engine: string;
  readonly realSteps: number;
  readonly processedSteps: number;
  readonly pendingSteps: number;
  readonly skippedSteps: number;
  readonly refusedTransitions: number;
  readonly realBuffer: number;
  readonly modelBuffer: number;
  /** model transitions ever added */
  readonly modelTransitions: number;
  /** the version of the dynamics model in use (0: none) */
  readonly modelVersion: number;
  readonly refusedModels: number;
  readonly policyVersion: number;
  readonly updates: number;
  /** the newest update's figures */
  readonly sac?: SacUpdate;
  readonly rolloutLength: number;
  /** mean reward per model transition, and mean return per rollout, of the newest step's rollouts (NaN before any) */
  readonly modelReward: number;
  readonly modelReturn: number;
  /** mean of the model rollouts' terminal share, newest step */
  readonly modelTerminated: number;
  readonly episodes: number;
  /** the newest finished episode's real return (NaN before one) */
  readonly lastReturn: number;
  /** time spent in SAC updates and in rollouts (s) */
  readonly updateSeconds: number;
  readonly rolloutSeconds: number;
}

const SIZES = ['rolloutsPerStep', 'epochLength', 'retainEpochs', 'batchSize', 'replayCapacity', 'maxStepsPerRound'];

export class MbpoTrainer {
  readonly config: MbpoTrainerConfig;
  readonly #sac: SoftActorCritic;
  readonly #engine: string;
  readonly #real: ReplayBuffer;
  #modelBuffer: ReplayBuffer | undefined;
  #model: ProbabilisticEnsemble | undefined;
  #modelVersion = 0;
  #modelJson = '';
  readonly #rng: Rng;
  readonly #batch: ReturnType<typeof allocateBatch>;
  readonly #starts: Float32Array;
  // scratch for one transition's reward and termination
  readonly #next1: Float32Array;
  readonly #action1: Float32Array;
  readonly #reward1 = new Float32Array(1);
  readonly #done1 = new Uint8Array(1);
  /** stamps of the steps whose work waits, oldest first, from #stampHead */
  #stamps: bigint[] = [];
  #stampHead = 0;
  #added = 0;
  #processed = 0;
  #skipped = 0;
  #refused = 0;
  #refusedModels = 0;
  #dataEndNs = 0n;
  #policyVersion = 0;
  #updatesAtRelease = 0;
  #lastUpdate: SacUpdate | undefined;
  #length = 0;
  #modelReward = Number.NaN;
  #modelReturn = Number.NaN;
  #modelTerminated = Number.NaN;
  #updateSeconds = 0;
  #rolloutSeconds = 0;
  /** episode ends whose steps' work is not done yet */
  #ends: (EpisodeDone & { steps: number })[] = [];
  #episodes = 0;
  #episodeReturn = 0;
  #episodeLength = 0;
  #lastReturn = Number.NaN;

  /** A new trainer, or one going on from `from` (its sizes must be this config's). */
  constructor(config: MbpoTrainerConfig, from?: TrainerCheckpoint) {
    checkConfig(config);
    this.config = config;
    const nu = config.actionLow.length;
    const { sac, why } = createSac(
      {
        ...config.sac,
        obsSize: config.obsSize,
        actionLow: [...config.actionLow],
        actionHigh: [...config.actionHigh],
        seed: config.seed,
      },
      config.engine,
    );
    this.#sac = sac;
    this.#engine = `${sac.engine} (${why})`;
    this.#real = new ReplayBuffer(config.obsSize, nu, config.replayCapacity);
    this.#rng = new Rng(config.seed ^ 0x3b90);
    this.#batch = allocateBatch(config.batchSize, config.obsSize, nu);
    this.#starts = new Float32Array(config.rolloutsPerStep * config.obsSize);
    this.#next1 = new Float32Array(config.obsSize);
    this.#action1 = new Float32Array(nu);
    if (from) {
      try {
        this.#restore(from);
      } catch (err) {
        sac.dispose();
        throw err;
      }
    }
  }

  get pendingSteps(): number {
    return this.#stamps.length - this.#stampHead;
  }

  /** work waits: steps, or an episode end to report */
  get hasWork(): boolean {
    return this.pendingSteps > 0 || this.#ends.length > 0;
  }

  get updates(): number {
    return this.#sac.updates;
  }

  get policyVersion(): number {
    return this.#policyVersion;
  }

  get modelVersion(): number {
    return this.#modelVersion;
  }

  /** the actor (for tests and evaluation): actions for encoded observations */
  get policy(): Pick<SoftActorCritic, 'act' | 'actBatch' | 'actorWeights'> {
    return this.#sac;
  }

  /** the real buffer's transitions (s, a, s′), oldest first */
  realTransitions(): ReturnType<ReplayBuffer['transitions']> {
    return this.#real.transitions();
  }

  /** Add a real transition, or say why it is refused (nothing changes then). */
  addTransition(t: RealTransition): TransitionOutcome {
    const { obsSize } = this.config;
    const nu = this.#action1.length;
    if (t.obs.length !== obsSize || t.next.length !== obsSize || t.action.length !== nu) {
      this.#refused++;
      return {
        ok: false,
        reason: `sizes (${t.obs.length}, ${t.action.length}, ${t.next.length}) do not fit states of ${obsSize} and actions of ${nu}`,
      };
    }
    const bad = nonFinite(t.obs, 's') ?? nonFinite(t.action, 'a') ?? nonFinite(t.next, 's′');
    if (bad) {
      this.#refused++;
      return { ok: false, reason: bad };
    }
    const { reward, terminated } = this.#label(t.action, t.next);
    if (!Number.isFinite(reward)) {
      this.#refused++;
      return { ok: false, reason: `the task's reward is ${reward}` };
    }
    this.#real.add(t.obs, t.action, reward, t.next, terminated);
    this.#stamps.push(t.stampNs);
    this.#added++;
    this.#episodeReturn += reward;
    this.#episodeLength++;
    return { ok: true, reward, terminated };
  }

  /** The source ended an episode with its state stamped `stampNs`, after its transitions were added. */
  endEpisode(stampNs: bigint): void {
    if (this.#episodeLength === 0) return;
    this.#episodes++;
    this.#ends.push({
      episode: this.#episodes,
      return: this.#episodeReturn,
      length: this.#episodeLength,
      endNs: stampNs,
      steps: this.#added,
    });
    this.#episodeReturn = 0;
    this.#episodeLength = 0;
  }

  /**
   * Use the serialised ensemble (a dynastack_msgs/ModelBlob's metadata and data) for the rollouts
   * from now on: 'in_use', or 'repeated' when it is the model in use already. Throws one line when
   * it cannot be read or does not fit; the model in use stays.
   */
  setModel(metadataJson: string, data: Uint8Array, version: number): 'in_use' | 'repeated' {
    const v = `dynamics model v${version}`;
    if (this.#model && version === this.#modelVersion && metadataJson === this.#modelJson) return 'repeated';
    let next: ProbabilisticEnsemble;
    try {
      const metadata = JSON.parse(metadataJson) as Record<string, unknown>;
      this.#checkLayout(metadata, v);
      next = ProbabilisticEnsemble.deserialize(metadata, data, { threads: 1 });
    } catch (err) {
      this.#refusedModels++;
      throw new Error(`${v}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const { stateSize, actionSize } = next.config;
    if (stateSize !== this.config.obsSize || actionSize !== this.#action1.length || !next.elites.length) {
      next.dispose();
      this.#refusedModels++;
      throw new Error(
        `${v}: it predicts states of ${stateSize} from actions of ${actionSize}, the policy's are ${this.config.obsSize} and ${this.#action1.length}`,
      );
    }
    this.#model?.dispose();
    this.#model = next;
    this.#modelVersion = version;
    this.#modelJson = metadataJson;
    return 'in_use';
  }

  /** Do the work of up to maxStepsPerRound waiting real steps; say what was done and what to publish. */
  round(): RoundReport {
    const c = this.config;
    let skipped = 0;
    if (c.maxBacklogSteps > 0 && this.pendingSteps > c.maxBacklogSteps) {
      skipped = this.pendingSteps - c.maxBacklogSteps;
      this.#dataEndNs = this.#stamps[this.#stampHead + skipped - 1]!;
      this.#stampHead += skipped;
      this.#processed += skipped;
      this.#skipped += skipped;
    }
    const steps = Math.min(this.pendingSteps, c.maxStepsPerRound);
    const before = this.#sac.updates;
    for (let k = 0; k < steps; k++) {
      const step = this.#processed + 1;
      if (this.#model) this.#rollouts(step);
      if (step >= c.randomSteps && this.#real.size >= c.batchSize) this.#update();
      this.#dataEndNs = this.#stamps[this.#stampHead++]!;
      this.#processed = step;
    }
    if (this.#stampHead > 4096 && this.#stampHead * 2 > this.#stamps.length) {
      this.#stamps = this.#stamps.slice(this.#stampHead);
      this.#stampHead = 0;
    }
    const episodes: EpisodeDone[] = [];
    while (this.#ends.length && this.#ends[0]!.steps <= this.#processed) {
      const end = this.#ends.shift()!;
      episodes.push({ episode: end.episode, return: end.return, length: end.length, endNs: end.endNs });
      this.#lastReturn = end.return;
    }
    const since = this.#sac.updates - this.#updatesAtRelease;
    let release: PolicyRelease | undefined;
    if (since > 0 && episodes.length) release = this.#release('episode');
    else if (c.publishEveryUpdates > 0 && since >= c.publishEveryUpdates) release = this.#release('updates');
    return { steps, updates: this.#sac.updates - before, skipped, episodes, ...(release ? { release } : {}) };
  }

  figures(): TrainerFigures {
    return {
      engine: this.#engine,
      realSteps: this.#added,
      processedSteps: this.#processed,
      pendingSteps: this.pendingSteps,
      skippedSteps: this.#skipped,
      refusedTransitions: this.#refused,
      realBuffer: this.#real.size,
      modelBuffer: this.#modelBuffer?.size ?? 0,
      modelTransitions: this.#modelBuffer?.added ?? 0,
      modelVersion: this.#modelVersion,
      refusedModels: this.#refusedModels,
      policyVersion: this.#policyVersion,
      updates: this.#sac.updates,
      ...(this.#lastUpdate ? { sac: this.#lastUpdate } : {}),
      rolloutLength: this.#length,
      modelReward: this.#modelReward,
      modelReturn: this.#modelReturn,
      modelTerminated: this.#modelTerminated,
      episodes: this.#episodes,
      lastReturn: this.#lastReturn,
      updateSeconds: this.#updateSeconds,
      rolloutSeconds: this.#rolloutSeconds,
    };
  }

  /** Everything to go on from (`layout`: what the owner records about the data, checked when it resumes). */
  checkpoint(layout: object = {}): TrainerCheckpoint {
    const arrays = new Map<string, NamedArray>();
    for (const a of this.#sac.snapshot()) arrays.set(`sac/${a.name}`, { ...a, name: `sac/${a.name}` });
    const t = this.#real.transitions();
    const nu = this.#action1.length;
    const no = this.config.obsSize;
    arrays.set('real/obs', { name: 'real/obs', shape: [t.n, no], values: t.states });
    arrays.set('real/actions', { name: 'real/actions', shape: [t.n, nu], values: t.actions });
    arrays.set('real/next_obs', { name: 'real/next_obs', shape: [t.n, no], values: t.nextStates });
    const counts: CheckpointCounts = {
      realSteps: this.#added,
      processedSteps: this.#processed,
      skippedSteps: this.#skipped,
      policyVersion: this.#policyVersion,
      updatesAtRelease: this.#updatesAtRelease,
      episodes: this.#episodes,
      modelTransitions: this.#modelBuffer?.added ?? 0,
    };
    return {
      header: {
        format: CHECKPOINT_FORMAT,
        obsSize: no,
        actionSize: nu,
        hidden: [...this.#sac.config.hidden],
        counts,
        ended: this.#ends.map((e) => ({ ...e, endNs: String(e.endNs) })),
        layout: { ...layout },
      },
      arrays,
    };
  }

  dispose(): void {
    this.#sac.dispose();
    this.#model?.dispose();
    this.#model = undefined;
  }

  #label(action: ArrayLike<number>, next: ArrayLike<number>): { reward: number; terminated: boolean } {
    this.#next1.set(next);
    this.#action1.set(action);
    this.config.task.reward(this.#next1, this.#action1, this.#reward1);
    this.#done1[0] = 0;
    this.config.task.terminated?.(this.#next1, this.#done1);
    return { reward: this.#reward1[0]!, terminated: this.#done1[0] === 1 };
  }

  /** a model's metadata.training state layout, when it has one, must be the trainer's */
  #checkLayout(metadata: Record<string, unknown>, what: string): void {
    const encoding = this.config.encoding;
    const training = metadata['training'] as Record<string, unknown> | undefined;
    if (!encoding || !training || typeof training !== 'object') return;
    const theirs = StateEncoding.fromMetadata(training, what);
    if (theirs.describe() !== encoding.describe())
      throw new Error(`it predicts the state ${theirs.describe()}, the policy reads ${encoding.describe()}`);
    const period = training['period_ns'];
    if (this.config.periodNs !== undefined && period !== undefined && period !== this.config.periodNs)
      throw new Error(
        `it predicts over ${JSON.stringify(period)} ns, the policy acts every ${this.config.periodNs} ns`,
      );
  }

  #rollouts(step: number): void {
    const c = this.config;
    const t0 = performance.now();
    const length = rolloutLength(c.rolloutSchedule, step / c.epochLength);
    this.#length = length;
    this.#modelBuffer ??= new ReplayBuffer(
      c.obsSize,
      this.#action1.length,
      c.rolloutsPerStep * Math.max(c.rolloutSchedule[2], c.rolloutSchedule[3]) * c.epochLength * c.retainEpochs,
    );
    this.#real.sampleObs(c.rolloutsPerStep, this.#rng, this.#starts);
    const r = branchedRollouts(
      this.#model!,
      this.#sac,
      c.task,
      this.#starts,
      c.rolloutsPerStep,
      length,
      this.#action1.length,
      this.#rng,
      this.#modelBuffer,
    );
    this.#modelReward = r.transitions ? r.meanReward : Number.NaN;
    this.#modelReturn = (r.meanReward * r.transitions) / c.rolloutsPerStep;
    this.#modelTerminated = r.terminated / c.rolloutsPerStep;
    this.#rolloutSeconds += (performance.now() - t0) / 1000;
  }

  #update(): void {
    const c = this.config;
    const t0 = performance.now();
    const batch = this.#batch;
    const model = this.#modelBuffer && this.#modelBuffer.size > 0 ? this.#modelBuffer : undefined;
    const realRows = model ? Math.max(1, Math.round(c.realRatio * c.batchSize)) : c.batchSize;
    for (let k = 0; k < c.updatesPerStep; k++) {
      this.#real.sampleInto(batch, 0, realRows, this.#rng);
      if (model && realRows < c.batchSize) model.sampleInto(batch, realRows, c.batchSize - realRows, this.#rng);
      this.#lastUpdate = this.#sac.update(batch);
    }
    this.#updateSeconds += (performance.now() - t0) / 1000;
  }

  #release(reason: PolicyRelease['reason']): PolicyRelease {
    this.#policyVersion++;
    this.#updatesAtRelease = this.#sac.updates;
    return {
      version: this.#policyVersion,
      weights: this.#sac.actorWeights(),
      reason,
      dataEndNs: this.#dataEndNs,
      figures: this.figures(),
    };
  }

  #restore(from: TrainerCheckpoint): void {
    const h = from.header;
    const nu = this.#action1.length;
    const what = 'policy trainer checkpoint';
    if (h.obsSize !== this.config.obsSize || h.actionSize !== nu)
      throw new Error(
        `${what}: it holds states of ${h.obsSize} and actions of ${h.actionSize}, this trainer's are ${this.config.obsSize} and ${nu}`,
      );
    const hidden = this.#sac.config.hidden;
    if (h.hidden.join(',') !== hidden.join(','))
      throw new Error(
        `${what}: its networks' hidden widths are [${h.hidden.join(', ')}], this trainer's [${hidden.join(', ')}]`,
      );
    const sac = new Map<string, NamedArray>();
    for (const [name, a] of from.arrays)
      if (name.startsWith('sac/')) sac.set(name.slice(4), { ...a, name: name.slice(4) });
    try {
      this.#sac.restore(sac);
    } catch (err) {
      throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
    }
    const [obs, actions, next] = ['real/obs', 'real/actions', 'real/next_obs'].map((k) => from.arrays.get(k));
    const no = this.config.obsSize;
    const n = obs ? obs.values.length / no : 0;
    if (!obs || !actions || !next || actions.values.length !== n * nu || next.values.length !== n * no)
      throw new Error(`${what}: its real transitions are missing or mis-sized`);
    for (let i = 0; i < n; i++) {
      const o = obs.values.subarray(i * no, (i + 1) * no);
      const a = actions.values.subarray(i * nu, (i + 1) * nu);
      const s2 = next.values.subarray(i * no, (i + 1) * no);
      const { reward, terminated } = this.#label(a, s2);
      this.#real.add(o, a, reward, s2, terminated);
    }
    const c = h.counts;
    this.#added = c.realSteps;
    this.#processed = Math.min(c.processedSteps, c.realSteps);
    // the steps whose work was owed go on waiting; their stamps are of the earlier run's clock
    this.#stamps = new Array<bigint>(this.#added - this.#processed).fill(0n);
    this.#skipped = c.skippedSteps;
    this.#policyVersion = c.policyVersion;
    this.#updatesAtRelease = c.updatesAtRelease;
    this.#episodes = c.episodes;
    // ended episodes whose work waited: reported (and released for) once it is done; the episode
    // under way at the checkpoint does not go on (a new run starts a new one)
    this.#ends = h.ended.map((x) => ({
      episode: x.episode,
      return: x.return,
      length: x.length,
      endNs: BigInt(x.endNs),
      steps: x.steps,
    }));
  }
}

function checkConfig(c: MbpoTrainerConfig): void {
  for (const key of SIZES) {
    const v = c[key as keyof MbpoTrainerConfig] as number;
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`MBPO trainer: ${key} must be a positive integer, got ${v}`);
  }
  for (const key of ['updatesPerStep', 'randomSteps', 'maxBacklogSteps', 'publishEveryUpdates'] as const)
    if (!(Number.isInteger(c[key]) && c[key] >= 0))
      throw new Error(`MBPO trainer: ${key} must be an integer ≥ 0, got ${c[key]}`);
  if (!(c.realRatio >= 0 && c.realRatio <= 1)) throw new Error(`MBPO trainer: real ratio ${c.realRatio} not in 0…1`);
  checkSchedule(c.rolloutSchedule);
  if (c.encoding && c.encoding.size !== c.obsSize)
    throw new Error(
      `MBPO trainer: the state layout ${c.encoding.describe()} has ${c.encoding.size} values, obsSize is ${c.obsSize}`,
    );
}

/** 'what [values]' naming the first non-finite entry, or undefined */
function nonFinite(values: ArrayLike<number>, what: string): string | undefined {
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(values[i]!))
      return `${what}[${i}] is ${values[i]} in [${Array.from(values, (v) => (Number.isFinite(v) ? +v.toPrecision(4) : v)).join(', ')}]`;
  return undefined;
}
