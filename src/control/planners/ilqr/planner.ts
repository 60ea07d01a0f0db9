import type { MujocoSim } from '../../../../sim/mujoco/sim.js';
import type { Goal, Planner, PlanningInput } from '../../planner.js';
import type { FeedbackPolicy } from '../../policy.js';
import type { PlanningTask } from '../../task_costs.js';
import type { TrajectoryDynamics } from '../trajectory/dynamics.js';
import { goalCost, taskResidualCost, type GoalWeights } from '../trajectory/objectives.js';
import { ResidualCost } from '../trajectory/residual_cost.js';
import { velocityTerm } from '../trajectory/residual_terms.js';
import { norm } from '../trajectory/norms.js';
import { IlqrSolver, type IlqrSettings, type IterationReport } from './solver.js';

// iLQR as the controller's planner: each optimize() moves the previous solution on to the state's
// time (the warm start), runs a fixed number of iterations from the state and hands the command
// loop the feedback policy u = û_t + K_t (x − x̂_t) about the new nominal (the line search already
// folded α k into û, so the feedforward is zero). What it minimises is a goal (any MJCF: a state
// goal, or an end-effector position goal for the ee_site) or one of the controller's planning tasks
// in residual form (../trajectory/objectives.ts); goals arriving on goal_topic replace the cost
// between plans and keep the warm start.

/** What the planner minimises: goals as they come, or a named task toward its target. */
export type IlqrObjective =
  | { readonly kind: 'goal'; readonly weights: GoalWeights }
  | { readonly kind: 'task'; readonly task: PlanningTask; readonly target: readonly number[] };

export interface IlqrPlannerSettings extends Omit<IlqrSettings, 'horizon'> {
  /** knots of the plan */
  readonly horizon: number;
  /** the control period: one knot */
  readonly stepNs: bigint;
  /** iterations per optimize() */
  readonly iterations: number;
  readonly objective: IlqrObjective;
  /** the end-effector site position goals are for ('' none) */
  readonly site: string;
}

export class IlqrPlanner implements Planner {
  readonly name: string;
  readonly #solver: IlqrSolver;
  readonly #kinematics: MujocoSim;
  readonly #settings: IlqrPlannerSettings;
  #taskTarget: Float64Array;
  #planStartNs: bigint | undefined;
  #goalText = '';
  #report: IterationReport | undefined;
  #plans = 0;
  #planMs = 0;
  #totalIterations = 0;
  #hasCost: boolean;

