// What a planner hands the command loop: a policy it can evaluate at any time and state, faster
// than the planner can replan (MJPC's split of planning from commanding).
//  - sequence: a time-indexed action sequence (shooting planners), held or interpolated;
//  - feedback: u = û_t + k_t + K_t (x − x̂_t) (LQR, iLQR), with the last step's law held past
//    the horizon, so an infinite-horizon LQR is a feedback policy of one step.
// All arrays are row-major Float64Arrays; times are nanoseconds on the controller's clock.

export interface SequencePolicy {
  readonly kind: 'sequence';
  readonly nu: number;
  readonly startNs: bigint;
  readonly stepNs: bigint;
  /** T × nu */
  readonly actions: Float64Array;
  readonly interpolation: 'zero_order_hold' | 'linear';
}

export interface FeedbackPolicy {
  readonly kind: 'feedback';
  readonly nx: number;
  readonly nu: number;
  readonly startNs: bigint;
  readonly stepNs: bigint;
  /** T × nx nominal states x̂ */
  readonly states: Float64Array;
  /** T × nu nominal actions û */
  readonly actions: Float64Array;
  /** T × nu feedforward terms k (zeros for LQR about a fixed point) */
  readonly feedforward: Float64Array;
  /** T × nu × nx gains K */
  readonly gains: Float64Array;
}

export type Policy = SequencePolicy | FeedbackPolicy;

export function policySteps(policy: Policy): number {
  return policy.actions.length / policy.nu;
}

/** The step a time falls in, clamped to the policy's horizon (before start: 0; after: the last). */
function stepAt(policy: Policy, tNs: bigint): { index: number; fraction: number } {
  const steps = policySteps(policy);
  if (tNs <= policy.startNs) return { index: 0, fraction: 0 };
  const elapsed = tNs - policy.startNs;
  const index = Number(elapsed / policy.stepNs);
  if (index >= steps - 1) return { index: steps - 1, fraction: 0 };
  return { index, fraction: Number(elapsed % policy.stepNs) / Number(policy.stepNs) };
}

/**
 * Write the policy's action at time t and state x into `out` (length nu). Allocation-free: it is
 * called on every tick of the command loop.
 *
 * x was measured at `stateNs` (default t). A feedback policy compares it with the nominal state of
 * that time, not of t: u = û(t) + K(t) (x(t_s) − x̂(t_s)). Where the nominal moves fast (a swing-up)
 * and the state is a tick or two old (real time: the newest estimate when the tick runs), comparing
 * it with x̂(t) would read the nominal's own motion as an error and saturate the feedback; the
 * deviation from the nominal changes slowly, so its value at t_s stands for its value at t.
 */
export function evaluatePolicy(
  policy: Policy,
  tNs: bigint,
  x: ArrayLike<number>,
  out: Float64Array,
  stateNs: bigint = tNs,
): Float64Array {
  const nu = policy.nu;
  const { index, fraction } = stepAt(policy, tNs);
  if (policy.kind === 'sequence') {
    const a = policy.actions;
    const base = index * nu;
    const interpolate = policy.interpolation === 'linear' && fraction > 0;
    for (let i = 0; i < nu; i++)
      out[i] = interpolate ? a[base + i]! + fraction * (a[base + nu + i]! - a[base + i]!) : a[base + i]!;
    return out;
  }
  const nx = policy.nx;
  if (x.length !== nx) throw new Error(`feedback policy expects a state of ${nx} values, got ${x.length}`);
  const xs = policy.states;
  const K = policy.gains;
  const measured = stateNs === tNs ? index : stepAt(policy, stateNs).index;
  for (let i = 0; i < nu; i++) {
    let u = policy.actions[index * nu + i]! + policy.feedforward[index * nu + i]!;
    const row = (index * nu + i) * nx;
    for (let j = 0; j < nx; j++) u += K[row + j]! * (x[j]! - xs[measured * nx + j]!);
    out[i] = u;
  }
  return out;
}
