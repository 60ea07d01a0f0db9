import type { TransitionData } from '../transition_data.js';
import { ACTION, OBS_STATE } from './format.js';
import type { LeRobotDataset } from './reader.js';

// A LeRobot dataset as transitions (s, a, s′) for the dynamics learner, in the batch form the
// replay buffer and the ensemble take (src/data/transition_data.ts). A LeRobot frame t holds the
// observation read at tick t and the action sent at that tick (record_loop in LeRobot's
// scripts/lerobot_record.py), so the action of frame t is the one the robot held from t to t+1:
// a transition pairs frame t's state and action with frame t+1's state, within one episode (an
// episode of n frames gives n − 1; none crosses into the next episode).
//
// The state is whatever the dataset's state feature holds: LeRobot's arms record joint positions
// only, while this stack's own state is [q, q̇]; the names say which (stateNames).

export interface LeRobotTransitionOptions {
  /** the state feature (default "observation.state") */
  readonly stateKey?: string;
  /** the action feature (default "action") */
  readonly actionKey?: string;
}

export interface LeRobotTransitions {
  readonly data: TransitionData;
  readonly stateSize: number;
  readonly actionSize: number;
  /** names of the state's and the action's dimensions, from info.json (null if it has none) */
  readonly stateNames: readonly string[] | null;
  readonly actionNames: readonly string[] | null;
  /** the episode of each transition */
  readonly episodeOf: Int32Array;
}

/** The transitions of every episode of a dataset read with readLeRobotDataset. */
export function leRobotTransitions(
  dataset: LeRobotDataset,
  options: LeRobotTransitionOptions = {},
): LeRobotTransitions {
  const stateKey = options.stateKey ?? OBS_STATE;
  const actionKey = options.actionKey ?? ACTION;
  const nx = dataset.featureSizes.get(stateKey);
  const nu = dataset.featureSizes.get(actionKey);
  const readable = [...dataset.featureSizes.keys()].join(', ') || 'none';
  if (nx === undefined)
    throw new Error(`${dataset.dir}: no numeric feature '${stateKey}' for the state (features read: ${readable})`);
  if (nu === undefined)
    throw new Error(`${dataset.dir}: no numeric feature '${actionKey}' for the action (features read: ${readable})`);
  const n = dataset.frames.reduce((sum, ep) => sum + Math.max(ep.length - 1, 0), 0);
  const states = new Float32Array(n * nx);
  const actions = new Float32Array(n * nu);
  const nextStates = new Float32Array(n * nx);
  const episodeOf = new Int32Array(n);
  let row = 0;
  for (const ep of dataset.frames) {
    const s = ep.values.get(stateKey)!;
    const a = ep.values.get(actionKey)!;
    for (let t = 0; t + 1 < ep.length; t++, row++) {
      states.set(s.subarray(t * nx, (t + 1) * nx), row * nx);
      actions.set(a.subarray(t * nu, (t + 1) * nu), row * nu);
      nextStates.set(s.subarray((t + 1) * nx, (t + 2) * nx), row * nx);
      episodeOf[row] = ep.episode.index;
    }
  }
  const features = dataset.info.features;
  return {
    data: { states, actions, nextStates, n },
    stateSize: nx,
    actionSize: nu,
    stateNames: features[stateKey]?.names ?? null,
    actionNames: features[actionKey]?.names ?? null,
    episodeOf,
  };
}
