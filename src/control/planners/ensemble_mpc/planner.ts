import { ProbabilisticEnsemble } from '../../../dynamics/ensemble.js';
import { StateEncoding } from '../../../dynamics/state_encoding.js';
import { TrajectorySamplingEvaluator, type Propagation } from './trajectory_sampling.js';
import type { SequenceCosts, StatefulEvaluator } from '../sampling/evaluator.js';
import type { ActionOptimizer, OptimizeBudget } from '../sampling/optimizer.js';
import { SamplingPlanner } from '../sampling/planner.js';
import type { Goal, LearnedPlanning, PlanningInput } from '../../planner.js';
import type { Policy } from '../../policy.js';
import { UniformExploration } from './exploration.js';
import { PlanningCounters } from './counters.js';
import { costsOverEncoding, type TaskCost } from '../../task_costs.js';
import { checkPolicyFits, type LearnedPolicy, type PolicyTaking } from '../../learned_policy.js';
import { policyOverModel } from './model_policy.js';

// PETS in the controller: a sampling planner over the newest learned dynamics model. Models
// arrive as ensemble blobs (dynastack_msgs/ModelBlob) and are swapped in between ticks: a new
// trajectory-sampling evaluator goes into the slot the planner evaluates through, and the old
// ensemble is freed. The planner itself stays, so the previous plan keeps warm-starting the next
// (the action size is the controller's, and a model of another size is refused).
//
// Three layouts meet here: the controller's state x = [q (nv), q̇ (nv)] in model dof order, the
// learner's encoded state of its own joints (the blob's metadata names the joints and which of
// them are angles seen as sin and cos: src/dynamics/state_encoding.ts), and the task cost's
// [q, q̇] of the task's joints. Planning runs in the learner's encoded state; the estimate is
// gathered and encoded at each replan, and the task scores the rollouts in that state
// (costsOverEncoding: straight from sin/cos where it can, else through the decoded state).
// Until the first model the planner explores with uniformly random actions, or has no policy
// (the command loop then sends the stop action).
// It also takes learned policies (setPolicy, from the controller's policy_topic when the optimiser
// has a sampling.policy_share): each is checked against the controller (actuators, period, joints)
// and handed to the evaluator in use, acting on the model's state (./model_policy.ts), so that the
// optimiser mixes the policy's rollouts into its samples; a new model gets the policy in use too.

export interface LearnedModelPlannerSettings {
  readonly optimizer: ActionOptimizer;
  readonly task: TaskCost;
  /** the joint of each controller dof: x = [q (nv), q̇ (nv)] with q[i] the position of modelJoints[i] */
  readonly modelJoints: readonly string[];
  /** actuator names in command order, which the task's must match */
  readonly actuators: readonly string[];
  readonly actionLow: Float32Array;
  readonly actionHigh: Float32Array;
  /** the control period: one plan step, and the step the model must have been learned at */
  readonly stepNs: bigint;
  /** per replan: iterations in lockstep (runs repeat), a time limit as well in real time */
  readonly budget: OptimizeBudget;
  readonly horizon: number;
  readonly particles: number;
  readonly propagation: Propagation;
  /** before the first model: random actions (true) or no policy (false) */
  readonly explore: boolean;
  readonly seed: number;
}

/** What a model blob's metadata says about what the model predicts. */
export interface ModelLayout {
  /** the model's state: the encoded [q, q̇] of these joints */
  readonly encoding: StateEncoding;
  /** encoding.joints */
  readonly joints: readonly string[];
  readonly actionSize: number;
  /** the period one prediction spans (ns), when the learner recorded it */
  readonly periodNs: number | undefined;
  /** the stamp of the newest state in the data the model was trained on, when the learner recorded it */
  readonly dataEndNs: bigint | undefined;
}

/** Read the state layout and action size from a dynamics_learner blob's metadata; throws if absent. */
export function modelLayout(metadata: Record<string, unknown>): ModelLayout {
  const training = metadata['training'] as Record<string, unknown> | undefined;
  const config = metadata['config'] as Record<string, unknown> | undefined;
  if (!Array.isArray(training?.['joints']))
    throw new Error('model blob: metadata.training.joints (the state layout) is missing');
  const encoding = StateEncoding.fromMetadata(training, 'model blob');
  const stateSize = config?.['stateSize'];
  const actionSize = config?.['actionSize'];
  if (typeof stateSize !== 'number' || typeof actionSize !== 'number')
    throw new Error('model blob: metadata.config has no stateSize or actionSize');
  if (stateSize !== encoding.size)
    throw new Error(
      `model blob: a state of ${stateSize} values cannot be ${encoding.describe()} (${encoding.size} values)`,
    );
  const period = training['period_ns'];
  const dataEnd = training['data_end_ns'];
  return {
    encoding,
    joints: encoding.joints,
    actionSize,
    periodNs: typeof period === 'number' ? period : undefined,
    dataEndNs:
      typeof dataEnd === 'string' && /^\d+$/.test(dataEnd)
        ? BigInt(dataEnd)
        : typeof dataEnd === 'number' && Number.isSafeInteger(dataEnd)
          ? BigInt(dataEnd)
          : undefined,
  };
}

