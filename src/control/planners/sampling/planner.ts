import type { Goal, Planner, PlanningInput } from '../../planner.js';
import type { SequencePolicy } from '../../policy.js';
import type { StatefulEvaluator } from './evaluator.js';
import type { ActionOptimizer, OptimizeBudget } from './optimizer.js';
import { checkBounds, clipToBounds, midpoint } from './bounds.js';
import { repeatAction, shiftSequence } from './warm_start.js';

// Any sampling optimiser as a Planner for the fixed-rate controller: at each replan, tell the
// evaluator the current state, warm-start from the previous plan moved on by the control steps
// elapsed since it started, optimise within the budget, and hand the command loop the best
// sequence as a zero-order-hold policy that starts now and steps at the model's control period.

export interface SamplingPlannerSettings {
  /** the model's control period (ns): one action per step */
  readonly stepNs: bigint;
  /** work per replan; in lockstep give `iterations` only, so runs repeat exactly */
  readonly budget?: OptimizeBudget;
  /** what fills the steps a shift leaves at the end: the plan's last action, or the nominal */
  readonly shiftFill: 'last' | 'nominal';
  /** the action a cold start holds and `shiftFill: 'nominal'` appends; default mid-bounds */
  readonly nominal?: readonly number[];
}

export const SAMPLING_PLANNER_DEFAULTS: Omit<SamplingPlannerSettings, 'stepNs'> = { shiftFill: 'last' };

export class SamplingPlanner implements Planner {
  readonly name: string;
  readonly settings: SamplingPlannerSettings;
  readonly #nominal: Float32Array;
  #state = new Float32Array(0);
  #previous: { best: Float32Array; startNs: bigint } | undefined;
  #plans = 0;
  #status: Record<string, number | string> = { plans: 0 };

  constructor(
    readonly evaluator: StatefulEvaluator,
    readonly optimizer: ActionOptimizer,
    settings: Partial<SamplingPlannerSettings> & { stepNs: bigint },
  ) {
    this.settings = { ...SAMPLING_PLANNER_DEFAULTS, ...settings };
    if (this.settings.stepNs <= 0n)
      throw new Error(`${optimizer.name}: the control period must be positive, got ${this.settings.stepNs} ns`);
    const { actionLow: low, actionHigh: high, actionSize: nu } = evaluator;
    checkBounds(low, high, optimizer.name);
    if (this.settings.nominal && this.settings.nominal.length !== nu)
      throw new Error(
        `${optimizer.name}: the nominal action has ${this.settings.nominal.length} values, expected ${nu}`,
      );
    this.#nominal = this.settings.nominal
      ? clipToBounds(Float32Array.from(this.settings.nominal), low, high)
      : midpoint(low, high);
    this.name = optimizer.name;
  }

  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- Planner.setGoal's signature, which callers of this class use too; this planner needs only the goal
  setGoal(goal: Goal, _input: PlanningInput): void {
    if (!this.evaluator.setGoal) {
      this.#status = { ...this.#status, goal: 'ignored: the evaluator takes no goal' };
      return;
    }
    const vector = goal.kind === 'state' ? Float32Array.from(goal.state) : Float32Array.from(goal.position);
    this.evaluator.setGoal(vector, goal.kind);
    // the previous plan stays as the warm start: a nearby goal needs a nearby plan
    this.#status = { ...this.#status, goal: goal.kind };
  }

  optimize(input: PlanningInput): SequencePolicy {
    const t0 = performance.now();
    const { horizon, actionSize: nu } = this.evaluator;
    if (this.#state.length !== input.state.length) this.#state = new Float32Array(input.state.length);
    this.#state.set(input.state);
    this.evaluator.setState(this.#state);

    const steps = this.#stepsSincePrevious(input.timeNs, horizon);
    const warmStart =
      this.#previous && this.#previous.best.length === horizon * nu
        ? shiftSequence(this.#previous.best, nu, steps, this.settings.shiftFill === 'last' ? 'last' : this.#nominal)
        : repeatAction(this.#nominal, horizon);
    if (steps > 0) this.optimizer.shift?.(steps);

    const result = this.optimizer.optimize(this.evaluator, warmStart, this.settings.budget);
    const best = clipToBounds(result.best, this.evaluator.actionLow, this.evaluator.actionHigh);
    this.#previous = { best, startNs: input.timeNs };
    this.#plans++;
    this.#status = {
      ...this.#status,
      plans: this.#plans,
      iterations: result.iterations,
      evaluations: result.evaluations,
      best_cost: result.bestCost,
      shift_steps: steps,
      plan_ms: performance.now() - t0,
    };
    return {
      kind: 'sequence',
      nu,
      startNs: input.timeNs,
      stepNs: this.settings.stepNs,
      actions: Float64Array.from(best),
      interpolation: 'zero_order_hold',
    };
  }

  status(): Record<string, number | string> {
    return this.#status;
  }

  /** Forget the previous plan (a new episode): the next replan starts cold. */
  reset(): void {
    this.#previous = undefined;
    this.optimizer.reset?.();
  }

  dispose(): void {
    this.evaluator.dispose?.();
  }

  /** Whole control steps from the previous plan's start to now, 0 if the clock went back. */
  #stepsSincePrevious(timeNs: bigint, horizon: number): number {
    if (!this.#previous || timeNs <= this.#previous.startNs) return 0;
    const steps = (timeNs - this.#previous.startNs) / this.settings.stepNs;
    return steps > BigInt(horizon) ? horizon : Number(steps);
  }
}
