import type { MujocoSim } from '../../../../sim/mujoco/sim.js';
import { ProbabilisticEnsemble } from '../../../dynamics/ensemble.js';
import type { Goal, LearnedPlanning, PlanningInput } from '../../planner.js';
import type { Policy } from '../../policy.js';
import { checkModelFits, type ModelLayout } from '../ensemble_mpc/planner.js';
import { UniformExploration } from '../ensemble_mpc/exploration.js';
import type { TaskCost } from '../../task_costs.js';
import { EnsembleDynamics } from '../trajectory/ensemble_dynamics.js';
import { IlqrPlanner, type IlqrPlannerSettings } from './planner.js';

// iLQR over the learned ensemble, inside the PETS loop (explore, learn, plan): the controller hands
// it each model blob from model_topic; the first that fits becomes the plan's dynamics (the mean of
// its elites, ../trajectory/ensemble_dynamics.ts) and each later one replaces them between ticks,
// keeping the warm start. Until the first model it explores with uniformly random actions (or has
// no policy). Models are checked as the sampling planners check them (action size, period, joints).

export interface LearnedIlqrSettings extends IlqrPlannerSettings {
  /** the joint of each controller dof */
  readonly modelJoints: readonly string[];
  readonly actionLow: Float32Array;
  readonly actionHigh: Float32Array;
  readonly explore: boolean;
  readonly seed: number;
  /** the joints the cost reads, which a model must predict */
  readonly costJoints: readonly string[];
  readonly takesGoals: boolean;
}

export class LearnedIlqrPlanner implements LearnedPlanning {
  readonly name: string;
  readonly #settings: LearnedIlqrSettings;
  readonly #kinematics: MujocoSim;
  readonly #exploration: UniformExploration | undefined;
  #planner: IlqrPlanner | undefined;
  #ensemble: ProbabilisticEnsemble | undefined;
  #model: { json: string; bytes: number; layout: ModelLayout; version: number } | undefined;
  #goal: Goal | undefined;
  #counters = { received: 0, rejected: 0, repeated: 0 };
  #planMsSum = 0;
  #planMsMax = 0;
  #plans = 0;

  /** `kinematics` is a copy of the controller's model for the costs (owned). */
  constructor(kinematics: MujocoSim, settings: LearnedIlqrSettings) {
    this.#kinematics = kinematics;
    this.#settings = settings;
    this.#exploration = settings.explore
      ? new UniformExploration(settings.actionLow, settings.actionHigh, settings.stepNs, settings.seed + 2)
      : undefined;
    this.name = 'ilqr over the learned model';
  }

  get modelVersion(): number {
    return this.#model?.version ?? 0;
  }

  get explorationTicks(): number {
    return this.#exploration?.ticks ?? 0;
  }

  get exploring(): boolean {
    return !this.#planner && this.#exploration !== undefined;
  }

  get takesGoals(): boolean {
    return this.#settings.takesGoals;
  }

  get modelDataEndNs(): bigint | undefined {
    return this.#model?.layout.dataEndNs;
  }

  setModel(metadataJson: string, data: Uint8Array, version: number): { layout: ModelLayout; repeated: boolean } {
    this.#counters.received++;
    const current = this.#model;
    if (current && current.json === metadataJson && current.bytes === data.length) {
      this.#counters.repeated++;
      return { layout: current.layout, repeated: true };
    }
    let ensemble: ProbabilisticEnsemble | undefined;
    try {
      const s = this.#settings;
      const layout = checkModelFits(metadataJson, version, {
        actionSize: s.actionLow.length,
        stepNs: s.stepNs,
        modelJoints: s.modelJoints,
        task: { name: 'ilqr cost', joints: s.costJoints } as unknown as TaskCost,
      });
      ensemble = ProbabilisticEnsemble.deserialize(JSON.parse(metadataJson) as Record<string, unknown>, data);
      const dynamics = new EnsembleDynamics(ensemble, layout.encoding, s.modelJoints);
      if (this.#planner) this.#planner.solver.dynamics = dynamics;
      else {
        this.#planner = new IlqrPlanner(dynamics, this.#kinematics.clone(), s);
        if (this.#goal) this.#planner.setGoal(this.#goal);
      }
      this.#ensemble?.dispose();
      this.#ensemble = ensemble;
      this.#model = { json: metadataJson, bytes: data.length, layout, version };
      return { layout, repeated: false };
    } catch (err) {
      ensemble?.dispose();
      this.#counters.rejected++;
      throw err;
    }
  }

  setGoal(goal: Goal): void {
    this.#planner?.setGoal(goal);
    this.#goal = goal;
  }

  reset(): void {
    this.#planner?.reset();
  }

  optimize(input: PlanningInput): Policy {
    if (!this.#planner) {
      if (this.#exploration) return this.#exploration.next(input.timeNs);
      throw new Error('no dynamics model yet (explore_until_model is off)');
    }
    const policy = this.#planner.optimize(input);
    const ms = Number(this.#planner.status()['plan_ms'] ?? 0);
    this.#plans++;
    this.#planMsSum += ms;
    this.#planMsMax = Math.max(this.#planMsMax, ms);
    return policy;
  }

  status(): Record<string, number | string> {
    return {
      mode: this.#planner ? 'planning' : this.#exploration ? 'exploring' : 'waiting for a model',
      model_version: this.modelVersion,
      models_received: this.#counters.received,
      models_rejected: this.#counters.rejected,
      exploration_ticks: this.explorationTicks,
      ...(this.#planner?.status() ?? {}),
      plan_ms_mean: this.#plans ? this.#planMsSum / this.#plans : 0,
      plan_ms_max: this.#planMsMax,
    };
  }

  metrics(): Record<string, number> {
    return {
      model_version: this.modelVersion,
      models_received: this.#counters.received,
      models_rejected: this.#counters.rejected,
      models_repeated: this.#counters.repeated,
      exploration_ticks: this.explorationTicks,
      plans: this.#plans,
      plan_ms_mean: this.#plans ? this.#planMsSum / this.#plans : 0,
      plan_ms_max: this.#planMsMax,
    };
  }

  dispose(): void {
    this.#planner?.dispose();
    this.#ensemble?.dispose();
    this.#kinematics.dispose();
  }
}
