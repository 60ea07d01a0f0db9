// Cart-pole swing-up as PETS and mbrl-lib's `cartpole_continuous` score it: the reward is how
// close the pole tip is to its upright position, minus a small action cost,
//   r = exp(−‖tip − tip*‖² / ℓ²) − 0.01 (u / u_max)²,    tip = (x + ℓ sin θ, ℓ cos θ),  tip* = (0, ℓ)
// (θ = 0 upright, as in sim/models/cartpole.xml), so a perfect 200-step episode returns just under
// 200. Costs for planners are −r. State x = [cart position, pole angle, cart velocity, pole rate].

export const POLE_LENGTH = 0.6;
export const MAX_FORCE = 20;

export function swingupReward(x: number, theta: number, u: number): number {
  const dx = x + POLE_LENGTH * Math.sin(theta);
  const dz = POLE_LENGTH * Math.cos(theta) - POLE_LENGTH;
  const un = u / MAX_FORCE;
  return Math.exp(-(dx * dx + dz * dz) / (POLE_LENGTH * POLE_LENGTH)) - 0.01 * un * un;
}

/** Planner costs (−reward) for B states (B × 4) and actions (B × 1), written into out. */
export function swingupCostBatch(states: Float32Array, actions: Float32Array, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) out[i] = -swingupReward(states[4 * i]!, states[4 * i + 1]!, actions[i]!);
}
