import type { MujocoSim } from '../../../../sim/mujoco/sim.js';
import type { Goal, Planner, PlanningInput } from '../../planner.js';
import type { SequencePolicy } from '../../policy.js';
import type { TrajectoryDynamics } from '../trajectory/dynamics.js';
import { PlannerObjective, warmStartShift, type TrajectoryObjective } from '../trajectory/planner_objective.js';
import { GradientShooting, type GradientReport, type GradientShootingSettings } from './shooting.js';

// Gradient shooting (./shooting.ts) as the controller's planner, the open-loop counterpart of
// IlqrPlanner: each optimize() moves the previous action sequence on to the state's time (the warm
// start), runs a fixed number of adjoint-gradient Adam steps from the state and hands the command
// loop the nominal actions as a sequence policy (zero-order hold, one control period per action).
// There is no feedback law: between plans the robot follows the sequence open loop. The objective
// is iLQR's, taken the same way (../trajectory/planner_objective.ts): a goal (state, or end-effector
// position for the ee_site) or one of the controller's planning tasks; goals replace the cost and
// keep the warm start.

export interface GradientPlannerSettings extends GradientShootingSettings {
  /** the control period: one knot */
  readonly stepNs: bigint;
  /** Adam steps per optimize() */
  readonly iterations: number;
  readonly objective: TrajectoryObjective;
  /** the end-effector site position goals are for ('' none) */
  readonly site: string;
}

export class GradientPlanner implements Planner {
  readonly name: string;
  readonly #shooting: GradientShooting;
  readonly #kinematics: MujocoSim;
  readonly #settings: GradientPlannerSettings;
  readonly #objective: PlannerObjective;
  #planStartNs: bigint | undefined;
  #report: GradientReport | undefined;
  #plans = 0;
  #planMs = 0;
  #totalIterations = 0;

  /**
   * `dynamics` is what the plan rolls out (owned: disposed with the planner); `kinematics` is a copy
   * of the controller's model for costs that read it (site positions, hold controls), also owned.
   */
  constructor(dynamics: TrajectoryDynamics, kinematics: MujocoSim, settings: GradientPlannerSettings) {
    this.#kinematics = kinematics;
    this.#settings = settings;
    this.#objective = new PlannerObjective(kinematics, settings.objective, settings.site);
    this.#shooting = new GradientShooting(dynamics, this.#objective.cost, settings);
    this.name = `gradient shooting (Adam) on ${dynamics.description}`;
  }

  get shooting(): GradientShooting {
    return this.#shooting;
  }

  /** the last plan's figures */
  get report(): GradientReport | undefined {
    return this.#report;
  }

  setGoal(goal: Goal): void {
    const cost = this.#objective.setGoal(goal);
    if (cost) this.#shooting.cost = cost;
  }

  /** Forget the warm start (a new episode). */
  reset(): void {
    this.#shooting.reset();
    this.#planStartNs = undefined;
  }

  optimize(input: PlanningInput): SequencePolicy {
    if (!this.#objective.ready) throw new Error(`gradient shooting: no goal set at t = ${input.timeNs} ns`);
    const shift = warmStartShift(this.#planStartNs, input.timeNs, this.#settings.stepNs);
    if (shift === 'reset') this.#shooting.reset();
    else if (shift !== undefined) this.#shooting.warmStart(shift);
    const t0 = performance.now();
    const report = this.#shooting.iterate(input.state, this.#settings.iterations);
    this.#planMs = performance.now() - t0;
    this.#report = report;
    this.#plans++;
    this.#totalIterations += report.iterations;
    this.#planStartNs = input.timeNs;
    return this.policy(input.timeNs);
  }

  /** The nominal actions as a sequence policy from `startNs` (a copy: the optimiser goes on). */
  policy(startNs: bigint): SequencePolicy {
    return {
      kind: 'sequence',
      nu: this.#shooting.nu,
      startNs,
      stepNs: this.#settings.stepNs,
      actions: this.#shooting.actions.slice(),
      interpolation: 'zero_order_hold',
    };
  }

  status(): Record<string, number | string> {
    const r = this.#report;
    const base: Record<string, number | string> = { goal: this.#objective.description, plans: this.#plans };
    if (!r) return base;
    return {
      ...base,
      plan_ms: this.#planMs,
      iterations: r.iterations,
      total_iterations: this.#totalIterations,
      cost: r.cost,
      initial_cost: r.initialCost,
      stop: r.stop,
      gradient_norm: r.gradientNorm,
      first_gradient_norm: r.firstGradientNorm,
      last_gradient_norm: r.lastGradientNorm,
      gradient_ratio: r.firstGradientNorm / r.lastGradientNorm,
      clamped_actions: r.clampedActions,
      rollout_ms: r.rolloutMs,
      linearize_ms: r.linearizeMs,
      adjoint_ms: r.adjointMs,
    };
  }

  dispose(): void {
    this.#shooting.dynamics.dispose();
    this.#kinematics.dispose();
  }
}
