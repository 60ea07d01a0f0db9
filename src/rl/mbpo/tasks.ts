import type { StateEncoding } from '../../dynamics/state_encoding.js';
import { swingupCostOver } from '../../control/task_costs.js';
import { balanceOverEncoding } from '../../tasks/cartpole_balance_episode.js';
import type { RolloutTask } from './model_rollouts.js';

// The tasks MBPO can learn, as functions of the learner's encoded states: the reward of a model
// transition and which states end an episode. The policy trainer reads its task by name; the
// benchmark uses the same definitions, so a policy learned in the graph and one learned in the
// harness chase the same reward.

export const MBPO_TASK_NAMES = ['cartpole_swingup', 'cartpole_balance'] as const;
export type MbpoTaskName = (typeof MBPO_TASK_NAMES)[number];

export function mbpoTask(name: MbpoTaskName, encoding: StateEncoding): RolloutTask {
  switch (name) {
    case 'cartpole_swingup': {
      // PETS's swing-up reward (src/tasks/cartpole_swingup.ts): the planners' cost, negated
      const cost = swingupCostOver(encoding);
      return {
        reward: (states, actions, out) => {
          cost(states, actions, out);
          for (let i = 0; i < out.length; i++) out[i] = -out[i]!;
        },
      };
    }
    case 'cartpole_balance':
      // InvertedPendulum-like: +1 per step upright, terminating when the pole falls or the cart leaves
      return balanceOverEncoding(encoding);
  }
}
