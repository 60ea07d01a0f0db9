import type { StateEncoding } from '../../dynamics/state_encoding.js';
import { swingupCostOver } from '../../control/task_costs.js';
import { balanceFailed, balanceReward } from '../../tasks/cartpole_balance_episode.js';
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

/** The same on states in a model's encoding (the angle read from sin and cos when encoded so). */
function balanceOverEncoding(encoding: StateEncoding): {
  reward: (states: Float32Array, actions: Float32Array, out: Float32Array) => void;
  terminated: (states: Float32Array, out: Uint8Array) => void;
} {
  const n = encoding.size;
  const cart = encoding.position('cart_slide');
  const pole = encoding.position('pole_hinge');
  const read = (states: Float32Array, i: number): [number, number] => {
    const x =
      cart.kind === 'raw'
        ? states[i * n + cart.index]!
        : Math.atan2(states[i * n + cart.sin]!, states[i * n + cart.cos]!);
    const th =
      pole.kind === 'raw'
        ? states[i * n + pole.index]!
        : Math.atan2(states[i * n + pole.sin]!, states[i * n + pole.cos]!);
    return [x, th];
  };
  return {
    reward: (states, _actions, out) => {
      for (let i = 0; i < out.length; i++) out[i] = balanceReward(...read(states, i));
    },
    terminated: (states, out) => {
      for (let i = 0; i < out.length; i++) out[i] = balanceFailed(...read(states, i)) ? 1 : 0;
    },
  };
}
