import type { JointInfo, JointType } from '../../sim/mujoco/info.js';
import { policySteps, type Policy } from './policy.js';

// The controller's current plan as its plan topic carries it (dynastack_msgs/Plan, built from
// these fields by framework/msgs/plan.ts): the newest policy the command loop evaluated, its
// nominal states and actions by name, and the planner's figures, so a plot (or, later, a 3D view)
// can show what the controller means to do. The domain knows no message types, so this is plain
// fields.
//
// What is sent of each policy (src/control/policy.ts):
//  - sequence: the actions (steps × nu), no states, the sequence's interpolation;
//  - feedback: the nominal states x̂ (steps × nx) and the open-loop action at them, û + k
//    (steps × nu) — what the law u = û + k + K (x − x̂) gives at x = x̂; the gains K are not sent
//    (steps × nu × nx: too large for a plot topic).
// A plan with a non-finite entry (NaN, ±∞) in its states or actions is not sent as is: the result
// names the first such entry, and the controller reports it instead of publishing. A plot that
// drew NaN would show a gap, or nothing, where the planner has a fault worth a log line.
// cost and iterations come from the planner's status() figures: `cost` (else `best_cost`, the
// sampling planners' name) when a number, else NaN; `iterations` when a whole number ≥ 0, else 0.
// Every status figure is also sent as text. The status is read when the plan is sent, which for a
// planner in a worker may already describe a newer plan than the policy: the figures are for
// display, the arrays are the plan.

export interface PlanFields {
  /** the time (ns) of the state the plan was planned from: its first step */
  readonly startNs: bigint;
  readonly stepNs: bigint;
  readonly planner: string;
  readonly kind: 'sequence' | 'feedback';
  readonly interpolation: 'zero_order_hold' | 'linear';
  /** the names of x's entries; empty for a sequence plan */
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  readonly steps: number;
  /** steps × stateNames.length nominal states (empty for a sequence plan) */
  readonly states: Float64Array;
  /** steps × actionNames.length open-loop actions */
  readonly actions: Float64Array;
  /** NaN when the planner reports none */
  readonly cost: number;
  readonly iterations: number;
  /** the planner's status figures, as text */
  readonly status: readonly { readonly key: string; readonly value: string }[];
}

export type PlanOutcome =
  { readonly ok: true; readonly plan: PlanFields } | { readonly ok: false; readonly problem: string };

export interface PlanContext {
  readonly planner: string;
  readonly status: Readonly<Record<string, number | string>>;
  /** names of x = [q (nv), q̇ (nv)] (stateNames() below) */
  readonly stateNames: readonly string[];
  /** the actuators, in command order */
  readonly actionNames: readonly string[];
}

const DOFS: Record<JointType, number> = { free: 6, ball: 3, slide: 1, hinge: 1 };

/**
 * The names of the controller's state x = [q (nv), q̇ (nv)] in dof order: q.<joint> and
 * qd.<joint>, and q.<joint>[i] for each dof of a ball or free joint.
 */
export function stateNames(joints: readonly Pick<JointInfo, 'name' | 'type' | 'dofAdr'>[], nv: number): string[] {
  const dof = new Array<string>(nv).fill('');
  for (const j of joints) {
    const k = DOFS[j.type];
    for (let i = 0; i < k; i++) dof[j.dofAdr + i] = k > 1 ? `${j.name}[${i}]` : j.name;
  }
  return [...dof.map((d, i) => `q.${d || `dof${i}`}`), ...dof.map((d, i) => `qd.${d || `dof${i}`}`)];
}

/** The first non-finite entry of a steps × names array, as 'what[step s, name] is v'. */
function firstNonFinite(what: string, values: Float64Array, names: readonly string[]): string | undefined {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) return `${what}[step ${Math.floor(i / names.length)}, ${names[i % names.length]}] is ${v}`;
  }
  return undefined;
}

/** The plan of `policy` as its topic sends it, or why it cannot be sent (sizes that disagree, a non-finite entry). */
export function planFields(policy: Policy, context: PlanContext): PlanOutcome {
  const { actionNames } = context;
  const nu = policy.nu;
  if (nu !== actionNames.length)
    return { ok: false, problem: `the plan has ${nu} actions a step, the controller ${actionNames.length} actuators` };
  const steps = policySteps(policy);
  if (!Number.isInteger(steps) || steps < 1)
    return { ok: false, problem: `the plan's ${policy.actions.length} action values are not whole steps of ${nu}` };
  let states: Float64Array;
  let actions: Float64Array;
  let names: readonly string[];
  if (policy.kind === 'sequence') {
    states = new Float64Array(0);
    actions = Float64Array.from(policy.actions);
    names = [];
  } else {
    const nx = policy.nx;
    names = context.stateNames;
    if (nx !== names.length)
      return { ok: false, problem: `the plan's states have ${nx} entries, the controller's ${names.length}` };
    if (policy.states.length !== steps * nx || policy.feedforward.length !== steps * nu)
      return {
        ok: false,
        problem: `the plan's ${steps} steps have ${policy.states.length} state and ${policy.feedforward.length} feedforward values`,
      };
    states = Float64Array.from(policy.states);
    actions = Float64Array.from(policy.actions, (u, i) => u + policy.feedforward[i]!);
  }
  const bad = firstNonFinite('states', states, names) ?? firstNonFinite('actions', actions, actionNames);
  if (bad) return { ok: false, problem: `a non-finite plan: ${bad}` };
  const s = context.status;
  const costFigure = typeof s['cost'] === 'number' ? s['cost'] : s['best_cost'];
  const iterations = s['iterations'];
  return {
    ok: true,
    plan: {
      startNs: policy.startNs,
      stepNs: policy.stepNs,
      planner: context.planner,
      kind: policy.kind,
      interpolation: policy.kind === 'sequence' ? policy.interpolation : 'zero_order_hold',
      stateNames: [...names],
      actionNames: [...actionNames],
      steps,
      states,
      actions,
      cost: typeof costFigure === 'number' ? costFigure : Number.NaN,
      iterations:
        typeof iterations === 'number' && Number.isInteger(iterations) && iterations >= 0 && iterations <= 0xffffffff
          ? iterations
          : 0,
      status: Object.entries(s).map(([key, value]) => ({ key, value: String(value) })),
    },
  };
}

/**
 * What the plan topic sends next: each policy once, the first time it is asked about after the
 * command loop took it (a policy object not seen before); undefined when there is nothing new.
 * A plan that cannot be sent is reported once, like a sent one is sent once.
 */
export class PlanSource {
  #last: Policy | undefined;
  /** plans that could not be sent (a non-finite entry, sizes that disagree) */
  rejected = 0;

  constructor(private readonly context: Omit<PlanContext, 'status'>) {}

  next(policy: Policy | undefined, status: () => Readonly<Record<string, number | string>>): PlanOutcome | undefined {
    if (policy === undefined || policy === this.#last) return undefined;
    this.#last = policy;
    const outcome = planFields(policy, { ...this.context, status: status() });
    if (!outcome.ok) this.rejected++;
    return outcome;
  }
}
