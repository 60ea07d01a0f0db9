import type { MujocoSim } from '../../../../sim/mujoco/sim.js';
import type { Goal, Planner, PlanningInput } from '../../planner.js';
import type { SequencePolicy } from '../../policy.js';
import type { PlanningTask } from '../../task_costs.js';
import type { TrajectoryDynamics } from '../trajectory/dynamics.js';
import { goalCost, taskResidualCost, type GoalWeights } from '../trajectory/objectives.js';
import { ResidualCost } from '../trajectory/residual_cost.js';
import { velocityTerm } from '../trajectory/residual_terms.js';
import { norm } from '../trajectory/norms.js';
import { GradientShooting, type GradientReport, type GradientShootingSettings } from './shooting.js';

// Gradient shooting (./shooting.ts) as the controller's planner, the open-loop counterpart of
// IlqrPlanner: each optimize() moves the previous action sequence on to the state's time (the warm
// start), runs a fixed number of adjoint-gradient Adam steps from the state and hands the command
// loop the nominal actions as a sequence policy (zero-order hold, one control period per action).
// There is no feedback law: between plans the robot follows the sequence open loop. The objective
// is what iLQR minimises (../trajectory/objectives.ts): a goal (state, or end-effector position for
// the ee_site) or one of the controller's planning tasks; goals replace the cost and keep the warm start.

export type GradientObjective =
  | { readonly kind: 'goal'; readonly weights: GoalWeights }
  | { readonly kind: 'task'; readonly task: PlanningTask; readonly target: readonly number[] };

export interface GradientPlannerSettings extends GradientShootingSettings {
  /** the control period: one knot */
  readonly stepNs: bigint;
  /** Adam steps per optimize() */
  readonly iterations: number;
  readonly objective: GradientObjective;
  /** the end-effector site position goals are for ('' none) */
  readonly site: string;
}

export class GradientPlanner implements Planner {
  readonly name: string;
  readonly #shooting: GradientShooting;
  readonly #kinematics: MujocoSim;
  readonly #settings: GradientPlannerSettings;
  #taskTarget: Float64Array;
  #planStartNs: bigint | undefined;
  #goalText: string;
  #report: GradientReport | undefined;
  #plans = 0;
  #planMs = 0;
  #totalIterations = 0;
  #hasCost: boolean;

  /**
   * `dynamics` is what the plan rolls out (owned: disposed with the planner); `kinematics` is a copy
   * of the controller's model for costs that read it (site positions, hold controls), also owned.
   */
  constructor(dynamics: TrajectoryDynamics, kinematics: MujocoSim, settings: GradientPlannerSettings) {
    this.#kinematics = kinematics;
    this.#settings = settings;
    const objective = settings.objective;
    this.#taskTarget = Float64Array.from(objective.kind === 'task' ? objective.target : []);
    const cost =
      objective.kind === 'task'
        ? taskResidualCost(kinematics, objective.task, this.#taskTarget, settings.site || undefined)
        : placeholderCost(kinematics);
    this.#hasCost = objective.kind === 'task';
    this.#shooting = new GradientShooting(dynamics, cost, settings);
    this.name = `gradient shooting (Adam) on ${dynamics.description}`;
    this.#goalText = objective.kind === 'task' ? `task ${objective.task}` : 'no goal yet';
  }

  get shooting(): GradientShooting {
    return this.#shooting;
  }

  /** the last plan's figures */
  get report(): GradientReport | undefined {
    return this.#report;
  }

  setGoal(goal: Goal): void {
    const objective = this.#settings.objective;
    const site = this.#settings.site || undefined;
    let cost: ResidualCost;
    if (objective.kind === 'goal') {
      cost = goalCost(this.#kinematics, goal, objective.weights, site);
      this.#goalText =
        goal.kind === 'state' ? 'state goal' : `position goal [${goal.position.map((v) => v.toFixed(3)).join(', ')}] m`;
    } else {
      if (goal.kind === 'state')
        throw new Error(
          `gradient shooting on task ${objective.task}: takes position goals only (the task sets its state)`,
        );
      const target = taskTarget(objective.task, goal.position);
      cost = taskResidualCost(this.#kinematics, objective.task, target, site);
      this.#taskTarget = target;
      this.#goalText = `task ${objective.task} toward [${Array.from(target, (v) => v.toFixed(3)).join(', ')}]`;
    }
    this.#shooting.cost = cost;
    this.#hasCost = true;
  }

  /** Forget the warm start (a new episode). */
  reset(): void {
    this.#shooting.reset();
    this.#planStartNs = undefined;
  }

  optimize(input: PlanningInput): SequencePolicy {
    if (!this.#hasCost) throw new Error(`gradient shooting: no goal set at t = ${input.timeNs} ns`);
    const step = this.#settings.stepNs;
    if (this.#planStartNs !== undefined && input.timeNs > this.#planStartNs) {
      const elapsed = input.timeNs - this.#planStartNs;
      this.#shooting.warmStart(Number((elapsed + step / 2n) / step));
    } else if (this.#planStartNs !== undefined && input.timeNs < this.#planStartNs) this.#shooting.reset();
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
    const base: Record<string, number | string> = { goal: this.#goalText, plans: this.#plans };
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

/** A cost to build the optimiser with before the first goal (never optimised: optimize() refuses without a goal). */
function placeholderCost(sim: MujocoSim): ResidualCost {
  const { nv, nu, joints } = sim.info;
  const dofs = joints.map((j) => j.dofAdr);
  return new ResidualCost(2 * nv, nu, [
    velocityTerm('velocity', nv, dofs, new Array<number>(nv).fill(1), norm('quadratic'), {
      weight: 1,
      terminalWeight: 1,
    }),
  ]);
}

/** A task's target from a position goal: arm reach aims at the point, cart-pole balance moves the cart to its x. */
function taskTarget(task: PlanningTask, p: readonly [number, number, number]): Float64Array {
  switch (task) {
    case 'arm_reach':
      return Float64Array.from(p);
    case 'cartpole_balance':
      return Float64Array.of(p[0]);
    case 'cartpole_swingup':
      throw new Error('task cartpole_swingup takes no goal');
  }
}
