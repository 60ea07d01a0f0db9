import { defineParams } from '../../../util/param_schema.js';
import { definePlanner } from '../entry.js';
import { UniformExploration } from '../ensemble_mpc/exploration.js';
import { PolicyPlanner } from './planner.js';

// The registry entry of the policy planner: the learned policy from the controller's policy_topic
// acting on the state estimate at the command rate (./planner.ts), with its policy.* parameters.
// Before the first policy it explores as the planners over the learned model do (explore_until_model:
// uniformly random actions inside the action box, which then needs every actuator's ctrlrange).

export const POLICY_PARAMETERS = defineParams({
  'policy.noise_scale': {
    type: 'double',
    default: 0,
    range: [0, 10],
    description:
      "scale of the policy's σ when acting: 0 the mean action (evaluation), 1 samples of its squashed Gaussian as soft actor-critic collects data",
  },
});

export const policy = definePlanner({
  name: 'policy',
  description: 'the learned policy from policy_topic acting on the state estimate',
  parameters: POLICY_PARAMETERS,
  plansWith: 'learned_policy',
  create: (context, values) => {
    const { nv, joints, actuators } = context.sim.info;
    let exploration: UniformExploration | undefined;
    if (context.explore) {
      const box = context.actionBounds();
      if ('missingRange' in box)
        throw new Error(
          `planner policy: explore_until_model samples inside the action bounds, and actuator '${box.missingRange}' has no ctrlrange`,
        );
      exploration = new UniformExploration(box.low, box.high, context.periodNs, context.seed + 2);
    }
    const planner = new PolicyPlanner({
      modelJoints: Array.from({ length: nv }, (_, dof) => joints.find((j) => j.dofAdr === dof)?.name ?? `dof${dof}`),
      actuators: actuators.map((a) => a.name),
      stepNs: context.periodNs,
      noiseScale: values['policy.noise_scale'],
      seed: context.seed,
      ...(exploration ? { exploration } : {}),
    });
    return Promise.resolve({
      planner,
      policies: planner,
      positionGoalRefusal: () => 'a learned policy acts for the task it was trained on and takes no goal',
    });
  },
});
