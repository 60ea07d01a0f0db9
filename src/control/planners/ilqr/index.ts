import { defineParams, type ParamValues } from '../../../util/param_schema.js';
import type { MujocoSim } from '../../../../sim/mujoco/sim.js';
import { definePlanner, type PlannerContext } from '../entry.js';
import { mujocoPlanningRefusal } from '../trajectory/mujoco_dynamics.js';
import { goalCost, type GoalWeights } from '../trajectory/objectives.js';
import type { Goal } from '../../planner.js';
import { positionGoalRefusal, type TrajectoryObjective } from '../trajectory/planner_objective.js';
import { buildMujocoIlqr, type MujocoIlqrSpec } from './spec.js';
import { IlqrWorkerPlanner } from './worker_planner.js';
import { createLearnedIlqr } from './learned_entry.js';

// The registry entry of iLQR: the control-limited iterative LQR of ./solver.ts on the controller's
// MJCF model (MuJoCo's transition Jacobians) or on the learned ensemble from model_topic (analytic
// Jacobians of its elites' mean), minimising a goal (any MJCF: a state goal, or a position goal
// for ee_site) or one of the controller's planning tasks in residual form. Inline, each tick runs
// iterations_per_tick iterations (lockstep: exactly these, so runs repeat); with the planning
// worker (real time), the worker replans continuously and the command loop applies the newest
// feedback policy. A model iLQR cannot plan on as x = [q, q̇] is refused at configure, in one line.

export const ILQR_PARAMETERS = defineParams({
  'ilqr.dynamics': {
    type: 'string',
    default: 'mjcf',
    choices: ['mjcf', 'learned'],
    description: "what the plan rolls out: 'mjcf' the controller's model, 'learned' the ensemble from model_topic",
  },
  'ilqr.cost': {
    type: 'string',
    default: 'goal',
    choices: ['goal', 'task'],
    description:
      "'goal': regulate to the controller's goal (goal_keyframe or the first measured state; position goals for ee_site); 'task': the controller's task in residual form",
  },
  'ilqr.horizon_s': {
    type: 'double',
    default: 1,
    range: [0.001, 60],
    description: 'the plan horizon (s), in knots of one control period',
  },
  'ilqr.jacobians': {
    type: 'string',
    default: 'held',
    choices: ['held', 'chained'],
    description:
      "MJCF dynamics over a control period of several physics steps: 'held' linearises at the period's start and holds the Jacobian over its steps, 'chained' linearises every physics step",
  },
  'ilqr.centered_differences': {
    type: 'bool',
    default: false,
    description: 'MJCF dynamics: centred finite differences in mjd_transitionFD (twice the cost, more accurate)',
  },
  'ilqr.control_limits': {
    type: 'bool',
    default: true,
    description: "keep the plan inside the action box by the box QP (each actuator's ctrlrange, within effort limits)",
  },
  'ilqr.q_position': {
    type: 'double',
    default: 10,
    range: [0, 1e9],
    description: "goal cost: weight of each joint position's error (per rad² or m²)",
  },
  'ilqr.q_velocity': {
    type: 'double',
    default: 0.1,
    range: [0, 1e9],
    description: 'goal cost: weight of each joint velocity (per (rad/s)²)',
  },
  'ilqr.r': {
    type: 'double',
    default: 1e-3,
    range: [0, 1e9],
    description: "goal cost: weight of each action's distance from its reference (per unit²)",
  },
  'ilqr.terminal_scale': {
    type: 'double',
    default: 10,
    range: [0, 1e9],
    description: 'goal cost: the terminal weights are the stage weights times this',
  },
  'ilqr.ee_weight': {
    type: 'double',
    default: 10,
    range: [0, 1e9],
    description: "goal cost, position goals: weight of the ee_site's distance to the goal (smooth L2, per m)",
  },
  'ilqr.ee_norm_scale': {
    type: 'double',
    default: 0.01,
    range: [1e-6, 10],
    description: 'goal cost, position goals: the distance (m) below which the smooth L2 norm turns quadratic',
  },
});

type IlqrValues = ParamValues<typeof ILQR_PARAMETERS>;

/** how long configure waits for the planning worker to load the model and warm up */
const WORKER_READY_TIMEOUT_MS = 60_000;

function objectiveOf(context: PlannerContext, values: IlqrValues): TrajectoryObjective {
  if (values['ilqr.cost'] === 'task') return { kind: 'task', task: context.task, target: context.taskTarget };
  const weights: GoalWeights = {
    position: values['ilqr.q_position'],
    velocity: values['ilqr.q_velocity'],
    action: values['ilqr.r'],
    terminalScale: values['ilqr.terminal_scale'],
    site: values['ilqr.ee_weight'],
    siteNormScale: values['ilqr.ee_norm_scale'],
  };
  return { kind: 'goal', weights };
}

