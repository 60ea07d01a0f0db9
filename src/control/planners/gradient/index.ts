import { defineParams } from '../../../util/param_schema.js';
import { definePlanner } from '../entry.js';
import { MujocoDynamics, mujocoPlanningRefusal, type MujocoJacobians } from '../trajectory/mujoco_dynamics.js';
import { DEFAULT_GOAL_WEIGHTS } from '../trajectory/objectives.js';
import type { Goal } from '../../planner.js';
import { GradientPlanner } from './planner.js';
import { positionGoalRefusal, type TrajectoryObjective } from '../trajectory/planner_objective.js';

// The registry entry of gradient shooting: the open-loop action sequence optimised by
// adjoint-gradient Adam steps through the controller's MJCF model (./shooting.ts), a first-order
// baseline for iLQR on the same objective (a goal with the default goal weights, or the
// controller's task in residual form). It plans inside the tick: iterations_per_tick Adam steps
// per plan. A model it cannot plan on as x = [q, q̇] is refused at configure, in one line.

export const GRADIENT_PARAMETERS = defineParams({
  'gradient.horizon_s': {
    type: 'double',
    default: 0.5,
    range: [0.001, 60],
    description: 'the plan horizon (s), in knots of one control period',
  },
  'gradient.learning_rate': {
    type: 'double',
    default: 0.05,
    range: [1e-9, 10],
    description:
      "Adam's step size as a share of each actuator's half-range (in action units for an actuator without a ctrlrange)",
  },
  'gradient.cost': {
    type: 'string',
    default: 'goal',
    choices: ['goal', 'task'],
    description:
      "'goal': regulate to the controller's goal (position goals for ee_site); 'task': the controller's task in residual form",
  },
  'gradient.jacobians': {
    type: 'string',
    default: 'held',
    choices: ['held', 'chained'],
    description:
      "over a control period of several physics steps: 'held' linearises at the period's start and holds the Jacobian, 'chained' linearises every physics step (the exact gradient of the finite differences)",
  },
});

export const gradient = definePlanner({
  name: 'gradient',
  description: 'open-loop action sequence by adjoint gradients and Adam on the MJCF model (a baseline to iLQR)',
  parameters: GRADIENT_PARAMETERS,
  plansWith: 'mjcf_model',
  create: (context, values) => {
    const sim = context.sim;
    const refusal = mujocoPlanningRefusal(sim);
    if (refusal) return Promise.reject(new Error(`planner gradient: ${refusal}`));
    const stepNs = context.periodNs;
    const horizon = Math.max(1, Math.round((values['gradient.horizon_s'] * 1e9) / Number(stepNs)));
    const objective: TrajectoryObjective =
      values['gradient.cost'] === 'task'
        ? { kind: 'task', task: context.task, target: context.taskTarget }
        : { kind: 'goal', weights: DEFAULT_GOAL_WEIGHTS };
    const box = context.actionBounds();
    if ('missingRange' in box)
      context.logger.info(
        `gradient shooting: actuator '${box.missingRange}' has no ctrlrange: the plan is not projected onto control limits (the safety layer still limits commands)`,
      );
    if (sim.linearizationIntegrator)
      context.logger.info(
        `the model's ${sim.info.integrator.toUpperCase()} integrator is not supported by MuJoCo's linearisation (mjd_transitionFD): gradient shooting linearises the same model with ${sim.linearizationIntegrator} instead`,
      );
    const dynamicsSim = sim.clone();
    const kinematics = sim.clone();
    let planner: GradientPlanner;
    try {
      const dynamics = new MujocoDynamics(dynamicsSim, {
        stepNs,
        jacobians: values['gradient.jacobians'] as MujocoJacobians,
      });
      planner = new GradientPlanner(dynamics, kinematics, {
        horizon,
        learningRate: values['gradient.learning_rate'],
        ...('missingRange' in box
          ? {}
          : { controlLimits: { low: Float64Array.from(box.low), high: Float64Array.from(box.high) } }),
        stepNs,
        iterations: context.planning.iterations,
        objective,
        site: context.eeSite,
      });
    } catch (err) {
      dynamicsSim.dispose();
      kinematics.dispose();
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (context.planning.thread === 'worker')
      context.logger.info('gradient shooting plans inside the tick (it has no planning worker)');
    let goalState: Float64Array | undefined;
    const setGoal = planner.setGoal.bind(planner);
    planner.setGoal = (goal: Goal) => {
      setGoal(goal);
      goalState = goal.kind === 'state' ? Float64Array.from(goal.state) : undefined;
    };
    const dispose = planner.dispose.bind(planner);
    planner.dispose = () => {
      dispose();
      sim.dispose();
    };
    return Promise.resolve({
      planner,
      positionGoalRefusal: () => positionGoalRefusal(objective, context.eeSite),
      goalState: () => goalState,
    });
  },
});