  /**
   * `dynamics` is what the plan rolls out (owned: disposed with the planner); `kinematics` is a copy
   * of the controller's model for costs that read it (site positions, hold controls), also owned.
   */
  constructor(dynamics: TrajectoryDynamics, kinematics: MujocoSim, settings: IlqrPlannerSettings) {
    this.#kinematics = kinematics;
    this.#settings = settings;
    const objective = settings.objective;
    this.#taskTarget = Float64Array.from(objective.kind === 'task' ? objective.target : []);
    // a task has its cost from the start; goals wait for the first (the controller sends one at its first tick)
    const cost =
      objective.kind === 'task'
        ? taskResidualCost(kinematics, objective.task, this.#taskTarget, settings.site || undefined)
        : placeholderCost(kinematics, objective.weights);
    this.#hasCost = objective.kind === 'task';
    this.#solver = new IlqrSolver(dynamics, cost, { ...settings, horizon: settings.horizon });
    this.name = `ilqr on ${dynamics.description}`;
    this.#goalText = objective.kind === 'task' ? `task ${objective.task}` : 'no goal yet';
  }

  get solver(): IlqrSolver {
    return this.#solver;
  }

  /** the last plan's figures */
  get report(): IterationReport | undefined {
    return this.#report;
  }

  setGoal(goal: Goal): void {
    const objective = this.#settings.objective;
    let cost: ResidualCost;
    if (objective.kind === 'goal') {
      cost = goalCost(this.#kinematics, goal, objective.weights, this.#settings.site || undefined);
      this.#goalText =
        goal.kind === 'state' ? 'state goal' : `position goal [${goal.position.map((v) => v.toFixed(3)).join(', ')}] m`;
    } else {
      // the task says what to reach: the controller's hold-the-first-state goal has nothing to add
      if (goal.kind === 'state') return;
      const target = taskTargetFor(objective.task, goal.position);
      cost = taskResidualCost(this.#kinematics, objective.task, target, this.#settings.site || undefined);
      this.#taskTarget = target;
      this.#goalText = `task ${objective.task} toward [${Array.from(target, (v) => v.toFixed(3)).join(', ')}]`;
    }
    this.#solver.cost = cost;
    this.#hasCost = true;
  }

  /**
   * Plan from x = 0 `plans` times with whatever cost it has (a goal's placeholder included), then
   * forget it: compiles the planner's code paths before the first real plan.
   */
  warmUp(plans: number): void {
    const x = new Float64Array(this.#solver.nx);
    for (let i = 0; i < plans; i++) {
      this.#solver.warmStart(1);
      this.#solver.iterate(x, this.#settings.iterations);
    }
    this.#solver.reset();
  }

  /** Forget the warm start (a new episode). */
  reset(): void {
    this.#solver.reset();
    this.#planStartNs = undefined;
  }

  optimize(input: PlanningInput): FeedbackPolicy {
    if (!this.#hasCost) throw new Error(`iLQR: no goal set at t = ${input.timeNs} ns`);
    const step = this.#settings.stepNs;
    if (this.#planStartNs !== undefined && input.timeNs > this.#planStartNs) {
      const elapsed = input.timeNs - this.#planStartNs;
      this.#solver.warmStart(Number((elapsed + step / 2n) / step));
    } else if (this.#planStartNs !== undefined && input.timeNs < this.#planStartNs) this.#solver.reset();
    const t0 = performance.now();
    const report = this.#solver.iterate(input.state, this.#settings.iterations);
    this.#planMs = performance.now() - t0;
    this.#report = report;
    this.#plans++;
    this.#totalIterations += report.iterations;
    this.#planStartNs = input.timeNs;
    return this.policy(input.timeNs);
  }

  /** The feedback policy about the current nominal, starting at `startNs` (copies: the solver goes on). */
  policy(startNs: bigint): FeedbackPolicy {
    const s = this.#solver;
    const { nx, nu, horizon: T } = s;
    return {
      kind: 'feedback',
      nx,
      nu,
      startNs,
      stepNs: this.#settings.stepNs,
      states: s.states.slice(0, T * nx),
      actions: s.actions.slice(),
      feedforward: new Float64Array(T * nu),
      gains: s.gains.slice(),
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
      regularization: r.regularization,
      alpha: r.alpha,
      linearize_ms: r.linearizeMs,
      backward_ms: r.backwardMs,
      forward_ms: r.forwardMs,
      clamped_steps: r.clampedSteps,
      rejected_steps: r.rejectedSteps,
    };
  }

  dispose(): void {
    this.#solver.dynamics.dispose();
    this.#kinematics.dispose();
  }
}

/** A cost to build the solver with before the first goal (never optimised: optimize() refuses without a goal). */
function placeholderCost(sim: MujocoSim, weights: GoalWeights): ResidualCost {
  const { nv, nu, joints } = sim.info;
  const dofs = joints.map((j) => j.dofAdr);
  return new ResidualCost(2 * nv, nu, [
    velocityTerm('velocity', nv, dofs, new Array<number>(nv).fill(weights.velocity), norm('quadratic'), {
      weight: 1,
      terminalWeight: 1,
    }),
  ]);
}

/** A task's target from a position goal: arm reach aims at the point, cart-pole balance moves the cart to its x. */
function taskTargetFor(task: PlanningTask, p: readonly [number, number, number]): Float64Array {
  switch (task) {
    case 'arm_reach':
      return Float64Array.from(p);
    case 'cartpole_balance':
      return Float64Array.of(p[0]);
    case 'cartpole_swingup':
      throw new Error('task cartpole_swingup takes no goal');
  }
}
