// Cart-pole balance as an episodic RL task, as Gym's InvertedPendulum scores it: +1 for every
// control step the pole stays within 0.2 rad of upright and the cart off its stops, the episode
// terminating at the first step it does not, so the maximum return is the episode length. The
// terminal transition is a true termination (done = 1: no value beyond it), unlike the time limit.
// State x = [cart position, pole angle, cart velocity, pole rate] (sim/models/cartpole.xml).

export const BALANCE_MAX_ANGLE = 0.2;
/** the rail is ±1 m; the cart's body would touch the stop before its centre reaches it */
export const BALANCE_MAX_CART = 0.9;

export function wrapToPi(a: number): number {
  return Math.atan2(Math.sin(a), Math.cos(a));
}

/** true once the pole has fallen past 0.2 rad or the cart has left ±0.9 m */
export function balanceFailed(cart: number, angle: number): boolean {
  return !(Math.abs(wrapToPi(angle)) <= BALANCE_MAX_ANGLE && Math.abs(cart) <= BALANCE_MAX_CART);
}

/** reward of reaching a state: 1 while balancing, 0 on the failing step */
export function balanceReward(cart: number, angle: number): number {
  return balanceFailed(cart, angle) ? 0 : 1;
}