/** The action box as the box QP's limits, or undefined (said in the log) when an actuator has no range. */
function limitsOf(context: PlannerContext, enabled: boolean): MujocoIlqrSpec['limits'] {
  if (!enabled) return undefined;
  const box = context.actionBounds();
  if ('missingRange' in box) {
    context.logger.info(
      `iLQR: actuator '${box.missingRange}' has no ctrlrange: the plan is not kept within control limits (the safety layer still limits commands)`,
    );
    return undefined;
  }
  return { low: Float64Array.from(box.low), high: Float64Array.from(box.high) };
}

export const ilqr = definePlanner({
  name: 'ilqr',
  description: 'iterative LQR (control-limited, MJPC-style) on the MJCF model or the learned ensemble',
  parameters: ILQR_PARAMETERS,
  plansWith: 'mjcf_or_learned_model',
  create: async (context, values) => {
    const sim = context.sim;
    const stepNs = context.periodNs;
    const horizon = Math.max(1, Math.round((values['ilqr.horizon_s'] * 1e9) / Number(stepNs)));
    const objective = objectiveOf(context, values);
    const limits = limitsOf(context, values['ilqr.control_limits']);
    const refusal = mujocoPlanningRefusal(sim);
    if (refusal) throw new Error(`planner ilqr: ${refusal}`);
    const goalRefusal = (): string | undefined => positionGoalRefusal(objective, context.eeSite);
    let goalState: Float64Array | undefined;
    const noteGoal = (goal: Goal): void => {
      goalState = goal.kind === 'state' ? Float64Array.from(goal.state) : undefined;
    };
    if (values['ilqr.dynamics'] === 'learned')
      return createLearnedIlqr(context, { horizon, objective, limits, positionGoalRefusal: goalRefusal });
    if (context.sim.linearizationIntegrator)
      context.logger.info(
        `the model's ${sim.info.integrator.toUpperCase()} integrator is not supported by MuJoCo's linearisation (mjd_transitionFD): iLQR linearises the same model with ${sim.linearizationIntegrator} instead`,
      );
    const spec: MujocoIlqrSpec = {
      modelPath: context.modelPath,
      stepNs,
      horizon,
      iterations: context.planning.iterations,
      jacobians: values['ilqr.jacobians'] as MujocoIlqrSpec['jacobians'],
      centered: values['ilqr.centered_differences'],
      limits,
      objective,
      site: context.eeSite,
    };
    // the inline planner is built here even for the worker: a model or cost it refuses fails configure
    const inline = await buildMujocoIlqr(spec);
    if (context.planning.thread === 'inline') {
      const planner = inline;
      const dispose = planner.dispose.bind(planner);
      planner.dispose = () => {
        dispose();
        sim.dispose();
      };
      const setGoal = planner.setGoal.bind(planner);
      planner.setGoal = (goal: Goal) => {
        setGoal(goal);
        noteGoal(goal);
      };
      return { planner, positionGoalRefusal: goalRefusal, goalState: () => goalState };
    }
    inline.dispose();
    const planner = new IlqrWorkerPlanner({
      spec,
      nice: context.planning.nice,
      onEvent: (e) =>
        e.kind === 'error'
          ? context.logger.error(`iLQR: ${e.message}`)
          : context.logger.info(`iLQR worker: ${e.message}`),
    });
    const setGoal = planner.setGoal.bind(planner);
    planner.setGoal = (goal: Goal) => {
      // a goal the worker would refuse is refused here, at once (the hold control outside a ctrlrange)
      if (goal.kind === 'state' && objective.kind === 'goal') checkGoal(sim, goal, objective, context.eeSite);
      setGoal(goal);
      noteGoal(goal);
    };
    const dispose = planner.dispose.bind(planner);
    planner.dispose = () => {
      dispose();
      sim.dispose();
    };
    // the worker starts now, and configure waits until it has loaded the model and warmed up, so
    // that its first plan follows the first state within a replan or two
    planner.start();
    try {
      await planner.ready(WORKER_READY_TIMEOUT_MS);
    } catch (err) {
      await planner.stop();
      throw new Error(`planner ilqr: ${(err as Error).message}`, { cause: err });
    }
    return {
      planner,
      thread: planner,
      maxPolicyAgeNs: context.planning.maxPlanAgeNs,
      positionGoalRefusal: goalRefusal,
      goalState: () => goalState,
    };
  },
});

/** Throws the GoalRefusal goalCost() throws for a goal the model cannot be held at. */
function checkGoal(
  sim: MujocoSim,
  goal: Goal,
  objective: Extract<TrajectoryObjective, { kind: 'goal' }>,
  site: string,
): void {
  const copy = sim.clone();
  try {
    goalCost(copy, goal, objective.weights, site || undefined);
  } finally {
    copy.dispose();
  }
}
