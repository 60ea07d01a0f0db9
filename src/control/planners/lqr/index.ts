import { defineParams } from '../../../util/param_schema.js';
import { definePlanner } from '../entry.js';
import { mujocoPlanningRefusal } from '../trajectory/mujoco_dynamics.js';
import { LqrPlanner } from './planner.js';

// The registry entry of LQR: regulation about the goal on the controller's MJCF model, with its
// lqr.* weights. Position goals need the end-effector site (the controller's ee_site), which
// inverse kinematics places; the IK solution is the state the tracking statistics then follow. A
// model whose integrator mjd_transitionFD does not support (RK4) is linearised with another, and
// the log says so once, here. A model that has no x = [q, q̇] (free or ball joints, actuator
// activations, no actuators) is refused in one line naming what, as iLQR refuses it.

export const LQR_PARAMETERS = defineParams({
  'lqr.q_diag': {
    type: 'double_array',
    default: [],
    range: [0, 1e9],
    description: 'diagonal of Q over x = [q, q̇] (empty: q_position for q, q_velocity for q̇)',
  },
  'lqr.q_position': {
    type: 'double',
    default: 100,
    range: [0, 1e9],
    description: 'Q weight of each joint position when q_diag is empty',
  },
  'lqr.q_velocity': {
    type: 'double',
    default: 1,
    range: [0, 1e9],
    description: 'Q weight of each joint velocity when q_diag is empty',
  },
  'lqr.r_diag': {
    type: 'double_array',
    default: [],
    range: [1e-12, 1e9],
    description: 'diagonal of R (empty: r for every actuator)',
  },
  'lqr.r': {
    type: 'double',
    default: 0.1,
    range: [1e-12, 1e9],
    description: 'R weight of each actuator when r_diag is empty',
  },
  'lqr.horizon': {
    type: 'integer',
    default: 0,
    range: [0, 100_000],
    description: 'finite-horizon steps (0: infinite horizon, iterated to convergence)',
  },
  'lqr.qf_scale': {
    type: 'double',
    default: 10,
    range: [0, 1e9],
    description: 'finite horizon: terminal cost Q_f = qf_scale · Q',
  },
});

export const lqr = definePlanner({
  name: 'lqr',
  description: 'LQR about the goal on the MJCF model',
  parameters: LQR_PARAMETERS,
  plansWith: 'mjcf_model',
  create: (context, values) => {
    const refusal = mujocoPlanningRefusal(context.sim);
    if (refusal) return Promise.reject(new Error(`planner lqr: ${refusal}`));
    const { nv, nu, integrator } = context.sim.info;
    const other = context.sim.linearizationIntegrator;
    if (other)
      context.logger.info(
        `the model's ${integrator.toUpperCase()} integrator is not supported by MuJoCo's linearisation (mjd_transitionFD): LQR linearises the same model with ${other} instead, for that call only`,
      );
    const q = values['lqr.q_diag'].length
      ? values['lqr.q_diag']
      : [
          ...new Array<number>(nv).fill(values['lqr.q_position']),
          ...new Array<number>(nv).fill(values['lqr.q_velocity']),
        ];
    const r = values['lqr.r_diag'].length ? values['lqr.r_diag'] : new Array<number>(nu).fill(values['lqr.r']);
    const planner = new LqrPlanner(context.sim, {
      qDiag: q,
      rDiag: r,
      horizon: values['lqr.horizon'],
      qfScale: values['lqr.qf_scale'],
      stepNs: context.periodNs,
      site: context.eeSite || undefined,
      ikJoints: context.ikJoints,
    });
    return Promise.resolve({
      planner,
      positionGoalRefusal: () => (context.eeSite ? undefined : 'no ee_site to place'),
      goalState: () => planner.goalState,
    });
  },
});
