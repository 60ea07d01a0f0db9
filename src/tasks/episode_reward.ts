import { loadArmReachTask } from './arm_reach.js';
import { swingupReward } from './cartpole_swingup.js';

// The per-step reward of a task, for judging episodes from outside the controller (the episode
// monitor): swing-up uses PETS's reward (max 1 a step); other tasks the negated running cost.

export type RewardFunction = (x: ArrayLike<number>, u: ArrayLike<number>) => number;

export const REWARD_TASKS = ['cartpole_swingup', 'arm_reach'] as const;
export type RewardTask = (typeof REWARD_TASKS)[number];

export async function rewardFor(task: RewardTask, goal: readonly number[]): Promise<RewardFunction> {
  if (task === 'cartpole_swingup') return (x, u) => swingupReward(x[0]!, x[1]!, u[0] ?? 0);
  const arm = await loadArmReachTask();
  const g = goal.length ? Float64Array.from(goal) : arm.defaultGoal;
  return (x, u) => -arm.cost(x, u, g);
}
