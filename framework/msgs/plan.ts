import { nsToTime, timeToNs } from '../time/time.js';
import { PlanInterpolation, PlanKind, type Plan } from './types.js';

// The controller's plan as dynastack_msgs/Plan (interfaces/dynastack_msgs/msg/Plan.msg): a plan
// in plain fields (what src/control/plan_message.ts makes of a policy) to the message, and back
// for a reader (a plot). The stamp is the time of the state the plan started from, the step a
// builtin_interfaces/Duration (same two fields as a Time, nanosec in [0, 1e9)).

export interface PlanFieldsIn {
  readonly startNs: bigint;
  readonly stepNs: bigint;
  readonly planner: string;
  readonly kind: 'sequence' | 'feedback';
  readonly interpolation: 'zero_order_hold' | 'linear';
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  readonly steps: number;
  readonly states: Float64Array;
  readonly actions: Float64Array;
  readonly cost: number;
  readonly iterations: number;
  readonly status: readonly { readonly key: string; readonly value: string }[];
}

/** The message of a plan. */
export function planMessage(plan: PlanFieldsIn): Plan {
  return {
    header: { stamp: nsToTime(plan.startNs), frame_id: '' },
    planner: plan.planner,
    kind: plan.kind === 'feedback' ? PlanKind.FEEDBACK : PlanKind.SEQUENCE,
    interpolation: plan.interpolation === 'linear' ? PlanInterpolation.LINEAR : PlanInterpolation.ZERO_ORDER_HOLD,
    step: nsToTime(plan.stepNs),
    state_names: [...plan.stateNames],
    action_names: [...plan.actionNames],
    steps: plan.steps,
    states: plan.states,
    actions: plan.actions,
    cost: plan.cost,
    iterations: plan.iterations,
    status: plan.status.map(({ key, value }) => ({ key, value })),
  };
}

/** A plan message's step times (ns) and sizes: step i starts at startNs + i × stepNs. */
export function planTiming(msg: Plan): { startNs: bigint; stepNs: bigint; nx: number; nu: number } {
  return {
    startNs: timeToNs(msg.header.stamp),
    stepNs: timeToNs(msg.step),
    nx: msg.state_names.length,
    nu: msg.action_names.length,
  };
}
