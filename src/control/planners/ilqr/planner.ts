import type { MujocoSim } from '../../../../sim/mujoco/sim.js';
import type { Goal, Planner, PlanningInput } from '../../planner.js';
import type { FeedbackPolicy } from '../../policy.js';
import type { TrajectoryDynamics } from '../trajectory/dynamics.js';
import { PlannerObjective, warmStartShift, type TrajectoryObjective } from '../trajectory/planner_objective.js';
import { IlqrSolver, type IlqrSettings, type IterationReport } from './solver.js';

// iLQR as the controller's planner: each optimize() moves the previous solution on to the state's
// time (the warm start), runs a fixed number of iterations from the state and hands the command
// loop the feedback policy u = û_t + K_t (x − x̂_t) about the new nominal (the line search already
// folded α k into û, so the feedforward is zero). What it minimises is a goal (any MJCF: a state
// goal, or an end-effector position goal for the ee_site) or one of the controller's planning tasks
// in residual form (../trajectory/planner_objective.ts); goals arriving on goal_topic replace the
// cost between plans and keep the warm start.

export interface IlqrPlannerSettings extends Omit<IlqrSettings, 'horizon'> {
  /** knots of the plan */
  readonly horizon: number;
  /** the control period: one knot */
  readonly stepNs: bigint;
  /** iterations per optimize() */
  readonly iterations: number;
  readonly objective: TrajectoryObjective;
  /** the end-effector site position goals are for ('' none) */
  readonly site: string;
}

export class IlqrPlanner implements Planner {
  readonly name: string;
  readonly #solver: IlqrSolver;
  readonly #kinematics: MujocoSim;
  readonly #settings: IlqrPlannerSettings;
  readonly #objective: PlannerObjective;
  #planStartNs: bigint | undefined;
  #report: IterationReport | undefined;
  #plans = 0;
  #planMs = 0;
  #totalIterations = 0;

  /**
   * `dynamics` is what the plan rolls out (owned: disposed with the planner); `kinematics` is a copy
   * of the controller's model for costs that read it (site positions, hold controls), also owned.
   */
  constructor(dynamics: TrajectoryDynamics, kinematics: MujocoSim, settings: IlqrPlannerSettings) {
    this.#kinematics = kinematics;
    this.#settings = settings;
    this.#objective = new PlannerObjective(kinematics, settings.objective, settings.site);
    this.#solver = new IlqrSolver(dynamics, this.#objective.cost, { ...settings, horizon: settings.horizon });
    this.name = `ilqr on ${dynamics.description}`;
  }

  get solver(): IlqrSolver {
    return this.#solver;
  }

  /** the last plan's figures */
  get report(): IterationReport | undefined {
    return this.#report;
  }

  setGoal(goal: Goal): void {
    const cost = this.#objective.setGoal(goal);
    if (cost) this.#solver.cost = cost;
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
    if (!this.#objective.ready) throw new Error(`iLQR: no goal set at t = ${input.timeNs} ns`);
    const shift = warmStartShift(this.#planStartNs, input.timeNs, this.#settings.stepNs);
    if (shift === 'reset') this.#solver.reset();
    else if (shift !== undefined) this.#solver.warmStart(shift);
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