/** What a controller needs a model to agree with. */
export interface ModelFit {
  readonly actionSize: number;
  /** the control period (ns) */
  readonly stepNs: bigint;
  /** the joint of each controller dof */
  readonly modelJoints: readonly string[];
  readonly task: TaskCost;
}

/**
 * Check a blob's layout against the controller: its action size, its period, its joints among the
 * controller's, and the task's joints among its. Returns the layout; throws saying what differs.
 */
export function checkModelFits(metadataJson: string, version: number, fit: ModelFit): ModelLayout {
  const layout = modelLayout(JSON.parse(metadataJson) as Record<string, unknown>);
  if (layout.actionSize !== fit.actionSize)
    throw new Error(
      `model v${version} takes ${layout.actionSize} action values, the controller commands ${fit.actionSize}`,
    );
  if (layout.periodNs !== undefined && BigInt(layout.periodNs) !== fit.stepNs) {
    throw new Error(
      `model v${version} predicts ${layout.periodNs / 1e6} ms ahead, the control period is ${Number(fit.stepNs) / 1e6} ms`,
    );
  }
  gatherIndex(fit.modelJoints, layout.joints, `model v${version} state`);
  const missing = fit.task.joints.filter((j) => !layout.joints.includes(j));
  if (missing.length)
    throw new Error(
      `model v${version}: task ${fit.task.name} needs joints [${missing.join(', ')}], the model predicts [${layout.joints.join(', ')}]`,
    );
  return layout;
}

/** Where each entry of the [q, q̇] of `to` sits in the [q, q̇] of `from`; throws naming a missing joint. */
function gatherIndex(from: readonly string[], to: readonly string[], what: string): Int32Array {
  const index = new Int32Array(2 * to.length);
  to.forEach((joint, i) => {
    const k = from.indexOf(joint);
    if (k < 0) throw new Error(`${what}: joint '${joint}' is not among [${from.join(', ')}]`);
    index[i] = k;
    index[to.length + i] = from.length + k;
  });
  return index;
}

/** The evaluator the sampling planner holds: whichever model is newest, swapped between replans. */
class ModelSlot implements StatefulEvaluator {
  #current: TrajectorySamplingEvaluator | undefined;

  constructor(
    readonly actionSize: number,
    readonly horizon: number,
    readonly actionLow: Float32Array,
    readonly actionHigh: Float32Array,
  ) {}

  get current(): TrajectorySamplingEvaluator | undefined {
    return this.#current;
  }

  swap(next: TrajectorySamplingEvaluator): void {
    this.#current = next;
  }

  setState(x: Float32Array): void {
    this.#live().setState(x);
  }

  evaluate(sequences: Float32Array, n: number): SequenceCosts {
    return this.#live().evaluate(sequences, n);
  }

  policySequences(n: number): Float32Array | undefined {
    return this.#live().policySequences(n);
  }

  #live(): TrajectorySamplingEvaluator {
    if (!this.#current) throw new Error('no dynamics model yet');
    return this.#current;
  }
}

export class LearnedModelPlanner implements LearnedPlanning, PolicyTaking {
  readonly name: string;
  readonly settings: LearnedModelPlannerSettings;
  readonly #slot: ModelSlot;
  readonly #sampling: SamplingPlanner;
  readonly #exploration: UniformExploration | undefined;
  #ensemble: ProbabilisticEnsemble | undefined;
  /** controller x index of each entry of the model's joint state [q, q̇] (before encoding) */
  #toModel: Int32Array = new Int32Array(0);
  #raw = new Float64Array(0);
  #encoding: StateEncoding | undefined;
  readonly #input = { timeNs: 0n, state: new Float64Array(0) };
  #version = 0;
  /** what the model in use came with, to tell a repeated blob */
  #inUse: { json: string; bytes: number; layout: ModelLayout } | undefined;
  /** data end of the newest model received, even when it repeated the one in use */
  #dataEndNs: bigint | undefined;
  #goal = 'task default';
  readonly #counters = new PlanningCounters();
  /** the policy whose rollouts the optimiser may propose, and why the model in use cannot take it */
  #policy: LearnedPolicy | undefined;
  #policyNote = '';

  constructor(settings: LearnedModelPlannerSettings) {
    const { task, actuators, actionLow, actionHigh, horizon, optimizer } = settings;
    if (task.actuators.join(',') !== actuators.join(','))
      throw new Error(
        `task ${task.name}: its actions are [${task.actuators.join(', ')}], the controller's actuators [${actuators.join(', ')}]`,
      );
    if (actionLow.length !== actuators.length)
      throw new Error(`learned-model planner: ${actionLow.length} action bounds for ${actuators.length} actuators`);
    this.settings = settings;
    this.#slot = new ModelSlot(actuators.length, horizon, actionLow, actionHigh);
    this.#sampling = new SamplingPlanner(this.#slot, optimizer, {
      stepNs: settings.stepNs,
      budget: settings.budget,
      shiftFill: 'last',
    });
    this.#exploration = settings.explore
      ? new UniformExploration(actionLow, actionHigh, settings.stepNs, settings.seed + 2)
      : undefined;
    this.name = `${optimizer.name} over the learned model (${task.name})`;
  }

  /** the version of the model in use (0: none yet) */
  get modelVersion(): number {
    return this.#version;
  }

  /** ticks commanded by exploration so far */
  get explorationTicks(): number {
    return this.#exploration?.ticks ?? 0;
  }

  get exploring(): boolean {
    return !this.#slot.current && this.#exploration !== undefined;
  }

  /** a model is in use */
  get hasModel(): boolean {
    return this.#slot.current !== undefined;
  }

  /** the stamp of the newest state the model in use was trained on, when its learner said */
  get modelDataEndNs(): bigint | undefined {
    return this.#dataEndNs;
  }

  /** the model state's layout, once a model is in use */
  get encoding(): StateEncoding | undefined {
    return this.#encoding;
  }

  /**
   * Swap in a model from a blob (its metadata JSON and weights): call between ticks. A blob the
   * same as the one in use (a learner may publish one training's result more than once) only
   * relabels it. Throws, keeping the model in use, when the blob does not fit this controller.
   */
  setModel(metadataJson: string, data: Uint8Array, version: number): { layout: ModelLayout; repeated: boolean } {
    this.#counters.modelsReceived++;
    if (this.#inUse && this.#inUse.json === metadataJson && this.#inUse.bytes === data.length) {
      this.#counters.modelsRepeated++;
      this.#version = version;
      return { layout: this.#inUse.layout, repeated: true };
    }
    let ensemble: ProbabilisticEnsemble | undefined;
    try {
      const layout = checkModelFits(metadataJson, version, {
        actionSize: this.#slot.actionSize,
        stepNs: this.settings.stepNs,
        modelJoints: this.settings.modelJoints,
        task: this.settings.task,
      });
      const toModel = gatherIndex(this.settings.modelJoints, layout.joints, `model v${version} state`);
      const costs = costsOverEncoding(this.settings.task, layout.encoding);
      ensemble = ProbabilisticEnsemble.deserialize(JSON.parse(metadataJson) as Record<string, unknown>, data);
      const evaluator = new TrajectorySamplingEvaluator({
        ensemble,
        ...costs,
        horizon: this.settings.horizon,
        particles: this.settings.particles,
        propagation: this.settings.propagation,
        actionLow: this.#slot.actionLow,
        actionHigh: this.#slot.actionHigh,
        seed: this.settings.seed + 1,
      });
      this.#policyNote = this.#handPolicy(evaluator, this.#policy, layout.encoding, version);
      this.#slot.swap(evaluator);
      this.#ensemble?.dispose();
      this.#ensemble = ensemble;
      this.#toModel = toModel;
      this.#raw = new Float64Array(toModel.length);
      this.#encoding = layout.encoding;
      this.#input.state = new Float64Array(layout.encoding.size);
      this.#version = version;
      this.#dataEndNs = layout.dataEndNs;
      this.#inUse = { json: metadataJson, bytes: data.length, layout };
      return { layout, repeated: false };
    } catch (err) {
      ensemble?.dispose();
      this.#counters.modelsRejected++;
      throw err;
    }
  }

  /** the version of the policy in use (0: none) */
  get policyVersion(): number {
    return this.#policy?.version ?? 0;
  }

  get policyDataEndNs(): bigint | undefined {
    return this.#policy?.dataEndNs;
  }

  /**
   * Take a policy for the optimiser's proposals: call between ticks. Throws one line, keeping the
   * policy in use, when it does not fit the controller or cannot act on the model in use.
   */
  setPolicy(policy: LearnedPolicy): void {
    checkPolicyFits(policy, {
      actuators: this.settings.actuators,
      stepNs: this.settings.stepNs,
      modelJoints: this.settings.modelJoints,
    });
    // a policy that cannot act on the model in use is refused (policyOverModel throws before any swap)
    this.#slot.current?.setPolicy(policyOverModel(policy, this.#encoding!));
    this.#policy = policy;
    this.#policyNote = '';
  }

  /** Give an evaluator the policy over its model's state; returns why it could not ('' when it could or there is none). */
  #handPolicy(
    evaluator: TrajectorySamplingEvaluator,
    policy: LearnedPolicy | undefined,
    encoding: StateEncoding,
    modelVersion: number,
  ): string {
    evaluator.setPolicy(undefined);
    if (!policy) return '';
    try {
      evaluator.setPolicy(policyOverModel(policy, encoding));
      return '';
    } catch (err) {
      return `policy v${policy.version} not proposed with model v${modelVersion}: ${(err as Error).message}`;
    }
  }

  /** Forget the warm start (a new episode): the next plan starts from the middle of the action box. */
  reset(): void {
    this.#sampling.reset();
  }

  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- Planner.setGoal's signature, which callers of this class use too; this planner needs only the goal
  setGoal(goal: Goal, _input: PlanningInput): void {
    // state goals (a keyframe, "hold here") mean nothing to a task cost; position goals aim it.
    // The cost reads the goal at every rollout, and the previous plan stays as the warm start.
    if (goal.kind !== 'position') return;
    if (!this.settings.task.setPositionGoal(goal.position))
      throw new Error(`task ${this.settings.task.name} takes no goal`);
    this.#goal = `[${Array.from(this.settings.task.goal, (v) => v.toFixed(3)).join(', ')}]`;
  }

  /** does the task take position goals */
  get takesGoals(): boolean {
    return this.settings.task.goalSize > 0;
  }

  optimize(input: PlanningInput): Policy {
    if (!this.#slot.current) {
      if (this.#exploration) return this.#exploration.next(input.timeNs);
      throw new Error('no dynamics model yet (explore_until_model is off)');
    }
    const raw = this.#raw;
    for (let i = 0; i < raw.length; i++) raw[i] = input.state[this.#toModel[i]!]!;
    this.#encoding!.encodeInto(raw, this.#input.state);
    this.#input.timeNs = input.timeNs;
    const policy = this.#sampling.optimize(this.#input);
    const s = this.#sampling.status();
    this.#counters.plan(Number(s['evaluations'] ?? 0), Number(s['plan_ms'] ?? 0));
    return policy;
  }

  status(): Record<string, number | string> {
    const s = this.#sampling.status();
    return {
      mode: this.#slot.current ? 'planning' : this.#exploration ? 'exploring' : 'waiting for a model',
      model_version: this.#version,
      ...this.#counters.modelFigures(),
      exploration_ticks: this.#exploration?.ticks ?? 0,
      plans: this.#counters.plans,
      evaluations: this.#counters.evaluations,
      iterations: s['iterations'] ?? 0,
      best_cost: s['best_cost'] ?? Number.NaN,
      plan_ms: s['plan_ms'] ?? 0,
      plan_ms_mean: this.#counters.planMsMean,
      plan_ms_max: this.#counters.planMsMax,
      goal: this.#goal,
      ...(this.#policy
        ? { policy_version: this.#policy.version, ...(this.#policyNote ? { policy_note: this.#policyNote } : {}) }
        : {}),
    };
  }

  /** figures for the launcher's report */
  metrics(): Record<string, number> {
    const s = this.status();
    return {
      model_version: this.#version,
      ...this.#counters.modelFigures(),
      exploration_ticks: this.#exploration?.ticks ?? 0,
      plans: this.#counters.plans,
      evaluations: this.#counters.evaluations,
      best_cost: Number(s['best_cost']),
      plan_ms_mean: Number(s['plan_ms_mean']),
      plan_ms_max: this.#counters.planMsMax,
    };
  }

  dispose(): void {
    this.#ensemble?.dispose();
    this.#ensemble = undefined;
  }
}
